//! `cfsign serve`: a local CloudFront edge in front of an S3-like origin on a
//! folder, for offline tests and CI.
//!
//! Each request is first checked the way CloudFront checks it, by
//! [`verify::check`] (the one validation core, shared with `cfsign verify`);
//! a refusal gets CloudFront's 403 XML. What passes reaches the origin: GET
//! and HEAD (one byte range, `If-Range`) and PUT (atomic, SHA-256 checked,
//! MD5 ETag), with S3's error bodies. The origin never reads or writes outside
//! its root: [`path`] is the only way from a request to a file.
//!
//! It stays available to honest clients whatever a few others do: a client
//! that stalls in its request head or body, or stops reading an answer, is
//! disconnected after [`Config::idle_timeout`], and at most [`Config::max_uploads`] PUTs hold a
//! temp file and a writer thread at once (beyond that, 503 `SlowDown` before
//! the body is read). Every log line is escaped: one line is one request.
//!
//! Embedding: [`spawn`] runs a server on its own threads and returns a
//! [`Handle`]; [`serve`] runs one on the caller's tokio runtime.

mod idle;
mod path;
mod range;
mod store;
mod xml;

pub use path::{ObjectKey, PathError};
pub use range::{ByteRange, RangeRequest, if_range_matches, parse_range};
pub use store::{META_DIR, TEMP_PREFIX};
pub use xml::ErrorResponse;

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, Seek, SeekFrom, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;

use crate::digest::MAX_OBJECT_SIZE;
use crate::escape;
use crate::verify::{self, KeyRing};
use path::ResolveError;
use store::{Expected, PutError, Store, Upload};

/// CloudFront's limit on the request URL.
pub const MAX_URL_BYTES: usize = 8192;
/// CloudFront's limit on the request line and headers together.
pub const MAX_HEAD_BYTES: usize = 20480;
/// hyper's read (and write) buffer. It bounds what a client can make the
/// server hold before the limits above are checked (hyper answers 431 beyond
/// it), and it is the largest piece of a body read at once: at 256 KiB a
/// 1 GiB PUT is four thousand reads and hand-offs to the writer thread instead
/// of sixteen thousand at 64 KiB, whose wake-ups cost the server a fifth of
/// its CPU.
const READ_BUFFER: usize = 256 * 1024;
/// The default of [`Config::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of [`Config::max_uploads`].
pub const DEFAULT_MAX_UPLOADS: usize = 64;

/// Who may use the server.
#[derive(Debug, Clone)]
pub enum Access {
    /// Every request is allowed (`--no-auth`).
    Open,
    /// Requests must carry a signed URL or signed cookies made with one of
    /// these keys.
    Signed(KeyRing),
}

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder: objects are files under it, keys their relative paths.
    pub root: PathBuf,
    pub access: Access,
    /// Refuse PUT with 403 AccessDenied.
    pub read_only: bool,
    /// The scheme and host signatures are checked against, such as
    /// `https://d111111abcdef8.cloudfront.net`; `None`: `http://<Host>`.
    pub base_url: Option<String>,
    /// One line per request on stderr.
    pub log: bool,
    /// How long a client may take to send its request head, or pause in a
    /// request body, before it is disconnected (an unfinished upload is
    /// removed).
    pub idle_timeout: Duration,
    /// How many PUTs may be received at once; more get 503 `SlowDown`.
    pub max_uploads: usize,
}

