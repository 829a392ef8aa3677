//! `put`'s integrity check: `x-amz-checksum-sha256` sent, checked by the
//! server and echoed (no MD5 then), the MD5 ETag when the answer has no
//! echo, and `serve`'s side of the same header.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::support::faulty::{Fault, FaultyServer};
use crate::support::serve::{ServeProcess, md5_hex, sha256_hex};
use crate::support::transfer::object;
use crate::support::*;

/// `x-amz-checksum-sha256`'s value for `bytes`: standard base64.
fn checksum(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn data_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let bytes = object((1 << 20) + 7);
    let path = dir.join("data.bin");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// `cfsign put FILE URL --format json`, its one result line parsed.
fn put_json(file: &Path, url: &str, extra: &[&str]) -> serde_json::Value {
    let out = cfsign()
        .arg("put")
        .arg(file)
        .arg(url)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert_ok(&out);
    serde_json::from_str(stdout_of(&out).trim()).unwrap()
}

/// `cfsign put FILE URL/data.bin` with no other option.
fn put_plain(file: &Path, server: &FaultyServer) -> std::process::Output {
    cfsign()
        .arg("put")
        .arg(file)
        .arg(server.url("/data.bin"))
        .output()
        .unwrap()
}

#[test]
fn against_serve_the_echoed_checksum_verifies_without_an_md5() {
    let root = tempdir();
    let server = ServeProcess::open(root.path());
    let dir = tempdir();
    let (file, bytes) = data_file(dir.path());
    let line = put_json(&file, &server.url("/d/data.bin"), &[]);
    assert_eq!(line["checksum_sha256"], checksum(&bytes));
    // Kept in the JSON, and null: no MD5 was computed.
    assert_eq!(line["md5"], serde_json::Value::Null);
    assert_eq!(line["etag_checked"], false);
    assert_eq!(line["etag"], format!("\"{}\"", md5_hex(&bytes)));
    assert_eq!(
        std::fs::read(root.path().join("d/data.bin")).unwrap(),
        bytes
    );
}

#[test]
fn the_checksum_is_sent_and_an_echo_of_it_is_enough() {
    let dir = tempdir();
    let (file, bytes) = data_file(dir.path());
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::EchoChecksum(None)]);
    let line = put_json(&file, &server.url("/data.bin"), &[]);
    let sent = server.requests().remove(0);
    assert_eq!(
        sent.header("x-amz-checksum-sha256"),
        Some(checksum(&bytes).as_str())
    );
    assert_eq!(
        sent.header("x-amz-content-sha256"),
        Some(sha256_hex(&bytes).as_str())
    );
    assert_eq!(line["checksum_sha256"], checksum(&bytes));
    assert_eq!(line["md5"], serde_json::Value::Null);
}

#[test]
fn without_an_echo_the_md5_etag_is_checked() {
    let dir = tempdir();
    let (file, bytes) = data_file(dir.path());
    // The faulty server answers without an echo, as older S3-compatible
    // servers do: the MD5 is computed and the ETag checked.
    let server = FaultyServer::start(Vec::new());
    let line = put_json(&file, &server.url("/data.bin"), &[]);
    assert_eq!(line["checksum_sha256"], serde_json::Value::Null);
    assert_eq!(line["md5"], md5_hex(&bytes));
    assert_eq!(line["etag_checked"], true);
    assert_eq!(server.object(), bytes);

    // And a wrong ETag there is an integrity failure.
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::WrongEtag(
        "\"0123456789abcdef0123456789abcdef\"".into(),
    )]);
    let out = put_plain(&file, &server);
    assert_refused(&out, 5, &["ETag", "is not the MD5 of the file"]);
}

#[test]
fn an_echo_of_another_checksum_exits_5_unretried() {
    let dir = tempdir();
    let (file, _) = data_file(dir.path());
    let server = FaultyServer::start(Vec::new());
    let wrong = checksum(b"something else");
    server.script([Fault::EchoChecksum(Some(wrong.clone()))]);
    let out = put_plain(&file, &server);
    assert_refused(
        &out,
        5,
        &[
            "x-amz-checksum-sha256",
            &wrong,
            "is not the SHA-256 of the file",
        ],
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn s3s_bad_digest_is_a_file_that_changed() {
    let dir = tempdir();
    let (file, _) = data_file(dir.path());
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::Status(
        400,
        vec![],
        "<Error><Code>BadDigest</Code><Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>".into(),
    )]);
    let out = put_plain(&file, &server);
    assert_refused(&out, 5, &["file changed while uploading", "400 BadDigest"]);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_callers_own_checksum_header_replaces_ours() {
    let dir = tempdir();
    let (file, bytes) = data_file(dir.path());
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::EchoChecksum(None)]);
    let line = put_json(
        &file,
        &server.url("/data.bin"),
        &["--header", "x-amz-checksum-crc32: AAAAAA=="],
    );
    let sent = server.requests().remove(0);
    assert_eq!(sent.header("x-amz-checksum-sha256"), None);
    assert_eq!(sent.header("x-amz-checksum-crc32"), Some("AAAAAA=="));
    // Not ours, so not our check: the ETag is.
    assert_eq!(line["checksum_sha256"], serde_json::Value::Null);
    assert_eq!(line["md5"], md5_hex(&bytes));
    assert_eq!(line["etag_checked"], true);
}

