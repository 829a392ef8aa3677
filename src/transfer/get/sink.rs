//! Where the bytes go (the file of [`PartFile`], or stdout), how many are
//! held, and their running SHA-256: for `--sha256`, and for the record that
//! `--continue` leaves beside a partial file.

use std::io::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::part::{Held, PartFile};
use super::{Destination, GetOptions, Sha256Digest, State};
use crate::error::Error;

/// Bytes gathered before one write to stdout.
const WRITE_BUFFER: usize = 256 * 1024;

pub(super) struct Sink {
    out: Out,
    pub held: u64,
    /// The SHA-256 of the bytes held, while they are all hashed.
    hasher: Option<Sha256>,
    /// Whether a SHA-256 is wanted (`--sha256`, or a partial file's record).
    wants_hash: bool,
}

enum Out {
    File(Box<PartFile>),
    Stdout(std::io::BufWriter<std::io::Stdout>),
}

/// Runs a short blocking file operation in place. Writes to the page cache
/// are quick, and doing them here spares a copy and a thread hop per buffer;
/// on a multi-threaded runtime, other tasks are moved off this thread first.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Sink {
    /// Whether the bytes held are the destination file itself (`--continue`
    /// found no partial file of ours), not yet known to be a prefix.
    pub(super) fn probed_destination(&self) -> Option<&Path> {
        match &self.out {
            Out::File(part) => part.probed(),
            Out::Stdout(_) => None,
        }
    }

    /// Opens where the bytes of `url` go; returns it with what a partial
    /// file held (its validator and length; the bytes are in `held`).
    pub(super) async fn open(
        to: &Destination,
        options: &GetOptions,
        url: &str,
    ) -> Result<(Self, Held), Error> {
        // `--continue` records the digest of what a partial file holds.
        let wants_hash = options.sha256.is_some() || options.resume;
        match to {
            Destination::File(path) => {
                let (path, url, resume) = (path.clone(), url.to_string(), options.resume);
                let check = options.sha256.is_some();
                let opened =
                    tokio::task::spawn_blocking(move || PartFile::open(&path, &url, resume, check));
                let (part, mut held) = opened
                    .await
                    .map_err(|e| Error::Runtime(format!("cannot open the partial file: {e}")))??;
                // Bytes held but not hashed: a destination offered as held
                // without --sha256, hashed only if it is continued.
                let hasher = match held.hasher.take() {
                    None if held.bytes == 0 => wants_hash.then(Sha256::new),
                    hasher => hasher,
                };
                let sink = Sink {
                    out: Out::File(Box::new(part)),
                    held: held.bytes,
                    hasher,
                    wants_hash,
                };
                Ok((sink, held))
            }
            Destination::Stdout => {
                let sink = Sink {
                    out: Out::Stdout(std::io::BufWriter::with_capacity(
                        WRITE_BUFFER,
                        std::io::stdout(),
                    )),
                    held: 0,
                    hasher: wants_hash.then(Sha256::new),
                    wants_hash,
                };
                Ok((sink, Held::default()))
            }
        }
    }

    /// Writes the next bytes; `false` when stdout's reader has gone.
    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<bool, Error> {
        match &mut self.out {
            Out::File(part) => blocking(|| part.write(bytes))?,
            Out::Stdout(out) => match blocking(|| out.write_all(bytes)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(false),
                Err(e) => return Err(Error::Runtime(format!("cannot write to stdout: {e}"))),
            },
        }
        self.held += bytes.len() as u64;
        if let Some(h) = &mut self.hasher {
            h.update(bytes);
        }
        Ok(true)
    }

    /// The next request asks for the whole object. A file starts over from
    /// zero; stdout cannot take back what it wrote, so it keeps its count and
    /// skips that many bytes of the next answer (see [`Sink::take_whole`]).
    pub(super) fn start_over(&mut self, state: &mut State) -> Result<(), Error> {
        if let Out::File(part) = &mut self.out {
            blocking(|| part.truncate())?;
            self.held = 0;
            self.hasher = self.wants_hash.then(Sha256::new);
            state.validator = None;
            state.total = None;
        }
        state.offset = 0;
        Ok(())
    }

    /// A 200 (the whole object) arrived while bytes are held: stdout may skip
    /// what it wrote only if the object is provably the same one.
    pub(super) fn take_whole(
        &mut self,
        state: &mut State,
        validator: &Option<String>,
    ) -> Result<(), Error> {
        if self.held == 0 && state.offset == 0 {
            return Ok(());
        }
        if let Out::Stdout(_) = self.out {
            if validator.is_none() || *validator != state.validator {
                return Err(Error::Integrity(format!(
                    "the object changed while it was being written to stdout ({} bytes written)",
                    self.held
                )));
            }
        }
        self.start_over(state)
    }

    /// A 206 continues the bytes held: if they are the destination's, they
    /// become the start of the partial file now.
    pub(super) fn adopt_destination(&mut self) -> Result<(), Error> {
        let (held, hash) = (self.held, self.wants_hash && self.hasher.is_none());
        if let Out::File(part) = &mut self.out {
            if let Some(hasher) = blocking(|| part.adopt_destination(held, hash))? {
                self.hasher = Some(hasher);
            }
        }
        Ok(())
    }

    /// The SHA-256 of the bytes held, when one is kept.
    pub(super) fn digest(&self) -> Option<Sha256Digest> {
        self.hasher
            .as_ref()
            .map(|h| Sha256Digest(h.clone().finalize().into()))
    }

    pub(super) fn commit(self) -> Result<(), Error> {
        match self.out {
            Out::File(part) => blocking(|| part.commit()),
            Out::Stdout(mut out) => match blocking(|| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::Runtime(format!("cannot write to stdout: {e}")))
                }
                _ => Ok(()),
            },
        }
    }

    /// After a failure: remove the partial file, or with `keep` leave it
    /// (flushed, with its record) for the next `--continue`.
    pub(super) fn fail(self, keep: bool, state: &State) {
        let digest = self.digest();
        match self.out {
            Out::File(part) => match digest {
                Some(digest) if keep => blocking(|| {
                    part.keep(self.held, digest.0, state.validator.clone(), state.total);
                }),
                _ => part.discard(),
            },
            Out::Stdout(mut out) => {
                let _ = blocking(|| out.flush());
            }
        }
    }
}
