//! What an embedder (the CLI, a test, a benchmark) tells the server: typed
//! values only. Flags, environment variables and config files are read in
//! the CLI layer and arrive here already resolved; the checks that need the
//! file system (the root is a folder) or a rule of their own (the base URL)
//! happen once, in [`Server::new`](super::Server::new).

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::log::LogSink;
use crate::verify::KeyRing;

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
}

impl Config {
    /// A configuration with signature checks, no base URL and no log.
    pub fn new(root: impl Into<PathBuf>, keys: KeyRing) -> Self {
        Config {
            root: root.into(),
            access: Access::Signed(keys),
            read_only: false,
            base_url: None,
            log: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_uploads: DEFAULT_MAX_UPLOADS,
        }
    }
}

/// Why a server could not start.
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