impl Config {
    /// A configuration with signature checks, no base URL and no log.
    pub fn new(root: impl Into<PathBuf>, keys: KeyRing) -> Self {
        Config {
            root: root.into(),
            access: Access::Signed(keys),
            read_only: false,
            base_url: None,
            log: false,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_uploads: DEFAULT_MAX_UPLOADS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot serve {0}: {1}")]
    Root(String, String),
    #[error(
        "--base-url `{0}` must be a scheme and host only, such as https://d111111abcdef8.cloudfront.net"
    )]
    BaseUrl(String),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A validated configuration, ready to answer requests.
#[derive(Debug)]
pub struct Server {
    store: Store,
    access: Access,
    read_only: bool,
    base_url: Option<String>,
    log: bool,
    idle_timeout: Duration,
    max_uploads: usize,
    /// One permit per PUT being received.
    uploads: Arc<Semaphore>,
}

impl Server {
    pub fn new(config: Config) -> Result<Self, ServeError> {
        let shown = config.root.display().to_string();
        let root = std::fs::canonicalize(&config.root)
            .map_err(|e| ServeError::Root(shown.clone(), crate::error::io_reason(&e)))?;
        if !root.is_dir() {
            return Err(ServeError::Root(shown, "it is not a folder".into()));
        }
        let base_url = config.base_url.as_deref().map(parse_base_url).transpose()?;
        Ok(Server {
            store: Store::new(root),
            access: config.access,
            read_only: config.read_only,
            base_url,
            log: config.log,
            idle_timeout: config.idle_timeout,
            max_uploads: config.max_uploads,
            uploads: Arc::new(Semaphore::new(config.max_uploads)),
        })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        self.store.root()
    }
}

/// `https://host[:port]` with an optional trailing slash, which is dropped.
fn parse_base_url(text: &str) -> Result<String, ServeError> {
    let bad = || ServeError::BaseUrl(text.to_string());
    let trimmed = text.strip_suffix('/').unwrap_or(text);
    let (scheme, host) = trimmed.split_once("://").ok_or_else(bad)?;
    let scheme_ok = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"/?#\\\"".contains(&b));
    if scheme_ok && host_ok {
        Ok(trimmed.to_string())
    } else {
        Err(bad())
    }
}

/// A server running on its own threads. Dropping it stops it.
#[derive(Debug)]
pub struct Handle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base of every URL to request.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, drops open connections (removing the temp files of
    /// unfinished uploads) and waits for the threads to end.
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

/// Starts a server on a bound listener, on threads of its own.
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
                    if server.log {
                        log_line(&format!("cfsign: accept failed: {e}"));
                    }
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
    // Also the wait for the next request on a kept-alive connection.
    let header_timeout = server.idle_timeout;
    let server_idle = server.idle_timeout;
    let service = service_fn(move |req| {
        let server = server.clone();
        async move { Ok::<_, Infallible>(server.handle(req, peer, local).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(READ_BUFFER);
    // A client that stops reading an answer is dropped like one that stops
    // sending: the open file and the buffers go with it.
    let stream = idle::WriteTimeout::new(stream, server_idle);
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

type Body = BoxBody<Bytes, io::Error>;

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Writes one line of the log. Every line goes through [`escape::line`]:
/// what a request carries (its path, a policy quoted in a reason) can neither
/// start another line nor reach the terminal as a control sequence.
fn log_line(line: &str) {
    let line = escape::line(line);
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(&line);
    text.push('\n');
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// The request headers S3 stores with an object and returns on GET and HEAD
/// (`x-amz-acl` and `x-amz-content-sha256` come back as `x-cfsign-*`).
const STORED_HEADERS: [&str; 8] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-type",
    "expires",
    "x-amz-acl",
    "x-amz-content-sha256",
];

fn stored_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            STORED_HEADERS.contains(&name.as_str()) || name.as_str().starts_with("x-amz-meta-")
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect()
}

/// What the writer thread of a PUT receives.
enum Chunk {
    Data(Bytes),
    /// The body ended where Content-Length said: commit.
    End,
}

/// The blocking half of a PUT: writes what arrives and commits at the end.
/// A closed channel without [`Chunk::End`] drops the upload, which removes it.
/// The upload's permit is released only then, with its temp file gone.
fn write_upload(
    mut upload: Upload,
    mut chunks: mpsc::Receiver<Chunk>,
    expected: Expected,
    _permit: OwnedSemaphorePermit,
) -> Result<String, PutError> {
    while let Some(chunk) = chunks.blocking_recv() {
        match chunk {
            Chunk::Data(data) => upload.write(&data)?,
            Chunk::End => return upload.commit(&expected),
        }
    }
    Err(PutError::Io(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the request was dropped",
    )))
}

fn resolve_error(e: ResolveError) -> ErrorResponse {
    match e {
        ResolveError::Escapes(_) => ErrorResponse::s3_access_denied().reason(e.to_string()),
        ResolveError::Conflict(_) => ErrorResponse::new(
            StatusCode::CONFLICT,
            "KeyConflict",
            "cfsign serve stores objects as files: this key needs a folder where a file is, or a file where a folder is.",
        )
        .reason(e.to_string()),
        // The OS cannot hold the name: the client's key, not a server fault.
        ResolveError::TooLong(_) => ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "cfsign serve stores objects as files: this key makes a path longer than the operating system allows.",
        )
        .reason(e.to_string()),
        ResolveError::Io(e) => ErrorResponse::internal(e.to_string()),
    }
}

fn incomplete_body(reason: String) -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    )
    .reason(reason)
}

