//! `cfsign put` against a loopback server: what arrives, what goes on the
//! wire, retries and refusals, several objects, integrity failures.
//!
//! The server is the fault-injecting one (tests/cli/support/faulty.rs): in its
//! well-behaved mode it stores the PUT body and records every request.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::answers::cloudfront_xml;
use crate::support::faulty::{Fault, FaultyServer, Recorded};
use crate::support::serve::{ServeProcess, md5_hex, sha256_hex};
use crate::support::transfer::{LARGE_LEN, large_object, object, sha256_file};
use crate::support::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn put() -> assert_cmd::Command {
    let mut cmd = cfsign();
    cmd.arg("put");
    cmd
}

fn only_request(server: &FaultyServer) -> Recorded {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    requests.into_iter().next().unwrap()
}

#[test]
fn files_arrive_byte_identical_with_the_s3_headers() {
    let dir = tempdir();
    for (name, len, content_type) in [
        ("empty.txt", 0, "text/plain"),
        ("one.json", 1, "application/json"),
        ("odd size.bin", (1 << 20) + 7, "application/octet-stream"),
    ] {
        let bytes = object(len);
        let file = write(dir.path(), name, &bytes);
        let server = FaultyServer::start(Vec::new());
        let url = server.url(&format!("/up/{}", name.replace(' ', "%20")));
        let out = put().arg(&file).arg(&url).output().unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        // Nothing but the result on stdout; nothing at all on stderr (no
        // progress bar when stderr is not a terminal).
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let md5 = md5_hex(&bytes);
        assert_eq!(
            stdout_of(&out),
            format!(
                "uploaded {} → {url} ({len} bytes, sha256 {}, etag \"{md5}\")\n",
                file.display(),
                sha256_hex(&bytes)
            )
        );

        assert_eq!(server.object(), bytes, "{name}");
        let req = only_request(&server);
        assert_eq!(req.method, "PUT");
        assert_eq!(req.target, format!("/up/{}", name.replace(' ', "%20")));
        assert_eq!(req.header("content-length"), Some(len.to_string().as_str()));
        assert_eq!(req.header("transfer-encoding"), None, "never chunked");
        assert_eq!(
            req.header("x-amz-content-sha256"),
            Some(sha256_hex(&bytes).as_str())
        );
        assert_eq!(req.header("x-amz-acl"), Some("bucket-owner-full-control"));
        assert_eq!(req.header("content-type"), Some(content_type), "{name}");
        assert_eq!(req.body_len, len);
    }
}

