//! The second pass: the file streamed as a request body of exactly its
//! length, read by a blocking thread a few chunks ahead, and a watch that
//! gives an attempt up when the body stops moving (reqwest's read timeout
//! would count the whole upload).

use std::io::{self, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::mpsc;

use super::Upload;
use super::hash::{file_changed, unreadable};
use crate::error::Error;
use crate::transfer::progress::Progress;
use crate::transfer::{response, retry};

/// The second pass sends chunks of this size, at most `SEND_QUEUE` of them
/// waiting for the connection.
const SEND_CHUNK: usize = 512 << 10;
const SEND_QUEUE: usize = 4;

/// When the body last made progress, to tell a slow upload from a stalled one.
#[derive(Clone)]
pub(super) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub(super) fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Why an attempt ended without an answer.
#[derive(Debug)]
pub(super) enum SendError {
    Http(reqwest::Error),
    Stalled(Duration),
}

impl SendError {
    pub(super) fn retryable(&self) -> bool {
        match self {
            SendError::Http(e) => retry::retryable_error(e),
            SendError::Stalled(_) => true,
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Http(e) => f.write_str(&response::describe(e)),
            SendError::Stalled(d) => write!(f, "no progress for {} s", d.as_secs()),
        }
    }
}

/// Sends the request, giving up when the body makes no progress (or, once
/// it is sent, no answer comes) for `stall` — reqwest's read timeout would
/// count the whole upload, so the client is built without a short one.
pub(super) async fn watch(
    send: impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
    activity: &Activity,
    stall: Duration,
) -> Result<reqwest::Response, SendError> {
    tokio::pin!(send);
    let tick = (stall / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::select! {
            result = &mut send => return result.map_err(SendError::Http),
            _ = tokio::time::sleep(tick) => {
                if activity.idle() > stall {
                    return Err(SendError::Stalled(stall));
                }
            }
        }
    }
}

/// The second pass's reader: its outcome, and its failure as soon as it
/// happens (set before the body reports it, so a failed request can tell
/// our side's fault from the network's without waiting).
pub(super) struct Reader {
    pub handle: tokio::task::JoinHandle<ReadEnd>,
    failure: Arc<std::sync::Mutex<Option<Error>>>,
}

impl Reader {
    pub(super) fn failure(&self) -> Option<Error> {
        self.failure.lock().ok()?.take()
    }
}

/// How the second pass's reader ended.
pub(super) enum ReadEnd {
    /// All `len` bytes went out.
    Done,
    /// The request ended first (the body was dropped).
    Cancelled,
    /// Reading failed, or the file is no longer `len` bytes (see [`Reader`]).
    Failed,
}

/// The second pass: a blocking reader streams `len` bytes of the file into
/// a bounded queue; the body drains the queue.
pub(super) fn stream_file(
    upload: &Upload,
    len: u64,
    progress: Arc<dyn Progress>,
    activity: Activity,
) -> (FileBody, Reader) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(SEND_QUEUE);
    let upload = upload.clone();
    let failure = Arc::new(std::sync::Mutex::new(None));
    let slot = Arc::clone(&failure);
    let handle = tokio::task::spawn_blocking(move || {
        let name = upload.name.as_str();
        let fail = |tx: &mpsc::Sender<io::Result<Bytes>>, e: Error| {
            let message = e.to_string();
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(e);
            }
            let _ = tx.blocking_send(Err(io::Error::other(message)));
            ReadEnd::Failed
        };
        let mut file = match upload.open() {
            Ok(f) => f,
            Err(e) => {
                return fail(&tx, unreadable(name, &e));
            }
        };
        let pool = Pool::new();
        let mut sent = 0u64;
        while sent < len {
            let want = (len - sent).min(SEND_CHUNK as u64) as usize;
            let mut chunk = pool.take();
            match read_full(&mut file, &mut chunk.buf[..want]) {
                Ok(n) if n == want => chunk.len = want,
                Ok(_) => return fail(&tx, file_changed(name, "became shorter")),
                Err(e) => {
                    return fail(&tx, unreadable(name, &e));
                }
            }
            sent += want as u64;
            // Hold the last chunk back until the end is confirmed, so that a
            // file that grew never reaches S3 as a complete upload.
            if sent == len {
                let mut probe = [0u8; 1];
                if matches!(file.read(&mut probe), Ok(n) if n > 0) {
                    return fail(&tx, file_changed(name, "grew"));
                }
            }
            if tx.blocking_send(Ok(Bytes::from_owner(chunk))).is_err() {
                return ReadEnd::Cancelled;
            }
            progress.advance(want as u64);
        }
        ReadEnd::Done
    });
    let body = FileBody {
        rx,
        remaining: len,
        activity,
    };
    (body, Reader { handle, failure })
}

