//! `cfsign get`: byte-identical downloads, naming, signing, and every way a
//! download can go wrong, against `cfsign serve` and the fault-injecting
//! server on loopback.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::answers::cloudfront_xml;
use crate::support::faulty::{Fault, FaultyServer};
use crate::support::serve::{ServeProcess, list_dir, md5_hex, sha256_hex};
use crate::support::transfer::{interrupt, large_object, object, sha256_file, spawn, wait_until};
use crate::support::*;

fn get(url: &str, dir: &Path, extra: &[&str]) -> std::process::Output {
    cfsign()
        .current_dir(dir)
        .arg("get")
        .arg(url)
        .args(extra)
        .output()
        .unwrap()
}

fn signing_args() -> Vec<String> {
    vec![
        "--key-pair-id".into(),
        KEY_ID.into(),
        "--private-key".into(),
        key_arg("rsa2048-pkcs8.pem"),
    ]
}

fn status(code: u16, headers: &[(&str, &str)], body: &str) -> Fault {
    Fault::Status(
        code,
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body.to_string(),
    )
}

/// The file holds exactly `expected` (compared by digest: no megabytes of
/// numbers in a failure message).
#[track_caller]
fn assert_file(path: &Path, expected: &[u8]) {
    let actual = std::fs::read(path).unwrap();
    assert!(
        actual == expected,
        "{}: {} bytes, sha256 {}; expected {} bytes, sha256 {}",
        path.display(),
        actual.len(),
        sha256_hex(&actual),
        expected.len(),
        sha256_hex(expected)
    );
}

/// Only `name` in the folder: no partial file, no metadata left behind.
#[track_caller]
fn assert_only(dir: &Path, names: &[&str]) {
    assert_eq!(list_dir(dir), names, "folder contents");
}

