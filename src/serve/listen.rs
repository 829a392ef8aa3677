//! The accept loop and the life of a connection: how many requests a client
//! can make the server hold, and for how long. [`serve`] runs on the
//! caller's tokio runtime; [`spawn`] gives a server threads of its own and a
//! [`Handle`] that stops it.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::idle;
use super::{Config, ServeError, Server};

/// hyper's read (and write) buffer. It bounds what a client can make the
/// server hold before CloudFront's limits on the head are checked (hyper
/// answers 431 beyond it), and it is the largest piece of a body read at once: at 256 KiB a
/// 1 GiB PUT is four thousand reads and hand-offs to the writer thread instead
/// of sixteen thousand at 64 KiB, whose wake-ups cost the server a fifth of
/// its CPU.
pub(super) const READ_BUFFER: usize = 256 * 1024;

/// A server running on its own threads. Dropping it stops it.
///
/// ```
/// use cfsign::serve::{self, Access, Config};
///
/// # fn http(addr: std::net::SocketAddr, line: &str, headers: &[&str], body: &[u8]) -> std::io::Result<String> {
/// #     use std::io::{Read, Write};
/// #     let mut request = format!("{line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
/// #     if !body.is_empty() { request.push_str(&format!("Content-Length: {}\r\n", body.len())); }
/// #     for h in headers { request.push_str(h); request.push_str("\r\n"); }
/// #     request.push_str("\r\n");
/// #     let mut stream = std::net::TcpStream::connect(addr)?;
/// #     stream.write_all(request.as_bytes())?;
/// #     stream.write_all(body)?;
/// #     let mut answer = Vec::new();
/// #     stream.read_to_end(&mut answer)?;
/// #     Ok(String::from_utf8_lossy(&answer).into_owned())
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = tempfile::tempdir()?;
/// std::fs::write(root.path().join("a.txt"), "a")?;
/// let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let addr = edge.addr();
/// assert!(http(addr, "GET /a.txt", &[], b"")?.starts_with("HTTP/1.1 200"));
/// drop(edge); // as `edge.stop()`
/// assert!(std::net::TcpStream::connect(addr).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Handle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// The address the server listens on.
    ///
    /// ```
    /// use cfsign::serve::{self, Config};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let root = tempfile::tempdir()?;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?; // a free port
    /// let edge = serve::spawn(listener, Config::new(root.path(), Default::default()))?;
    /// assert!(edge.addr().ip().is_loopback() && edge.addr().port() != 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base of every URL to request.
    ///
    /// ```
    /// use cfsign::serve::{self, Config};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let root = tempfile::tempdir()?;
    /// let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, Config::new(root.path(), Default::default()))?;
    /// assert_eq!(edge.url(), format!("http://{}", edge.addr()));
    /// let object = format!("{}/images/cat.jpg", edge.url()); // a URL to sign
    /// # drop(object);
    /// # Ok(())
    /// # }
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, drops open connections (removing the temp files of
    /// unfinished uploads) and waits for the threads to end.
    ///
    /// ```
    /// use cfsign::serve::{self, Config};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let root = tempfile::tempdir()?;
    /// let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, Config::new(root.path(), Default::default()))?;
    /// let addr = edge.addr();
    /// edge.stop();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a server on a bound listener, on threads of its own: for a test
/// or a program without a tokio runtime. The configuration is checked
/// first ([`Server::new`]).
///
/// An upload and a ranged read (a PUT must carry the body's SHA-256, as S3
/// wants):
///
/// ```
/// use sha2::{Digest, Sha256};
/// use cfsign::serve::{self, Access, Config};
///
/// # fn http(addr: std::net::SocketAddr, line: &str, headers: &[&str], body: &[u8]) -> std::io::Result<String> {
/// #     use std::io::{Read, Write};
/// #     let mut request = format!("{line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
/// #     if !body.is_empty() { request.push_str(&format!("Content-Length: {}\r\n", body.len())); }
/// #     for h in headers { request.push_str(h); request.push_str("\r\n"); }
/// #     request.push_str("\r\n");
/// #     let mut stream = std::net::TcpStream::connect(addr)?;
/// #     stream.write_all(request.as_bytes())?;
/// #     stream.write_all(body)?;
/// #     let mut answer = Vec::new();
/// #     stream.read_to_end(&mut answer)?;
/// #     Ok(String::from_utf8_lossy(&answer).into_owned())
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = tempfile::tempdir()?;
/// std::fs::write(root.path().join("a.txt"), "a")?;
/// let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let body = b"0123456789";
/// let sha256 = format!("x-amz-content-sha256: {}", hex::encode(Sha256::digest(body)));
/// let put = http(edge.addr(), "PUT /dir/digits.txt", &[&sha256], body)?;
/// assert!(put.starts_with("HTTP/1.1 200"), "{put}");
/// assert_eq!(std::fs::read(root.path().join("dir/digits.txt"))?, body);
///
/// let part = http(edge.addr(), "GET /dir/digits.txt", &["Range: bytes=2-4"], b"")?;
/// assert!(part.starts_with("HTTP/1.1 206") && part.ends_with("234"), "{part}");
/// # Ok(())
/// # }
/// ```
pub fn spawn(listener: std::net::TcpListener, config: Config) -> Result<Handle, ServeError> {
    let server = Arc::new(Server::new(config)?);
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cfsign-serve")
        .build()?;
    let listener = {
        let _guard = runtime.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("cfsign-serve".into())
        .spawn(move || {
            let _ = runtime.block_on(serve(listener, server, async {
                let _ = stopped.await;
            }));
            runtime.shutdown_timeout(Duration::from_secs(5));
        })?;
    Ok(Handle {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// Accepts connections until `shutdown` completes, then drops the open ones.
/// For a program with its own tokio runtime (the command line stops on
/// Ctrl-C).
///
/// ```
/// use std::sync::Arc;
/// use cfsign::serve::{self, Access, Config, Server};
///
/// # fn http(addr: std::net::SocketAddr, line: &str, headers: &[&str], body: &[u8]) -> std::io::Result<String> {
/// #     use std::io::{Read, Write};
/// #     let mut request = format!("{line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
/// #     if !body.is_empty() { request.push_str(&format!("Content-Length: {}\r\n", body.len())); }
/// #     for h in headers { request.push_str(h); request.push_str("\r\n"); }
/// #     request.push_str("\r\n");
/// #     let mut stream = std::net::TcpStream::connect(addr)?;
/// #     stream.write_all(request.as_bytes())?;
/// #     stream.write_all(body)?;
/// #     let mut answer = Vec::new();
/// #     stream.read_to_end(&mut answer)?;
/// #     Ok(String::from_utf8_lossy(&answer).into_owned())
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = tempfile::tempdir()?;
/// std::fs::write(root.path().join("a.txt"), "a")?;
/// let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// let server = Arc::new(Server::new(config)?);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let running = tokio::spawn(serve::serve(listener, server, async {
///     let _ = stopped.await;
/// }));
///
/// let answer = tokio::task::spawn_blocking(move || http(addr, "GET /a.txt", &[], b"")).await??;
/// assert!(answer.starts_with("HTTP/1.1 200"));
/// let _ = stop.send(());
/// running.await??;
/// # Ok(())
/// # }
/// ```
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: Arc<Server>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, server.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    server.log(|| format!("cfsign: accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
    Ok(())
}

async fn serve_connection(stream: tokio::net::TcpStream, peer: SocketAddr, server: Arc<Server>) {
    let local = stream.local_addr().unwrap_or(peer);
    let _ = stream.set_nodelay(true);
    // Plain GETs and HEADs are answered with `sendfile` until a request
    // needs hyper; hyper then has the connection, and what was read of it.
    #[cfg(target_os = "linux")]
    let Some((stream, buffered)) = super::fast::drive(stream, peer, local, &server).await else {
        return;
    };
    #[cfg(not(target_os = "linux"))]
    let buffered = Vec::new();
    // Also the wait for the next request on a kept-alive connection.
    let idle_timeout = server.idle_timeout;
    let service = service_fn(move |req| {
        let server = server.clone();
        async move { Ok::<_, Infallible>(server.handle(req, peer, local).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout)
        .max_buf_size(READ_BUFFER);
    // A client that stops reading an answer is dropped like one that stops
    // sending: the open file and the buffers go with it.
    let stream = idle::WriteTimeout::new(Replay::new(buffered, stream), idle_timeout);
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// A stream whose first reads give back bytes already read from it: the
/// part of a connection `fast` read before handing it to hyper.
struct Replay<T> {
    buffered: Vec<u8>,
    /// How much of `buffered` has been given back.
    replayed: usize,
    inner: T,
}

impl<T> Replay<T> {
    fn new(buffered: Vec<u8>, inner: T) -> Self {
        Replay {
            buffered,
            replayed: 0,
            inner,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Replay<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let left = &this.buffered[this.replayed..];
        if left.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = left.len().min(buf.remaining());
        buf.put_slice(&left[..n]);
        this.replayed += n;
        if this.replayed == this.buffered.len() {
            this.buffered = Vec::new();
            this.replayed = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Replay<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::Access;
    use crate::verify::KeyRing;
    use std::io::{Read, Write};

    /// The library entry point: spawn on a bound listener, GET, stop.
    #[test]
    fn spawned_server_answers_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hello.txt"), "hi").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let config = Config {
            access: Access::Open,
            ..Config::new(dir.path(), KeyRing::new())
        };
        let handle = spawn(listener, config).unwrap();
        let mut stream = std::net::TcpStream::connect(handle.addr()).unwrap();
        stream
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nhi"), "{response}");
        let addr = handle.addr();
        handle.stop();
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