#[test]
fn a_200_mib_file_arrives_intact() {
    let (folder, sha256) = large_object();
    let path = folder.join("large.bin");
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .arg(&path)
        .arg(server.url("/big.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    let req = only_request(&server);
    assert_eq!(req.body_len, LARGE_LEN);
    assert_eq!(&req.body_sha256, sha256);
    assert_eq!(
        req.header("content-length"),
        Some(LARGE_LEN.to_string().as_str())
    );
    assert_eq!(req.header("x-amz-content-sha256"), Some(sha256.as_str()));
}

#[test]
fn header_options_are_honoured() {
    let dir = tempdir();
    let file = write(dir.path(), "page.html", b"<p>hi</p>");
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .arg(&file)
        .arg(server.url("/page.html"))
        .args(["--acl", "public-read", "--cache-control", "max-age=60"])
        .args(["--content-type", "text/html; charset=utf-8"])
        .args(["--header", "X-Custom: one two", "-H", "x-amz-tagging: a=b"])
        .args(["--meta", "build=42", "--meta", "commit=abc=def"])
        .output()
        .unwrap();
    assert_ok(&out);
    let req = only_request(&server);
    assert_eq!(req.header("x-amz-acl"), Some("public-read"));
    assert_eq!(req.header("cache-control"), Some("max-age=60"));
    assert_eq!(req.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(req.header("x-custom"), Some("one two"));
    assert_eq!(req.header("x-amz-tagging"), Some("a=b"));
    assert_eq!(req.header("x-amz-meta-build"), Some("42"));
    assert_eq!(req.header("x-amz-meta-commit"), Some("abc=def"));

    let server = FaultyServer::start(Vec::new());
    let out = put()
        .arg(&file)
        .arg(server.url("/page.html"))
        .arg("--no-acl")
        .output()
        .unwrap();
    assert_ok(&out);
    let req = only_request(&server);
    assert_eq!(req.header("x-amz-acl"), None);
    assert_eq!(req.header("content-type"), Some("text/html"));

    // Headers cfsign computes cannot be overridden; bad values are refused.
    for args in [
        &["--header", "Content-Length: 1"][..],
        &["--header", "x-amz-content-sha256: 00"],
        &["--header", "no colon"],
        &["--meta", "novalue"],
        &["--meta", "name=caf\u{e9}"],
        &["--acl", "everyone"],
        &["--acl", "private", "--no-acl"],
    ] {
        let server = FaultyServer::start(Vec::new());
        let out = put()
            .arg(&file)
            .arg(server.url("/page.html"))
            .args(args)
            .output()
            .unwrap();
        assert_refused(&out, 2, &[]);
        assert!(server.requests().is_empty(), "{args:?}");
    }
}

#[test]
fn files_and_folders_go_under_a_prefix_with_encoded_names() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "notes.txt", b"notes");
    write(d, "site/index.html", b"<html>");
    write(d, "site/img/a b.png", b"png");
    write(d, "site/über/100%.txt", b"percent");
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .current_dir(d)
        .args(["notes.txt", "-r", "site", "--format", "json"])
        .arg(server.url("/rel/v1/"))
        .output()
        .unwrap();
    assert_ok(&out);
    let mut targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            "/rel/v1/notes.txt",
            "/rel/v1/site/img/a%20b.png",
            "/rel/v1/site/index.html",
            "/rel/v1/site/%C3%BCber/100%25.txt",
        ]
        .map(String::from)
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    // One JSON object per object, in input order (folders in name order).
    let lines: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sources: Vec<&str> = lines
        .iter()
        .map(|l| l["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        [
            "notes.txt",
            "site/img/a b.png",
            "site/index.html",
            "site/über/100%.txt"
        ]
    );
    assert_eq!(
        lines[3]["url"],
        server.url("/rel/v1/site/%C3%BCber/100%25.txt")
    );
    assert_eq!(lines[3]["bytes"], 7);
    assert_eq!(lines[3]["sha256"], sha256_hex(b"percent"));
    assert_eq!(lines[3]["etag_checked"], true);
    assert_eq!(lines[1]["content_type"], "image/png");

    // `site/` with a trailing slash: the folder's contents, without its name.
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .current_dir(d)
        .args(["-r", "site/"])
        .arg(server.url("/c/"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(stdout_of(&out).lines().count(), 3);
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.target == "/c/index.html")
    );

    // Several files need a prefix; a folder needs -r; stdin needs a name.
    let server = FaultyServer::start(Vec::new());
    for (args, needle) in [
        (&["site"][..], "pass -r"),
        (&["-"], "stdin has no file name"),
    ] {
        let out = put()
            .current_dir(d)
            .args(args)
            .arg(server.url("/p/"))
            .output()
            .unwrap();
        assert_refused(&out, 2, &[needle]);
    }
    for args in [&["notes.txt", "site/index.html"][..], &["-r", "site"]] {
        let out = put()
            .current_dir(d)
            .args(args)
            .arg(server.url("/p"))
            .output()
            .unwrap();
        assert_refused(&out, 2, &["end the URL with /"]);
    }
    assert!(server.requests().is_empty());
}

#[test]
fn jobs_upload_in_parallel_and_print_in_input_order() {
    let dir = tempdir();
    let files: Vec<PathBuf> = (0..4)
        .map(|i| write(dir.path(), &format!("f{i}.txt"), &object(1000)))
        .collect();
    let hold = Duration::from_millis(600);

    let server = FaultyServer::start(Vec::new());
    server.script(vec![Fault::Hold(hold); 4]);
    let started = Instant::now();
    let out = put()
        .args(&files)
        .arg(server.url("/j/"))
        .args(["--jobs", "4"])
        .output()
        .unwrap();
    let parallel = started.elapsed();
    assert_ok(&out);
    assert_eq!(
        server.max_in_flight(),
        4,
        "all four were in flight together"
    );
    assert!(parallel < hold * 3, "took {parallel:?}");
    let names: Vec<String> = stdout_of(&out)
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap().to_string())
        .collect();
    let expected: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    assert_eq!(names, expected);

    let server = FaultyServer::start(Vec::new());
    server.script(vec![Fault::Hold(Duration::from_millis(100)); 4]);
    let out = put()
        .args(&files)
        .arg(server.url("/j/"))
        .args(["--jobs", "1"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(server.max_in_flight(), 1);
}

#[test]
fn stdin_is_spooled_and_uploaded() {
    let bytes = object(300_001);
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .arg("-")
        .arg(server.url("/from-stdin.csv"))
        .write_stdin(bytes.clone())
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(stdout_of(&out).starts_with("uploaded - → "));
    assert_eq!(server.object(), bytes);
    let req = only_request(&server);
    assert_eq!(req.header("content-length"), Some("300001"));
    assert_eq!(req.header("content-type"), Some("text/csv"));
    assert_eq!(
        req.header("x-amz-content-sha256"),
        Some(sha256_hex(&bytes).as_str())
    );
}

fn one_mib_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let bytes = object((1 << 20) + 7);
    (write(dir, "data.bin", &bytes), bytes)
}

