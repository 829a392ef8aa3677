//! Where a download's bytes wait before the rename over the destination.
//!
//! Without `--continue`, that is a private file with a random name
//! (`.NAME.XXXXXX.cfsign-tmp`), created with `O_EXCL`, no-follow and mode
//! 0600 in the destination's folder, and gone after the run whatever happens.
//!
//! With `--continue` it is `.NAME.cfsign-part`, which a later run must find
//! again, so its name is fixed. It is used only while locked (`flock`), so two
//! runs never share it: a run that finds it locked downloads into a private
//! file instead. Its bytes are continued only when `.NAME.cfsign-meta` (see
//! [`Record`]) vouches for them; otherwise it is emptied and the download
//! starts over. The record is read and removed when the part file is taken
//! (it is stale once bytes are appended) and written again only when a failed
//! or interrupted run leaves the part file behind.
//!
//! `--continue` also offers a file already at the destination (say, curl's
//! partial download) as the bytes held; a 206 for its size makes its bytes
//! the start of the part file (a copy: the destination is never written to),
//! a 416 means it is complete and it is left as it is. A destination that is
//! a link is not offered: the rename replaces the link, never its target.

use std::fs::File;
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::files;
use super::record::Record;
use crate::error::Error;
use crate::error::io_reason;
use crate::escape::shown_path;

/// Bytes gathered before one write to the file: large enough that writes are
/// few, small enough that memory stays flat whatever the object's size.
const WRITE_BUFFER: usize = 256 * 1024;

/// Names longer than this are shortened in the names of the files beside
/// them, so that `.NAME.XXXXXX.cfsign-tmp` fits in 255 bytes.
const MAX_STEM: usize = 200;

/// The names of cfsign's files beside one destination: `.STEM.cfsign-part`,
/// `.STEM.cfsign-meta` and `.STEM.XXXXXX.cfsign-tmp`, where STEM is the
/// destination's name, or for a name longer than 200 bytes (or not UTF-8)
/// its first bytes, `~` and 16 hex digits of the SHA-256 of the whole name.
struct SideNames {
    destination: PathBuf,
    stem: String,
}

impl SideNames {
    fn of(destination: &Path) -> Result<Self, Error> {
        let name = destination.file_name().ok_or_else(|| {
            Error::usage(format!("{} is not a file name", shown_path(destination)))
        })?;
        let text = name.to_string_lossy();
        let stem = if text.len() <= MAX_STEM && text == name.to_str().unwrap_or_default() {
            text.into_owned()
        } else {
            let mut end = MAX_STEM - 17;
            while !text.is_char_boundary(end.min(text.len())) {
                end -= 1;
            }
            let hash = Sha256::digest(name.as_encoded_bytes());
            format!(
                "{}~{}",
                &text[..end.min(text.len())],
                &hex::encode(hash)[..16]
            )
        };
        Ok(SideNames {
            destination: destination.to_path_buf(),
            stem,
        })
    }

    fn folder(&self) -> &Path {
        match self.destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    fn part(&self) -> PathBuf {
        self.destination
            .with_file_name(format!(".{}.cfsign-part", self.stem))
    }

    fn record(&self) -> PathBuf {
        self.destination
            .with_file_name(format!(".{}.cfsign-meta", self.stem))
    }

    /// A new private file with a random name.
    fn temp(&self) -> std::io::Result<(File, PathBuf)> {
        let created = tempfile::Builder::new()
            .prefix(&format!(".{}.", self.stem))
            .suffix(".cfsign-tmp")
            .rand_bytes(6)
            .make_in(self.folder(), files::create_new)?;
        let (file, path) = created.keep().map_err(|e| e.error)?;
        // The random part is all that differs: keep the path as the
        // destination is written (`o`, not `./o`), for messages.
        Ok((
            file,
            self.destination
                .with_file_name(path.file_name().unwrap_or_default()),
        ))
    }
}

/// What the files already held when the download began.
#[derive(Default)]
pub(super) struct Held {
    pub bytes: u64,
    pub validator: Option<String>,
    pub length: Option<u64>,
    /// The SHA-256 of those bytes, when it was taken: always for a partial
    /// file (its record is checked with it); for the destination, only when
    /// asked (a complete file need not be read at all).
    pub hasher: Option<Sha256>,
    /// Why a partial file could not be continued (and was emptied), for the
    /// user to be warned.
    pub started_over: Option<String>,
}

/// The file the bytes go to, removed on drop unless committed or kept.
pub(super) struct PartFile {
    destination: PathBuf,
    names: SideNames,
    path: PathBuf,
    file: BufWriter<File>,
    /// The URL asked for, for the record (`--continue` only).
    resumable: Option<String>,
    /// `--continue` found the destination itself and no partial file: it is
    /// offered as the bytes held, and copied into the part file only if the
    /// server answers 206 (a 416 means it is complete and stays as is).
    probe: Option<File>,
    settled: bool,
}

impl PartFile {
    /// The file for `destination`: with `resume`, the part file (continued
    /// when its record vouches for it) unless another run holds it, else a
    /// private one. With `hash_destination`, the bytes of a destination
    /// offered as held are hashed too.
    pub(super) fn open(
        destination: &Path,
        url: &str,
        resume: bool,
        hash_destination: bool,
    ) -> Result<(Self, Held), Error> {
        let names = SideNames::of(destination)?;
        let claimed = if resume { claim(&names.part()) } else { None };
        let resumable = claimed.is_some();
        let (file, path) = match claimed {
            Some(file) => (file, names.part()),
            None => names
                .temp()
                .map_err(|e| io_error("create a file in", names.folder(), &e))?,
        };
        let mut part = PartFile {
            destination: destination.to_path_buf(),
            names,
            path,
            file: BufWriter::with_capacity(WRITE_BUFFER, file),
            resumable: resumable.then(|| url.to_string()),
            probe: None,
            settled: false,
        };
        let mut held = Held::default();
        if resumable {
            part.continue_part(url, &mut held)?;
            if held.bytes == 0 {
                part.probe_destination(&mut held, hash_destination)?;
            }
        }
        Ok((part, held))
    }

