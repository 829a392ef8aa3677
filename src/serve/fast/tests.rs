//! Raw HTTP/1.1 on a real socket: what `fast` answers must be what hyper
//! answers, and a connection must survive the handover.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Head, parse};
use crate::serve::{Access, Config, Handle, spawn};
use crate::verify::KeyRing;

const BIG: u64 = 64 << 20;

fn edge(idle: Duration) -> (tempfile::TempDir, Handle) {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a.txt"), "hello world").unwrap();
    std::fs::write(root.path().join("b.json"), "{}").unwrap();
    std::fs::write(root.path().join("empty"), "").unwrap();
    // Sparse: sent like any file, costs no disk.
    let big = std::fs::File::create(root.path().join("big.bin")).unwrap();
    big.set_len(BIG).unwrap();
    let config = Config {
        access: Access::Open,
        idle_timeout: idle,
        ..Config::new(root.path(), KeyRing::new())
    };
    let handle = spawn(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), config).unwrap();
    (root, handle)
}

fn connect(handle: &Handle) -> BufReader<std::net::TcpStream> {
    let stream = std::net::TcpStream::connect(handle.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    BufReader::new(stream)
}

fn send(conn: &mut BufReader<std::net::TcpStream>, bytes: &[u8]) {
    conn.get_mut().write_all(bytes).unwrap();
}

/// One answer: its head (without the `date` line, which changes) and body.
fn answer(conn: &mut BufReader<std::net::TcpStream>, to_head: bool) -> (String, Vec<u8>) {
    let mut head = String::new();
    let mut len = 0;
    loop {
        let mut line = String::new();
        assert!(
            conn.read_line(&mut line).unwrap() > 0,
            "closed after {head:?}"
        );
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length: ") {
            len = v.trim().parse().unwrap();
        }
        if !lower.starts_with("date: ") {
            head.push_str(&line);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; if to_head { 0 } else { len }];
    conn.read_exact(&mut body).unwrap();
    (head, body)
}

/// The connection is closed by the server, with nothing more to read.
fn closed(conn: &mut BufReader<std::net::TcpStream>) -> bool {
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).is_ok() && rest.is_empty()
}

/// A request hyper answers (a GET with a body), after which the connection
/// is hyper's.
const TO_HYPER: &[u8] =
    b"GET /none HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";

#[test]
fn answers_are_hypers_byte_for_byte() {
    let (_root, edge) = edge(Duration::from_secs(20));
    let requests: &[&str] = &[
        "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /b.json HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-4\r\nIf-Range: \"nope\"\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=99-\r\n\r\n",
        "HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n",
        "HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a.txt/../x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-3\r\n\r\n",
        "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /a.txt HTTP/1.0\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        // An empty body: hyper writes its own `content-length: 0`, last.
        "GET /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /empty HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "HEAD /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ];
    for request in requests {
        let to_head = request.starts_with("HEAD");
        let keeps = !request.contains("close") && !request.ends_with("HTTP/1.0\r\n\r\n");
        let mut mine = connect(&edge);
        send(&mut mine, request.as_bytes());
        let fast = answer(&mut mine, to_head);
        let mut theirs = connect(&edge);
        send(&mut theirs, TO_HYPER);
        assert!(answer(&mut theirs, false).0.starts_with("HTTP/1.1 404"));
        send(&mut theirs, request.as_bytes());
        let hyper = answer(&mut theirs, to_head);
        assert_eq!(fast.0, hyper.0, "{request}");
        assert_eq!(fast.1, hyper.1, "{request}");
        if keeps {
            // Still open: a second request on it is answered.
            send(&mut mine, b"GET /b.json HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(answer(&mut mine, false).1, b"{}", "{request}");
        } else {
            assert!(closed(&mut mine), "{request}");
            assert!(closed(&mut theirs), "{request}");
        }
    }
}

#[test]
fn pipelined_requests_are_answered_in_order_then_hyper_takes_over() {
    let (root, edge) = edge(Duration::from_secs(20));
    let mut conn = connect(&edge);
    let body = b"0123456789";
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body));
    let mut requests = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n\
        HEAD /b.json HTTP/1.1\r\nHost: x\r\n\r\n\
        GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=6-\r\n\r\n"
        .to_vec();
    requests.extend_from_slice(
        format!(
            "PUT /c.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\
             x-amz-content-sha256: {sha256}\r\n\r\n0123456789"
        )
        .as_bytes(),
    );
    requests.extend_from_slice(b"GET /c.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=1-2\r\n\r\n");
    send(&mut conn, &requests);
    let (head, got) = answer(&mut conn, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && got == b"hello world");
    let (head, got) = answer(&mut conn, true);
    assert!(
        head.contains("content-length: 2\r\n") && got.is_empty(),
        "{head}"
    );
    let (head, got) = answer(&mut conn, false);
    assert!(
        head.starts_with("HTTP/1.1 206") && got == b"world",
        "{head}"
    );
    let (head, _) = answer(&mut conn, false);
    assert!(
        head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("etag"),
        "{head}"
    );
    assert_eq!(std::fs::read(root.path().join("c.txt")).unwrap(), body);
    let (head, got) = answer(&mut conn, false);
    assert!(head.starts_with("HTTP/1.1 206") && got == b"12", "{head}");
}

