//! Writing an answer on the non-blocking socket, driven by tokio's
//! readiness: the head with `send`, the file with `sendfile(2)`. Each write
//! has the idle timeout to make progress, the promise
//! [`WriteTimeout`](super::super::idle::WriteTimeout) keeps on hyper's
//! connections.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::serve::get::{FileBody, pieces};

/// The most one `sendfile` call is asked for (the socket takes what fits in
/// its buffer, so a call returns long before).
const MAX_SEND: u64 = 1 << 30;

/// `data`, whole. `more`: a body follows at once, so the head waits for its
/// first bytes instead of leaving in a packet of its own (`MSG_MORE`).
pub(super) async fn bytes(
    stream: &TcpStream,
    mut data: &[u8],
    more: bool,
    timeout: Duration,
) -> io::Result<()> {
    let flags = libc::MSG_NOSIGNAL | if more { libc::MSG_MORE } else { 0 };
    let socket = stream.as_raw_fd();
    while !data.is_empty() {
        let sent = write_with(stream, timeout, || {
            // SAFETY: `data` is a live slice of that length; `socket` is the
            // stream's descriptor, open while `stream` is borrowed.
            let n = unsafe { libc::send(socket, data.as_ptr().cast(), data.len(), flags) };
            usize::try_from(n).map_err(|_| io::Error::last_os_error())
        })
        .await?;
        data = &data[sent..];
    }
    Ok(())
}

/// The file's part, from the page cache to the socket. Where `sendfile`
/// cannot read the file (`EINVAL`: a file system without it) or is missing
/// (`ENOSYS`), or cannot be used safely (see [`sendfile_safe`]), the part is
/// copied as for hyper.
pub(super) async fn file(stream: &TcpStream, body: FileBody, timeout: Duration) -> io::Result<()> {
    // The fast path asks `get` for no first piece: the whole part is here.
    let FileBody {
        file,
        first,
        offset,
        rest,
    } = body;
    debug_assert!(first.is_empty(), "the fast path reads no first piece");
    let Ok(mut position) = libc::off_t::try_from(offset) else {
        return copy(stream, file, offset, rest, timeout).await;
    };
    if !sendfile_safe() {
        return copy(stream, file, offset, rest, timeout).await;
    }
    let (socket, source) = (stream.as_raw_fd(), file.as_raw_fd());
    let mut left = rest;
    while left > 0 {
        let want = left.min(MAX_SEND) as usize;
        let sent = write_with(stream, timeout, || {
            // SAFETY: both descriptors are open for the call (`file` and
            // `stream` outlive it); `position` is a live `off_t` that the
            // call advances (the file's own position is left alone).
            let n = unsafe { libc::sendfile(socket, source, &mut position, want) };
            usize::try_from(n).map_err(|_| io::Error::last_os_error())
        })
        .await;
        match sent {
            // The file ends before the length announced: the connection
            // must close rather than let a short body pass for the object.
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file is shorter than when it was opened",
                ));
            }
            Ok(n) => left -= n as u64,
            Err(e)
                if left == rest
                    && matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) =>
            {
                return copy(stream, file, offset, rest, timeout).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Without `sendfile`: read in pieces (blocking tasks), then `send`.
pub(super) async fn copy(
    stream: &TcpStream,
    file: File,
    offset: u64,
    rest: u64,
    timeout: Duration,
) -> io::Result<()> {
    let mut pieces = std::pin::pin!(pieces(file, offset, rest));
    while let Some(piece) = pieces.next().await {
        let piece = piece?.into_data().unwrap_or_default();
        bytes(stream, &piece, false, timeout).await?;
    }
    Ok(())
}

/// Runs a non-blocking write `op` once the socket can take bytes; fails
/// with `TimedOut` if it cannot for `timeout` (a client that stopped
/// reading).
async fn write_with(
    stream: &TcpStream,
    timeout: Duration,
    mut op: impl FnMut() -> io::Result<usize>,
) -> io::Result<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, stream.writable()).await {
            Ok(ready) => ready?,
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                ));
            }
        }
        match stream.try_io(Interest::WRITABLE, &mut op) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            done => return done,
        }
    }
}

/// `sendfile` to a socket the client has closed raises `SIGPIPE` (it has no
/// `MSG_NOSIGNAL`), which ends a process that has not set the signal aside.
/// Rust programs ignore it from their start, but a program embedding the
/// library may have restored it: then files are copied through `send`,
/// which is told not to raise it. Looked at once, at the first file sent.
fn sendfile_safe() -> bool {
    static SAFE: OnceLock<bool> = OnceLock::new();
    *SAFE.get_or_init(|| {
        // SAFETY: a null new action only reads the current one into
        // `current`, a plain C struct for which all zeroes is valid.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) == 0
                && current.sa_sigaction != libc::SIG_DFL
        }
    })
}