/// Uploads that share options learn whether the server echoes, so that the
/// next ones compute the MD5 beside the upload when it does not.
#[test]
fn shared_options_learn_whether_the_server_echoes() {
    use cfsign::transfer::put::{PutOptions, Upload, put};
    use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};

    let dir = tempdir();
    let (path, bytes) = data_file(dir.path());
    let client = ClientOptions::default().build().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (faults, echoes) in [(vec![], false), (vec![Fault::EchoChecksum(None)], true)] {
        let server = FaultyServer::start(Vec::new());
        server.script(faults);
        let options = PutOptions::default();
        let shared = options.clone();
        for name in ["a.bin", "b.bin"] {
            let upload = Upload {
                name: name.into(),
                path: path.clone(),
                url: server.url(&format!("/{name}")),
                file_id: None,
            };
            let done = runtime
                .block_on(put(
                    &client,
                    &UrlSigner::none(),
                    &upload,
                    &options,
                    &(std::sync::Arc::new(NoProgress) as _),
                ))
                .unwrap();
            if echoes && name == "a.bin" {
                assert_eq!(done.checksum_sha256, Some(checksum(&bytes)));
            } else {
                // b.bin to the echoing server: its script is spent, so no
                // echo, and the MD5 is checked (computed in a third pass).
                assert_eq!(done.md5, Some(md5_hex(&bytes)), "{name}");
                assert!(done.etag_checked, "{name}");
            }
            if name == "a.bin" {
                assert_eq!(shared.checksum_echo.learnt(), Some(echoes));
            }
        }
        assert_eq!(shared.checksum_echo.learnt(), Some(false));
    }
}

// `serve`'s side: it checks the header when sent and echoes it, as S3 does.

#[test]
fn serve_checks_and_echoes_x_amz_checksum_sha256() {
    let root = tempdir();
    let server = ServeProcess::open(root.path());
    let body = b"checked twice";
    let ours = checksum(body);

    let r = server.put("/ok.txt", body, &[("x-amz-checksum-sha256", &ours)]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-amz-checksum-sha256"), Some(ours.as_str()));
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", md5_hex(body)).as_str())
    );

    // Without the header, no echo.
    let r = server.put("/plain.txt", body, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-amz-checksum-sha256"), None);

    // Another body's checksum: S3's BadDigest, nothing stored.
    let wrong = checksum(b"something else");
    let r = server.put("/bad.txt", body, &[("x-amz-checksum-sha256", &wrong)]);
    assert_eq!(r.status, 400);
    assert_eq!(r.xml_code().as_deref(), Some("BadDigest"));
    assert!(
        r.text()
            .contains("The SHA256 you specified did not match the calculated checksum."),
        "{}",
        r.text()
    );
    assert!(!root.path().join("bad.txt").exists());

    // Not the base64 of 32 bytes: S3's InvalidRequest.
    for value in [sha256_hex(body), ours.trim_end_matches('=').to_string()] {
        let r = server.put("/bad.txt", body, &[("x-amz-checksum-sha256", &value)]);
        assert_eq!(r.status, 400, "{value}");
        assert_eq!(r.xml_code().as_deref(), Some("InvalidRequest"), "{value}");
        assert!(
            r.text()
                .contains("Value for x-amz-checksum-sha256 header is invalid."),
            "{}",
            r.text()
        );
    }
    assert!(!root.path().join("bad.txt").exists());
}

#[test]
fn two_echoes_verify_nothing_unless_both_are_ours() {
    let dir = tempdir();
    let (file, bytes) = data_file(dir.path());
    let server = FaultyServer::start(Vec::new());
    let other = checksum(b"something else");
    let echo = |value: String| ("x-amz-checksum-sha256".to_string(), value);
    server.script([Fault::Status(
        200,
        vec![echo(checksum(&bytes)), echo(other.clone())],
        String::new(),
    )]);
    let out = put_plain(&file, &server);
    assert_refused(&out, 5, &[&other, "is not the SHA-256 of the file"]);
}

#[test]
fn a_put_that_a_303_turned_into_a_get_is_not_uploaded() {
    let dir = tempdir();
    let (file, _) = data_file(dir.path());
    let server = FaultyServer::start(Vec::new());
    // A login page, say: the client follows a 303 with a GET, whose 200
    // (no ETag, no echo) must not pass for the PUT's.
    server.script([
        Fault::Status(
            303,
            vec![("Location".into(), "/login".into())],
            String::new(),
        ),
        Fault::Status(200, vec![], "<html>log in</html>".into()),
    ]);
    let out = put_plain(&file, &server);
    assert_refused(&out, 3, &["303", "/login", "nothing was uploaded"]);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn an_answer_that_confirms_nothing_is_stored_with_a_warning() {
    let dir = tempdir();
    let (file, _) = data_file(dir.path());
    // A 200 with neither the checksum's echo nor an ETag: not S3.
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::Status(200, vec![], String::new())]);
    let out = put_plain(&file, &server);
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("stored, but not verified: the answer carried neither S3's x-amz-checksum-sha256 echo nor an MD5 ETag"),
        "{stderr}"
    );
    // The usual answer: no warning.
    let server = FaultyServer::start(Vec::new());
    server.script([Fault::EchoChecksum(None)]);
    let out = put_plain(&file, &server);
    assert_ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