    fn io_error(&self, what: &str, e: &std::io::Error) -> Error {
        io_error(what, &self.path, e)
    }

    /// Takes what the part file holds if its record vouches for it; empties
    /// it otherwise. The record is removed either way.
    fn continue_part(&mut self, url: &str, held: &mut Held) -> Result<(), Error> {
        let record_path = self.names.record();
        let record = Record::read(&record_path);
        let _ = std::fs::remove_file(&record_path);
        let file = self.file.get_mut();
        let len = file
            .metadata()
            .map_err(|e| io_error("read", &self.path, &e))?
            .len();
        let verdict = match record {
            Ok(Some(record)) => {
                let mut hasher = Sha256::new();
                file.seek(SeekFrom::Start(0))
                    .and_then(|_| std::io::copy(&mut (&*file).take(len), &mut hasher))
                    .map_err(|e| io_error("read", &self.path, &e))?;
                let digest = hasher.clone().finalize().into();
                record.check(url, len, digest).map(|()| (record, hasher))
            }
            Ok(None) if len == 0 => return Ok(()),
            Ok(None) => Err("there is no record of what it holds"),
            Err(why) => Err(why),
        };
        match verdict {
            Ok((record, hasher)) => {
                *held = Held {
                    bytes: len,
                    validator: record.validator,
                    length: record.length,
                    hasher: Some(hasher),
                    started_over: None,
                };
                Ok(())
            }
            Err(why) => {
                held.started_over = Some(format!(
                    "cannot continue {}: {why}; starting over",
                    shown_path(&self.path)
                ));
                self.empty()
            }
        }
    }

    /// Offers the destination's bytes as held, if it is a regular file.
    fn probe_destination(&mut self, held: &mut Held, hash: bool) -> Result<(), Error> {
        let Ok(mut file) = files::open_existing(&self.destination, false) else {
            return Ok(());
        };
        let len = match file.metadata() {
            Ok(m) if m.is_file() && m.len() > 0 => m.len(),
            _ => return Ok(()),
        };
        if hash {
            let mut hasher = Sha256::new();
            std::io::copy(&mut (&mut file).take(len), &mut hasher)
                .map_err(|e| io_error("read", &self.destination, &e))?;
            held.hasher = Some(hasher);
        }
        held.bytes = len;
        self.probe = Some(file);
        Ok(())
    }

    /// The destination whose bytes are held, while they are only offered.
    pub(super) fn probed(&self) -> Option<&Path> {
        self.probe.as_ref().map(|_| self.destination.as_path())
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let written = self.file.write_all(bytes);
        written.map_err(|e| self.io_error("write", &e))
    }

    /// Drops the bytes held: the next answer is the whole object.
    pub(super) fn truncate(&mut self) -> Result<(), Error> {
        if self.probe.take().is_some() {
            return Ok(());
        }
        self.empty()
    }

    fn empty(&mut self) -> Result<(), Error> {
        let file = &mut self.file;
        let r = file.flush().and_then(|()| {
            file.get_mut().set_len(0)?;
            file.get_mut().seek(SeekFrom::Start(0)).map(|_| ())
        });
        r.map_err(|e| self.io_error("truncate", &e))
    }

    /// A 206 for the destination's size: it is a partial download after all,
    /// so its `held` bytes become the start of the part file. With `hash`,
    /// returns their SHA-256.
    pub(super) fn adopt_destination(
        &mut self,
        held: u64,
        hash: bool,
    ) -> Result<Option<Sha256>, Error> {
        let Some(mut probe) = self.probe.take() else {
            return Ok(None);
        };
        let mut hasher = hash.then(Sha256::new);
        let copied = probe.seek(SeekFrom::Start(0)).and_then(|_| {
            let mut from = probe.take(held);
            let mut buf = vec![0; WRITE_BUFFER];
            let mut copied = 0;
            loop {
                let n = from.read(&mut buf)?;
                if n == 0 {
                    return Ok(copied);
                }
                if let Some(h) = &mut hasher {
                    h.update(&buf[..n]);
                }
                self.file.write_all(&buf[..n])?;
                copied += n as u64;
            }
        });
        match copied {
            Ok(n) if n == held => Ok(hasher),
            Ok(_) => Err(Error::Runtime(format!(
                "{} became shorter while it was being continued",
                shown_path(&self.destination)
            ))),
            Err(e) => Err(io_error("copy", &self.destination, &e)),
        }
    }

