//! What an embedder (the CLI, a test, a benchmark) tells the server: typed
//! values only. Flags, environment variables and config files are read in
//! the CLI layer and arrive here already resolved; the checks that need the
//! file system (the root is a folder) or a rule of their own (the base URL)
//! happen once, in [`Server::new`](super::Server::new).

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::log::LogSink;
use super::rehearse::{AllowedMethods, OriginDeny};
use crate::sign::KeyPairId;
use crate::verify::KeyRing;

/// The default of [`Config::idle_timeout`].
///
/// ```
/// use cfsign::serve::{Config, DEFAULT_IDLE_TIMEOUT};
///
/// let config = Config::new("/srv/objects", Default::default());
/// assert_eq!(config.idle_timeout, DEFAULT_IDLE_TIMEOUT);
/// ```
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of [`Config::max_uploads`].
///
/// ```
/// use cfsign::serve::{Config, DEFAULT_MAX_UPLOADS};
///
/// // A load test with more connections than the default lets upload at once.
/// let connections = 256;
/// let config = Config {
///     max_uploads: connections.max(DEFAULT_MAX_UPLOADS),
///     ..Config::new("/srv/objects", Default::default())
/// };
/// assert_eq!(config.max_uploads, 256);
/// ```
pub const DEFAULT_MAX_UPLOADS: usize = 64;

/// Who may use the server.
///
/// ```
/// use cfsign::serve::{self, Access, Config};
/// use cfsign::sign::PublicKey;
/// use cfsign::verify::KeyRing;
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
/// let mut keys = KeyRing::new();
/// keys.insert("K2JCJMDEHXQW5F", PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
/// let signed = Access::Signed(keys);
/// # drop(signed);
///
/// // `--no-auth`: anyone who reaches the port may read and write.
/// let root = tempfile::tempdir()?;
/// std::fs::write(root.path().join("a.txt"), "a")?;
/// let config = Config { access: Access::Open, ..Config::new(root.path(), KeyRing::new()) };
/// let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// assert!(http(edge.addr(), "GET /a.txt", &[], b"")?.starts_with("HTTP/1.1 200"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub enum Access {
    /// Every request is allowed (`--no-auth`).
    Open,
    /// Requests must carry a signed URL or signed cookies made with one of
    /// these keys.
    Signed(KeyRing),
}

/// What to serve and how.
///
/// A read-only edge that checks signatures against the distribution's own
/// host name and keeps a log:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use cfsign::serve::{self, Config, LogSink};
/// use cfsign::verify::KeyRing;
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
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let log = {
///     let lines = lines.clone();
///     LogSink::new(move |line| lines.lock().unwrap().push(line.to_string()))
/// };
/// let config = Config {
///     read_only: true,
///     base_url: Some("https://d111111abcdef8.cloudfront.net".into()),
///     log: Some(log),
///     idle_timeout: Duration::from_secs(5),
///     max_uploads: 8,
///     ..Config::new(root.path(), KeyRing::new())
/// };
/// let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let answer = http(edge.addr(), "GET /a.txt", &[], b"")?;
/// assert!(answer.starts_with("HTTP/1.1 403")); // unsigned
/// edge.stop();
/// assert!(lines.lock().unwrap()[0].starts_with("GET /a.txt 403"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder: objects are files under it, keys their relative paths.
    pub root: PathBuf,
    /// Whether requests must be signed, and with which keys.
    pub access: Access,
    /// Refuse PUT with 403 AccessDenied.
    pub read_only: bool,
    /// The scheme and host signatures are checked against, such as
    /// `https://d111111abcdef8.cloudfront.net`; `None`: `http://<Host>`.
    pub base_url: Option<String>,
    /// Where the request log goes (one line per request); `None`: no log.
    pub log: Option<LogSink>,
    /// How long a client may take to send its request head, or pause in a
    /// request body, before it is disconnected (an unfinished upload is
    /// removed).
    pub idle_timeout: Duration,
    /// How many PUTs may be received at once; more get 503 `SlowDown`.
    pub max_uploads: usize,
    /// The cache behaviour's allowed methods: others get CloudFront's 403
    /// page. `None`: every method reaches the origin (which takes GET, HEAD
    /// and PUT).
    pub allowed_methods: Option<AllowedMethods>,
    /// What the origin refuses after the edge let the request through, as
    /// a bucket policy lacking `s3:GetObject` or `s3:PutObject` would.
    pub origin_deny: OriginDeny,
    /// Key IDs that are not in a trusted key group: their signatures get
    /// `InvalidKey` even if [`Access::Signed`] has their keys.
    pub unknown_keys: Vec<KeyPairId>,
    /// Seconds the edge's clock is ahead of this machine's (negative:
    /// behind): signatures are checked against it, and `Date` says it.
    pub clock_skew: i64,
}

impl Config {
    /// A configuration with signature checks against `keys`, no base URL,
    /// no log, the default limits, reads and writes allowed, no setup step
    /// missing.
    ///
    /// ```
    /// use cfsign::serve::{Access, Config, DEFAULT_MAX_UPLOADS};
    /// use cfsign::verify::KeyRing;
    ///
    /// let config = Config::new("/srv/objects", KeyRing::new());
    /// assert!(matches!(config.access, Access::Signed(_)));
    /// assert!(!config.read_only && config.log.is_none());
    /// assert_eq!(config.max_uploads, DEFAULT_MAX_UPLOADS);
    /// ```
    pub fn new(root: impl Into<PathBuf>, keys: KeyRing) -> Self {
        Config {
            root: root.into(),
            access: Access::Signed(keys),
            read_only: false,
            base_url: None,
            log: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_uploads: DEFAULT_MAX_UPLOADS,
            allowed_methods: None,
            origin_deny: OriginDeny::default(),
            unknown_keys: Vec::new(),
            clock_skew: 0,
        }
    }
}

/// Why a server could not start.
///
/// ```
/// use cfsign::serve::{Config, ServeError, Server};
///
/// let missing = Config::new("/nonexistent/objects", Default::default());
/// assert!(matches!(Server::new(missing), Err(ServeError::Root(..))));
///
/// let root = tempfile::tempdir()?;
/// let with_path = Config {
///     base_url: Some("https://d111111abcdef8.cloudfront.net/images".into()),
///     ..Config::new(root.path(), Default::default())
/// };
/// let err = Server::new(with_path).unwrap_err();
/// assert!(matches!(err, ServeError::BaseUrl(_)));
/// assert!(err.to_string().contains("a scheme and host only"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The root is missing, unreadable or not a folder: its path as given,
    /// and why.
    #[error("cannot serve {0}: {1}")]
    Root(String, String),
    /// The base URL is more than a scheme and a host.
    #[error(
        "--base-url `{0}` must be a scheme and host only, such as https://d111111abcdef8.cloudfront.net"
    )]
    BaseUrl(String),
    /// The listener or the runtime could not be set up.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// `https://host[:port]` with an optional trailing slash, which is dropped.
pub(super) fn parse_base_url(text: &str) -> Result<String, ServeError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