/// `cfsign get` with the fixture key that `ServeProcess::signed` trusts.
fn get_signed(url: &str, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    args.extend(signing_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    get(url, dir, &args)
}

#[test]
fn small_downloads_from_serve_are_byte_identical_and_silent() {
    let root = tempdir();
    let sizes = [0, 1, 70_000];
    for len in sizes {
        std::fs::write(root.path().join(format!("{len}.bin")), object(len)).unwrap();
    }
    let server = ServeProcess::signed(root.path(), &["--read-only"]);
    for len in sizes {
        let dir = tempdir();
        let name = format!("{len}.bin");
        let out = get_signed(&server.url(&format!("/{name}")), dir.path(), &[]);
        assert_ok(&out);
        assert_file(&dir.path().join(&name), &object(len));
        // Not a terminal: no bar, no summary; stdout is for `-o -` only.
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
        assert_only(dir.path(), &[&name]);
    }
}

#[test]
fn a_200_mib_download_from_serve_is_byte_identical() {
    let (folder, digest) = large_object();
    let server = ServeProcess::signed(folder, &["--read-only", "--quiet"]);
    let dir = tempdir();
    let out = get_signed(&server.url("/large.bin"), dir.path(), &["--sha256", digest]);
    assert_ok(&out);
    assert_eq!(&sha256_file(&dir.path().join("large.bin")), digest);
    assert_only(dir.path(), &["large.bin"]);
}

/// `cfsign serve` (signed requests only) on a folder holding `/o.bin`.
fn serve_one(len: usize) -> (tempfile::TempDir, ServeProcess, Vec<u8>) {
    let root = tempdir();
    let body = object(len);
    std::fs::write(root.path().join("o.bin"), &body).unwrap();
    let server = ServeProcess::signed(root.path(), &["--read-only", "--quiet"]);
    (root, server, body)
}

#[test]
fn serve_accepts_what_get_signs_and_refuses_it_unsigned() {
    let (_root, server, body) = serve_one(5000);
    let dir = tempdir();
    // A URL signed by `cfsign sign`, fetched without a key: used as is.
    let out = cfsign()
        .args(["sign", &server.url("/o.bin"), "--key-pair-id", KEY_ID])
        .arg("--private-key")
        .arg(key_arg("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    let signed = stdout_of(&out).trim_end().to_string();
    assert_ok(&get(&signed, dir.path(), &["-o", "presigned.bin"]));
    assert_file(&dir.path().join("presigned.bin"), &body);
    // No key and no signature: CloudFront's refusal, exit 3, nothing saved.
    let out = get(&server.url("/o.bin"), dir.path(), &["-o", "unsigned.bin"]);
    assert_refused(
        &out,
        3,
        &[
            "403 MissingKey",
            "refused by CloudFront: the request was not signed",
        ],
    );
    assert_only(dir.path(), &["presigned.bin"]);
}

#[test]
fn continue_against_serve_finishes_a_prefix_and_leaves_a_complete_file() {
    let (_root, server, body) = serve_one(300_000);
    let dir = tempdir();
    let dest = dir.path().join("o.bin");
    // A prefix at the destination (say, from curl) grows with a real 206.
    std::fs::write(&dest, &body[..123_456]).unwrap();
    assert_ok(&get_signed(
        &server.url("/o.bin"),
        dir.path(),
        &["--continue"],
    ));
    assert_file(&dest, &body);
    assert_only(dir.path(), &["o.bin"]);
    // A complete file: serve answers 416 and the file is left alone.
    let before = std::fs::metadata(&dest).unwrap().modified().unwrap();
    let out = get_signed(&server.url("/o.bin"), dir.path(), &["--continue"]);
    assert_ok(&out);
    assert_eq!(
        std::fs::metadata(&dest).unwrap().modified().unwrap(),
        before
    );
    assert_file(&dest, &body);
    assert_only(dir.path(), &["o.bin"]);
}

#[test]
fn dash_writes_the_body_to_stdout_and_nothing_else() {
    let body = object(300_000);
    let server = FaultyServer::start(body.clone());
    let dir = tempdir();
    let out = get(&server.url("/obj.bin"), dir.path(), &["-o", "-"]);
    assert_ok(&out);
    assert_eq!(sha256_hex(&out.stdout), sha256_hex(&body));
    assert!(out.stderr.is_empty());
    assert_only(dir.path(), &[]);
}

#[test]
fn the_file_is_named_after_the_url_and_stays_in_the_folder() {
    let server = FaultyServer::start(object(10));
    for (path, name) in [
        ("/dir/my%20report%C3%A9.pdf?v=1", "my reporté.pdf"),
        ("/dir/..%2F..%2Fescape", "_.._escape"),
        ("/dir/..%5C..%5Cescape", "_.._escape"),
        ("/dir/.hidden", "hidden"),
        ("/dir/a%00b%0A", "a_b_"),
        // Shown as `xexe.txt` if the right-to-left override were kept.
        ("/dir/x%E2%80%AEtxt.exe", "x_txt.exe"),
        ("/dir/a%E2%80%8Bb%EF%BB%BF", "a_b_"),
        ("/dir/", "index.html"),
        ("/dir/%2E%2E", "index.html"),
    ] {
        let outer = tempdir();
        let dir = outer.path().join("cwd");
        std::fs::create_dir(&dir).unwrap();
        let out = get(&server.url(path), &dir, &[]);
        assert_ok(&out);
        assert_only(&dir, &[name]);
        assert_only(outer.path(), &["cwd"]);
    }
    // `-o FOLDER` puts the named file inside it.
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("into")).unwrap();
    assert_ok(&get(&server.url("/x/y.bin"), dir.path(), &["-o", "into"]));
    assert_only(&dir.path().join("into"), &["y.bin"]);
    // A folder that does not exist is a usage error.
    let out = get(&server.url("/x/y.bin"), dir.path(), &["-o", "nope/y.bin"]);
    assert_refused(&out, 2, &["nope", "does not exist"]);
    // So is one written as a folder (`-o nope/`), and a file written as one;
    // both before the server is asked.
    let requests = server.requests().len();
    let out = get(&server.url("/x/y.bin"), dir.path(), &["-o", "nope/"]);
    assert_refused(&out, 2, &["nope/", "does not exist"]);
    std::fs::write(dir.path().join("file"), b"kept").unwrap();
    let out = get(&server.url("/x/y.bin"), dir.path(), &["-o", "file/"]);
    assert_refused(&out, 2, &["file/", "not a folder"]);
    assert_eq!(server.requests().len(), requests, "nothing was requested");
    assert_only(dir.path(), &["file", "into"]);
    assert_eq!(std::fs::read(dir.path().join("file")).unwrap(), b"kept");
}

#[test]
fn the_url_is_signed_when_a_key_is_configured() {
    let body = object(1000);
    let server = FaultyServer::start(body.clone());
    let dir = tempdir();
    let mut args = vec!["-o".to_string(), "a.bin".to_string()];
    args.extend(signing_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ok(&get(&server.url("/obj.bin"), dir.path(), &args));
    assert_file(&dir.path().join("a.bin"), &body);
    let target = server.requests()[0].target.clone();
    let names: Vec<String> = query_pairs(&target).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Expires", "Signature", "Key-Pair-Id"], "{target}");
    assert_verifies(&server.url(&target));

    // A URL that carries a signature already is requested byte for byte.
    let signed = server.url(&target);
    assert_ok(&get(&signed, dir.path(), &args));
    assert_eq!(server.requests()[1].target, target);
}

#[track_caller]
fn assert_verifies(url: &str) {
    let out = cfsign()
        .args(["verify", url, "--public-key"])
        .arg(format!(
            "{KEY_ID}={}",
            fixtures().join("keys/rsa2048-public.pem").display()
        ))
        .output()
        .unwrap();
    assert_ok(&out);
}

#[test]
fn a_cut_body_is_resumed_with_range() {
    let body = object(500_000);
    let server = FaultyServer::start(body.clone());
    server.script([Fault::CutAfter(123_457)]);
    let dir = tempdir();
    assert_ok(&get(&server.url("/o"), dir.path(), &["-o", "o"]));
    assert_file(&dir.path().join("o"), &body);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("range"), None);
    assert_eq!(requests[1].header("range"), Some("bytes=123457-"));
    let etag = format!("\"{}\"", md5_hex(&body));
    assert_eq!(requests[1].header("if-range"), Some(etag.as_str()));
    assert_only(dir.path(), &["o"]);
}

#[test]
fn a_server_that_ignores_range_is_restarted_cleanly() {
    let body = object(400_000);
    let server = FaultyServer::start(body.clone());
    server.script([Fault::CutAfter(300_000), Fault::IgnoreRange]);
    let dir = tempdir();
    let out = get(&server.url("/o"), dir.path(), &["-o", "-"]);
    assert_ok(&out);
    assert_eq!(
        sha256_hex(&out.stdout),
        sha256_hex(&body),
        "stdout skips what it wrote"
    );
    server.script([Fault::CutAfter(300_000), Fault::IgnoreRange]);
    assert_ok(&get(&server.url("/o"), dir.path(), &["-o", "o"]));
    assert_file(&dir.path().join("o"), &body);
    let requests = server.requests();
    assert_eq!(requests[3].header("range"), Some("bytes=300000-"));
    assert_only(dir.path(), &["o"]);

    // The object changed in between (If-Range answered with a 200 for a new
    // ETag): the file holds only the new object; stdout, which cannot take
    // back what it wrote, fails.
    let changed = || {
        [
            Fault::CutAfter(300_000),
            status(200, &[("ETag", "\"new\"")], "new content"),
        ]
    };
    server.script(changed());
    assert_ok(&get(&server.url("/o"), dir.path(), &["-o", "o"]));
    assert_file(&dir.path().join("o"), b"new content");
    server.script(changed());
    let out = get(&server.url("/o"), dir.path(), &["-o", "-"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the object changed"),
        "{out:?}"
    );
}

#[test]
fn retry_after_is_honoured_for_503_and_429() {
    let body = object(1000);
    let server = FaultyServer::start(body.clone());
    server.script([
        status(503, &[("Retry-After", "1")], "busy"),
        status(429, &[("Retry-After", "1")], "slow down"),
    ]);
    let dir = tempdir();
    let start = Instant::now();
    assert_ok(&get(&server.url("/o"), dir.path(), &["-o", "o"]));
    let elapsed = start.elapsed();
    // Without Retry-After the first two pauses are at most 0.2 s + 0.4 s.
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(server.requests().len(), 3);
    assert_file(&dir.path().join("o"), &body);
}

#[test]
fn a_retry_is_signed_afresh() {
    let server = FaultyServer::start(object(1000));
    server.script([status(503, &[("Retry-After", "1")], "")]);
    let dir = tempdir();
    let mut args: Vec<String> = vec!["-o".into(), "o".into(), "--expires-in".into(), "2s".into()];
    args.extend(signing_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ok(&get(&server.url("/o"), dir.path(), &args));
    let expires: Vec<i64> = server
        .requests()
        .iter()
        .map(|r| {
            query_pairs(&r.target)
                .into_iter()
                .find(|(n, _)| n == "Expires")
                .unwrap()
                .1
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(expires.len(), 2);
    assert!(expires[1] > expires[0], "{expires:?}");
    assert_verifies(&server.url(&server.requests()[1].target));
}

#[test]
fn a_403_exits_3_with_cloudfronts_words_and_a_hint() {
    let server = FaultyServer::start(object(10));
    server.script([status(
        403,
        &[("Content-Type", "text/xml")],
        &cloudfront_xml("AccessDenied"),
    )]);
    let dir = tempdir();
    let out = get(&server.url("/o"), dir.path(), &[]);
    assert_refused(
        &out,
        3,
        &["403 AccessDenied: Access denied", "cfsign verify"],
    );
    assert_eq!(server.requests().len(), 1, "a 403 is not retried");
    assert_only(dir.path(), &[]);
}

#[test]
fn a_short_body_exits_5_after_the_retries() {
    let server = FaultyServer::start(object(100_000));
    server.script([
        Fault::ShortBody(5000),
        Fault::ShortBody(5000),
        Fault::ShortBody(5000),
    ]);
    let dir = tempdir();
    let out = get(&server.url("/o"), dir.path(), &["--retries", "2"]);
    assert_refused(&out, 5, &["incomplete download", "of 100000 bytes"]);
    assert_eq!(server.requests().len(), 3);
    assert_only(dir.path(), &[]);
}

#[test]
fn a_sha256_mismatch_exits_5_and_saves_nothing() {
    let body = object(50_000);
    let server = FaultyServer::start(body.clone());
    let dir = tempdir();
    let wrong = sha256_hex(b"something else");
    let out = get(&server.url("/o"), dir.path(), &["--sha256", &wrong]);
    assert_refused(&out, 5, &["SHA-256 mismatch", &wrong, &sha256_hex(&body)]);
    assert_only(dir.path(), &[]);
    // Also with --continue: bytes known to be wrong are not kept.
    let out = get(
        &server.url("/o"),
        dir.path(),
        &["--sha256", &wrong, "--continue"],
    );
    assert_refused(&out, 5, &["SHA-256 mismatch"]);
    assert_only(dir.path(), &[]);
    assert_ok(&get(
        &server.url("/o"),
        dir.path(),
        &["--sha256", &sha256_hex(&body)],
    ));
    assert_only(dir.path(), &["o"]);

    let out = get(&server.url("/o"), dir.path(), &["--sha256", "abc"]);
    assert_refused(&out, 2, &["64 hex digits"]);
}

#[test]
fn server_errors_and_refused_connections_exit_4_after_the_retries() {
    let server = FaultyServer::start(object(10));
    server.script([
        status(503, &[], ""),
        status(
            500,
            &[],
            cloudfront_xml("AccessDenied")
                .replace("AccessDenied", "InternalError")
                .as_str(),
        ),
    ]);
    let dir = tempdir();
    let out = get(&server.url("/o"), dir.path(), &["--retries", "1"]);
    assert_refused(&out, 4, &["500 InternalError", "2 attempts"]);
    assert_eq!(server.requests().len(), 2);
    assert_only(dir.path(), &[]);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let out = get(&format!("http://{addr}/o"), dir.path(), &["--retries", "1"]);
    assert_refused(&out, 4, &["cannot connect", "refused"]);
    assert_only(dir.path(), &[]);
}

/// A download slow enough to interrupt: 1 KiB every 2 ms.
fn slow_server(len: usize) -> (FaultyServer, Vec<u8>) {
    let body = object(len);
    let server = FaultyServer::start(body.clone());
    server.script([Fault::Slow(Duration::from_millis(2))]);
    (server, body)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The bytes of every file in `dir` (a private download's file has a random
/// name).
fn bytes_in(dir: &Path) -> u64 {
    list_dir(dir).iter().map(|n| file_len(&dir.join(n))).sum()
}

#[test]
fn ctrl_c_exits_130_and_leaves_nothing() {
    let (server, _) = slow_server(4 << 20);
    let dir = tempdir();
    let child = spawn(&["get", &server.url("/big.bin")], dir.path());
    wait_until(Duration::from_secs(20), "bytes on disk", || {
        bytes_in(dir.path()) > 0
    });
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "cfsign: interrupted\n"
    );
    assert_only(dir.path(), &[]);
}

#[test]
fn continue_resumes_an_interrupted_download_with_range_and_if_range() {
    let (server, body) = slow_server(4 << 20);
    let dir = tempdir();
    let url = server.url("/big.bin");
    let child = spawn(&["get", &url, "--continue"], dir.path());
    let part = dir.path().join(".big.bin.cfsign-part");
    wait_until(Duration::from_secs(20), "bytes on disk", || {
        file_len(&part) > 0
    });
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_only(
        dir.path(),
        &[".big.bin.cfsign-meta", ".big.bin.cfsign-part"],
    );
    let held = file_len(&part);
    assert!(held > 0 && held < body.len() as u64, "{held}");
    assert_file(&part, &body[..held as usize]);

    assert_ok(&get(
        &url,
        dir.path(),
        &["--continue", "--sha256", &sha256_hex(&body)],
    ));
    let resumed = server.requests().pop().unwrap();
    assert_eq!(
        resumed.header("range"),
        Some(format!("bytes={held}-").as_str())
    );
    let etag = format!("\"{}\"", md5_hex(&body));
    assert_eq!(resumed.header("if-range"), Some(etag.as_str()));
    assert_eq!(sha256_file(&dir.path().join("big.bin")), sha256_hex(&body));
    assert_only(dir.path(), &["big.bin"]);
}

#[test]
fn continue_accepts_only_a_206_at_the_offset() {
    let body = object(200_000);
    let server = FaultyServer::start(body.clone());
    let dir = tempdir();
    leave_a_part(&server, &server.url("/o"), dir.path(), 1000);
    // A 206 for other bytes than those asked for: start over from zero.
    server.script([status(
        206,
        &[("Content-Range", "bytes 0-9/200000")],
        "0123456789",
    )]);
    assert_ok(&get(&server.url("/o"), dir.path(), &["--continue"]));
    let requests = server.requests();
    assert_eq!(requests[1].header("range"), Some("bytes=1000-"));
    assert_eq!(requests[2].header("range"), None);
    assert_file(&dir.path().join("o"), &body);
    assert_only(dir.path(), &["o"]);
}

#[test]
fn continue_on_a_complete_file_is_done_without_touching_it() {
    let body = object(10_000);
    let server = FaultyServer::start(body.clone());
    let dir = tempdir();
    let dest = dir.path().join("o");
    std::fs::write(&dest, &body).unwrap();
    let before = std::fs::metadata(&dest).unwrap().modified().unwrap();
    server.script([status(416, &[("Content-Range", "bytes */10000")], "")]);
    assert_ok(&get(&server.url("/o"), dir.path(), &["--continue"]));
    assert_eq!(server.requests()[0].header("range"), Some("bytes=10000-"));
    assert_eq!(
        std::fs::metadata(&dest).unwrap().modified().unwrap(),
        before
    );
    assert_file(&dest, &body);
    assert_only(dir.path(), &["o"]);

    // A destination that is only a prefix grows to the whole object.
    std::fs::write(&dest, &body[..4000]).unwrap();
    assert_ok(&get(&server.url("/o"), dir.path(), &["--continue"]));
    assert_eq!(server.requests()[1].header("range"), Some("bytes=4000-"));
    assert_file(&dest, &body);
    assert_only(dir.path(), &["o"]);
}

/// `--continue` over an unrelated, longer local file: refused (exit 5), and
/// the user's file is left exactly as it was.
#[test]
fn continue_never_replaces_a_longer_unrelated_file() {
    let body = object(6);
    let server = FaultyServer::start(body);
    let dir = tempdir();
    let dest = dir.path().join("o");
    std::fs::write(&dest, b"my notes!").unwrap();
    server.script([status(416, &[("Content-Range", "bytes */6")], "")]);
    let out = get(&server.url("/o"), dir.path(), &["--continue"]);
    assert_refused(
        &out,
        5,
        &["holds 9 bytes but the object has 6", "without --continue"],
    );
    assert_eq!(server.requests()[0].header("range"), Some("bytes=9-"));
    assert_file(&dest, b"my notes!");
    assert_only(dir.path(), &["o"]);
}

#[test]
fn continue_keeps_the_partial_file_after_a_network_failure() {
    let body = object(300_000);
    let server = FaultyServer::start(body.clone());
    server.script([Fault::ShortBody(270_000), status(503, &[], "")]);
    let dir = tempdir();
    let out = get(
        &server.url("/o"),
        dir.path(),
        &["--continue", "--retries", "1"],
    );
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_only(dir.path(), &[".o.cfsign-meta", ".o.cfsign-part"]);
    assert_eq!(file_len(&dir.path().join(".o.cfsign-part")), 270_000);
    assert_ok(&get(&server.url("/o"), dir.path(), &["--continue"]));
    assert_eq!(server.requests()[2].header("range"), Some("bytes=270000-"));
    assert_file(&dir.path().join("o"), &body);
    assert_only(dir.path(), &["o"]);
}

#[test]
fn progress_and_quiet() {
    let server = FaultyServer::start(object(5000));
    let dir = tempdir();
    // Asked for on a non-terminal: indicatif draws no bar there, but the
    // summary line comes.
    let out = get(&server.url("/o"), dir.path(), &["--progress"]);
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("saved o: 4.88 KiB in "), "{stderr}");
    assert!(out.stdout.is_empty());
    let out = get(&server.url("/o"), dir.path(), &["--progress", "--quiet"]);
    assert_ok(&out);
    assert!(out.stderr.is_empty() && out.stdout.is_empty(), "{out:?}");

    let out = get(&server.url("/o"), dir.path(), &["-o", "-", "--continue"]);
    assert_refused(&out, 2, &["--continue", "-o PATH"]);
}

/// `get URL -o o --continue` against a body cut after `held` bytes: leaves a
/// genuine partial file (and its record) for the next `--continue`.
fn leave_a_part(server: &FaultyServer, url: &str, dir: &Path, held: usize) {
    server.script([Fault::ShortBody(held)]);
    let out = get(url, dir, &["-o", "o", "--continue", "--retries", "0"]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert_eq!(file_len(&dir.join(".o.cfsign-part")), held as u64);
}

/// The Range header of the last request the server saw.
fn last_range(server: &FaultyServer) -> Option<String> {
    server
        .requests()
        .pop()
        .and_then(|r| r.header("range").map(str::to_string))
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) {
    std::os::unix::fs::symlink(target, at).unwrap();
}

#[cfg(unix)]
#[track_caller]
fn assert_regular(path: &Path) {
    let kind = std::fs::symlink_metadata(path).unwrap().file_type();
    assert!(kind.is_file(), "{} is not a regular file", path.display());
}

#[cfg(unix)]
#[test]
fn a_link_planted_at_the_partial_file_is_never_written_through() {
    let body = object(70_000);
    let server = FaultyServer::start(body.clone());
    let elsewhere = tempdir();
    let victim = elsewhere.path().join("victim");
    for extra in [&[][..], &["--continue"][..]] {
        std::fs::write(&victim, b"precious").unwrap();
        let dir = tempdir();
        link(&victim, &dir.path().join(".o.cfsign-part"));
        let mut args = vec!["-o", "o"];
        args.extend_from_slice(extra);
        assert_ok(&get(&server.url("/o"), dir.path(), &args));
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "{extra:?}");
        assert_regular(&dir.path().join("o"));
        assert_file(&dir.path().join("o"), &body);
    }
}

#[cfg(unix)]
#[test]
fn a_link_planted_at_the_record_is_never_written_through() {
    let body = object(70_000);
    let server = FaultyServer::start(body.clone());
    let elsewhere = tempdir();
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let dir = tempdir();
    let meta = dir.path().join(".o.cfsign-meta");
    link(&victim, &meta);
    assert_ok(&get(&server.url("/o"), dir.path(), &["-o", "o", "-c"]));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_file(&dir.path().join("o"), &body);
    // A failure saves the record: beside the link's target, never into it.
    std::fs::remove_file(dir.path().join("o")).unwrap();
    let _ = std::fs::remove_file(&meta);
    link(&victim, &meta);
    leave_a_part(&server, &server.url("/o"), dir.path(), 5000);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_regular(&meta);
    assert_ok(&get(&server.url("/o"), dir.path(), &["-o", "o", "-c"]));
    assert_eq!(last_range(&server).as_deref(), Some("bytes=5000-"));
    assert_file(&dir.path().join("o"), &body);
    assert_only(dir.path(), &["o"]);
}

#[cfg(unix)]
#[test]
fn continue_never_appends_to_a_linked_destination() {
    let body = object(70_000);
    let server = FaultyServer::start(body.clone());
    let elsewhere = tempdir();
    let victim = elsewhere.path().join("victim");
    // The link's target even looks like a prefix of the object.
    std::fs::write(&victim, &body[..1000]).unwrap();
    let dir = tempdir();
    link(&victim, &dir.path().join("o"));
    assert_ok(&get(&server.url("/o"), dir.path(), &["-o", "o", "-c"]));
    assert_eq!(last_range(&server), None, "the link is no prefix of ours");
    assert_eq!(std::fs::read(&victim).unwrap(), &body[..1000]);
    // The rename replaced the link itself.
    assert_regular(&dir.path().join("o"));
    assert_file(&dir.path().join("o"), &body);
    assert_only(dir.path(), &["o"]);
}

#[test]
fn continue_resumes_only_a_partial_file_it_made_for_that_url() {
    let body = object(70_000);
    let server = FaultyServer::start(body.clone());
    let dir = tempdir();
    let part = dir.path().join(".o.cfsign-part");
    let continued = |url: &str| get(url, dir.path(), &["-o", "o", "-c"]);

    // Bytes planted under cfsign's name, with no record: not ours.
    std::fs::write(&part, b"FOREIGN PREFIX").unwrap();
    let out = continued(&server.url("/o"));
    assert_one_warning(&out, &[".o.cfsign-part", "starting over"]);
    assert_eq!(last_range(&server), None);
    assert_file(&dir.path().join("o"), &body);
    assert_only(dir.path(), &["o"]);

    // A genuine partial file of another URL.
    std::fs::remove_file(dir.path().join("o")).unwrap();
    leave_a_part(&server, &server.url("/other"), dir.path(), 5000);
    let out = continued(&server.url("/o"));
    assert_one_warning(&out, &["another URL"]);
    assert_eq!(last_range(&server), None);
    assert_file(&dir.path().join("o"), &body);

    // One whose bytes changed since it was recorded.
    std::fs::remove_file(dir.path().join("o")).unwrap();
    leave_a_part(&server, &server.url("/o"), dir.path(), 5000);
    let mut bytes = std::fs::read(&part).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&part, &bytes).unwrap();
    let out = continued(&server.url("/o"));
    assert_one_warning(&out, &["do not match"]);
    assert_eq!(last_range(&server), None);
    assert_file(&dir.path().join("o"), &body);
    assert_only(dir.path(), &["o"]);

    // Re-signing changes only the signing parameters: still the same URL.
    leave_a_part(
        &server,
        &server.url("/o?v=1&Expires=1&Signature=a"),
        dir.path(),
        5000,
    );
    assert_ok(&continued(&server.url("/o?v=1&Expires=2&Signature=b")));
    assert_eq!(last_range(&server).as_deref(), Some("bytes=5000-"));
    assert_file(&dir.path().join("o"), &body);
    assert_only(dir.path(), &["o"]);
}

#[test]
fn a_corrupt_record_means_starting_over() {
    let body = object(70_000);
    let server = FaultyServer::start(body.clone());
    let dir = tempdir();
    let meta = dir.path().join(".o.cfsign-meta");
    for record in [
        &b"garbage"[..],
        br#"{"validator":"a\nb","length":5}"#,
        br#"{"cfsign_part":1,"url":"x","validator":"a\nb","length":70000,"held":5000,"sha256":"00"}"#,
    ] {
        leave_a_part(&server, &server.url("/o"), dir.path(), 5000);
        std::fs::write(&meta, record).unwrap();
        let out = get(&server.url("/o"), dir.path(), &["-o", "o", "-c"]);
        assert_one_warning(&out, &[".o.cfsign-part", "starting over"]);
        assert_eq!(last_range(&server), None);
        assert_file(&dir.path().join("o"), &body);
        assert_only(dir.path(), &["o"]);
        std::fs::remove_file(dir.path().join("o")).unwrap();
    }
}

#[test]
fn names_up_to_255_bytes_can_be_downloaded_and_continued() {
    let body = object(70_000);
    let server = FaultyServer::start(body.clone());
    for len in [243, 250, 255] {
        let name = format!("{}.bin", "é".repeat((len - 4) / 2)) + &"x".repeat((len - 4) % 2);
        assert_eq!(name.len(), len);
        let dir = tempdir();
        // Named after the URL (percent-encoded) and with -o.
        let encoded: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_ok(&get(&server.url(&format!("/d/{encoded}")), dir.path(), &[]));
        assert_only(dir.path(), &[&name]);
        std::fs::remove_file(dir.path().join(&name)).unwrap();
        // Interrupted and continued: the partial file and record fit too.
        server.script([Fault::ShortBody(5000)]);
        let out = get(
            &server.url("/o"),
            dir.path(),
            &["-o", &name, "-c", "--retries", "0"],
        );
        assert_eq!(out.status.code(), Some(5), "{out:?}");
        let kept = list_dir(dir.path());
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(kept.iter().all(|n| n.len() <= 255), "{kept:?}");
        assert_ok(&get(&server.url("/o"), dir.path(), &["-o", &name, "-c"]));
        assert_eq!(last_range(&server).as_deref(), Some("bytes=5000-"));
        assert_file(&dir.path().join(&name), &body);
        assert_only(dir.path(), &[&name]);
    }
}

/// Two `get`s of different objects to one `-o`, at once, again and again:
/// each saves exactly its own object, and the file ends as one of them.
#[test]
fn concurrent_gets_to_one_file_leave_exactly_one_object() {
    let objects = [object(1_500_000), object(1_000_000)];
    let servers = objects.clone().map(FaultyServer::start);
    let sums = objects.each_ref().map(|o| sha256_hex(o));
    let modes: [[&[&str]; 2]; 3] = [[&[], &[]], [&["-c"], &["-c"]], [&["-c"], &[]]];
    for round in 0..18 {
        let dir = tempdir();
        let children: Vec<_> = (0..2)
            .map(|i| {
                let url = servers[i].url("/obj");
                let mut args = vec!["get", &url, "-o", "f", "--sha256", &sums[i]];
                args.extend_from_slice(modes[round % 3][i]);
                spawn(&args, dir.path())
            })
            .collect();
        for child in children {
            assert_ok(&child.wait_with_output().unwrap());
        }
        let saved = sha256_file(&dir.path().join("f"));
        assert!(sums.contains(&saved), "round {round}: f is neither object");
        assert_only(dir.path(), &["f"]);
    }
}

/// A second `--continue` to a destination whose partial file another run is
/// writing downloads into a file of its own, and leaves that one alone.
#[test]
fn continue_never_shares_a_partial_file_with_another_run() {
    let (slow, first) = slow_server(400_000);
    let second = object(70_000);
    let fast = FaultyServer::start(second.clone());
    let dir = tempdir();
    let part = dir.path().join(".o.cfsign-part");
    let child = spawn(&["get", &slow.url("/o"), "-o", "o", "-c"], dir.path());
    wait_until(Duration::from_secs(20), "bytes on disk", || {
        file_len(&part) > 0
    });
    assert_ok(&get(&fast.url("/o"), dir.path(), &["-o", "o", "-c"]));
    assert_eq!(last_range(&fast), None);
    assert_file(&dir.path().join("o"), &second);
    assert!(part.exists(), "the first run's file is left alone");
    assert_ok(&child.wait_with_output().unwrap());
    assert_file(&dir.path().join("o"), &first);
    assert_only(dir.path(), &["o"]);
}

/// A destination continued with a 206 becomes a partial file of ours: cut
/// again, it is kept with its record, and the next run finishes it.
#[test]
fn a_continued_destination_that_is_cut_again_is_kept_for_the_next_run() {
    let body: String = (0..10_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let server = FaultyServer::start(body.clone().into_bytes());
    let dir = tempdir();
    let dest = dir.path().join("o");
    std::fs::write(&dest, &body[..4000]).unwrap();
    server.script([status(
        206,
        &[("Content-Range", "bytes 4000-9999/10000")],
        &body[4000..5000],
    )]);
    let out = get(&server.url("/o"), dir.path(), &["-c", "--retries", "0"]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert_eq!(last_range(&server).as_deref(), Some("bytes=4000-"));
    assert_file(&dir.path().join(".o.cfsign-part"), &body.as_bytes()[..5000]);
    assert_file(&dest, &body.as_bytes()[..4000]);
    assert_ok(&get(&server.url("/o"), dir.path(), &["-c"]));
    assert_eq!(last_range(&server).as_deref(), Some("bytes=5000-"));
    assert_file(&dest, body.as_bytes());
    assert_only(dir.path(), &["o"]);
}

#[test]
fn hostile_response_headers_neither_steer_nor_flood() {
    let dir = tempdir();
    let sub = dir.path().join("d");
    std::fs::create_dir(&sub).unwrap();
    let long_range = format!("bytes 0-5/{}x", "9".repeat(20_000));
    let server = FaultyServer::start(b"object".to_vec());
    // Content-Disposition and an odd ETag are ignored; a 206 whose
    // Content-Range is 20 kB of junk is refused, and shown shortened.
    server.script([status(
        206,
        &[
            (
                "Content-Disposition",
                "attachment; filename=\"../../x\u{202e}\"",
            ),
            ("ETag", "\"a\tb\""),
            ("Content-Range", &long_range),
        ],
        "object",
    )]);
    let out = get(&server.url("/o"), &sub, &["--retries", "0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.len() < 2_000, "{} bytes of stderr", stderr.len());
    assert!(
        !stderr.contains('\t') && !stderr.contains('\u{202e}'),
        "{stderr}"
    );
    assert!(!dir.path().join("x").exists());
    assert_eq!(list_dir(dir.path()), ["d"]);
}
