//! `cfsign serve` missing one setup step (`--methods`, `--origin-deny`,
//! `--unknown-key`, `--clock-skew`): each refusal's status, headers, body
//! and log line, over loopback, through both the fast GET/HEAD path and
//! hyper's.

use crate::support::answers::{cloudfront_refusal, recorded, s3_xml};
use crate::support::serve::*;
use crate::support::*;

/// A root holding `a.txt`.
fn root() -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::write(dir.path().join("a.txt"), "0123456789").unwrap();
    dir
}

/// The path and query of `url` signed by `cfsign sign` with the fixture
/// key `key_id` (RSA for `KEY_ID`, P-256 for `EC_KEY_ID`).
fn signed_path(server: &ServeProcess, key_id: &str, path: &str, args: &[&str]) -> String {
    let key_file = if key_id == EC_KEY_ID {
        "ec-p256-pkcs8.pem"
    } else {
        "rsa2048-pkcs8.pem"
    };
    sign_with(key_id, key_file, &server.url(path), args)[server.base.len()..].to_string()
}

/// Headers every answer from CloudFront carries on an error.
#[track_caller]
fn assert_through_cloudfront(r: &Response) {
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    let via = r.header("via").unwrap_or_default();
    assert!(
        via.starts_with("1.1 ") && via.ends_with(".cloudfront.net (CloudFront)"),
        "{via}"
    );
    assert!(r.header("x-amz-cf-id").is_some_and(|id| id.len() == 56));
}

/// CloudFront's page for a refused method, as recorded, its request ID
/// (the page's and `X-Amz-Cf-Id`) this answer's own.
#[track_caller]
fn assert_method_refused(r: &Response) {
    let recorded = recorded("cloudfront-invalid-method.http");
    assert_eq!(r.status, recorded.status, "{}", r.text());
    for name in ["content-type", "server"] {
        assert_eq!(r.header(name), recorded.header(name), "{name}");
    }
    assert_through_cloudfront(r);
    let cf_id = r.header("x-amz-cf-id").unwrap();
    let recorded_id = recorded.header("x-amz-cf-id").unwrap();
    assert_eq!(r.text(), recorded.text().replace(recorded_id, cf_id));
}

#[track_caller]
fn assert_origin_denied(r: &Response, head: bool) {
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert_eq!(r.header("server"), Some("AmazonS3"));
    assert_through_cloudfront(r);
    let request_id = r.header("x-amz-request-id").unwrap();
    assert_eq!(request_id.len(), 16);
    let host_id = r.header("x-amz-id-2").unwrap();
    if head {
        assert!(r.body.is_empty());
    } else {
        assert_eq!(
            r.text(),
            s3_xml(
                "AccessDenied",
                "Access Denied",
                &[("RequestId", request_id), ("HostId", host_id)]
            )
        );
    }
}

#[test]
fn serve_methods_refuses_others_with_cloudfronts_page() {
    let root = root();
    let server = ServeProcess::start(root.path(), &["--no-auth", "--methods", "GET,HEAD"]);
    assert_method_refused(&server.put("/b.txt", b"b", &[]));
    assert!(!root.path().join("b.txt").exists());
    assert_method_refused(&server.request("DELETE", "/a.txt", &[], b""));
    assert_eq!(server.get("/a.txt").status, 200);
    assert_eq!(server.head("/a.txt").status, 200);
    let log = server.wait_for_log(4);
    assert!(
        log[0].starts_with("PUT /b.txt 403 InvalidMethod: ") && log[0].contains("allows GET, HEAD"),
        "{log:?}"
    );

    // The fast GET/HEAD path refuses too; a HEAD gets the headers alone.
    let uploads_only = ServeProcess::start(root.path(), &["--no-auth", "--methods", "put"]);
    assert_method_refused(&uploads_only.get("/a.txt"));
    let head = uploads_only.head("/a.txt");
    assert_eq!(
        (head.status, head.header("server")),
        (403, Some("CloudFront"))
    );
    assert!(head.body.is_empty());
    assert_eq!(uploads_only.put("/b.txt", b"b", &[]).status, 200);
}

#[test]
fn serve_origin_deny_answers_s3s_access_denied_after_the_edge() {
    let root = root();
    let reads = ServeProcess::signed(root.path(), &["--origin-deny", "get"]);
    let path = signed_path(&reads, KEY_ID, "/a.txt", &[]);
    assert_origin_denied(&reads.get(&path), false);
    assert_origin_denied(&reads.head(&path), true);
    // The edge's refusal comes first: unsigned is still MissingKey.
    let unsigned = reads.get("/a.txt");
    assert_eq!(unsigned.xml_code().as_deref(), Some("MissingKey"));
    assert_eq!(unsigned.header("server"), None);
    // Uploads still pass.
    let put_path = signed_path(&reads, KEY_ID, "/up.txt", &[]);
    assert_eq!(reads.put(&put_path, b"up", &[]).status, 200);
    let log = reads.wait_for_log(4);
    assert!(
        log[0].starts_with("GET /a.txt 403 AccessDenied: ") && log[0].contains("s3:GetObject"),
        "{log:?}"
    );

    let writes = ServeProcess::start(root.path(), &["--no-auth", "--origin-deny=put"]);
    assert_origin_denied(&writes.put("/b.txt", b"b", &[]), false);
    assert!(!root.path().join("b.txt").exists());
    assert_eq!(writes.get("/up.txt").text(), "up");
    assert!(writes.wait_for_log(1)[0].contains("s3:PutObject"));

    let both = ServeProcess::start(root.path(), &["--no-auth", "--origin-deny", "get,put"]);
    assert_origin_denied(&both.get("/a.txt"), false);
    assert_origin_denied(&both.put("/b.txt", b"b", &[]), false);
}