/// Uploads `file` to `/data.bin` on a faulty server scripted with `faults`.
fn put_against(
    file: &Path,
    faults: impl IntoIterator<Item = Fault>,
    extra: &[&str],
) -> (std::process::Output, FaultyServer) {
    let server = FaultyServer::start(Vec::new());
    server.script(faults);
    let out = put()
        .arg(file)
        .arg(server.url("/data.bin"))
        .args(extra)
        .output()
        .unwrap();
    (out, server)
}

#[test]
fn a_503_is_retried_with_the_whole_body() {
    let dir = tempdir();
    let (file, bytes) = one_mib_file(dir.path());
    let (out, server) = put_against(
        &file,
        [Fault::Status(
            503,
            vec![],
            "<Error><Code>SlowDown</Code></Error>".into(),
        )],
        &["--format", "json"],
    );
    assert_ok(&out);
    let line: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(line["attempts"], 2);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.body_len, bytes.len());
        assert_eq!(r.body_sha256, sha256_hex(&bytes));
    }
    assert_eq!(server.object(), bytes);
}

#[test]
fn a_connection_cut_mid_body_is_retried() {
    let dir = tempdir();
    let (file, bytes) = one_mib_file(dir.path());
    let (out, server) = put_against(&file, [Fault::CutUpload(100_000)], &[]);
    assert_ok(&out);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body_len, 100_000);
    assert_eq!(requests[1].body_len, bytes.len());
    assert_eq!(requests[1].body_sha256, sha256_hex(&bytes));
}

#[test]
fn a_403_is_not_retried_and_exits_3() {
    let dir = tempdir();
    let (file, _) = one_mib_file(dir.path());
    let (out, server) = put_against(
        &file,
        [Fault::Status(403, vec![], cloudfront_xml("AccessDenied"))],
        &[],
    );
    assert_refused(
        &out,
        3,
        &["403 AccessDenied: Access denied", "cfsign verify"],
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn etags_are_checked_when_they_are_md5s() {
    let dir = tempdir();
    let (file, _) = one_mib_file(dir.path());
    let (out, server) = put_against(
        &file,
        [Fault::WrongEtag(
            "\"0123456789abcdef0123456789abcdef\"".into(),
        )],
        &[],
    );
    assert_refused(&out, 5, &["ETag", "0123456789abcdef0123456789abcdef"]);
    assert_eq!(
        server.requests().len(),
        1,
        "an integrity failure is not retried"
    );

    // A multipart-style (or SSE-KMS) ETag is not an MD5: accepted unchecked.
    let (out, _server) = put_against(
        &file,
        [Fault::WrongEtag(
            "\"9b2cf535f27731c974343645a3985328-2\"".into(),
        )],
        &["--format", "json"],
    );
    assert_ok(&out);
    let line: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(line["etag"], "\"9b2cf535f27731c974343645a3985328-2\"");
    assert_eq!(line["etag_checked"], false);
}

#[test]
fn a_sha256_mismatch_is_a_file_that_changed() {
    let dir = tempdir();
    let (file, _) = one_mib_file(dir.path());
    let (out, server) = put_against(&file, [Fault::Status(
        400,
        vec![],
        "<Error><Code>XAmzContentSHA256Mismatch</Code><Message>The provided 'x-amz-content-sha256' header does not match what was computed.</Message></Error>".into(),
    )], &[]);
    assert_refused(
        &out,
        5,
        &["file changed while uploading", "XAmzContentSHA256Mismatch"],
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn over_5_gib_is_refused_before_a_byte_is_sent() {
    let dir = tempdir();
    let path = dir.path().join("huge.iso");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len((5 << 30) + 1).unwrap(); // sparse: no disk used
    drop(file);
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .arg(&path)
        .arg(server.url("/huge.iso"))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["single-PUT limit", "5 GiB"]);
    assert!(server.requests().is_empty());
}

/// Tests run as root, which reads a chmod-000 file anyway; what root cannot
/// read either: a missing file, a symbolic link loop (ELOOP) and a folder
/// without -r. The chmod-000 case runs too when not root.
#[test]
fn unreadable_files_exit_2_before_sending() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("folder")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.join("loop"), d.join("loop")).unwrap();
    let good = write(d, "good.txt", b"fine");
    let mut cases = vec![
        (d.join("missing.txt"), "no such file"),
        (d.join("loop"), "cannot read"),
        (d.join("folder"), "pass -r"),
    ];
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = write(d, "locked.txt", b"secret");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            cases.push((locked, "permission denied"));
        }
    }
    for (path, needle) in cases {
        let server = FaultyServer::start(Vec::new());
        // Checked before anything is sent, even for the good file first in line.
        let out = put()
            .arg(&good)
            .arg(&path)
            .arg(server.url("/p/"))
            .output()
            .unwrap();
        assert_refused(&out, 2, &[needle]);
        assert!(server.requests().is_empty(), "{}", path.display());
    }
}

