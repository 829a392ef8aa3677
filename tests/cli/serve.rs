//! `cfsign serve`: the real binary on a loopback port, driven over raw
//! HTTP/1.1 so that paths reach it exactly as written.

use std::io::{Read as _, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::support::answers::{cloudfront_refusal, s3_xml};
use crate::support::serve::*;
use crate::support::table::{Expect, Vector, rows, trusted_keys};
use crate::support::transfer::object;
use crate::support::*;

const CLOUDFRONT: &str = "https://d111111abcdef8.cloudfront.net";

/// A root holding `a.txt` ("0123456789") and `b.txt`.
fn root_with_files() -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::write(dir.path().join("a.txt"), "0123456789").unwrap();
    std::fs::write(dir.path().join("b.txt"), "bbb").unwrap();
    dir
}

/// `cfsign sign URL` with the RSA fixture key and extra arguments.
fn sign(url: &str, args: &[&str]) -> String {
    sign_with(KEY_ID, "rsa2048-pkcs8.pem", url, args)
}

/// The value of the `Cookie:` header `cfsign sign --format header` prints.
fn cookie_header(url: &str, key_id: &str, key_file: &str, args: &[&str]) -> String {
    let mut all = vec!["--format", "header"];
    all.extend_from_slice(args);
    let line = sign_with(key_id, key_file, url, &all);
    line.strip_prefix("Cookie: ")
        .unwrap_or_else(|| panic!("not a Cookie header: {line}"))
        .to_string()
}

#[track_caller]
fn assert_xml_error(r: &Response, status: u16, code: &str) {
    assert_eq!(r.status, status, "status; body: {}", r.text());
    assert_eq!(r.xml_code().as_deref(), Some(code), "body: {}", r.text());
    assert!(
        r.text()
            .starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>"#),
        "{}",
        r.text()
    );
}

/// CloudFront's refusal of a signature, byte for byte as recorded.
#[track_caller]
fn assert_cloudfront_refusal(r: &Response, code: &str) {
    let recorded = cloudfront_refusal(code);
    assert_eq!(r.status, recorded.status, "body: {}", r.text());
    assert_eq!(r.header("content-type"), recorded.header("content-type"));
    assert_eq!(r.text(), recorded.text());
}

#[test]
fn serve_refuses_to_start_without_keys_or_a_folder() {
    let dir = tempdir();
    let root = dir.path().to_str().unwrap();
    let out = cfsign()
        .args(["serve", "--root", root])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["--public-key", "--no-auth"]);

    let missing = dir.path().join("missing");
    let out = cfsign()
        .args(["serve", "--no-auth", "--root"])
        .arg(&missing)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["cannot serve", "no such file"]);

    let out = cfsign()
        .args([
            "serve",
            "--no-auth",
            "--root",
            root,
            "--base-url",
            "cdn.net",
        ])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["--base-url", "scheme and host"]);

    let out = cfsign()
        .args(["serve", "--root", root, "--public-key"])
        .arg(format!("{KEY_ID}={}", key("not-a-key.txt").display()))
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["public key"]);

    // --listen takes IP:PORT, and says so; a port in use says how to go on.
    let out = cfsign()
        .args([
            "serve",
            "--no-auth",
            "--root",
            root,
            "--listen",
            "localhost:80",
        ])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["--listen", "IP address and a port", "port 0"]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = cfsign()
        .args(["serve", "--no-auth", "--root", root, "--listen", &addr])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_refused(&out, 1, &[&addr, "in use", "--listen"]);
}

#[test]
fn serve_prints_its_url_first_and_logs_one_line_per_request() {
    let dir = root_with_files();
    let server = ServeProcess::signed(dir.path(), &[]);
    let port = server.addr.port();
    assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    assert_ne!(port, 0);

    let signed = sign(&server.url("/a.txt"), &[]);
    assert_eq!(server.get(target_of(&signed)).status, 200);
    let expired = sign(
        &server.url("/b.txt"),
        &["--allow-past", "--date-less-than", "2020-01-01"],
    );
    assert_eq!(server.get(target_of(&expired)).status, 403);
    assert_eq!(server.get("/a.txt").status, 403);
    let missing = sign(&server.url("/nope.txt"), &[]);
    assert_eq!(server.get(target_of(&missing)).status, 404);

    let log = server.wait_for_log(4);
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[0], "GET /a.txt 200");
    assert!(
        log[1].starts_with(
            "GET /b.txt 403 AccessDenied (expired): the signature expired at 2020-01-01T00:00:00Z"
        ),
        "{}",
        log[1]
    );
    assert!(
        log[2].starts_with("GET /a.txt 403 MissingKey (key-pair-id): "),
        "{}",
        log[2]
    );
    assert!(
        log[3].starts_with("GET /nope.txt 404 NoSuchKey"),
        "{}",
        log[3]
    );
    for line in server.stderr_lines() {
        assert!(
            !line.contains("Signature=") && !line.contains("BEGIN") && !line.contains('?'),
            "the log shows signing material: {line}"
        );
    }
}