/// Reads until `buf` is full or the file ends: the bytes read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(m) => n += m,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The second pass's buffers, recycled: a chunk goes back to the pool when
/// hyper drops it, written. A fresh allocation per chunk cost page faults
/// (the allocator hands large blocks back to the system), and reading into
/// fresh capacity with `read_to_end` took seven reads a chunk.
struct Pool {
    home: std::sync::mpsc::SyncSender<Vec<u8>>,
    free: std::sync::mpsc::Receiver<Vec<u8>>,
}

/// One chunk of the body, its buffer borrowed from a [`Pool`].
struct Chunk {
    buf: Vec<u8>,
    len: usize,
    home: std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl Pool {
    fn new() -> Pool {
        // Enough for the queue, the chunk being written and the one being read.
        let (home, free) = std::sync::mpsc::sync_channel(SEND_QUEUE + 2);
        Pool { home, free }
    }

    /// A free buffer, or a new one: never a wait for hyper to let one go.
    fn take(&self) -> Chunk {
        let buf = self
            .free
            .try_recv()
            .unwrap_or_else(|_| vec![0u8; SEND_CHUNK]);
        Chunk {
            buf,
            len: 0,
            home: self.home.clone(),
        }
    }
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // A full pool, or one whose reader is gone, lets the buffer go.
        let _ = self.home.try_send(std::mem::take(&mut self.buf));
    }
}

/// A request body of exactly `remaining` bytes, fed by the reader.
pub(super) struct FileBody {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    remaining: u64,
    activity: Activity,
}

impl HttpBody for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.activity.touch();
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => {
                Poll::Ready(Some(Err(io::Error::other("the file reader stopped early"))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use md5::Digest;

    use super::*;
    use crate::transfer::progress::NoProgress;

    /// Drains a body fed by `stream_file`: the reader's failure, whether
    /// the body reported one, and the MD5 when all went well.
    async fn drain(path: &Path, len: u64) -> (Option<Error>, bool, Option<String>) {
        use http_body_util::BodyExt;
        let upload = Upload {
            name: "f".into(),
            path: path.to_path_buf(),
            url: String::new(),
            file_id: None,
        };
        let (body, reader) = stream_file(&upload, len, Arc::new(NoProgress), Activity::new());
        let body = body.collect().await;
        let body_failed = body.is_err();
        // The MD5 of the body, when it and the reader both ended well.
        let md5 = match (body, reader.handle.await) {
            (Ok(body), Ok(ReadEnd::Done)) => Some(hex::encode(md5::Md5::digest(body.to_bytes()))),
            _ => None,
        };
        (reader.failure.lock().unwrap().take(), body_failed, md5)
    }

    const EXPECTED_MD5: &str = "24c8b42e9f4d53ef58987e469baaad49";

    #[tokio::test]
    async fn a_file_that_shrinks_or_grows_fails_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let (failure, body_failed, md5) = drain(&path, 1 << 20).await;
        assert!(failure.is_none() && !body_failed);
        // `head -c 1048576 /dev/zero | tr '\0' '\7' | md5sum`
        assert_eq!(md5.as_deref(), Some(EXPECTED_MD5));
        for (len, how) in [((1 << 20) + 1, "became shorter"), ((1 << 20) - 1, "grew")] {
            let (failure, body_failed, _) = drain(&path, len).await;
            let e = failure.expect("a failure");
            assert!(body_failed, "{how}");
            assert_eq!(e.exit_code(), crate::error::exit::INTEGRITY);
            assert!(
                e.to_string().contains("file changed while uploading"),
                "{e}"
            );
            assert!(e.to_string().contains(how), "{e}");
        }
    }
}
