//! `cfsign serve`: a local CloudFront edge in front of an S3-like origin on a
//! folder, for offline tests and CI.
//!
//! Each request is first checked the way CloudFront checks it (`edge`: size
//! limits, then [`verify::check`](crate::verify::check), the one validation
//! core shared with `cfsign verify`); a refusal gets CloudFront's 403 XML.
//! What passes reaches the origin: GET and HEAD (`get`: one byte range,
//! `If-Range`) and PUT (`put`: atomic, SHA-256 checked, MD5 ETag), with
//! S3's error bodies (`xml`, the one catalogue of error answers). The
//! origin never reads or writes outside its root: `path` is the only way
//! from a request to a file, and `store` the only code that writes.
//!
//! It stays available to honest clients whatever a few others do: a client
//! that stalls in its request head or body, or stops reading an answer, is
//! disconnected after [`Config::idle_timeout`], and at most
//! [`Config::max_uploads`] PUTs hold a temp file and a writer thread at once
//! (beyond that, 503 `SlowDown` before the body is read).
//!
//! This layer takes typed values and never touches the terminal or the
//! environment: the request log goes to the [`LogSink`] the embedder puts in
//! [`Config::log`], every line escaped, one line per request.
//!
//! Embedding: [`spawn`] runs a server on its own threads and returns a
//! [`Handle`]; [`serve`] runs one on the caller's tokio runtime.

#![warn(missing_docs)]

mod config;
mod edge;
mod get;
mod idle;
mod listen;
mod log;
mod path;
mod put;
mod range;
mod server;
mod store;
mod xml;

pub use config::{Access, Config, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_UPLOADS, ServeError};
pub use listen::{Handle, serve, spawn};
pub use log::LogSink;
pub use path::{ObjectKey, PathError};
pub use range::{ByteRange, RangeRequest, if_range_matches, parse_range};
pub use server::Server;
pub use store::{META_DIR, TEMP_PREFIX};