fn expires_of(target: &str) -> i64 {
    query_pairs(target)
        .into_iter()
        .find(|(n, _)| n == "Expires")
        .expect("a canned signature")
        .1
        .parse()
        .unwrap()
}

#[test]
fn each_attempt_is_signed_afresh() {
    let dir = tempdir();
    let file = write(dir.path(), "a.txt", b"signed");
    let server = FaultyServer::start(Vec::new());
    // Retry-After makes the second attempt at least a second later.
    server.script([Fault::Status(
        503,
        vec![("Retry-After".into(), "1".into())],
        String::new(),
    )]);
    let out = put()
        .arg(&file)
        .arg(server.url("/a.txt"))
        .args(["--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8.pem"))
        .args(["--expires-in", "5m"])
        .output()
        .unwrap();
    assert_ok(&out);
    // The printed URL carries no signature.
    assert!(stdout_of(&out).contains(&format!("→ {} (", server.url("/a.txt"))));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let (first, second) = (&requests[0].target, &requests[1].target);
    assert_ne!(first, second);
    assert!(expires_of(second) > expires_of(first), "{first} {second}");
    for target in [first, second] {
        let url = format!("http://{}{target}", server.addr);
        let verdict = cfsign()
            .args(["verify", &url, "--public-key"])
            .arg(format!("{KEY_ID}={}", key("rsa2048-public.pem").display()))
            .output()
            .unwrap();
        assert_ok(&verdict);
    }

    // Without the key a signed URL is sent as given, every time.
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::Status(503, vec![], String::new())]);
    let signed = format!(
        "{}?Expires=1893456000&Signature=abc&Key-Pair-Id={KEY_ID}",
        server.url("/a.txt")
    );
    let out = put().arg(&file).arg(&signed).output().unwrap();
    assert_ok(&out);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].target, requests[1].target);
    assert!(requests[0].target.contains("Signature=abc"));
    assert!(!stdout_of(&out).contains("Signature"), "never printed");
}

/// A terminal gets a progress bar (run under `script`, which provides one).
#[test]
fn progress_bar_only_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to provide a terminal");
        return;
    }
    let dir = tempdir();
    let file = write(dir.path(), "a.txt", &object(1 << 20));
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::Hold(Duration::from_millis(500))]);
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_cfsign"));
    let line = format!(
        "{} put {} {} >/dev/null",
        bin.display(),
        file.display(),
        server.url("/a.txt")
    );
    let out = scrubbed("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert_ok(&out);
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("uploading"), "no bar on the terminal: {tty:?}");
    assert_eq!(server.object().len(), 1 << 20);
}