#[test]
fn serve_get_and_head_answer_with_s3_headers() {
    let dir = root_with_files();
    std::fs::write(dir.path().join("data.json"), "{}").unwrap();
    std::fs::write(dir.path().join("blob.zzunknown"), "x").unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    let server = ServeProcess::open(dir.path());

    let get = server.get("/a.txt");
    assert_eq!(get.status, 200);
    assert_eq!(get.body, b"0123456789");
    assert_eq!(get.header("content-length"), Some("10"));
    assert_eq!(
        get.header("etag"),
        Some(format!("\"{}\"", md5_hex(b"0123456789")).as_str())
    );
    assert_eq!(get.header("accept-ranges"), Some("bytes"));
    assert_eq!(get.header("content-type"), Some("text/plain"));
    let mtime: chrono::DateTime<chrono::Utc> = std::fs::metadata(dir.path().join("a.txt"))
        .unwrap()
        .modified()
        .unwrap()
        .into();
    assert_eq!(
        get.header("last-modified"),
        Some(
            mtime
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string()
                .as_str()
        )
    );

    let head = server.head("/a.txt");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    for name in [
        "content-length",
        "etag",
        "last-modified",
        "accept-ranges",
        "content-type",
    ] {
        assert_eq!(head.header(name), get.header(name), "{name}");
    }
    assert_eq!(
        server.head("/data.json").header("content-type"),
        Some("application/json")
    );
    assert_eq!(
        server.head("/blob.zzunknown").header("content-type"),
        Some("application/octet-stream")
    );

    let missing = server.get("/dir/no%26such%3Ckey.txt");
    assert_xml_error(&missing, 404, "NoSuchKey");
    assert_eq!(missing.header("content-type"), Some("application/xml"));
    assert!(
        missing
            .text()
            .ends_with("<Message>The specified key does not exist.</Message><Key>dir/no&amp;such&lt;key.txt</Key></Error>"),
        "{}",
        missing.text()
    );
    assert_xml_error(&server.get("/folder"), 404, "NoSuchKey");
    assert_xml_error(&server.get("/folder/"), 404, "NoSuchKey");
    assert_xml_error(&server.get("/"), 404, "NoSuchKey");
    let head_missing = server.head("/nope");
    assert_eq!(head_missing.status, 404);
    assert!(head_missing.body.is_empty());
}

#[test]
fn serve_range_requests() {
    let dir = root_with_files();
    let server = ServeProcess::open(dir.path());
    // (Range, status, Content-Range, body)
    let rows: &[(&str, u16, Option<&str>, &str)] = &[
        ("bytes=0-0", 206, Some("bytes 0-0/10"), "0"),
        ("bytes=2-5", 206, Some("bytes 2-5/10"), "2345"),
        ("bytes=7-", 206, Some("bytes 7-9/10"), "789"),
        ("bytes=-3", 206, Some("bytes 7-9/10"), "789"),
        ("bytes=-30", 206, Some("bytes 0-9/10"), "0123456789"),
        ("bytes=5-100", 206, Some("bytes 5-9/10"), "56789"),
        ("bytes=10-", 416, Some("bytes */10"), ""),
        ("bytes=10-12", 416, Some("bytes */10"), ""),
        ("bytes=-0", 416, Some("bytes */10"), ""),
        ("bytes=0-1,4-5", 200, None, "0123456789"),
        ("bytes=5-2", 200, None, "0123456789"),
        ("bytes=x-y", 200, None, "0123456789"),
        ("lines=1-2", 200, None, "0123456789"),
    ];
    for (range, status, content_range, body) in rows {
        let r = server.request("GET", "/a.txt", &[("Range", range)], b"");
        assert_eq!(r.status, *status, "Range: {range}");
        assert_eq!(r.header("content-range"), *content_range, "Range: {range}");
        if *status == 416 {
            assert_xml_error(&r, 416, "InvalidRange");
            assert!(r.text().contains("<ActualObjectSize>10</ActualObjectSize>"));
        } else {
            assert_eq!(r.text(), *body, "Range: {range}");
            assert_eq!(
                r.header("content-length"),
                Some(body.len().to_string().as_str())
            );
        }
    }
    let head = server.request("HEAD", "/a.txt", &[("Range", "bytes=2-5")], b"");
    assert_eq!(head.status, 206);
    assert_eq!(head.header("content-length"), Some("4"));
    assert!(head.body.is_empty());

    std::fs::write(dir.path().join("empty"), "").unwrap();
    let r = server.request("GET", "/empty", &[("Range", "bytes=0-")], b"");
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */0"));
    assert_eq!(server.get("/empty").status, 200);
}

#[test]
fn serve_if_range_honours_the_range_only_while_the_object_is_unchanged() {
    let dir = root_with_files();
    let server = ServeProcess::open(dir.path());
    let first = server.get("/a.txt");
    let etag = first.header("etag").unwrap().to_string();
    let date = first.header("last-modified").unwrap().to_string();
    let weak = format!("W/{etag}");
    let rows: &[(&str, u16)] = &[
        (&etag, 206),
        ("\"00000000000000000000000000000000\"", 200),
        (&weak, 200),
        (&date, 206),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 200),
        ("garbage", 200),
    ];
    for (if_range, status) in rows {
        let r = server.request(
            "GET",
            "/a.txt",
            &[("Range", "bytes=5-"), ("If-Range", if_range)],
            b"",
        );
        assert_eq!(r.status, *status, "If-Range: {if_range}");
        let body = if *status == 206 {
            "56789"
        } else {
            "0123456789"
        };
        assert_eq!(r.text(), body, "If-Range: {if_range}");
    }
}