/// S3's answer to a client that stopped sending. The connection is closed:
/// the rest of the body is never read.
fn request_timeout(reason: String) -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
    )
    .header("connection", "close")
    .reason(reason)
}

/// S3's answer when it is too busy; the body is not read.
fn slow_down(max: usize) -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "SlowDown",
        "Please reduce your request rate.",
    )
    .header("connection", "close")
    .reason(format!("{max} uploads are already being received"))
}

fn join_error(e: tokio::task::JoinError) -> ErrorResponse {
    ErrorResponse::internal(format!("worker failed: {e}"))
}

impl Server {
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Response<Body> {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let head = method == Method::HEAD;
        let (response, reason) = match self.respond(req, peer, local).await {
            Ok(response) => (response, None),
            Err(e) => (error_response(&e, head), Some(e.log_text())),
        };
        if self.log {
            let status = response.status().as_u16();
            let path = escape::shown(&path);
            match reason {
                Some(reason) => log_line(&format!("{method} {path} {status} {reason}")),
                None => log_line(&format!("{method} {path} {status}")),
            }
        }
        response
    }

    async fn respond(
        self: &Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<Response<Body>, ErrorResponse> {
        check_limits(&req)?;
        self.authorize(&req, peer, local)?;
        match *req.method() {
            Method::GET => self.get(req, false).await,
            Method::HEAD => self.get(req, true).await,
            Method::PUT => self.put(req).await,
            ref other => Err(ErrorResponse::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            )
            .field("Method", other.as_str())
            .field("ResourceType", "OBJECT")
            .header("allow", "GET, HEAD, PUT")),
        }
    }

    /// CloudFront's check: a signed URL, else signed cookies.
    fn authorize(
        &self,
        req: &Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<(), ErrorResponse> {
        let Access::Signed(keys) = &self.access else {
            return Ok(());
        };
        let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let url = match &self.base_url {
            Some(base) => format!("{base}{target}"),
            None => {
                let host = req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .filter(|h| !h.is_empty());
                match host {
                    Some(host) => format!("http://{host}{target}"),
                    None => format!("http://{local}{target}"),
                }
            }
        };
        let cookies = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ");
        let client_ip = match peer.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(ip) => ip.to_ipv4_mapped(),
        };
        let request = verify::Request {
            url: &url,
            cookie_header: (!cookies.is_empty()).then_some(cookies.as_str()),
            client_ip,
            now: crate::time::now(),
        };
        verify::check(&request, keys)
            .map(|_| ())
            .map_err(|rejection| ErrorResponse::refused(&rejection))
    }

    async fn get(
        self: &Arc<Self>,
        req: Request<Incoming>,
        head: bool,
    ) -> Result<Response<Body>, ErrorResponse> {
        let key = object_key(&req)?;
        let server = self.clone();
        let lookup = key.clone();
        let object = tokio::task::spawn_blocking(move || server.store.open(&lookup))
            .await
            .map_err(join_error)?
            .map_err(resolve_error)?;
        let Some(mut object) = object else {
            return Err(ErrorResponse::no_such_key(key.as_str()));
        };

        let headers = req.headers();
        let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            None => RangeRequest::Whole,
            Some(value) => {
                let still_valid = headers
                    .get(header::IF_RANGE)
                    .map(|v| {
                        v.to_str()
                            .is_ok_and(|v| if_range_matches(v, &object.etag, object.modified))
                    })
                    .unwrap_or(true);
                if still_valid {
                    parse_range(value, object.len)
                } else {
                    RangeRequest::Whole
                }
            }
        };

        let mut response = Response::builder()
            .header(header::ETAG, format!("\"{}\"", object.etag))
            .header(
                header::LAST_MODIFIED,
                crate::time::format_http_date(object.modified),
            )
            .header(header::ACCEPT_RANGES, "bytes");
        let mut content_type = None;
        for (name, value) in &object.headers {
            let name = match name.as_str() {
                "content-type" => {
                    content_type = Some(value.clone());
                    continue;
                }
                "x-amz-acl" => "x-cfsign-acl",
                "x-amz-content-sha256" => "x-cfsign-content-sha256",
                other => other,
            };
            if let Ok(value) = HeaderValue::from_str(value) {
                response = response.header(name, value);
            }
        }
        let content_type = content_type.unwrap_or_else(|| {
            mime_guess::from_path(key.as_str())
                .first_or_octet_stream()
                .to_string()
        });
        response = response.header(header::CONTENT_TYPE, content_type);

