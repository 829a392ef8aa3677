//! The MD5 of a file being uploaded, computed beside the upload rather than
//! in its way.
//!
//! MD5 costs about twice SHA-256 with the SHA extensions, and more CPU than
//! everything else the client does. So it runs in a thread of its own in the
//! idle scheduling class, reading the file on its own from the start of the first
//! pass: it has a CPU to itself while the first pass computes the SHA-256 on
//! another, and afterwards it takes only the time that the upload leaves idle
//! (waits on the network, on the server's fsync) instead of competing with it.
//! When the server has answered, whatever is left is hashed at normal
//! priority.
//!
//! When the server is expected to echo `x-amz-checksum-sha256`, the MD5 is
//! most likely never needed: [`BackgroundMd5::later`] starts no thread, and
//! only finishing (the answer had no echo) reads the file, a third pass.
//!
//! The ETag check is as strong as hashing the bytes sent: the server's MD5 of
//! what it received matches only if it got exactly the file as read here, and a
//! file that changed during the upload is refused by S3 for its SHA-256 and
//! noticed by its size and mtime.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::digest::Md5;

/// Read at a time: large, so that the hashing sets the pace.
const BUFFER: usize = 1 << 20;

/// The MD5 of a file's first `len` bytes.
#[derive(Clone, Debug, Default)]
struct Prefix {
    md5: Md5,
    len: u64,
}

impl Prefix {
    /// Reads and hashes the next piece of `file` (at most a buffer, never
    /// past `len`): the bytes added, 0 at the file's end.
    fn advance(&mut self, file: &File, buf: &mut [u8], len: u64) -> io::Result<usize> {
        let want = (len - self.len).min(buf.len() as u64) as usize;
        let n = read_at(file, &mut buf[..want], self.len)?;
        self.md5.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// Why the MD5 could not be finished.
#[derive(Debug)]
pub(super) enum Md5Error {
    /// The file has fewer bytes than when it was measured.
    Shorter,
    Io(io::Error),
}

/// An MD5 being computed in the background; see the module's documentation.
/// Dropping it stops the thread.
#[derive(Debug)]
pub(super) struct BackgroundMd5 {
    /// The file as opened when the upload began: finishing reads this one,
    /// not whatever the name points to by then.
    file: Option<Arc<File>>,
    len: u64,
    shared: Arc<Shared>,
}

/// What the thread shares: how far it got, published after every buffer.
///
/// Finishing never waits for the thread: an idle-class thread on a busy
/// machine may not run again for a long while, so `finish` takes whatever
/// was published (with `try_lock`, the thread holds the lock only to store
/// a copy) and the thread quits whenever it next runs.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    published: Mutex<Prefix>,
}

impl BackgroundMd5 {
    /// Starts hashing the first `len` bytes of `file` (`None`: a file that
    /// could not be opened, which finishing reports).
    pub(super) fn start(file: Option<File>, len: u64) -> BackgroundMd5 {
        Self::new(file, len, true)
    }

    /// Keeps `file` for an MD5 of its first `len` bytes that only
    /// [`finish`](Self::finish) computes, if it is ever called.
    pub(super) fn later(file: Option<File>, len: u64) -> BackgroundMd5 {
        Self::new(file, len, false)
    }

    fn new(file: Option<File>, len: u64, now: bool) -> BackgroundMd5 {
        let shared = Arc::new(Shared::default());
        let file = file.map(Arc::new);
        // No file or no thread: finishing hashes it all (and reports why
        // it cannot).
        if let Some(file) = file.clone().filter(|_| now) {
            let theirs = Arc::clone(&shared);
            let _ = std::thread::Builder::new()
                .name("cfsign-md5".into())
                .spawn(move || {
                    lowest_priority();
                    let mut buf = vec![0u8; BUFFER];
                    let mut head = Prefix::default();
                    while !theirs.stop.load(Ordering::Relaxed) && head.len < len {
                        match head.advance(&file, &mut buf, len) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {
                                // Copy before locking: the lock is held for
                                // a store only (an MD5 state is plain data,
                                // with nothing to free).
                                let copy = head.clone();
                                match theirs.published.lock() {
                                    Ok(mut published) => *published = copy,
                                    Err(_) => break,
                                }
                            }
                        }
                    }
                });
        }
        BackgroundMd5 { file, len, shared }
    }

    /// Asks the background thread to stop and hashes the rest at normal
    /// priority: the MD5 of the first `len` bytes of the file as opened.
    pub(super) async fn finish(&self) -> Result<[u8; 16], Md5Error> {
        self.shared.stop.store(true, Ordering::Relaxed);
        let head = match self.shared.published.try_lock() {
            Ok(mut published) => std::mem::take(&mut *published),
            Err(_) => Prefix::default(), // caught mid-swap: start over
        };
        let Some(file) = self.file.clone() else {
            return Err(Md5Error::Io(io::Error::new(
                io::ErrorKind::NotFound,
                "the file could not be opened",
            )));
        };
        let len = self.len;
        // A blocking task runs on when its future is dropped (a library
        // caller giving up on the upload): this flag, raised on drop, ends
        // the read at the next buffer instead of at the file's end.
        let abandoned = Arc::new(AtomicBool::new(false));
        let _raise = RaiseOnDrop(Arc::clone(&abandoned));
        tokio::task::spawn_blocking(move || hash_rest(&file, len, head, &abandoned))
            .await
            .unwrap_or_else(|e| Err(Md5Error::Io(io::Error::other(e))))
    }
}

