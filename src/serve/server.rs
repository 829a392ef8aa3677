//! A validated configuration ready to answer requests, and the path every
//! request takes through it: the edge's checks ([`super::edge`]), then the
//! origin by method ([`super::get`], [`super::put`]), then one log line.
//! Whatever goes wrong on the way is an [`ErrorResponse`] from the catalogue
//! in [`super::xml`], turned into an HTTP answer here and only here.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header;
use hyper::{Method, Request, Response};
use tokio::sync::Semaphore;

use super::config::parse_base_url;
use super::edge::Edge;
use super::get::FileBody;
use super::log::LogSink;
use super::rehearse::OriginDeny;
use super::store::Store;
use super::xml::ErrorResponse;
use super::{Access, Config, ServeError};
use crate::escape;

/// A validated configuration, ready to answer requests: what [`serve`]
/// runs. ([`spawn`] makes one itself.)
///
/// [`serve`]: super::serve()
/// [`spawn`]: super::spawn
///
/// ```
/// use std::sync::Arc;
/// use cfsign::serve::{Config, Server};
///
/// let root = tempfile::tempdir()?;
/// let server = Arc::new(Server::new(Config::new(root.path(), Default::default()))?);
/// // Hand it to `serve::serve` with a listener and a shutdown signal.
/// # drop(server);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Server {
    edge: Edge,
    origin_deny: OriginDeny,
    /// Seconds the edge's clock is ahead (negative: behind).
    clock_skew: i64,
    pub(super) store: Store,
    pub(super) read_only: bool,
    log: Option<LogSink>,
    pub(super) idle_timeout: Duration,
    pub(super) max_uploads: usize,
    /// One permit per PUT being received.
    pub(super) uploads: Arc<Semaphore>,
}

