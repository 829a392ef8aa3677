//! Our own HTTP/1.1 reader for the requests that are most of the load and
//! need nothing of hyper: a plain `GET` or `HEAD`, whose file is sent with
//! `sendfile(2)` (the page cache straight to the socket, no copy through
//! user space). hyper cannot do that: a body there yields only `Bytes`, and
//! the connection cannot be taken back from it for one response.
//!
//! It is deliberately narrow, so that it never has to be lenient: it reads
//! request heads itself until one is not a plain GET or HEAD (a body, any
//! framing or upgrade header, a method, version or target it does not
//! expect, a head it cannot parse or that fills [`READ_BUFFER`]), and then
//! hands the connection to hyper, with the bytes already read, for the rest
//! of its life. hyper stays the reference: this module writes the answers it
//! takes byte for byte as hyper would (status line, headers in order,
//! `content-length`, `date`, HTTP/1.0 and `Connection` rules), and the
//! answers come from the same [`Server::handle_read`] path (edge, store,
//! ranges, error XML, log line).
//!
//! It keeps the promises hyper keeps: a head must arrive within the idle
//! timeout (also the wait for the next request), a client that stops reading
//! for that long is dropped (and its file closed), a file cut short while
//! sent closes the connection rather than end the body early.

mod send;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BufMut;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, Uri, Version};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Server;
use super::listen::READ_BUFFER;
use super::server::Reply;

/// hyper's default limit on the number of request headers (beyond it, it
/// answers 431; here, such a head goes to hyper).
const MAX_HEADERS: usize = 100;

/// The longest request target taken here. Longer ones go to hyper, which
/// has its own limit; the edge refuses anything over 8 KiB anyway.
const MAX_TARGET: usize = 8192;

/// Serves the connection's plain GETs and HEADs until it ends (`None`), or
/// until a request is one for hyper: then the stream and the bytes read but
/// not yet answered.
pub(super) async fn drive(
    mut stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    server: &Arc<Server>,
) -> Option<(TcpStream, Vec<u8>)> {
    let mut buf = Vec::new();
    loop {
        let deadline = Instant::now() + server.idle_timeout;
        let (req, used, keep_alive) = loop {
            match parse(&buf) {
                Head::Plain {
                    req,
                    used,
                    keep_alive,
                } => break (req, used, keep_alive),
                Head::Partial if buf.len() < READ_BUFFER => {}
                Head::Partial | Head::Other => return Some((stream, buf)),
            }
            // A client that sends nothing, or its head too slowly, or
            // closes: the connection ends, as with hyper's
            // `header_read_timeout`.
            match tokio::time::timeout_at(deadline, read_more(&stream, &mut buf)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        };
        buf.drain(..used);
        if answer(&stream, &req, keep_alive, peer, local, server)
            .await
            .is_err()
        {
            // The client went away or stopped reading, or the file was cut
            // short: the answer cannot be completed, nor the connection kept.
            return None;
        }
        if !keep_alive {
            let _ = stream.shutdown().await;
            return None;
        }
    }
}

/// Reads what the client has sent, keeping the buffer within [`READ_BUFFER`].
async fn read_more(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let room = READ_BUFFER - buf.len();
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(room.min(8192));
    }
    loop {
        stream.readable().await?;
        match stream.try_read_buf(&mut (&mut *buf).limit(room)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            read => return read,
        }
    }
}

/// What a buffer holds at its start.
#[derive(Debug)]
enum Head {
    /// A plain GET or HEAD of `used` bytes, answered here.
    Plain {
        req: Box<Request<()>>,
        used: usize,
        keep_alive: bool,
    },
    /// Not a whole head yet.
    Partial,
    /// Anything else: hyper's to parse, answer or refuse.
    Other,
}