#[test]
fn serve_put_stores_the_object_with_an_md5_etag_and_its_metadata() {
    let dir = tempdir();
    let server = ServeProcess::open(dir.path());
    let body = object(3 * 1024 * 1024);
    let r = server.put(
        "/deep/path/file%20one.bin",
        &body,
        &[
            ("Content-Type", "application/x-test"),
            ("Cache-Control", "max-age=60"),
            ("x-amz-acl", "bucket-owner-full-control"),
            ("x-amz-meta-origin", "ci run 42"),
            ("Expect", "100-continue"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", md5_hex(&body)).as_str())
    );
    let stored = std::fs::read(dir.path().join("deep/path/file one.bin")).unwrap();
    assert!(stored == body, "the stored file differs from the body");

    let head = server.head("/deep/path/file%20one.bin");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("etag"), r.header("etag"));
    assert_eq!(head.header("content-type"), Some("application/x-test"));
    assert_eq!(head.header("cache-control"), Some("max-age=60"));
    assert_eq!(head.header("x-amz-meta-origin"), Some("ci run 42"));
    assert_eq!(
        head.header("x-cfsign-acl"),
        Some("bucket-owner-full-control")
    );
    assert_eq!(
        head.header("x-cfsign-content-sha256"),
        Some(sha256_hex(&body).as_str())
    );
    let get = server.get("/deep/path/file%20one.bin");
    assert!(get.body == body);

    // A second PUT replaces object and metadata.
    let r = server.put("/deep/path/file%20one.bin", b"", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("etag"),
        Some("\"d41d8cd98f00b204e9800998ecf8427e\"")
    );
    let head = server.head("/deep/path/file%20one.bin");
    assert_eq!(head.header("content-length"), Some("0"));
    assert_eq!(head.header("x-cfsign-acl"), None);
    assert_eq!(
        head.header("content-type"),
        Some("application/octet-stream")
    );

    assert_eq!(list_dir(&dir.path().join("deep/path")), ["file one.bin"]);
    assert_eq!(list_dir(dir.path()), [".cfsign", "deep"]);
    let hidden = server.get("/.cfsign/meta");
    assert_xml_error(&hidden, 400, "InvalidURI");
}

#[test]
fn serve_put_requires_a_matching_sha256() {
    let dir = tempdir();
    let server = ServeProcess::open(dir.path());

    let r = server.request("PUT", "/x.txt", &[], b"hello");
    assert_xml_error(&r, 400, "InvalidRequest");
    assert!(
        r.text().contains(
            "<Message>Missing required header for this request: x-amz-content-sha256</Message>"
        ),
        "{}",
        r.text()
    );

    let wrong = sha256_hex(b"something else");
    let r = server.request(
        "PUT",
        "/x.txt",
        &[("x-amz-content-sha256", &wrong)],
        b"hello",
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        s3_xml(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            &[
                ("ClientComputedContentSHA256", &wrong),
                ("S3ComputedContentSHA256", &sha256_hex(b"hello")),
            ]
        )
    );

    let r = server.request(
        "PUT",
        "/x.txt",
        &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        b"hello",
    );
    assert_xml_error(&r, 400, "InvalidArgument");

    let r = server.put(
        "/x.txt",
        b"hello",
        &[("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")],
    );
    assert_xml_error(&r, 400, "BadDigest");
    let r = server.put(
        "/x.txt",
        b"hello",
        &[("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")],
    );
    assert_eq!(r.status, 200);

    let log = server.wait_for_log(5);
    assert!(log[1].contains("XAmzContentSHA256Mismatch"), "{}", log[1]);
    assert_eq!(list_dir(dir.path()), [".cfsign", "x.txt"]);
}

#[test]
fn serve_put_cut_mid_body_leaves_no_object_and_no_temp_file() {
    let dir = tempdir();
    let server = ServeProcess::open(dir.path());
    let body = vec![7u8; 1024 * 1024];
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "PUT /cut/deeper/object.bin HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nx-amz-content-sha256: {}\r\n\r\n",
        server.addr,
        body.len(),
        sha256_hex(&body)
    )
    .unwrap();
    stream.write_all(&body[..300 * 1024]).unwrap();
    stream.flush().unwrap();
    // The upload is under way: its temp file is there.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !walk(dir.path()).iter().any(|p| p.contains(".cfsign-tmp-")) {
        assert!(Instant::now() < deadline, "no temp file appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(stream);

    let log = server.wait_for_log(1);
    assert_eq!(log.len(), 1);
    assert!(
        log[0].starts_with("PUT /cut/deeper/object.bin 400 IncompleteBody"),
        "{}",
        log[0]
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !walk(dir.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "left behind: {:?}",
            walk(dir.path())
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The server is still fine.
    assert_eq!(server.put("/cut/deeper/object.bin", &body, &[]).status, 200);
}

#[test]
fn serve_read_only_refuses_put() {
    let dir = root_with_files();
    let server = ServeProcess::start(dir.path(), &["--no-auth", "--read-only"]);
    let r = server.put("/a.txt", b"new", &[]);
    assert_xml_error(&r, 403, "AccessDenied");
    assert_eq!(
        std::fs::read(dir.path().join("a.txt")).unwrap(),
        b"0123456789"
    );
    let r = server.put("/new.txt", b"new", &[]);
    assert_eq!(r.status, 403);
    assert!(!dir.path().join("new.txt").exists());
    assert_eq!(server.get("/a.txt").status, 200);
}

#[test]
fn serve_other_methods_get_method_not_allowed() {
    let dir = root_with_files();
    let server = ServeProcess::open(dir.path());
    for method in ["POST", "DELETE", "PATCH", "OPTIONS"] {
        let r = server.request(method, "/a.txt", &[], b"x");
        assert_xml_error(&r, 405, "MethodNotAllowed");
        assert_eq!(r.header("allow"), Some("GET, HEAD, PUT"));
        assert!(r.text().contains(&format!("<Method>{method}</Method>")));
    }
    assert!(dir.path().join("a.txt").exists());
}

#[test]
fn serve_limits_on_size_and_headers() {
    let dir = tempdir();
    let server = ServeProcess::open(dir.path());
    let r = raw(
        server.addr,
        format!(
            "PUT /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5368709121\r\nx-amz-content-sha256: {}\r\n\r\n",
            sha256_hex(b"")
        )
        .as_bytes(),
    );
    assert_xml_error(&r, 400, "EntityTooLarge");
    assert!(
        r.text()
            .contains("<MaxSizeAllowed>5368709120</MaxSizeAllowed>")
    );

    let r = raw(
        server.addr,
        format!(
            "PUT /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nx-amz-content-sha256: {}\r\n\r\n0\r\n\r\n",
            sha256_hex(b"")
        )
        .as_bytes(),
    );
    assert_xml_error(&r, 411, "MissingContentLength");

    let long_header = "v".repeat(21 * 1024);
    let r = server.request("GET", "/a", &[("x-long", &long_header)], b"");
    assert_xml_error(&r, 431, "RequestHeaderSectionTooLarge");

    let long_path = format!("/{}", "p".repeat(8200));
    let r = server.get(&long_path);
    assert_xml_error(&r, 414, "RequestURITooLong");
    assert!(walk(dir.path()).is_empty());
}

/// Every way of naming a file outside the root, for GET and PUT: refused,
/// nothing outside read or written.
#[test]
fn serve_refuses_paths_out_of_the_root() {
    let tmp = tempdir();
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "TOP SECRET").unwrap();
    std::fs::write(root.join("a/inside.txt"), "inside").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(&outside, root.join("link")).unwrap();
        symlink(outside.join("secret.txt"), root.join("secret-link.txt")).unwrap();
        symlink("/etc", root.join("etc")).unwrap();
        symlink(root.join("a"), root.join("alias")).unwrap();
    }
    let server = ServeProcess::open(&root);

    // (path, status): 400 for paths that are not plain relative names, 403
    // for symlinks that lead out of the root.
    let mut rows: Vec<(&str, u16)> = vec![
        ("/../outside/secret.txt", 400),
        ("/a/../../outside/secret.txt", 400),
        ("/%2e%2e/outside/secret.txt", 400),
        ("/%2E%2E/outside/secret.txt", 400),
        ("/.%2e/outside/secret.txt", 400),
        ("/a/..%2f..%2foutside%2fsecret.txt", 400),
        ("/%2e%2e%2foutside%2fsecret.txt", 400),
        ("/..%5coutside%5csecret.txt", 400),
        ("/..\\outside\\secret.txt", 400),
        ("//etc/passwd", 400),
        ("/%2fetc%2fpasswd", 400),
        ("/a/inside.txt%00", 400),
        ("/a/inside.txt%00.jpg", 400),
        ("/a/./inside.txt", 400),
        ("/.cfsign-tmp-x", 400),
    ];
    if cfg!(unix) {
        rows.extend([
            ("/link/secret.txt", 403),
            ("/secret-link.txt", 403),
            ("/etc/passwd", 403),
        ]);
    }
    for (path, status) in &rows {
        let r = server.get(path);
        assert_eq!(r.status, *status, "GET {path}: {}", r.text());
        assert!(!r.text().contains("TOP SECRET") && !r.text().contains("root:"));
        let code = if *status == 400 {
            "InvalidURI"
        } else {
            "AccessDenied"
        };
        assert_xml_error(&r, *status, code);
        let r = server.put(path, b"PWNED", &[]);
        assert!(
            r.status == *status || r.status == 400,
            "PUT {path}: {} {}",
            r.status,
            r.text()
        );
    }
    // An absolute-form request target is mapped by its path, too.
    let r = raw(
        server.addr,
        b"GET http://127.0.0.1/../outside/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 400);
    // A write through a folder link that leads out, at any depth.
    assert_eq!(server.put("/link/new.txt", b"PWNED", &[]).status, 403);
    assert_eq!(server.put("/link/d/new.txt", b"PWNED", &[]).status, 403);
    assert_eq!(server.put("/etc/cfsign-pwned", b"PWNED", &[]).status, 403);

    assert_eq!(list_dir(&outside), ["secret.txt"]);
    assert_eq!(
        std::fs::read(outside.join("secret.txt")).unwrap(),
        b"TOP SECRET"
    );
    assert!(!Path::new("/etc/cfsign-pwned").exists());
    assert!(!tmp.path().join("PWNED").exists());
    // Links that stay inside the root work.
    assert_eq!(server.get("/alias/inside.txt").text(), "inside");
    // Nothing was written in the root either (the refused PUTs left no
    // folders or temp files).
    assert_eq!(
        list_dir(&root),
        ["a", "alias", "etc", "link", "secret-link.txt"]
    );
}

/// 64 clients PUT and GET distinct objects and one shared object at once:
/// nothing is lost and no GET sees a half-written object.
#[test]
fn serve_sixty_four_concurrent_clients_lose_nothing() {
    const CLIENTS: usize = 64;
    let dir = tempdir();
    let server = Arc::new(ServeProcess::open(dir.path()));
    // Shared-object version i: byte i repeated, a length of its own.
    let versions: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..CLIENTS)
            .map(|i| vec![i as u8; 64 * 1024 + i * 4099])
            .collect(),
    );
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let server = server.clone();
            let versions = versions.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let own = object(100_000 + i * 517);
                let own_path = format!("/distinct/{i}.bin");
                barrier.wait();
                let put_own = server.put(&own_path, &own, &[]);
                assert_eq!(put_own.status, 200);
                let put_same = server.put("/same.bin", &versions[i], &[]);
                assert_eq!(put_same.status, 200);
                assert_eq!(
                    put_same.header("etag"),
                    Some(format!("\"{}\"", md5_hex(&versions[i])).as_str())
                );
                for _ in 0..3 {
                    let got = server.get(&own_path);
                    assert_eq!(got.status, 200);
                    assert!(got.body == own, "client {i}: its own object differs");
                    let same = server.get("/same.bin");
                    assert_eq!(same.status, 200);
                    let version = &versions[usize::from(same.body[0])];
                    assert!(
                        same.body == *version,
                        "client {i}: a GET saw a partial or mixed object ({} bytes)",
                        same.body.len()
                    );
                    assert_eq!(
                        same.header("etag"),
                        Some(format!("\"{}\"", md5_hex(version)).as_str())
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let last = server.get("/same.bin");
    assert!(versions.contains(&last.body));
    assert_eq!(list_dir(&dir.path().join("distinct")).len(), CLIENTS);
    let litter: Vec<String> = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains(".cfsign-tmp-"))
        .collect();
    assert!(litter.is_empty(), "temp files left: {litter:?}");
}

#[test]
fn serve_checks_signed_urls() {
    let dir = root_with_files();
    let server = ServeProcess::signed(dir.path(), &[]);
    let url = server.url("/a.txt");

    // Accepted: RSA with SHA-1 and SHA-256, ECDSA, custom policies.
    let accepted = [
        sign(&url, &[]),
        sign(&url, &["--hash-algorithm", "SHA256"]),
        sign_with(EC_KEY_ID, "ec-p256-pkcs8.pem", &url, &[]),
        sign(&url, &["--resource", &server.url("/*")]),
        sign(&url, &["--ip-address", "127.0.0.1"]),
        sign(&url, &["--date-greater-than", "2020-01-01"]),
        sign(&format!("{url}?v=1&w=2"), &[]),
    ];
    for signed in &accepted {
        let r = server.get(target_of(signed));
        assert_eq!(r.status, 200, "{signed}: {}", r.text());
        assert_eq!(r.text(), "0123456789");
    }
    let signed_head = sign(&url, &[]);
    assert_eq!(server.head(target_of(&signed_head)).status, 200);

    // Refused, with CloudFront's codes.
    assert_cloudfront_refusal(&server.get("/a.txt"), "MissingKey");
    let unknown = sign_with("KUNKNOWNKEY1", "rsa2048-pkcs8.pem", &url, &[]);
    assert_cloudfront_refusal(&server.get(target_of(&unknown)), "InvalidKey");
    let garbage_policy = format!("/a.txt?Policy=bm90IGpzb24_&Signature=AAAA&Key-Pair-Id={KEY_ID}");
    assert_cloudfront_refusal(&server.get(&garbage_policy), "MalformedPolicy");
    let not_base64 = format!("/a.txt?Policy=%%%&Signature=AAAA&Key-Pair-Id={KEY_ID}");
    assert_cloudfront_refusal(&server.get(&not_base64), "MalformedPolicy");

    let valid = sign(&url, &[]);
    let query = valid.split_once('?').unwrap().1;
    let denied = [
        // Another path with the same signature.
        format!("/b.txt?{query}"),
        // A parameter added after signing.
        format!("{}&extra=1", target_of(&valid)),
        // Expired.
        target_of(&sign(
            &url,
            &["--allow-past", "--date-less-than", "2020-01-01"],
        ))
        .to_string(),
        // Not yet valid.
        target_of(&sign(
            &url,
            &[
                "--date-greater-than",
                "2099-01-01",
                "--expires-in",
                "30000d",
            ],
        ))
        .to_string(),
        // Another client network.
        target_of(&sign(&url, &["--ip-address", "10.0.0.0/8"])).to_string(),
        // Signed by another key under our key ID.
        target_of(&sign_with(KEY_ID, "rsa2048-other-pkcs8.pem", &url, &[])).to_string(),
        // Signed for another host.
        target_of(&sign("http://other.example/a.txt", &[])).to_string(),
    ];
    for target in &denied {
        assert_cloudfront_refusal(&server.get(target), "AccessDenied");
    }
    // PUT is checked the same way.
    let put_url = sign(&server.url("/up.txt"), &[]);
    assert_eq!(server.put(target_of(&put_url), b"up", &[]).status, 200);
    assert_cloudfront_refusal(&server.put("/up2.txt", b"up", &[]), "MissingKey");
    assert!(!dir.path().join("up2.txt").exists());
    // A valid signature does not open a way out of the root.
    let traversal = sign(&server.url("/../etc/passwd"), &[]);
    assert!(target_of(&traversal).starts_with("/../"));
    assert_xml_error(&server.get(target_of(&traversal)), 400, "InvalidURI");
}

#[test]
fn serve_checks_signed_cookies_and_prefers_the_signed_url() {
    let dir = root_with_files();
    let server = ServeProcess::signed(dir.path(), &[]);
    let a = server.url("/a.txt");
    let all = server.url("/*");
    let cookie_get =
        |path: &str, cookie: &str| server.request("GET", path, &[("Cookie", cookie)], b"");

    let canned = cookie_header(&a, KEY_ID, "rsa2048-pkcs8.pem", &[]);
    assert!(canned.contains("CloudFront-Expires=") && !canned.contains("Hash-Algorithm"));
    assert_eq!(cookie_get("/a.txt", &canned).status, 200);
    // A canned policy covers exactly its URL.
    assert_cloudfront_refusal(&cookie_get("/b.txt", &canned), "AccessDenied");

    let custom = cookie_header(&a, KEY_ID, "rsa2048-pkcs8.pem", &["--resource", &all]);
    assert!(custom.contains("CloudFront-Policy="));
    assert_eq!(cookie_get("/a.txt", &custom).status, 200);
    assert_eq!(cookie_get("/b.txt", &custom).status, 200);

    let sha256 = cookie_header(
        &a,
        KEY_ID,
        "rsa2048-pkcs8.pem",
        &["--resource", &all, "--hash-algorithm", "SHA256"],
    );
    assert!(
        sha256.contains("CloudFront-Hash-Algorithm=SHA256"),
        "{sha256}"
    );
    assert_eq!(cookie_get("/b.txt", &sha256).status, 200);
    // Without the algorithm cookie, a SHA-256 signature is checked as SHA-1.
    let stripped = without_cookie(&sha256, "CloudFront-Hash-Algorithm");
    assert_cloudfront_refusal(&cookie_get("/b.txt", &stripped), "AccessDenied");

    let ec = cookie_header(&a, EC_KEY_ID, "ec-p256-pkcs8.pem", &["--resource", &all]);
    assert_eq!(cookie_get("/b.txt", &ec).status, 200);
    // Among other cookies, and in a second Cookie header.
    let mixed = format!("session=abc; {custom}; theme=dark");
    assert_eq!(cookie_get("/a.txt", &mixed).status, 200);
    let two_headers = server.request(
        "GET",
        "/a.txt",
        &[("Cookie", "session=abc"), ("Cookie", &custom)],
        b"",
    );
    assert_eq!(two_headers.status, 200);

    // Cookie refusals carry CloudFront's codes.
    let no_id = without_cookie(&custom, "CloudFront-Key-Pair-Id");
    assert_cloudfront_refusal(&cookie_get("/a.txt", &no_id), "MissingKey");
    assert_cloudfront_refusal(
        &cookie_get(
            "/a.txt",
            "CloudFront-Policy=bm90IGpzb24_; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F",
        ),
        "MalformedPolicy",
    );

    // A signed URL takes precedence over cookies, valid or not.
    let garbage =
        "CloudFront-Expires=1; CloudFront-Signature=garbage; CloudFront-Key-Pair-Id=KNOPE";
    let signed = sign(&a, &[]);
    assert_eq!(cookie_get(target_of(&signed), garbage).status, 200);
    let bad_url = format!("/a.txt?Expires=1893456000&Signature=garbage&Key-Pair-Id={KEY_ID}");
    assert_cloudfront_refusal(&cookie_get(&bad_url, &custom), "AccessDenied");
}

#[test]
fn serve_base_url_checks_urls_signed_for_a_real_distribution() {
    let dir = root_with_files();
    let server = ServeProcess::signed(dir.path(), &["--base-url", CLOUDFRONT]);
    let signed = sign(&format!("{CLOUDFRONT}/a.txt"), &[]);
    assert_eq!(server.get(target_of(&signed)).status, 200);
    let local = sign(&server.url("/a.txt"), &[]);
    assert_cloudfront_refusal(&server.get(target_of(&local)), "AccessDenied");
    let cookie = cookie_header(
        &format!("{CLOUDFRONT}/a.txt"),
        KEY_ID,
        "rsa2048-pkcs8.pem",
        &["--resource", &format!("{CLOUDFRONT}/*")],
    );
    let r = server.request("GET", "/b.txt", &[("Cookie", &cookie)], b"");
    assert_eq!(r.status, 200);
}

/// A 64 MiB GET and PUT stream through the server: its memory stays flat
/// (it would grow by the object size if either were buffered).
#[cfg(target_os = "linux")]
#[test]
fn serve_streams_large_objects_in_flat_memory() {
    use std::io::Read;
    const SIZE: u64 = 64 * 1024 * 1024;
    let dir = tempdir();
    std::fs::File::create(dir.path().join("big.bin"))
        .unwrap()
        .set_len(SIZE)
        .unwrap();
    let server = ServeProcess::open(dir.path());
    let before = server.peak_memory_kib();

    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut received = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    assert!(received > SIZE, "{received} bytes");

    let zeros = vec![0u8; 1 << 20];
    let sha = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for _ in 0..SIZE / (1 << 20) {
            h.update(&zeros);
        }
        hex::encode(h.finalize())
    };
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "PUT /copy.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {SIZE}\r\nx-amz-content-sha256: {sha}\r\n\r\n"
    )
    .unwrap();
    for _ in 0..SIZE / (1 << 20) {
        stream.write_all(&zeros).unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_eq!(parse_response(&answer).status, 200);
    assert_eq!(
        std::fs::metadata(dir.path().join("copy.bin"))
            .unwrap()
            .len(),
        SIZE
    );

    let growth = server.peak_memory_kib().saturating_sub(before);
    assert!(
        growth < 16 * 1024,
        "the server grew by {growth} KiB for a 64 MiB GET and PUT"
    );
}