    /// Flushed, fsynced, renamed over the destination (a link there is
    /// replaced, not followed), and the rename made durable. A complete
    /// destination found by `--continue` stays untouched.
    pub(super) fn commit(mut self) -> Result<(), Error> {
        self.settled = true;
        if self.probe.is_some() {
            let _ = std::fs::remove_file(&self.path);
            return Ok(());
        }
        let synced = self
            .file
            .flush()
            .and_then(|()| self.file.get_ref().sync_all());
        if let Err(e) = synced {
            let _ = std::fs::remove_file(&self.path);
            return Err(self.io_error("write", &e));
        }
        // Renamed while still open: the lock on a part file is held until
        // the name is gone, so no other run can take the file in between.
        if let Err(e) = std::fs::rename(&self.path, &self.destination) {
            let _ = std::fs::remove_file(&self.path);
            return Err(Error::Runtime(format!(
                "cannot save {}: {}",
                shown_path(&self.destination),
                io_reason(&e)
            )));
        }
        files::sync_parent(&self.destination);
        Ok(())
    }

    /// After a failure with `--continue`: leaves the part file and its record
    /// (`held` bytes with this digest) for the next run. A private file, or
    /// one that holds nothing of ours, is removed instead.
    pub(super) fn keep(
        mut self,
        held: u64,
        sha256: [u8; 32],
        validator: Option<String>,
        length: Option<u64>,
    ) {
        self.settled = true;
        let Some(url) = self.resumable.clone() else {
            return self.discard();
        };
        if self.probe.is_some() || held == 0 || self.file.flush().is_err() {
            return self.discard();
        }
        let record = Record::new(&url, validator, length, held, sha256);
        let saved = self
            .names
            .temp()
            .and_then(|(temp, temp_path)| record.save(temp, &temp_path, &self.names.record()));
        if saved.is_err() {
            // A part file without its record would never be continued.
            self.discard();
        }
    }

    pub(super) fn discard(mut self) {
        self.settled = true;
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for PartFile {
    /// Reached without settling only when the download was cancelled
    /// (dropped): the file goes.
    fn drop(&mut self) {
        if !self.settled {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::Runtime(format!(
        "cannot {what} {}: {}",
        shown_path(path),
        io_reason(e)
    ))
}

/// Opens and locks the part file at `path`, creating it if there is none;
/// `None` when it is not ours to use (held by another run, not a regular
/// file of ours, or anything unexpected): the caller then downloads into a
/// private file.
fn claim(path: &Path) -> Option<File> {
    // Another run may remove or rename the file between our open and our
    // lock; each such race costs one more try.
    for _ in 0..3 {
        let file = match files::open_existing(path, true) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match files::create_new(path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(_) => return None,
            },
            // cfsign never makes links: one here was planted. Removing it
            // touches only the link.
            Err(_) if files::is_link(path) => {
                let _ = std::fs::remove_file(path);
                continue;
            }
            Err(_) => return None,
        };
        if !files::is_ours(&file) || !files::try_lock(&file).unwrap_or(false) {
            return None;
        }
        if files::still_at(&file, path) {
            return Some(file);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_beside_the_destination_fit_in_255_bytes() {
        let short = SideNames::of(Path::new("dir/o.bin")).unwrap();
        assert_eq!(short.part(), Path::new("dir/.o.bin.cfsign-part"));
        assert_eq!(short.record(), Path::new("dir/.o.bin.cfsign-meta"));
        let here = SideNames::of(Path::new("o")).unwrap();
        assert_eq!(here.part(), Path::new(".o.cfsign-part"));
        assert_eq!(here.folder(), Path::new("."));
        for name in [
            "a".repeat(255),
            "é".repeat(127),
            format!("{}é", "a".repeat(199)),
        ] {
            let names = SideNames::of(Path::new(&name)).unwrap();
            assert!(names.stem.len() <= MAX_STEM, "{}", names.stem);
            assert!(name.starts_with(names.stem.split('~').next().unwrap()));
        }
        // `.STEM.XXXXXX.cfsign-tmp`, the longest of the three.
        assert!(1 + MAX_STEM + 1 + 6 + ".cfsign-tmp".len() <= 255);
        // Shortened names stay apart.
        let a = SideNames::of(Path::new(&format!("{}1", "a".repeat(250)))).unwrap();
        let b = SideNames::of(Path::new(&format!("{}2", "a".repeat(250)))).unwrap();
        assert_ne!(a.part(), b.part());
    }
}
