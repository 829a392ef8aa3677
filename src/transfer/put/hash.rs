//! The first pass over a file: its length and the SHA-256 that
//! `x-amz-content-sha256` must carry, and what the file looked like before
//! it, so that a file that changes during the upload is noticed.

use std::fs::File;
use std::io::{self, Read};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::transfer::progress::Progress;

/// The first pass reads this much at a time (large, so that the hashing,
/// not the system calls, sets the pace).
const HASH_BUFFER: usize = 1 << 20;

/// Length and SHA-256 of a file. A second thread reads ahead into a few
/// recycled buffers, so that copying from the page cache overlaps the
/// hashing and the pace is SHA-NI's or the disk's (a fifth faster than
/// reading and hashing in turn on one thread, for a cached file).
pub(super) fn sha256_file(mut file: File, progress: &dyn Progress) -> io::Result<(u64, [u8; 32])> {
    use std::sync::mpsc::sync_channel;
    // Three buffers: one being read, one being hashed, one waiting.
    let (filled, to_hash) = sync_channel::<(Vec<u8>, usize)>(2);
    let (emptied, to_fill) = sync_channel::<Vec<u8>>(3);
    for _ in 0..3 {
        emptied
            .send(vec![0u8; HASH_BUFFER])
            .expect("the channel has room for three");
    }
    std::thread::scope(|scope| {
        // Owned here, so that a panic below drops it and frees the reader.
        let emptied = emptied;
        let reader = scope.spawn(move || -> io::Result<()> {
            // Ends when the file does (or the hasher is gone): dropping
            // `filled` tells the hasher.
            while let Ok(mut buf) = to_fill.recv() {
                let n = loop {
                    match file.read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                if n == 0 || filled.send((buf, n)).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let mut hasher = Sha256::new();
        let mut len = 0u64;
        for (buf, n) in to_hash {
            hasher.update(&buf[..n]);
            len += n as u64;
            progress.advance(n as u64);
            let _ = emptied.send(buf);
        }
        reader.join().expect("the reader does not panic")?;
        Ok((len, hasher.finalize().into()))
    })
}

/// The file as it was before the first pass, to notice a change afterwards.
#[derive(PartialEq, Eq, Debug)]
pub(super) struct Snapshot {
    pub len: u64,
    modified: Option<SystemTime>,
}

impl Snapshot {
    pub(super) fn of(file: &File) -> io::Result<Self> {
        let meta = file.metadata()?;
        Ok(Snapshot {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// The error for a file that cannot be read.
pub(super) fn unreadable(name: &str, e: &io::Error) -> Error {
    Error::Runtime(format!(
        "cannot read {name}: {}",
        crate::error::io_reason(e)
    ))
}

/// The error for a file that changed while it was uploaded: `how` says what
/// was seen.
pub(super) fn file_changed(name: &str, how: &str) -> Error {
    Error::Integrity(format!(
        "file changed while uploading: {name} {how}; upload it again once it is complete"
    ))
}