#[test]
fn a_head_over_the_read_buffer_is_refused_as_hyper_does() {
    let (_root, edge) = edge(Duration::from_secs(20));
    let mut conn = connect(&edge);
    let filler = "a".repeat(crate::serve::listen::READ_BUFFER);
    // The server may answer and close before it has read all of it.
    let _ = conn
        .get_mut()
        .write_all(format!("GET /a.txt HTTP/1.1\r\nX-Big: {filler}\r\n\r\n").as_bytes());
    let mut status = String::new();
    conn.read_line(&mut status).unwrap();
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
}

#[test]
fn a_client_that_stops_reading_is_dropped_and_the_file_closed() {
    let (root, edge) = edge(Duration::from_millis(800));
    let big = root.path().canonicalize().unwrap().join("big.bin");
    let mut conn = connect(&edge);
    let started = Instant::now();
    send(&mut conn, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(wait_until(&big, true, Duration::from_secs(15)));
    assert!(wait_until(&big, false, Duration::from_secs(15)));
    assert!(started.elapsed() >= Duration::from_millis(800));
    let (head, _) = head_only(&mut conn);
    assert!(
        head.contains(&format!("content-length: {BIG}\r\n")),
        "{head}"
    );
    let mut rest = Vec::new();
    let _ = conn.read_to_end(&mut rest);
    assert!((rest.len() as u64) < BIG);
}

#[test]
fn a_client_that_leaves_mid_body_frees_the_file_at_once() {
    let (root, edge) = edge(Duration::from_secs(60));
    let big = root.path().canonicalize().unwrap().join("big.bin");
    let mut conn = connect(&edge);
    send(&mut conn, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    head_only(&mut conn);
    let mut some = vec![0; 1 << 20];
    conn.read_exact(&mut some).unwrap();
    drop(conn);
    assert!(wait_until(&big, false, Duration::from_secs(15)));
    // And the server goes on serving.
    let mut conn = connect(&edge);
    send(&mut conn, b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(answer(&mut conn, false).1, b"hello world");
}

#[test]
fn a_file_cut_short_while_sent_ends_the_connection_not_the_body() {
    let (root, edge) = edge(Duration::from_secs(20));
    let mut conn = connect(&edge);
    send(&mut conn, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let (head, _) = head_only(&mut conn);
    assert!(
        head.contains(&format!("content-length: {BIG}\r\n")),
        "{head}"
    );
    let mut some = vec![0; 1 << 20];
    conn.read_exact(&mut some).unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(root.path().join("big.bin"))
        .unwrap();
    file.set_len(2 << 20).unwrap();
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert!(((1 << 20) + rest.len() as u64) < BIG, "{}", rest.len());
}

/// Where `sendfile` cannot be used: the same part, read and sent.
#[tokio::test]
async fn without_sendfile_the_part_is_read_and_sent_from_its_offset() {
    use tokio::io::AsyncReadExt;
    let data: Vec<u8> = (0..=255u8).cycle().take(600_000).collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), &data).unwrap();
    let file = std::fs::File::open(dir.path().join("f")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        got
    });
    super::send::copy(&server, file, 1000, 500_000, Duration::from_secs(5))
        .await
        .unwrap();
    drop(server);
    assert!(reader.await.unwrap() == data[1000..501_000]);
}

#[test]
fn only_plain_gets_and_heads_are_taken() {
    let plain = |h: &str| matches!(parse(h.as_bytes()), Head::Plain { .. });
    let other = |h: &str| matches!(parse(h.as_bytes()), Head::Other);
    assert!(plain("GET / HTTP/1.1\r\n\r\n"));
    assert!(plain("HEAD /a HTTP/1.0\r\nHost: x\r\n\r\n"));
    assert!(plain("GET /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
    assert!(matches!(parse(b"GET /a HTTP/1.1\r\nHost:"), Head::Partial));
    assert!(matches!(parse(b""), Head::Partial));
    for head in [
        "PUT /a HTTP/1.1\r\nContent-Length: 1\r\n\r\n",
        "DELETE /a HTTP/1.1\r\n\r\n",
        "get /a HTTP/1.1\r\n\r\n",
        "GET http://x/a HTTP/1.1\r\n\r\n",
        "GET * HTTP/1.1\r\n\r\n",
        "GET /a HTTP/1.1\r\nContent-Length: 1\r\n\r\n",
        "GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /a HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        "GET /a HTTP/1.1\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
        "GET /a HTTP/2.0\r\n\r\n",
        "GET /a HTTP/1.1\r\nBad Header: x\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
    ] {
        assert!(other(head), "{head}");
    }
    let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(101));
    assert!(other(&many));
    let Head::Plain { keep_alive, .. } = parse(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    else {
        panic!()
    };
    assert!(!keep_alive);
    let Head::Plain { keep_alive, .. } =
        parse(b"GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n")
    else {
        panic!()
    };
    assert!(!keep_alive);
}

fn head_only(conn: &mut BufReader<std::net::TcpStream>) -> (String, Vec<u8>) {
    answer(conn, true)
}

/// Waits until a descriptor of this process (the server runs in it) is
/// open on `path`, or until none is.
fn wait_until(path: &Path, open: bool, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        let now_open = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .any(|target: PathBuf| target == path);
        if now_open == open {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