/// Raises its flag when dropped.
struct RaiseOnDrop(Arc<AtomicBool>);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Drop for BackgroundMd5 {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// Carries `head` on to the MD5 of the first `len` bytes of `file`.
fn hash_rest(
    file: &File,
    len: u64,
    mut head: Prefix,
    abandoned: &AtomicBool,
) -> Result<[u8; 16], Md5Error> {
    let mut buf = vec![0u8; BUFFER];
    while head.len < len {
        if abandoned.load(Ordering::Relaxed) {
            return Err(Md5Error::Io(io::ErrorKind::Interrupted.into()));
        }
        match head.advance(file, &mut buf, len) {
            Ok(0) => return Err(Md5Error::Shorter),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Md5Error::Io(e)),
        }
    }
    Ok(head.md5.finish())
}

/// A read at an offset, leaving the file's position alone: the thread and
/// `finish` may read the same open file at once.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

/// Moves the calling thread to the idle scheduling class, so that it runs
/// only on CPU time that nothing else wants (SCHED_IDLE measured a little
/// faster than nice 19 in `scripts/bench-put.sh`: the upload preempts it at
/// once). Elsewhere than on Linux the thread keeps its priority; it is still
/// off the upload's path.
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param that outlives the call. On
        // Linux, pid 0 is the calling thread only, and moving to SCHED_IDLE
        // needs no privilege; a failure leaves the thread as it was.
        unsafe {
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::Digest;
    use std::path::PathBuf;

    fn file_of(len: usize) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        (dir, path, bytes)
    }

    #[test]
    fn the_rest_is_carried_on_from_any_head_start() {
        let len = 2 * BUFFER + 5;
        let (_dir, path, bytes) = file_of(len);
        let file = File::open(&path).unwrap();
        let whole: [u8; 16] = md5::Md5::digest(&bytes).into();
        for done in [0, 1, BUFFER - 1, BUFFER, BUFFER + 1, len - 1, len] {
            let mut md5 = Md5::new();
            md5.update(&bytes[..done]);
            let head = Prefix {
                md5,
                len: done as u64,
            };
            let got = hash_rest(&file, len as u64, head, &AtomicBool::new(false)).unwrap();
            assert_eq!(got, whole, "head start {done}");
        }
        // Only the first `len` bytes count; fewer is an error.
        let first: [u8; 16] = md5::Md5::digest(&bytes[..BUFFER]).into();
        let got = hash_rest(
            &file,
            BUFFER as u64,
            Prefix::default(),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(got, first);
        let shorter = hash_rest(
            &file,
            len as u64 + 1,
            Prefix::default(),
            &AtomicBool::new(false),
        );
        assert!(matches!(shorter, Err(Md5Error::Shorter)));
        // Abandoned (its future dropped): it stops before the next read.
        let stopped = hash_rest(&file, len as u64, Prefix::default(), &AtomicBool::new(true));
        assert!(matches!(stopped, Err(Md5Error::Io(e)) if e.kind() == io::ErrorKind::Interrupted));
    }

    #[test]
    fn a_dropped_finish_stops_reading() {
        // 8 GiB of holes: hashing it all takes seconds on any machine (MD5
        // is one serial chain), reading one buffer of it a millisecond.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        let len = 8u64 << 30;
        File::create(&path).unwrap().set_len(len).unwrap();
        let md5 = BackgroundMd5::later(File::open(&path).ok(), len);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let gave_up = runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(20), md5.finish()).await
        });
        assert!(gave_up.is_err());
        // Dropping a runtime waits for its blocking tasks: the abandoned
        // read must end at its next buffer, not at the file's end.
        let dropped = std::time::Instant::now();
        drop(runtime);
        assert!(dropped.elapsed() < std::time::Duration::from_secs(2));
    }

    #[tokio::test]
    async fn stopped_at_once_or_left_to_run_it_gives_the_files_md5() {
        let len = 3 * BUFFER + 11;
        let (_dir, path, bytes) = file_of(len);
        let whole: [u8; 16] = md5::Md5::digest(&bytes).into();
        let md5 = BackgroundMd5::start(File::open(&path).ok(), len as u64);
        assert_eq!(md5.finish().await.unwrap(), whole);
        let md5 = BackgroundMd5::start(File::open(&path).ok(), len as u64);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(md5.finish().await.unwrap(), whole);
        // Never started: finishing does it all.
        let md5 = BackgroundMd5::later(File::open(&path).ok(), len as u64);
        assert_eq!(md5.finish().await.unwrap(), whole);
        // The file as opened counts, not what the name points to later.
        let md5 = BackgroundMd5::start(File::open(&path).ok(), len as u64);
        let other = path.with_extension("new");
        std::fs::write(&other, b"something else").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(md5.finish().await.unwrap(), whole);
        std::fs::write(&path, &bytes).unwrap();
        let md5 = BackgroundMd5::start(File::open(&path).ok(), len as u64);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(md5.finish().await.unwrap(), whole);
        // A file that lost bytes since it was measured.
        std::fs::write(&path, &bytes[..BUFFER]).unwrap();
        let md5 = BackgroundMd5::start(File::open(&path).ok(), len as u64);
        assert!(matches!(md5.finish().await, Err(Md5Error::Shorter)));
    }
}
