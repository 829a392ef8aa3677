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
//! Connections are hyper's, except that on Linux plain GETs and HEADs are
//! read by our own HTTP/1.1 reader (`fast`), which sends files with
//! `sendfile`, until a request needs hyper.
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
//!
//! An edge that trusts one key, on a free port of the loopback (`http` is a
//! bare HTTP/1.1 client, `Connection: close`):
//!
//! ```
//! use cfsign::serve::{self, Config};
//! use cfsign::sign::{Policy, PrivateKey, PublicKey, Signer};
//! use cfsign::verify::KeyRing;
//!
//! # fn http(addr: std::net::SocketAddr, line: &str, headers: &[&str], body: &[u8]) -> std::io::Result<String> {
//! #     use std::io::{Read, Write};
//! #     let mut request = format!("{line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
//! #     if !body.is_empty() { request.push_str(&format!("Content-Length: {}\r\n", body.len())); }
//! #     for h in headers { request.push_str(h); request.push_str("\r\n"); }
//! #     request.push_str("\r\n");
//! #     let mut stream = std::net::TcpStream::connect(addr)?;
//! #     stream.write_all(request.as_bytes())?;
//! #     stream.write_all(body)?;
//! #     let mut answer = Vec::new();
//! #     stream.read_to_end(&mut answer)?;
//! #     Ok(String::from_utf8_lossy(&answer).into_owned())
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = tempfile::tempdir()?;
//! std::fs::write(root.path().join("hello.txt"), "hello")?;
//! let mut keys = KeyRing::new();
//! keys.insert("K2JCJMDEHXQW5F", PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
//! let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, Config::new(root.path(), keys))?;
//!
//! let url = format!("{}/hello.txt", edge.url());
//! let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
//! let signer = Signer::new(PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
//! let signed = signer.sign(&Policy::canned(&url, cfsign::time::now() + 300)?).apply_to(&url)?;
//! let path_and_query = &signed.as_str()[edge.url().len()..];
//!
//! let answer = http(edge.addr(), &format!("GET {path_and_query}"), &[], b"")?;
//! assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("hello"));
//! let refused = http(edge.addr(), "GET /hello.txt", &[], b"")?;
//! assert!(refused.starts_with("HTTP/1.1 403") && refused.contains("<Code>MissingKey</Code>"));
//! edge.stop();
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs, unreachable_pub)]

mod config;
mod edge;
#[cfg(target_os = "linux")]
mod fast;
mod get;
mod idle;
mod listen;
mod log;
mod path;
mod put;
mod range;
mod rehearse;
mod server;
mod store;
mod verified;
mod xml;

pub use config::{Access, Config, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_UPLOADS, ServeError};
pub use listen::{Handle, serve, spawn};
pub use log::LogSink;
pub use path::{ObjectKey, PathError};
pub use range::{ByteRange, RangeRequest, if_range_matches, parse_range};
pub use rehearse::{AllowedMethods, OriginDeny};
pub use server::Server;
pub use store::{META_DIR, TEMP_PREFIX};
