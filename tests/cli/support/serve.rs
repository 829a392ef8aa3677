//! `cfsign serve` as a child process, and a raw HTTP/1.1 client over
//! `std::net::TcpStream` (a real client would normalise the paths the
//! security tests send, and hide what went over the wire).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{KEY_ID, key};

/// The key ID the tests give the ECDSA P-256 fixture key.
pub const EC_KEY_ID: &str = "KECP256TESTKEY";

/// A running `cfsign serve --listen 127.0.0.1:0 …`, killed on drop.
pub struct ServeProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// The first stdout line: `http://127.0.0.1:PORT`.
    pub base: String,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl ServeProcess {
    /// Starts the server on `root` with extra arguments.
    pub fn start(root: &Path, args: &[&str]) -> Self {
        let mut child = super::cfsign_process()
            .args(["serve", "--listen", "127.0.0.1:0", "--root"])
            .arg(root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cfsign serve starts");
        // Drain stderr all along: a full pipe would block the server.
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let base = first.trim_end().to_string();
        if base.is_empty() {
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100));
            panic!(
                "cfsign serve did not start: {}",
                stderr.lock().unwrap().join("\n")
            );
        }
        let addr = base
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("first stdout line is not http://ADDR: {first:?}"));
        ServeProcess {
            child,
            _stdout: stdout,
            base,
            addr,
            stderr,
        }
    }

    /// Every request allowed.
    pub fn open(root: &Path) -> Self {
        Self::start(root, &["--no-auth"])
    }

    /// Signed requests only: the RSA fixture key as `KEY_ID`, the P-256 key
    /// as `EC_KEY_ID`.
    pub fn signed(root: &Path, extra: &[&str]) -> Self {
        let rsa = format!("{KEY_ID}={}", key("rsa2048-public.pem").display());
        let ec = format!("{EC_KEY_ID}={}", key("ec-p256-public.pem").display());
        let mut args = vec!["--public-key", &rsa, "--public-key", &ec];
        args.extend_from_slice(extra);
        Self::start(root, &args)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's peak resident memory in KiB (Linux: `VmHWM`).
    #[cfg(target_os = "linux")]
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The request log: stderr without the `cfsign:` start line.
    pub fn log(&self) -> Vec<String> {
        self.stderr_lines()
            .into_iter()
            .filter(|l| !l.starts_with("cfsign: "))
            .collect()
    }

    /// Waits until the request log has at least `n` lines.
    pub fn wait_for_log(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if log.len() >= n || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `method path` with `headers` and `body` (with Host, Content-Length
    /// for a body or a PUT, and Connection: close).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        request(self.addr, method, path, headers, body)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    pub fn head(&self, path: &str) -> Response {
        self.request("HEAD", path, &[], b"")
    }

    /// PUT with the right `x-amz-content-sha256`.
    pub fn put(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Response {
        let sha = sha256_hex(body);
        let mut all = vec![("x-amz-content-sha256", sha.as_str())];
        all.extend_from_slice(headers);
        self.request("PUT", path, &all, body)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Names lowercase, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `<Code>` of an XML error body.
    pub fn xml_code(&self) -> Option<String> {
        let text = self.text();
        let start = text.find("<Code>")? + "<Code>".len();
        let end = text[start..].find("</Code>")? + start;
        Some(text[start..end].to_string())
    }
}

/// Sends raw bytes and reads the answer to the end (the request should
/// carry `Connection: close`).
pub fn raw(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    parse_response(&bytes)
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !body.is_empty() || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    raw(addr, &bytes)
}

pub fn parse_response(mut bytes: &[u8]) -> Response {
    // Interim answers (100 Continue) come before the real one.
    while bytes.starts_with(b"HTTP/1.1 1") {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        bytes = &bytes[end + 4..];
    }
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no end of head in {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
            )
        });
    let head = String::from_utf8_lossy(&bytes[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

pub fn sha256_hex(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

pub fn md5_hex(body: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(body))
}

/// The path and query of a URL (what goes on the request line).
pub fn target_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// The names in a folder, sorted, hidden ones included.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every file and folder under `dir`, relative, sorted.
pub fn walk(dir: &Path) -> Vec<String> {
    fn go(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            out.push(path.strip_prefix(base).unwrap().display().to_string());
            if entry.file_type().unwrap().is_dir() {
                go(base, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out);
    out.sort();
    out
}

/// Opens a PUT of `len` bytes to `path` and sends only `sent` of them: a
/// client that stalls mid-body. The answer, if any, is read with
/// [`read_until_closed`].
pub fn stalled_put(addr: SocketAddr, path: &str, len: usize, sent: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    // One write: the server reads the head and the bytes sent together.
    let mut bytes = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\nx-amz-content-sha256: {}\r\n\r\n",
        sha256_hex(&vec![0; len])
    )
    .into_bytes();
    bytes.extend_from_slice(sent);
    stream.write_all(&bytes).unwrap();
    stream
}

/// Reads until the server closes the connection (or resets it, which a
/// server that closes without reading the rest of a body may do), at most
/// `wait`. `None` if it was still open then.
pub fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + wait;
    let mut bytes = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return Some(bytes),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(bytes),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if Instant::now() >= deadline {
                    return None;
                }
            }
            Err(e) => panic!("reading the answer: {e}"),
        }
    }
}

/// `cfsign sign URL` with the fixture key `key_file` as `key_id` and
/// `args`: the signed URL.
pub fn sign_with(key_id: &str, key_file: &str, url: &str, args: &[&str]) -> String {
    let out = super::cfsign()
        .args(["sign", url, "--key-pair-id", key_id, "--private-key"])
        .arg(super::key_arg(key_file))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    super::stdout_of(&out).trim_end().to_string()
}