/// A `Cookie` header value without the cookie called `name`.
fn without_cookie(cookies: &str, name: &str) -> String {
    let prefix = format!("{name}=");
    cookies
        .split("; ")
        .filter(|c| !c.starts_with(&prefix))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The object key of a URL: its path, percent-decoded.
fn key_of(url: &str) -> String {
    let path = target_of(url).split('?').next().unwrap();
    let bytes = path.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&path[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()[1..].to_string()
}

/// `serve` trusting the table's keys, checking signatures as if requests
/// were made to the CloudFront distribution of the vectors.
fn serve_as_cloudfront(root: &Path) -> ServeProcess {
    let keys = trusted_keys();
    let mut args = vec!["--base-url", CLOUDFRONT];
    for key in &keys {
        args.extend(["--public-key", key.as_str()]);
    }
    ServeProcess::start(root, &args)
}

/// Every row of the hand-assembled table (openssl signatures, never cfsign's
/// signer) against `serve --base-url https://d111111abcdef8.cloudfront.net`:
/// 200 for an accepted row, otherwise 403 with the row's code, and the log
/// line names the row's failed check and its words.
#[test]
fn serve_gives_every_table_row_cloudfronts_verdict() {
    let dir = tempdir();
    let server = serve_as_cloudfront(dir.path());
    let rows = rows();
    for row in &rows {
        let file = dir.path().join(key_of(&row.url));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "object").unwrap();
    }
    for (i, row) in rows.iter().enumerate() {
        let cookie: Vec<(&str, &str)> = row
            .cookie
            .as_deref()
            .map(|c| ("Cookie", c))
            .into_iter()
            .collect();
        let r = server.request("GET", target_of(&row.url), &cookie, b"");
        let log = server.wait_for_log(i + 1);
        let line = &log[i];
        // Over loopback the viewer is 127.0.0.1, outside every IpAddress
        // condition of the table: those rows are refused for their address.
        let expect = match row.client_ip {
            Some(_) => Expect::Reject {
                code: "AccessDenied",
                check: "ip-address",
                needles: vec!["127.0.0.1"],
            },
            None => row.expect.clone(),
        };
        match expect {
            Expect::Accept => {
                assert_eq!(r.status, 200, "{}: {line}", row.name);
                assert_eq!(r.text(), "object", "{}", row.name);
            }
            Expect::Reject {
                code,
                check,
                needles,
            } => {
                assert_cloudfront_refusal(&r, code);
                assert!(
                    line.contains(&format!(" 403 {code} ({check}): ")),
                    "{}: {line}",
                    row.name
                );
                for needle in needles {
                    assert!(line.contains(needle), "{}: {needle:?} in {line}", row.name);
                }
            }
        }
    }
}

/// 600 clients start a PUT and stall after 2 of its 1000 bytes (more than
/// the 512 threads of tokio's blocking pool, which the old server gave each
/// one until none was left for a GET). The server stays available: 64 of
/// them hold an upload and the others get 503 SlowDown at once, a GET
/// answers within 2 s, and after the idle timeout the stalled uploads are
/// disconnected with 400 RequestTimeout, their temp files gone.
#[test]
fn serve_stays_available_while_uploads_stall() {
    const STALLED: usize = 600;
    let dir = root_with_files();
    let server = ServeProcess::start(dir.path(), &["--no-auth", "--idle-timeout", "4s"]);
    let mut stalled: Vec<TcpStream> = (0..STALLED)
        .map(|i| stalled_put(server.addr, &format!("/stall-{i}.bin"), 1000, b"ab"))
        .collect();
    // 64 uploads under way, never more (the old server had 600).
    let temp_files = || {
        walk(dir.path())
            .iter()
            .filter(|p| p.contains(".cfsign-tmp-"))
            .count()
    };
    // Generous: on a loaded machine the 600 connections take a while to be
    // accepted (the loop ends as soon as the cap is reached).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = temp_files();
        assert!(n <= 64, "{n} uploads at once");
        if n == 64 {
            break;
        }
        assert!(Instant::now() < deadline, "only {n} uploads started");
        std::thread::sleep(Duration::from_millis(10));
    }

    let asked = Instant::now();
    let r = server.get("/a.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "0123456789");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );

    let (mut slowed, mut timed_out) = (0, 0);
    for stream in &mut stalled {
        let answer = read_until_closed(stream, Duration::from_secs(20))
            .expect("a stalled upload is still connected long after the idle timeout");
        let r = parse_response(&answer);
        match (r.status, r.xml_code().as_deref()) {
            (503, Some("SlowDown")) => {
                assert!(
                    r.text()
                        .contains("<Message>Please reduce your request rate.</Message>")
                );
                slowed += 1;
            }
            (400, Some("RequestTimeout")) => timed_out += 1,
            _ => panic!("{} {}", r.status, r.text()),
        }
    }
    // Connections the kernel's accept queue made wait (SYN retried) may
    // have taken the place of an upload that had timed out already.
    assert!(
        timed_out >= 64,
        "{timed_out} timed out, {slowed} slowed down"
    );
    assert_eq!(walk(dir.path()), ["a.txt", "b.txt"]);
    let log = server.wait_for_log(STALLED + 1);
    assert!(
        log.iter()
            .any(|l| l.contains(" 400 RequestTimeout: no body byte for 4s after 2 of 1000 bytes")),
        "{log:?}"
    );
    // The server is still fine.
    assert_eq!(server.put("/stall-0.bin", b"done", &[]).status, 200);
}

/// A client that opens a connection and sends nothing, or half a request
/// head, is disconnected after the idle timeout.
#[test]
fn serve_disconnects_clients_that_never_finish_their_request_head() {
    let dir = root_with_files();
    let server = ServeProcess::start(dir.path(), &["--no-auth", "--idle-timeout", "1s"]);
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let mut half = TcpStream::connect(server.addr).unwrap();
    half.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    for stream in [&mut silent, &mut half] {
        let started = Instant::now();
        assert!(read_until_closed(stream, Duration::from_secs(10)).is_some());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    assert_eq!(server.get("/a.txt").status, 200);
}

#[test]
fn serve_idle_timeout_and_max_uploads_are_checked() {
    let dir = tempdir();
    for (flag, value) in [
        ("--idle-timeout", "0s"),
        ("--idle-timeout", "soon"),
        ("--max-uploads", "0"),
    ] {
        let out = cfsign()
            .args(["serve", "--no-auth", "--root"])
            .arg(dir.path())
            .args([flag, value])
            .output()
            .unwrap();
        assert_refused(&out, 2, &[flag]);
    }
}

/// Names a file system cannot hold get 400 with an S3 error body, for reads
/// and writes, and leave nothing behind: a segment over 255 bytes anywhere,
/// and (Linux) a key that makes the path longer than PATH_MAX.
#[test]
fn serve_refuses_names_the_file_system_cannot_hold() {
    let dir = root_with_files();
    let server = ServeProcess::open(dir.path());
    let segment = "s".repeat(300);
    for path in [format!("/{segment}"), format!("/d/{segment}/x.txt")] {
        assert_xml_error(&server.put(&path, b"data", &[]), 400, "InvalidArgument");
        assert_xml_error(&server.get(&path), 400, "InvalidArgument");
    }
    assert_eq!(walk(dir.path()), ["a.txt", "b.txt"]);
    let log = server.wait_for_log(4);
    assert!(log[0].contains("longer than 255 bytes"), "{}", log[0]);

    #[cfg(target_os = "linux")]
    {
        // 3,500 bytes of root and an 800-byte key: over 4,096.
        let base = tempdir();
        let mut root = base.path().to_path_buf();
        while root.as_os_str().len() < 3500 {
            root.push("r".repeat(200));
        }
        std::fs::create_dir_all(&root).unwrap();
        let server = ServeProcess::open(&root);
        let key = format!("/{}", vec!["k".repeat(199); 4].join("/"));
        assert_xml_error(&server.put(&key, b"data", &[]), 400, "InvalidArgument");
        assert_xml_error(&server.get(&key), 400, "InvalidArgument");
        assert!(walk(&root).is_empty());
        assert_eq!(server.put("/short.txt", b"data", &[]).status, 200);
    }
}

/// What a request carries reaches the log escaped, one line per request: a
/// policy whose Resource holds a newline and a log line, or an OSC sequence,
/// a tab in a cookie, a bidi override in a path.
#[test]
fn serve_log_shows_request_text_escaped_one_line_each() {
    let dir = root_with_files();
    let server = ServeProcess::signed(dir.path(), &[]);
    let policy = |resource: &str| cf_b64(canned_policy(resource, 1893456000).as_bytes());
    for resource in [
        r"http://h/\nPUT /docs/forged.txt 200\n",
        r"http://h/\u001b]0;owned\u0007",
    ] {
        let target = format!(
            "/a.txt?Policy={}&Signature=AAAA&Key-Pair-Id={KEY_ID}",
            policy(resource)
        );
        assert_eq!(server.get(&target).status, 403);
    }
    let cookie = format!(
        "CloudFront-Expires=1\t9; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id={KEY_ID}"
    );
    assert_eq!(
        server
            .request("GET", "/a.txt", &[("Cookie", &cookie)], b"")
            .status,
        403
    );
    assert_eq!(server.get("/b.txt?end").status, 403);
    let open = ServeProcess::open(dir.path());
    assert_eq!(open.get("/.cfsign%E2%80%AEtxt.exe").status, 400);

    let mut log = server.wait_for_log(4);
    log.extend(open.wait_for_log(1));
    assert_eq!(log.len(), 5, "{log:#?}");
    for (line, escaped) in log.iter().zip([
        r"\nPUT /docs/forged.txt 200\n",
        r"\x1b]0;owned\x07",
        r"`1\t9`",
        "GET /b.txt 403",
        r"\u{202e}txt.exe",
    ]) {
        assert!(line.starts_with("GET /"), "{line}");
        assert!(line.contains(escaped), "{escaped} in {line}");
        assert!(!line.chars().any(cfsign::escape::is_unsafe), "{line:?}");
    }
}

/// A signing parameter given twice — here appended to a valid URL made by
/// hand from the openssl vectors — is refused, whichever value comes first.
#[test]
fn serve_refuses_repeated_signing_parameters() {
    let dir = tempdir();
    let server = serve_as_cloudfront(dir.path());
    let v = Vector::by_id("rsa-sha1-canned-plain");
    std::fs::write(dir.path().join(key_of(&v.s("url"))), "object").unwrap();
    assert_eq!(server.get(target_of(&v.signed_url())).status, 200);
    let extras = [
        "Signature=AAAA",
        "Expires=4102444800",
        "Key-Pair-Id=K3ECDSAP256KEY",
    ];
    for extra in extras {
        let r = server.get(target_of(&format!("{}&{extra}", v.signed_url())));
        assert_cloudfront_refusal(&r, "AccessDenied");
    }
    let log = server.wait_for_log(1 + extras.len());
    for (line, extra) in log[1..].iter().zip(extras) {
        let name = extra.split('=').next().unwrap();
        assert!(
            line.contains(&format!(
                "403 AccessDenied (repeated-parameter): the {name} query parameter appears more than once"
            )),
            "{line}"
        );
    }
}

/// Clients that ask for a large object and never read the answer are
/// disconnected after the idle timeout, like clients that stop sending:
/// each held a socket, the open file and a 256 KiB buffer for good (100
/// such clients kept 200 descriptors and about 50 MB for as long as they
/// liked). A slow client that keeps reading is still served whole.
#[cfg(target_os = "linux")]
#[test]
fn serve_disconnects_clients_that_stop_reading() {
    const STALLED: usize = 100;
    let dir = root_with_files();
    let big = object(4 << 20);
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    let server = ServeProcess::start(dir.path(), &["--no-auth", "--idle-timeout", "1s"]);
    let open_files = || {
        std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
            .unwrap()
            .count()
    };
    // The runtime opens its own descriptors on the first connection.
    assert_eq!(server.get("/a.txt").status, 200);
    let before = open_files();
    let stalled: Vec<TcpStream> = (0..STALLED)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    server.wait_for_log(STALLED);
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_files() > before + 5 {
        assert!(
            Instant::now() < deadline,
            "{} descriptors open, {before} before {STALLED} clients stopped reading",
            open_files()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stalled);

    // A client that reads slowly but steadily gets every byte.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0; 64 * 1024];
    loop {
        std::thread::sleep(Duration::from_millis(5));
        match slow.read(&mut buf).unwrap() {
            0 => break,
            n => answer.extend_from_slice(&buf[..n]),
        }
    }
    let r = parse_response(&answer);
    assert_eq!(r.status, 200);
    assert!(r.body == big, "{} bytes of {}", r.body.len(), big.len());
}
