//! A forward proxy on 127.0.0.1 with std threads: `CONNECT host:port` tunnels
//! (HTTPS) and absolute-form requests (`GET http://host:port/path`, plain
//! HTTP). It records every request line it is sent, and only ever connects
//! to loopback addresses.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::thread;

pub struct Proxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = log.clone();
                thread::spawn(move || {
                    let _ = handle(client, &log);
                });
            }
        });
        Proxy { addr, seen }
    }

    /// `http://127.0.0.1:PORT`, the value of `HTTPS_PROXY` or `HTTP_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request lines received, in order (`CONNECT 127.0.0.1:443 HTTP/1.1`).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn handle(client: TcpStream, seen: &Mutex<Vec<String>>) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end().to_string();
    seen.lock().unwrap().push(line.clone());
    let mut head = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim_end().is_empty() {
            break;
        }
        head.push(h);
    }
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut out = client.try_clone()?;
    if method == "CONNECT" {
        let Some(upstream) = connect_loopback(target) else {
            return out.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        };
        out.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        splice(reader, client, upstream);
        return Ok(());
    }
    // Absolute form: pass the request on in origin form. One upstream per
    // client connection, which is enough for a test against one host.
    let Some(rest) = target.strip_prefix("http://") else {
        return out.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some(mut upstream) = connect_loopback(authority) else {
        return out.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    };
    let path = if path.is_empty() { "/" } else { path };
    let version = parts.next().unwrap_or("HTTP/1.1");
    let mut request = format!("{method} {path} {version}\r\n");
    for h in head
        .iter()
        .filter(|h| !h.to_ascii_lowercase().starts_with("proxy-"))
    {
        request.push_str(h);
    }
    request.push_str("\r\n");
    upstream.write_all(request.as_bytes())?;
    splice(reader, client, upstream);
    Ok(())
}

/// A connection to `host:port` if every address it names is loopback:
/// nothing a test does through this proxy leaves the machine.
fn connect_loopback(authority: &str) -> Option<TcpStream> {
    let addrs: Vec<SocketAddr> = authority.to_socket_addrs().ok()?.collect();
    if addrs.is_empty() || !addrs.iter().all(|a| a.ip().is_loopback()) {
        return None;
    }
    TcpStream::connect(&addrs[..]).ok()
}

/// Copies both ways until each side has finished sending (the reader may
/// hold bytes the client sent after its request head).
fn splice(mut from_client: BufReader<TcpStream>, mut client: TcpStream, upstream: TcpStream) {
    let Ok(mut to_upstream) = upstream.try_clone() else {
        return;
    };
    let up = thread::spawn(move || {
        let _ = io::copy(&mut from_client, &mut to_upstream);
        let _ = to_upstream.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut &upstream, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = up.join();
}