        let (status, start, len) = match range {
            RangeRequest::Whole => (StatusCode::OK, 0, object.len),
            RangeRequest::Part(r) => {
                response = response.header(header::CONTENT_RANGE, r.content_range(object.len));
                (StatusCode::PARTIAL_CONTENT, r.start, r.length())
            }
            RangeRequest::Unsatisfiable => {
                return Err(ErrorResponse::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "InvalidRange",
                    "The requested range is not satisfiable",
                )
                .field(
                    "RangeRequested",
                    headers
                        .get(header::RANGE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default(),
                )
                .field("ActualObjectSize", object.len.to_string())
                .header(
                    "content-range",
                    range::unsatisfied_content_range(object.len),
                ));
            }
        };
        let body = if head || len == 0 {
            empty()
        } else {
            object
                .file
                .seek(SeekFrom::Start(start))
                .map_err(|e| ErrorResponse::internal(e.to_string()))?;
            let file = tokio::fs::File::from_std(object.file).take(len);
            let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
            StreamBody::new(stream.map_ok(Frame::data)).boxed()
        };
        response
            .status(status)
            .header(header::CONTENT_LENGTH, len)
            .body(body)
            .map_err(|e| ErrorResponse::internal(e.to_string()))
    }

    async fn put(
        self: &Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Body>, ErrorResponse> {
        if self.read_only {
            return Err(ErrorResponse::s3_access_denied().reason("the server is --read-only"));
        }
        let key = object_key(&req)?;
        if key.is_folder() {
            return Err(ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "cfsign serve stores objects as files: a key ending in / cannot be written.",
            ));
        }
        let headers = req.headers();
        let len = match headers.get(header::CONTENT_LENGTH) {
            None => {
                return Err(ErrorResponse::new(
                    StatusCode::LENGTH_REQUIRED,
                    "MissingContentLength",
                    "You must provide the Content-Length HTTP header.",
                ));
            }
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| {
                    ErrorResponse::new(
                        StatusCode::BAD_REQUEST,
                        "InvalidArgument",
                        "Content-Length is not a number.",
                    )
                })?,
        };
        if len > MAX_OBJECT_SIZE {
            return Err(ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
            )
            .field("ProposedSize", len.to_string())
            .field("MaxSizeAllowed", MAX_OBJECT_SIZE.to_string()));
        }
        let sha256 = match headers.get("x-amz-content-sha256") {
            None => {
                return Err(ErrorResponse::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    "Missing required header for this request: x-amz-content-sha256",
                ));
            }
            Some(v) => v
                .to_str()
                .ok()
                .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_ascii_lowercase)
                .ok_or_else(|| {
                    ErrorResponse::new(
                        StatusCode::BAD_REQUEST,
                        "InvalidArgument",
                        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
                    )
                    .field("ArgumentName", "x-amz-content-sha256")
                    .field("ArgumentValue", v.to_str().unwrap_or_default())
                    .reason("cfsign serve accepts only the hex SHA-256 of the body")
                })?,
        };
        let md5 = headers
            .get("content-md5")
            .map(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.as_bytes())
                    .ok()
                    .and_then(|d| <[u8; 16]>::try_from(d).ok())
                    .ok_or_else(|| {
                        ErrorResponse::new(
                            StatusCode::BAD_REQUEST,
                            "InvalidDigest",
                            "The Content-MD5 you specified was invalid.",
                        )
                    })
            })
            .transpose()?;
        let expected = Expected { len, sha256, md5 };
        let stored = stored_headers(headers);
        let permit = self
            .uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| slow_down(self.max_uploads))?;

        // The key is resolved and the temp file created before the body is
        // read: a conflict is answered before a client that sent `Expect:
        // 100-continue` sends a byte.
        let server = self.clone();
        let target = key.clone();
        let upload = tokio::task::spawn_blocking(move || server.store.begin_put(&target, stored))
            .await
            .map_err(join_error)?
            .map_err(resolve_error)?;
        // Pieces of up to READ_BUFFER; with two queued, one on its way in and
        // one being written, a PUT holds about four of them.
        let (chunks, receiver) = mpsc::channel(2);
        let writer =
            tokio::task::spawn_blocking(move || write_upload(upload, receiver, expected, permit));

        // If this future is dropped (the connection closed, the server
        // stopped), `chunks` goes with it and the writer removes the upload.
        let mut body = req.into_body();
        let mut received = 0u64;
        loop {
            let Ok(frame) = tokio::time::timeout(self.idle_timeout, body.frame()).await else {
                drop(chunks);
                let _ = writer.await;
                return Err(request_timeout(format!(
                    "no body byte for {:?} after {received} of {len} bytes",
                    self.idle_timeout
                )));
            };
            match frame {
                None => break,
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    received += data.len() as u64;
                    if chunks.send(Chunk::Data(data)).await.is_err() {
                        break; // the writer failed; its result says why
                    }
                }
                Some(Err(e)) => {
                    drop(chunks);
                    let _ = writer.await;
                    return Err(incomplete_body(format!(
                        "the body stopped after {received} of {len} bytes: {e}"
                    )));
                }
            }
        }
        let _ = chunks.send(Chunk::End).await;
        drop(chunks);
        let etag = writer.await.map_err(join_error)?.map_err(put_error)?;
        Response::builder()
            .status(StatusCode::OK)
            .header(header::ETAG, format!("\"{etag}\""))
            .header(header::CONTENT_LENGTH, 0)
            .body(empty())
            .map_err(|e| ErrorResponse::internal(e.to_string()))
    }
}

