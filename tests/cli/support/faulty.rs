//! A small HTTP/1.1 server on loopback that misbehaves on purpose, one
//! scripted fault per request: error statuses, bodies cut mid-way, slow
//! bodies, ignored `Range`, wrong ETags, checksums echoed or not. Its PUT
//! answers carry no `x-amz-checksum-sha256` unless told (an older
//! S3-compatible server). It records every request so tests
//! can check what the client sent. Plain threads and std sockets, so the
//! faults are exact (no framework smoothing them over).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// What the server does with one request. When the script is empty it
/// behaves (`Fault::None`).
#[derive(Clone, Debug)]
pub enum Fault {
    /// Serve correctly: GET/HEAD the object (with Range), PUT stores the body.
    None,
    /// Answer with this status, extra headers and body (after reading any
    /// request body).
    Status(u16, Vec<(String, String)>, String),
    /// GET: send the full Content-Length but close after this many body bytes.
    CutAfter(usize),
    /// GET: answer 200 with the whole object even when a Range was asked.
    IgnoreRange,
    /// GET: send the body in small pieces with this pause between them.
    Slow(Duration),
    /// GET: claim a Content-Length longer than the body and close.
    ShortBody(usize),
    /// PUT: read this many body bytes, then drop the connection.
    CutUpload(usize),
    /// PUT: store the body but answer with this (wrong) ETag.
    WrongEtag(String),
    /// PUT: store the body and answer as S3 does, echoing the request's
    /// `x-amz-checksum-sha256` (`None`), or this one instead (`Some`).
    EchoChecksum(Option<String>),
    /// Behave, but only answer after this pause (to see requests overlap).
    Hold(Duration),
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// Bytes of body received (before any cut).
    pub body_len: usize,
    /// Lowercase hex SHA-256 of the body received.
    pub body_sha256: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Fault>,
    object: Vec<u8>,
    requests: Vec<Recorded>,
    in_flight: usize,
    max_in_flight: usize,
}

pub struct FaultyServer {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FaultyServer {
    /// Starts serving `object` (for GET) on 127.0.0.1 with an empty script.
    pub fn start(object: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            object,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                thread::spawn(move || {
                    let _ = handle(stream, &state);
                });
            }
        });
        FaultyServer { addr, state }
    }

    /// Queues faults for the next requests, in order.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().script.extend(faults);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    /// The object as last stored by a PUT (or as given to `start`).
    pub fn object(&self) -> Vec<u8> {
        self.state.lock().unwrap().object.clone()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let content_length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut fault = state
            .lock()
            .unwrap()
            .script
            .pop_front()
            .unwrap_or(Fault::None);
        {
            let mut s = state.lock().unwrap();
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        }
        let _leaving = InFlight(state);
        if let Fault::Hold(pause) = fault {
            thread::sleep(pause);
            fault = Fault::None;
        }

        // Read the request body (or part of it, for a cut upload).
        let limit = match fault {
            Fault::CutUpload(n) => n.min(content_length),
            _ => content_length,
        };
        let mut body = vec![0u8; limit];
        reader.read_exact(&mut body)?;
        state.lock().unwrap().requests.push(Recorded {
            method: method.clone(),
            target: target.clone(),
            headers: headers.clone(),
            body_len: body.len(),
            body_sha256: hex::encode(Sha256::digest(&body)),
        });
        if let Fault::CutUpload(_) = fault {
            return Ok(()); // drops the connection mid-body
        }

        let object = state.lock().unwrap().object.clone();
        let etag = format!("\"{}\"", hex::encode(md5_digest(&object)));
        match fault {
            Fault::Status(code, extra, text) => {
                let mut head = format!(
                    "HTTP/1.1 {code} Status\r\nContent-Length: {}\r\n",
                    text.len()
                );
                for (n, v) in extra {
                    head.push_str(&format!("{n}: {v}\r\n"));
                }
                head.push_str("\r\n");
                out.write_all(head.as_bytes())?;
                out.write_all(text.as_bytes())?;
            }
            Fault::None | Fault::WrongEtag(_) | Fault::EchoChecksum(_) if method == "PUT" => {
                let stored_etag = format!("\"{}\"", hex::encode(md5_digest(&body)));
                state.lock().unwrap().object = body;
                let (etag, checksum) = match fault {
                    Fault::WrongEtag(e) => (e, None),
                    Fault::EchoChecksum(c) => (stored_etag, c.or(header("x-amz-checksum-sha256"))),
                    _ => (stored_etag, None),
                };
                let checksum = checksum
                    .map(|c| format!("x-amz-checksum-sha256: {c}\r\n"))
                    .unwrap_or_default();
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nETag: {etag}\r\n{checksum}Content-Length: 0\r\n\r\n"
                )?;
            }
            Fault::CutAfter(n) | Fault::ShortBody(n) => {
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\n\r\n",
                    object.len()
                )?;
                out.write_all(&object[..n.min(object.len())])?;
                out.flush()?;
                if matches!(fault, Fault::ShortBody(_)) {
                    let _ = out.shutdown(std::net::Shutdown::Both);
                }
                return Ok(());
            }
            Fault::IgnoreRange => {
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\n\r\n",
                    object.len()
                )?;
                out.write_all(&object)?;
            }
            Fault::Slow(pause) => {
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\n\r\n",
                    object.len()
                )?;
                for chunk in object.chunks(1024) {
                    out.write_all(chunk)?;
                    out.flush()?;
                    thread::sleep(pause);
                }
            }
            Fault::None | Fault::WrongEtag(_) | Fault::EchoChecksum(_) => {
                let range = header("range").and_then(|r| parse_range(&r, object.len()));
                let send_body = method != "HEAD";
                match range {
                    Some((a, b)) => {
                        write!(
                            out,
                            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {a}-{b}/{}\r\nETag: {etag}\r\n\r\n",
                            b + 1 - a,
                            object.len()
                        )?;
                        if send_body {
                            out.write_all(&object[a..=b])?;
                        }
                    }
                    None => {
                        write!(
                            out,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\n\r\n",
                            object.len()
                        )?;
                        if send_body {
                            out.write_all(&object)?;
                        }
                    }
                }
            }
            Fault::CutUpload(_) | Fault::Hold(_) => unreachable!(),
        }
        out.flush()?;
    }
}

/// Counts a request as finished when dropped, however it ends.
struct InFlight<'a>(&'a Mutex<State>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().in_flight -= 1;
    }
}

/// `bytes=a-` or `bytes=a-b`, satisfiable only.
fn parse_range(value: &str, len: usize) -> Option<(usize, usize)> {
    let spec = value.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let a: usize = a.parse().ok()?;
    let b: usize = if b.is_empty() {
        len.checked_sub(1)?
    } else {
        b.parse::<usize>().ok()?.min(len - 1)
    };
    (a <= b && a < len).then_some((a, b))
}

fn md5_digest(bytes: &[u8]) -> [u8; 16] {
    use md5::Digest as _;
    md5::Md5::digest(bytes).into()
}