#[test]
fn a_lasting_5xx_exits_4_after_the_last_attempt() {
    let dir = tempdir();
    let file = write(dir.path(), "a.txt", b"abc");
    let server = FaultyServer::start(Vec::new());
    let busy = Fault::Status(
        503,
        vec![("Retry-After".into(), "0".into())],
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            .into(),
    );
    server.script(vec![busy.clone(); 5]);
    let out = put().arg(&file).arg(server.url("/a.txt")).output().unwrap();
    assert_refused(
        &out,
        4,
        &["after 5 attempts", "503 SlowDown: Please reduce"],
    );
    assert_eq!(server.requests().len(), 5);

    // --retries sets how many attempts follow the first, as for get.
    server.script(vec![busy.clone(); 2]);
    let out = put()
        .arg(&file)
        .arg(server.url("/a.txt"))
        .args(["--retries", "1"])
        .output()
        .unwrap();
    assert_refused(&out, 4, &["after 2 attempts"]);
    assert_eq!(server.requests().len(), 7);
}

/// The library without the command line: an attempt that makes no progress
/// is given up after `stall_timeout` and retried.
#[test]
fn library_put_retries_a_stalled_attempt() {
    use cfsign::transfer::put::{PutOptions, Upload, put};
    use cfsign::transfer::{ClientOptions, NoProgress, RetryPolicy, UrlSigner};

    let dir = tempdir();
    let (path, bytes) = one_mib_file(dir.path());
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::Hold(Duration::from_secs(3))]);
    let upload = Upload {
        name: "data.bin".into(),
        path,
        url: server.url("/lib.bin"),
        file_id: None,
    };
    let options = PutOptions {
        stall_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..PutOptions::default()
    };
    let client = ClientOptions::default().build().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let done = runtime
        .block_on(put(
            &client,
            &UrlSigner::none(),
            &upload,
            &options,
            &(std::sync::Arc::new(NoProgress) as _),
        ))
        .unwrap();
    assert_eq!(done.attempts, 2);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(done.sha256, sha256_hex(&bytes));
    assert!(done.etag_checked);
}

#[test]
fn a_profile_supplies_the_key() {
    let dir = tempdir();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profile.default]\nkey_pair_id = \"{KEY_ID}\"\nprivate_key = \"{}\"\n",
            key("rsa2048-pkcs8.pem").display()
        ),
    )
    .unwrap();
    let file = write(dir.path(), "a.txt", b"profiled");
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .env("CFSIGN_CONFIG", &config)
        .arg(&file)
        .arg(server.url("/a.txt"))
        .output()
        .unwrap();
    assert_ok(&out);
    let target = only_request(&server).target;
    assert!(target.starts_with("/a.txt?Expires="), "{target}");
    assert!(
        target.ends_with(&format!("&Key-Pair-Id={KEY_ID}")),
        "{target}"
    );
}

// Against `cfsign serve`: a signed-URL edge that stores PUTs on disk, checks
// x-amz-content-sha256 as S3 does and answers the MD5 as ETag.

fn signed_put() -> assert_cmd::Command {
    let mut cmd = put();
    cmd.args(["--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8.pem"));
    cmd
}