#[test]
fn serve_unknown_key_is_refused_as_not_in_a_trusted_key_group() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--unknown-key", KEY_ID]);
    let r = server.get(&signed_path(&server, KEY_ID, "/a.txt", &[]));
    let recorded = cloudfront_refusal("InvalidKey");
    assert_eq!(r.status, recorded.status);
    assert_eq!(r.header("content-type"), recorded.header("content-type"));
    assert_eq!(r.text(), recorded.text());
    // The other key still passes.
    assert_eq!(
        server
            .get(&signed_path(&server, EC_KEY_ID, "/a.txt", &[]))
            .status,
        200
    );
    let log = server.wait_for_log(2);
    assert!(
        log[0].starts_with("GET /a.txt 403 InvalidKey (key-pair-id): "),
        "{log:?}"
    );

    // With the only key unknown, every signature is refused, none unchecked.
    let rsa = format!("{KEY_ID}={}", key("rsa2048-public.pem").display());
    let alone = ServeProcess::start(
        root.path(),
        &["--public-key", &rsa, "--unknown-key", KEY_ID],
    );
    let r = alone.get(&signed_path(&alone, KEY_ID, "/a.txt", &[]));
    assert_eq!(r.xml_code().as_deref(), Some("InvalidKey"));
    let log = alone.wait_for_log(1);
    assert!(log[0].ends_with("is not trusted: no key is"), "{log:?}");
}

#[test]
fn serve_clock_skew_moves_the_expiry_decision_and_the_date() {
    let root = root();
    let on_time = ServeProcess::signed(root.path(), &[]);
    let ahead = ServeProcess::signed(root.path(), &["--clock-skew", "2m"]);
    let behind = ServeProcess::signed(root.path(), &["--clock-skew", "-2m"]);
    let none = ServeProcess::signed(root.path(), &["--clock-skew", "0s"]);
    // Each URL names its server's port: signed for each, expiring in 60s.
    let in_a_minute = |s: &ServeProcess| signed_path(s, KEY_ID, "/a.txt", &["--expires-in", "60s"]);
    assert_eq!(on_time.get(&in_a_minute(&on_time)).status, 200);
    assert_eq!(behind.get(&in_a_minute(&behind)).status, 200);
    assert_eq!(none.get(&in_a_minute(&none)).status, 200);
    let refused = ahead.get(&in_a_minute(&ahead));
    assert_eq!(refused.xml_code().as_deref(), Some("AccessDenied"));
    let log = ahead.wait_for_log(1);
    assert!(
        log[0].starts_with("GET /a.txt 403 AccessDenied (expired): "),
        "{log:?}"
    );

    let now = std::time::SystemTime::now();
    let date = |r: &Response| httpdate::parse_http_date(r.header("date").unwrap()).unwrap();
    let skew = |r: &Response| match date(r).duration_since(now) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    assert!((110..=130).contains(&skew(&refused)), "{}", skew(&refused));
    assert!((-130..=-110).contains(&skew(&behind.head("/a.txt"))));
    assert!(skew(&on_time.head("/a.txt")).abs() < 10);
    assert!(skew(&none.head("/a.txt")).abs() < 10);
}

#[test]
fn serve_without_rehearsal_options_answers_as_before() {
    let root = root();
    let server = ServeProcess::start(root.path(), &["--no-auth"]);
    for r in [server.put("/b.txt", b"b", &[]), server.get("/a.txt")] {
        assert_eq!(r.status, 200);
        assert_eq!(
            (r.header("server"), r.header("x-cache"), r.header("via")),
            (None, None, None)
        );
    }
    let other = server.request("DELETE", "/a.txt", &[], b"");
    assert_eq!(
        (other.status, other.xml_code().as_deref()),
        (405, Some("MethodNotAllowed"))
    );
}

#[test]
fn serve_rehearsal_options_refuse_bad_values() {
    let root = root();
    for args in [
        &["--methods", "GET,FETCH"][..],
        &["--methods", ""],
        &["--origin-deny", "delete"],
        &["--clock-skew", "soon"],
        &["--clock-skew", "-"],
        &["--clock-skew", "0x"],
        &["--unknown-key", "K2 X"],
    ] {
        let out = cfsign()
            .args(["serve", "--no-auth", "--listen", "127.0.0.1:0", "--root"])
            .arg(root.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
