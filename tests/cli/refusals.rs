//! `get` and `put` against `cfsign serve` missing one setup step: exit 3
//! and one line naming who refused (CloudFront or the origin) and the step
//! that fixes it.

use crate::support::serve::*;
use crate::support::*;

/// A root holding `a.txt`, and a file to upload.
fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("root")).unwrap();
    std::fs::write(dir.path().join("root/a.txt"), "0123456789").unwrap();
    let file = dir.path().join("up.txt");
    std::fs::write(&file, "uploaded").unwrap();
    (dir, file)
}

fn signing() -> [String; 4] {
    [
        "--key-pair-id".into(),
        KEY_ID.into(),
        "--private-key".into(),
        key_arg("rsa2048-pkcs8.pem"),
    ]
}

fn get(server: &ServeProcess, dir: &tempfile::TempDir, extra: &[&str]) -> std::process::Output {
    cfsign()
        .current_dir(dir.path())
        .args(["get", &server.url("/a.txt"), "-o", "-"])
        .args(extra)
        .output()
        .unwrap()
}

fn put(server: &ServeProcess, file: &std::path::Path, signed: bool) -> std::process::Output {
    let mut cmd = cfsign();
    cmd.arg("put").arg(file).arg(server.url("/up.txt"));
    if signed {
        cmd.args(signing());
    }
    cmd.output().unwrap()
}

#[test]
fn put_through_a_behaviour_without_put_names_the_allowed_methods() {
    let (dir, file) = setup();
    let server = ServeProcess::signed(&dir.path().join("root"), &["--methods", "GET,HEAD"]);
    assert_refused(
        &put(&server, &file, true),
        3,
        &[
            "403 InvalidMethod: This distribution is not configured to allow the HTTP request method",
            "(refused by CloudFront: the cache behaviour does not allow PUT: allow GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE in its allowed methods)",
        ],
    );
}

#[test]
fn origin_refusals_name_the_bucket_policys_permission() {
    let (dir, file) = setup();
    let root = dir.path().join("root");
    let reads = ServeProcess::signed(&root, &["--origin-deny", "get"]);
    let signing = signing();
    let signing: Vec<&str> = signing.iter().map(String::as_str).collect();
    assert_refused(
        &get(&reads, &dir, &signing),
        3,
        &[
            "403 AccessDenied: Access Denied (refused by the origin (S3): the bucket policy does not grant the distribution's origin access control (or identity) s3:GetObject",
            "x-amz-acl: bucket-owner-full-control",
        ],
    );
    let writes = ServeProcess::signed(&root, &["--origin-deny", "put"]);
    assert_refused(
        &put(&writes, &file, true),
        3,
        &[
            "403 AccessDenied: Access Denied (refused by the origin (S3)",
            "s3:PutObject: grant it",
        ],
    );
    assert!(!root.join("up.txt").exists());
}

#[test]
fn a_key_outside_the_trusted_key_groups_is_named() {
    let (dir, file) = setup();
    let server = ServeProcess::signed(&dir.path().join("root"), &["--unknown-key", KEY_ID]);
    let signing = signing();
    let signing: Vec<&str> = signing.iter().map(String::as_str).collect();
    let needles = [
        "403 InvalidKey: Unknown Key (refused by CloudFront: it knows no public key `K2JCJMDEHXQW5F` in a key group the cache behaviour trusts: upload the public key to CloudFront and add it to a trusted key group)",
    ];
    assert_refused(&get(&server, &dir, &signing), 3, &needles);
    assert_refused(&put(&server, &file, true), 3, &needles);
}

#[test]
fn an_edge_clock_ahead_is_measured() {
    let (dir, _) = setup();
    let server = ServeProcess::signed(&dir.path().join("root"), &["--clock-skew", "5m"]);
    let out = cfsign()
        .args(["sign", &server.url("/a.txt"), "--expires-in", "60s"])
        .args(signing())
        .output()
        .unwrap();
    let url = stdout_of(&out).trim_end().to_string();
    let out = cfsign()
        .current_dir(dir.path())
        .args(["get", &url, "-o", "-"])
        .output()
        .unwrap();
    assert_refused(
        &out,
        3,
        &[
            "403 AccessDenied: Access denied (refused by CloudFront: its clock is ",
            " ahead of this machine's (",
            "and by its clock the signature expired at ",
            ": set this machine's clock right (NTP))",
        ],
    );
    // The Date has whole seconds: five minutes, or a second short of it.
    let line = String::from_utf8_lossy(&out.stderr);
    assert!(
        line.contains("its clock is 5m ahead") || line.contains("its clock is 4m59s ahead"),
        "{line}"
    );
}

#[test]
fn unsigned_requests_to_a_restricted_behaviour_are_missing_key() {
    let (dir, file) = setup();
    let server = ServeProcess::signed(&dir.path().join("root"), &[]);
    let needles = [
        "403 MissingKey: Missing Key-Pair-Id query parameter or cookie value (refused by CloudFront: the request was not signed, and the cache behaviour restricts viewer access: sign it with a key from a key group the behaviour trusts)",
    ];
    assert_refused(&get(&server, &dir, &[]), 3, &needles);
    assert_refused(&put(&server, &file, false), 3, &needles);
}

/// A URL signed here and requested later: `get` is given it already
/// signed, so it cannot sign it again, and says what to do.
fn get_presigned(sign_args: &[&str]) -> std::process::Output {
    let (dir, _) = setup();
    let server = ServeProcess::signed(&dir.path().join("root"), &[]);
    let out = cfsign()
        .args(["sign", &server.url("/a.txt")])
        .args(sign_args)
        .args(signing())
        .output()
        .unwrap();
    assert_ok(&out);
    let url = stdout_of(&out).trim_end().to_string();
    cfsign()
        .current_dir(dir.path())
        .args(["get", &url, "-o", "-"])
        .output()
        .unwrap()
}

#[test]
fn an_expired_url_is_named_with_its_expiry() {
    let out = get_presigned(&["--date-less-than", "2020-01-01", "--allow-past"]);
    assert_refused(
        &out,
        3,
        &[
            "403 AccessDenied: Access denied (refused by CloudFront: the signature expired at 2020-01-01T00:00:00Z (",
            " ago): sign a new URL)",
        ],
    );
}

#[test]
fn a_url_not_yet_valid_is_named_with_its_start() {
    let out = get_presigned(&[
        "--date-greater-than",
        "2099-01-01",
        "--date-less-than",
        "2100-01-01",
    ]);
    assert_refused(
        &out,
        3,
        &[
            "403 AccessDenied: Access denied (refused by CloudFront: the signature is not valid before 2099-01-01T00:00:00Z (in ",
            "): wait until then, or sign it with an earlier start (--date-greater-than))",
        ],
    );
}