/// HEAD of an object through the signed edge.
fn head(server: &ServeProcess, path: &str) -> crate::support::serve::Response {
    let out = cfsign()
        .args([
            "sign",
            &server.url(path),
            "--key-pair-id",
            KEY_ID,
            "--private-key",
        ])
        .arg(key_arg("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    let signed = stdout_of(&out);
    let r = server.head(signed.trim().strip_prefix(&server.base).unwrap());
    assert_eq!(r.status, 200, "HEAD {path}");
    r
}

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    stdout_of(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn serve_receives_files_byte_identical_with_the_s3_headers() {
    let root = tempdir();
    let server = ServeProcess::signed(root.path(), &[]);
    let dir = tempdir();
    let (large, big_sha256) = large_object();
    let big = large.join("large.bin");
    let small: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.txt", vec![], "text/plain"),
        ("one.json", object(1), "application/json"),
        (
            "odd size.bin",
            object((1 << 20) + 7),
            "application/octet-stream",
        ),
    ];
    let mut files: Vec<PathBuf> = small
        .iter()
        .map(|(name, bytes, _)| write(dir.path(), name, bytes))
        .collect();
    files.push(big.clone());
    let out = signed_put()
        .args(&files)
        .arg(server.url("/up/"))
        .args(["--format", "json", "--jobs", "2"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(out.stderr.is_empty());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    // serve echoes x-amz-checksum-sha256, as S3 does: that verified each
    // upload, and no MD5 was computed.
    assert!(
        lines
            .iter()
            .all(|l| l["checksum_sha256"].is_string() && l["md5"].is_null()),
        "{lines:?}"
    );

    for (name, bytes, content_type) in &small {
        let stored = std::fs::read(root.path().join("up").join(name)).unwrap();
        assert!(stored == *bytes, "{name} differs on disk");
        let r = head(&server, &format!("/up/{}", name.replace(' ', "%20")));
        assert_eq!(
            r.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
        assert_eq!(r.header("content-type"), Some(*content_type));
        assert_eq!(r.header("x-cfsign-acl"), Some("bucket-owner-full-control"));
        assert_eq!(
            r.header("x-cfsign-content-sha256"),
            Some(sha256_hex(bytes).as_str())
        );
    }
    assert_eq!(&sha256_file(&root.path().join("up/large.bin")), big_sha256);
    assert_eq!(lines[3]["sha256"], big_sha256.as_str());
    let big_checksum = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(hex::decode(big_sha256).unwrap())
    };
    assert_eq!(lines[3]["checksum_sha256"], big_checksum);
    assert_eq!(lines[3]["bytes"], LARGE_LEN);
}

#[test]
fn serve_stores_the_header_options() {
    let root = tempdir();
    let server = ServeProcess::signed(root.path(), &[]);
    let dir = tempdir();
    let file = write(dir.path(), "report.csv", b"a,b\n1,2\n");
    let out = signed_put()
        .arg(&file)
        .arg(server.url("/r/report.csv"))
        .args(["--acl", "public-read", "--cache-control", "no-cache"])
        .args(["--content-type", "text/plain; charset=utf-8"])
        .args([
            "--header",
            "Content-Disposition: attachment; filename=r.csv",
        ])
        .args(["--meta", "build=42"])
        .output()
        .unwrap();
    assert_ok(&out);
    let r = head(&server, "/r/report.csv");
    assert_eq!(r.header("x-cfsign-acl"), Some("public-read"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=r.csv")
    );
    assert_eq!(r.header("x-amz-meta-build"), Some("42"));

    let out = signed_put()
        .arg(&file)
        .arg(server.url("/r/plain.csv"))
        .arg("--no-acl")
        .output()
        .unwrap();
    assert_ok(&out);
    let r = head(&server, "/r/plain.csv");
    assert_eq!(r.header("x-cfsign-acl"), None);
    assert_eq!(r.header("content-type"), Some("text/csv"));
}

/// Names encoded by `put` come out on disk as they were, through a real
/// server's decoding.
#[test]
fn serve_stores_folders_and_stdin_under_their_names() {
    let root = tempdir();
    let server = ServeProcess::signed(root.path(), &[]);
    let dir = tempdir();
    let d = dir.path();
    write(d, "site/img/a b.png", b"png");
    write(d, "site/\u{fc}ber/100%?.txt", b"percent");
    write(d, "site/#hash.txt", b"hash");
    let out = signed_put()
        .current_dir(d)
        .args(["-r", "site"])
        .arg(server.url("/rel/"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(stdout_of(&out).lines().count(), 3);
    for (name, bytes) in [
        ("site/img/a b.png", &b"png"[..]),
        ("site/\u{fc}ber/100%?.txt", b"percent"),
        ("site/#hash.txt", b"hash"),
    ] {
        let stored = std::fs::read(root.path().join("rel").join(name));
        assert_eq!(stored.ok().as_deref(), Some(bytes), "{name}");
    }

    let out = signed_put()
        .arg("-")
        .arg(server.url("/rel/from stdin.txt"))
        .write_stdin("piped")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        std::fs::read(root.path().join("rel/from stdin.txt")).unwrap(),
        b"piped"
    );
}

#[test]
fn serve_refusal_exits_3_with_cloudfronts_words() {
    let root = tempdir();
    let server = ServeProcess::signed(root.path(), &[]);
    let dir = tempdir();
    let file = write(dir.path(), "a.txt", b"x");
    // The right key ID, another private key: CloudFront holds another
    // public key under that ID, which the signature's own key tells.
    let out = put()
        .arg(&file)
        .arg(server.url("/a.txt"))
        .args(["--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-other-pkcs8.pem"))
        .output()
        .unwrap();
    assert_refused(
        &out,
        3,
        &[
            "403 AccessDenied: Access denied",
            "the public key CloudFront holds as `K2JCJMDEHXQW5F` is another one",
        ],
    );
    assert!(!root.path().join("a.txt").exists());
}

// `put -r` and links: only what is in the folder goes up.

/// `root/site` with two files, and links to what is not in it: our own
/// environment, a file and a folder outside, a system file, and a loop.
fn folder_with_links(root: &Path) -> PathBuf {
    use std::os::unix::fs::symlink;
    let site = root.join("site");
    write(&site, "a.txt", b"in the folder");
    write(&site, "sub/b.txt", b"also in it");
    write(root, "outside.txt", b"outside");
    write(root, "outside-dir/c.txt", b"outside too");
    symlink("/proc/self/environ", site.join("env")).unwrap();
    symlink("../outside.txt", site.join("out.txt")).unwrap();
    symlink(root.join("outside-dir"), site.join("outdir")).unwrap();
    symlink("/etc/passwd", site.join("host")).unwrap();
    symlink("loop", site.join("loop")).unwrap();
    site
}

/// Every file `serve` stored under `root`, relative, its own metadata aside.
fn stored_files(root: &Path) -> Vec<String> {
    crate::support::serve::walk(root)
        .into_iter()
        .filter(|p| !p.starts_with(".cfsign") && root.join(p).is_file())
        .collect()
}

#[test]
fn recursive_put_uploads_only_what_is_in_the_folder() {
    let store = tempdir();
    let server = ServeProcess::signed(store.path(), &[]);
    let dir = tempdir();
    folder_with_links(dir.path());
    let marker = "MARKER-FROM-THE-ENVIRONMENT-7c1f";
    let out = signed_put()
        .env("CFSIGN_TEST_MARKER", marker)
        .current_dir(dir.path())
        .args(["-r", "site"])
        .arg(server.url("/rel/"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(stdout_of(&out).lines().count(), 2, "{out:?}");
    assert_eq!(
        stored_files(store.path()),
        ["rel/site/a.txt", "rel/site/sub/b.txt"]
    );
    for file in stored_files(store.path()) {
        let bytes = std::fs::read(store.path().join(&file)).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(marker), "{file}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "cfsign: warning: skipped site/env: a link to outside the folder",
            "cfsign: warning: skipped site/host: a link to outside the folder",
            "cfsign: warning: skipped site/loop: a link that leads nowhere (it loops)",
            "cfsign: warning: skipped site/out.txt: a link to outside the folder",
            "cfsign: warning: skipped site/outdir: a link to outside the folder",
            "cfsign: warning: skipped 5 entries in all (see the warnings above)",
        ],
        "{stderr}"
    );
}

#[test]
fn follow_symlinks_follows_links_that_stay_inside() {
    use std::os::unix::fs::symlink;
    let store = tempdir();
    let server = ServeProcess::signed(store.path(), &[]);
    let dir = tempdir();
    let site = folder_with_links(dir.path());
    symlink("a.txt", site.join("alias.txt")).unwrap();
    symlink("sub", site.join("sub-alias")).unwrap();
    symlink("..", site.join("sub/up")).unwrap(); // back to site: a loop

    // Without the flag a link inside is skipped too, and the summary says how
    // to follow it.
    let out = signed_put()
        .current_dir(dir.path())
        .args(["-r", "site/"])
        .arg(server.url("/plain/"))
        .output()
        .unwrap();
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skipped site/alias.txt: a link (pass --follow-symlinks"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("skipped 8 entries in all (see the warnings above); pass --follow-symlinks"),
        "{stderr}"
    );

    let out = signed_put()
        .current_dir(dir.path())
        .args(["-r", "--follow-symlinks", "site/"])
        .arg(server.url("/follow/"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        stored_files(&store.path().join("follow")),
        ["a.txt", "alias.txt", "sub-alias/b.txt", "sub/b.txt"]
    );
    assert_eq!(
        std::fs::read(store.path().join("follow/alias.txt")).unwrap(),
        b"in the folder"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "skipped site/env: a link to outside the folder",
        "skipped site/outdir: a link to outside the folder",
        "skipped site/sub/up: a link to a folder that holds it (a loop)",
        "skipped site/sub-alias/up: a link to a folder that holds it (a loop)",
        "skipped 7 entries in all",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(!stderr.contains("--follow-symlinks"), "{stderr}");
}

/// A file named on the command line is read through a link (the user named
/// it, as `cp` would), and `/dev/stdin` redirected from a file is that file;
/// but nothing is read from /proc, /sys or /dev.
#[test]
fn a_named_link_is_followed_but_never_into_proc() {
    use std::os::unix::fs::symlink;
    let dir = tempdir();
    let d = dir.path();
    write(d, "real/data.txt", b"named through a link");
    symlink(d.join("real/data.txt"), d.join("link.txt")).unwrap();
    symlink("/proc/self/environ", d.join("env")).unwrap();
    let server = FaultyServer::start(Vec::new());
    let out = put()
        .arg(d.join("link.txt"))
        .arg(server.url("/l.txt"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        only_request(&server).body_sha256,
        sha256_hex(b"named through a link")
    );

    let server = FaultyServer::start(Vec::new());
    let out = cfsign_process()
        .args(["put", "/dev/stdin", &server.url("/s.txt")])
        .stdin(std::fs::File::open(d.join("real/data.txt")).unwrap())
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(stdout_of(&out).lines().count(), 1);

    for args in [
        vec![d.join("env")],
        vec!["/proc/self/environ".into()],
        vec!["-r".into(), "/proc/self/".into()],
    ] {
        let server = FaultyServer::start(Vec::new());
        let out = put().args(&args).arg(server.url("/p/")).output().unwrap();
        assert_refused(
            &out,
            2,
            &["is in /proc, /sys or /dev", "cfsign never reads them"],
        );
        assert!(server.requests().is_empty());
    }
}

/// A file name is text from outside: its control and bidi characters reach
/// neither the result line, nor the error line, nor (raw) the JSON.
#[test]
fn file_names_are_escaped_in_results_and_errors() {
    let dir = tempdir();
    let name = "e\x1b]0;owned\x07\u{202e}txt.exe\u{9b}";
    let file = write(dir.path(), name, b"x");
    let raw = |s: &str| s.contains(['\x1b', '\x07', '\u{202e}', '\u{9b}']);

    let server = FaultyServer::start(Vec::new());
    let out = put().arg(&file).arg(server.url("/p/")).output().unwrap();
    assert_ok(&out);
    let line = stdout_of(&out);
    assert!(!raw(&line), "{line:?}");
    assert!(
        line.contains("e\\x1b]0;owned\\x07\\u{202e}txt.exe\\u{9b} → "),
        "{line}"
    );

    let server = FaultyServer::start(Vec::new());
    let out = put()
        .arg(&file)
        .arg(server.url("/p/"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_ok(&out);
    let line = stdout_of(&out);
    assert!(!raw(&line), "{line:?}");
    assert!(
        line.contains("\\u001b]0;owned\\u0007\\u202etxt.exe\\u009b"),
        "{line}"
    );
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(value["source"], file.display().to_string());

    let server = FaultyServer::start(Vec::new());
    server.script([Fault::Status(
        403,
        Vec::new(),
        cloudfront_xml("AccessDenied"),
    )]);
    let out = put().arg(&file).arg(server.url("/p/")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_refused(
        &out,
        3,
        &["e\\x1b]0;owned\\x07\\u{202e}txt.exe\\u{9b}: 403"],
    );
    assert!(!raw(&stderr), "{stderr:?}");
}

/// A subfolder swapped for a link to /etc while an earlier upload is in
/// flight: the later upload is refused, and nothing of /etc is sent.
#[cfg(target_os = "linux")]
#[test]
fn a_folder_swapped_for_a_link_to_etc_mid_upload_is_not_read() {
    let dir = tempdir();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("z")).unwrap();
    std::fs::write(site.join("a.txt"), b"a").unwrap();
    std::fs::write(site.join("z/passwd"), b"mine").unwrap();
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::Hold(Duration::from_millis(1500))]);
    let child = cfsign_process()
        .arg("put")
        .arg("-r")
        .arg(&site)
        .arg(server.url("/site/"))
        .args(["--jobs", "1", "--retries", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    std::fs::rename(site.join("z"), dir.path().join("old-z")).unwrap();
    std::os::unix::fs::symlink("/etc", site.join("z")).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let etc = sha256_hex(&std::fs::read("/etc/passwd").unwrap());
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.body_sha256 != etc),
        "{requests:#?}"
    );
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("replaced"), "{stderr}");
}