fn parse(buf: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let used = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::Other,
    };
    let method = match parsed.method {
        Some("GET") => Method::GET,
        Some("HEAD") => Method::HEAD,
        _ => return Head::Other,
    };
    let (version, mut keep_alive) = match parsed.version {
        Some(1) => (Version::HTTP_11, true),
        Some(0) => (Version::HTTP_10, false),
        _ => return Head::Other,
    };
    let Some(target) = parsed
        .path
        .filter(|p| p.starts_with('/') && p.len() <= MAX_TARGET)
    else {
        return Head::Other;
    };
    let Ok(uri) = Uri::try_from(target) else {
        return Head::Other;
    };
    let mut req = Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = version;
    let mut close = false;
    for h in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) else {
            return Head::Other;
        };
        match name {
            // A body, or a protocol change: hyper's rules.
            header::TRANSFER_ENCODING | header::EXPECT | header::UPGRADE => {
                return Head::Other;
            }
            header::CONTENT_LENGTH if value.as_bytes() != b"0" => return Head::Other,
            // hyper's: once a `Connection` line asks to close, nothing
            // undoes it; HTTP/1.0 keeps the connection only if asked.
            header::CONNECTION => {
                if close || has_token(&value, "close") {
                    close = true;
                    keep_alive = false;
                } else if !keep_alive {
                    keep_alive = has_token(&value, "keep-alive");
                }
            }
            _ => {}
        }
        req.headers_mut().append(name, value);
    }
    Head::Plain {
        req: Box::new(req),
        used,
        keep_alive,
    }
}

/// Whether a comma-separated header value lists `token` (any case).
fn has_token(value: &HeaderValue, token: &str) -> bool {
    value
        .to_str()
        .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

async fn answer(
    stream: &TcpStream,
    req: &Request<()>,
    keep_alive: bool,
    peer: SocketAddr,
    local: SocketAddr,
    server: &Arc<Server>,
) -> io::Result<()> {
    let head = req.method() == Method::HEAD;
    let response = server.clone().handle_read(req, peer, local).await;
    let (parts, reply) = response.into_parts();
    let mut out = response_head(
        &Response::from_parts(parts, ()),
        req.version(),
        keep_alive,
        reply.len(),
        head,
    );
    let timeout = server.idle_timeout;
    match reply {
        Reply::File(file) if !head => {
            send::bytes(stream, &out, true, timeout).await?;
            send::file(stream, file, timeout).await
        }
        Reply::Bytes(bytes) if !head => {
            out.extend_from_slice(&bytes);
            send::bytes(stream, &out, false, timeout).await
        }
        _ => send::bytes(stream, &out, false, timeout).await,
    }
}

/// The status line and headers hyper would write for this response to a
/// request of `version` (hyper's `Conn::enforce_version` and
/// `Server::encode`, for the statuses `serve` answers with).
fn response_head(
    response: &Response<()>,
    version: Version,
    keep_alive: bool,
    body_len: u64,
    head: bool,
) -> Vec<u8> {
    let status = response.status();
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(if version == Version::HTTP_10 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
    out.extend_from_slice(b"\r\n");
    let headers = response.headers();
    // hyper writes the length itself, after the headers (`connection`
    // included), where the response sets none or the body is empty: a
    // `content-length` set on an empty body it drops, except for HEAD.
    let implicit_len = !head && (body_len == 0 || !headers.contains_key(header::CONTENT_LENGTH));
    for (name, value) in headers {
        if !(implicit_len && name == header::CONTENT_LENGTH) {
            line(&mut out, name.as_str(), value.as_bytes());
        }
    }
    // hyper: to an HTTP/1.0 client that asked to keep the connection, it
    // says it keeps it; to an HTTP/1.1 one that asked to close, it says it
    // closes. (No GET or HEAD answer sets `Connection` itself; only PUT's
    // `RequestTimeout` and `SlowDown` do, and PUTs go to hyper.)
    if version == Version::HTTP_10 && keep_alive {
        line(&mut out, "connection", b"keep-alive");
    } else if version == Version::HTTP_11 && !keep_alive {
        line(&mut out, "connection", b"close");
    }
    if implicit_len {
        line(&mut out, "content-length", body_len.to_string().as_bytes());
    }
    if !headers.contains_key(header::DATE) {
        let now = crate::time::format_http_date(crate::time::now());
        line(&mut out, "date", now.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