impl Server {
    /// Checks the configuration: the root must be a folder, the base URL a
    /// scheme and a host.
    ///
    /// ```
    /// use cfsign::serve::{Config, Server};
    ///
    /// let root = tempfile::tempdir()?;
    /// let config = Config {
    ///     base_url: Some("https://d111111abcdef8.cloudfront.net/".into()),
    ///     ..Config::new(root.path(), Default::default())
    /// };
    /// assert!(Server::new(config).is_ok());
    ///
    /// let file = root.path().join("a.txt");
    /// std::fs::write(&file, "a")?;
    /// let err = Server::new(Config::new(&file, Default::default())).unwrap_err();
    /// assert!(err.to_string().ends_with("it is not a folder"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: Config) -> Result<Self, ServeError> {
        let shown = config.root.display().to_string();
        let root = std::fs::canonicalize(&config.root)
            .map_err(|e| ServeError::Root(shown.clone(), crate::error::io_reason(&e)))?;
        if !root.is_dir() {
            return Err(ServeError::Root(shown, "it is not a folder".into()));
        }
        let base_url = config.base_url.as_deref().map(parse_base_url).transpose()?;
        let mut access = config.access;
        if let Access::Signed(keys) = &mut access {
            for id in &config.unknown_keys {
                keys.remove(id.as_str());
            }
        }
        Ok(Server {
            edge: Edge::new(access, base_url, config.allowed_methods, config.clock_skew),
            origin_deny: config.origin_deny,
            clock_skew: config.clock_skew,
            store: Store::new(root),
            read_only: config.read_only,
            log: config.log,
            idle_timeout: config.idle_timeout,
            max_uploads: config.max_uploads,
            uploads: Arc::new(Semaphore::new(config.max_uploads)),
        })
    }

    /// The canonical root: absolute, without `.`, `..` or links.
    ///
    /// ```
    /// use cfsign::serve::{Config, Server};
    ///
    /// let root = tempfile::tempdir()?;
    /// std::fs::create_dir(root.path().join("objects"))?;
    /// let server = Server::new(Config::new(root.path().join("objects/../objects"), Default::default()))?;
    /// assert_eq!(server.root(), root.path().canonicalize()?.join("objects"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// Writes a log line, if there is a log; `line` is only built then.
    pub(super) fn log(&self, line: impl FnOnce() -> String) {
        if let Some(sink) = &self.log {
            sink.line(&line());
        }
    }

    /// One request, whatever becomes of it: an answer and a log line.
    pub(super) async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Response<Body> {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let answer = self.respond(req, peer, local).await;
        self.answered(&method, &path, answer).map(Reply::into_body)
    }

    /// A GET or HEAD read by our own HTTP/1.1 reader (`fast`): the same
    /// checks, answer and log line as [`Server::handle`], with a file's bytes
    /// left unread for the caller to send (`sendfile`).
    #[cfg(target_os = "linux")]
    pub(super) async fn handle_read(
        self: Arc<Self>,
        req: &Request<()>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Response<Reply> {
        let head = req.method() == Method::HEAD;
        let answer = async {
            self.admit(req, peer, local)?;
            self.get(req, head, false).await
        }
        .await;
        self.answered(req.method(), req.uri().path(), answer)
    }

    /// What stands before the origin's own work: the edge's checks, then
    /// the origin's permissions.
    fn admit<B>(
        &self,
        req: &Request<B>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<(), ErrorResponse> {
        self.edge.check(req, peer, local)?;
        self.origin_deny.check(req.method())
    }

    /// The answer to send, an error turned into its XML, and the log line.
    fn answered(
        &self,
        method: &Method,
        path: &str,
        answer: Result<Response<Reply>, ErrorResponse>,
    ) -> Response<Reply> {
        let (mut response, reason) = match answer {
            Ok(response) => (response, None),
            Err(e) => (
                error_response(&e, method == Method::HEAD),
                Some(e.log_text()),
            ),
        };
        // A skewed edge says its own time, which is what a client compares
        // with its clock (otherwise hyper, or `fast`, writes the true one).
        if self.clock_skew != 0 {
            let date =
                crate::time::format_http_date(crate::time::now().saturating_add(self.clock_skew));
            if let Ok(date) = header::HeaderValue::from_str(&date) {
                response.headers_mut().insert(header::DATE, date);
            }
        }
        self.log(|| {
            let status = response.status().as_u16();
            let path = escape::shown(path);
            match reason {
                Some(reason) => format!("{method} {path} {status} {reason}"),
                None => format!("{method} {path} {status}"),
            }
        });
        response
    }

    async fn respond(
        self: &Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<Response<Reply>, ErrorResponse> {
        self.admit(&req, peer, local)?;
        match *req.method() {
            // hyper sends what it is given: the first piece is read with the
            // file's opening.
            Method::GET => self.get(&req, false, true).await,
            Method::HEAD => self.get(&req, true, true).await,
            Method::PUT => self.put(req).await,
            ref other => Err(ErrorResponse::method_not_allowed(other)),
        }
    }
}

/// An answer's body before it is sent: bytes in memory, or a part of an
/// open file, which hyper streams in pieces ([`FileBody::into_body`]) and
/// `fast` sends with `sendfile`.
pub(super) enum Reply {
    Bytes(Bytes),
    File(FileBody),
}

impl Reply {
    pub(super) fn empty() -> Self {
        Reply::Bytes(Bytes::new())
    }

    /// The body's length, which hyper would take from the body itself.
    #[cfg(target_os = "linux")]
    pub(super) fn len(&self) -> u64 {
        match self {
            Reply::Bytes(bytes) => bytes.len() as u64,
            Reply::File(file) => file.len(),
        }
    }

    fn into_body(self) -> Body {
        match self {
            Reply::Bytes(bytes) if bytes.is_empty() => empty(),
            Reply::Bytes(bytes) => full(bytes),
            Reply::File(file) => file.into_body(),
        }
    }
}

/// The body of every answer: a file streamed, or bytes in memory.
pub(super) type Body = BoxBody<Bytes, io::Error>;

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

pub(super) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A blocking task that panicked or was cancelled.
pub(super) fn join_error(e: tokio::task::JoinError) -> ErrorResponse {
    ErrorResponse::internal(format!("worker failed: {e}"))
}

fn error_response(e: &ErrorResponse, head: bool) -> Response<Reply> {
    let body = e.body();
    let mut response = Response::builder()
        .status(e.status)
        .header(header::CONTENT_TYPE, e.content_type());
    for (name, value) in &e.headers {
        response = response.header(*name, value);
    }
    let body = if head { Bytes::new() } else { body.into() };
    response
        .body(Reply::Bytes(body))
        .unwrap_or_else(|_| Response::new(Reply::Bytes("internal error".into())))
}