fn put_error(e: PutError) -> ErrorResponse {
    match e {
        PutError::Sha256Mismatch { client, computed } => ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
        .field("ClientComputedContentSHA256", client)
        .field("S3ComputedContentSHA256", computed),
        PutError::BadDigest => ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ),
        e @ PutError::Length { .. } => incomplete_body(e.to_string()),
        PutError::Resolve(e) => resolve_error(e),
        PutError::Io(e) => ErrorResponse::internal(e.to_string()),
    }
}

/// The object key of the request path, or 400.
fn object_key(req: &Request<Incoming>) -> Result<ObjectKey, ErrorResponse> {
    ObjectKey::from_request_path(req.uri().path()).map_err(|e| match e {
        PathError::TooLong => ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "KeyTooLongError",
            "Your key is too long",
        ),
        // S3 takes any segment; the file system here takes 255 bytes. S3's
        // word for a value it cannot take is InvalidArgument.
        PathError::SegmentTooLong => ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "cfsign serve stores objects as files: a part of the key between slashes cannot be longer than 255 bytes.",
        )
        .reason(e.to_string()),
        e => ErrorResponse::invalid_uri(format!("refused path: {e}")),
    })
}

/// CloudFront's size limits on the URL and on the request head.
fn check_limits(req: &Request<Incoming>) -> Result<(), ErrorResponse> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_URL_BYTES {
        return Err(ErrorResponse::new(
            StatusCode::URI_TOO_LONG,
            "RequestURITooLong",
            format!("The request URL is longer than {MAX_URL_BYTES} bytes."),
        ));
    }
    // `METHOD SP target SP HTTP/1.1 CRLF`, then `name: value CRLF` each.
    let head = req.method().as_str().len()
        + target
        + 12
        + req
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if head > MAX_HEAD_BYTES {
        return Err(ErrorResponse::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "RequestHeaderSectionTooLarge",
            format!(
                "Your request header section exceeds the maximum allowed size of {MAX_HEAD_BYTES} bytes."
            ),
        ));
    }
    Ok(())
}

fn error_response(e: &ErrorResponse, head: bool) -> Response<Body> {
    let content_type = if e.from_cloudfront {
        "text/xml"
    } else {
        "application/xml"
    };
    let body = e.body();
    let mut response = Response::builder()
        .status(e.status)
        .header(header::CONTENT_TYPE, content_type);
    for (name, value) in &e.headers {
        response = response.header(*name, value);
    }
    let body = if head { empty() } else { full(body) };
    response
        .body(body)
        .unwrap_or_else(|_| Response::new(full("internal error")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn base_url_forms() {
        assert_eq!(
            parse_base_url("https://d111111abcdef8.cloudfront.net/").unwrap(),
            "https://d111111abcdef8.cloudfront.net"
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "d111111abcdef8.cloudfront.net",
            "ftp://h",
            "https://",
            "https://h/path",
            "https://h?q",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

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
