//! `sign --check`: the signed URLs printed as without it, then a signed
//! HEAD of each against `cfsign serve` (correct, or missing one setup
//! step), and one stderr line per refused URL with who refused and the fix.

use crate::support::serve::*;
use crate::support::*;

/// A root holding `a.txt` and `b.txt`.
fn root() -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::write(dir.path().join("a.txt"), "0123456789").unwrap();
    std::fs::write(dir.path().join("b.txt"), "b").unwrap();
    dir
}

/// An hour from now, to the second: read once per test, so that two runs
/// print the same URLs even when a second boundary falls between them.
fn expiry() -> &'static str {
    static EXPIRY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    EXPIRY.get_or_init(|| (unix_now() + 3600).to_string())
}

/// `cfsign sign` with the RSA fixture key as `KEY_ID`, a fixed expiry (so
/// that two runs print the same URLs) and `extra`.
fn sign(urls: &[String], extra: &[&str]) -> std::process::Output {
    cfsign()
        .arg("sign")
        .args(urls)
        .args(["--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8.pem"))
        .args(["--date-less-than", expiry()])
        .args(extra)
        .output()
        .unwrap()
}

/// Signs `urls` with and without `--check`: stdout must be the same.
#[track_caller]
fn checked(urls: &[String], extra: &[&str]) -> std::process::Output {
    let plain = sign(urls, extra);
    let out = sign(urls, &[extra, &["--check"]].concat());
    assert_ok(&plain);
    assert_eq!(stdout_of(&out), stdout_of(&plain), "stdout unchanged");
    assert_eq!(stdout_of(&out).lines().count(), urls.len());
    out
}

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn sign_check_passes_urls_a_correct_edge_accepts() {
    let root = root();
    // HEAD is allowed whatever else the behaviour lacks.
    let server = ServeProcess::signed(root.path(), &["--methods", "GET,HEAD"]);
    let out = checked(&[server.url("/a.txt"), server.url("/b.txt")], &[]);
    assert_ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.wait_for_log(2).len(), 2);
    assert!(
        server.log().iter().all(|l| l.starts_with("HEAD /")),
        "{:?}",
        server.log()
    );
}

#[test]
fn sign_check_counts_a_missing_object_as_accepted_with_a_warning() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &[]);
    let out = checked(&[server.url("/a.txt"), server.url("/gone.txt")], &[]);
    assert_one_warning(
        &out,
        &[
            "URL 2 of 2 (http://127.0.0.1:",
            "/gone.txt?Expires=",
            "CloudFront accepted the signature, but the origin has no object there (404)",
        ],
    );
}

#[test]
fn sign_check_names_an_unknown_key_for_each_url_in_order() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--unknown-key", KEY_ID]);
    let out = checked(&[server.url("/a.txt"), server.url("/b.txt")], &[]);
    assert_eq!(out.status.code(), Some(3));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (i, line) in lines.iter().enumerate() {
        let name = ["a", "b"][i];
        assert!(
            line.starts_with(&format!("cfsign: URL {} of 2 (http://127.0.0.1:", i + 1))
                && line.contains(&format!("/{name}.txt?Expires=")),
            "{line}"
        );
        // The signature is elided, as in every message.
        assert!(
            line.contains("&Signature=…&Key-Pair-Id=K2JCJMDEHXQW5F"),
            "{line}"
        );
        assert!(
            line.ends_with("): 403 InvalidKey: Unknown Key (refused by CloudFront: it knows no public key `K2JCJMDEHXQW5F` in a key group the cache behaviour trusts: upload the public key to CloudFront and add it to a trusted key group)"),
            "{line}"
        );
    }
}

#[test]
fn sign_check_names_another_key_under_the_same_id() {
    let root = root();
    // The edge holds the P-256 key as KEY_ID; cfsign signs with the RSA one.
    let other = format!("{KEY_ID}={}", key("ec-p256-public.pem").display());
    let server = ServeProcess::start(root.path(), &["--public-key", &other]);
    let out = checked(&[server.url("/a.txt")], &[]);
    assert_refused_after_stdout(
        &out,
        &[
            "cfsign: URL 1 of 1 (",
            "403 AccessDenied: Access denied (refused by CloudFront: the signature checks with the public half of the key it was made with, so the public key CloudFront holds as `K2JCJMDEHXQW5F` is another one, or is not in a key group the cache behaviour trusts",
        ],
    );
}

#[test]
fn sign_check_measures_an_edge_clock_that_expired_the_url() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--clock-skew", "2h"]);
    let urls = [server.url("/a.txt")];
    let plain = cfsign()
        .arg("sign")
        .args(&urls)
        .args(["--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8.pem"))
        .args(["--expires-in", "1h", "--check"])
        .output()
        .unwrap();
    assert_refused_after_stdout(
        &plain,
        &[
            "403 AccessDenied: Access denied (refused by CloudFront: its clock is ",
            " ahead of this machine's (",
            "set this machine's clock right (NTP))",
        ],
    );
}

#[test]
fn sign_check_names_the_origin_refusing_reads() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--origin-deny", "get"]);
    let out = checked(&[server.url("/a.txt")], &[]);
    assert_refused_after_stdout(
        &out,
        &[
            "403 AccessDenied: Access Denied (refused by the origin (S3): the bucket policy does not grant the distribution's origin access control (or identity) s3:GetObject",
        ],
    );
}

#[test]
fn sign_check_stops_at_a_network_failure_with_exit_4() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = checked(&[format!("http://{closed}/a.txt")], &[]);
    assert_refused_after_stdout(&out, &["URL 1 of 1 (", "cannot connect to 127.0.0.1:"]);
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn sign_check_follows_no_redirect_to_another_host() {
    use crate::support::faulty::{Fault, FaultyServer};
    // The "distribution" sends every request elsewhere, where a stranger
    // answers 200 to anything.
    let stranger = FaultyServer::start(b"x".to_vec());
    let edge = FaultyServer::start(Vec::new());
    let location = ("Location".to_string(), stranger.url("/elsewhere"));
    edge.script(vec![Fault::Status(302, vec![location], String::new()); 5]);
    let out = checked(&[edge.url("/a.txt")], &[]);
    // The stranger's 200 is not CloudFront accepting the URL...
    assert_ne!(out.status.code(), Some(0));
    assert_refused_after_stdout(&out, &["URL 1 of 1 (", "302"]);
    // ...and the signed URL never reached it (a Referer would carry it).
    assert!(stranger.requests().is_empty(), "{:?}", stranger.requests());
}

#[test]
fn sign_check_is_for_signed_urls_only() {
    for format in ["cookies", "header", "json"] {
        let out = sign(
            &["https://d111111abcdef8.cloudfront.net/a.txt".to_string()],
            &["--check", "--format", format],
        );
        assert_refused(&out, 2, &["--check", "--format url"]);
    }
    let out = sign(
        &["https://d111111abcdef8.cloudfront.net/a.txt".to_string()],
        &["--cacert", "ca.pem"],
    );
    assert_refused(&out, 2, &["--check"]);
}

/// The URLs on stdout, then exactly one stderr line holding every needle;
/// exit 3 unless the caller checks another code.
#[track_caller]
fn assert_refused_after_stdout(out: &std::process::Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(1 | 3 | 4)), "{stderr}");
    assert!(!out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    }
}
