//! `cfsign doctor` against `cfsign serve` set up right, and missing one
//! setup step at a time: each misconfiguration fails exactly its check,
//! with the fix in the line, and the checks after it that depend on it are
//! skipped.

use crate::support::serve::*;
use crate::support::*;

/// The checks, in order, as the text lines name them.
const NAMES: [&str; 7] = [
    "viewer access restricted",
    "clock",
    "key trusted",
    "signed reads",
    "PUT allowed",
    "signed writes",
    "read back",
];

/// A root holding `docs/a.txt`.
fn root() -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/a.txt"), "0123456789").unwrap();
    dir
}

/// `cfsign doctor PREFIX` with the RSA fixture key as `KEY_ID`.
fn doctor(prefix: &str, extra: &[&str]) -> std::process::Output {
    cfsign()
        .args(["doctor", prefix, "--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8.pem"))
        .args(["--retries", "0"])
        .args(extra)
        .output()
        .unwrap()
}

/// `doctor` of the whole edge with `--object docs/a.txt --write
/// probes/doctor.txt`.
fn doctor_all(server: &ServeProcess) -> std::process::Output {
    doctor(
        &server.url("/"),
        &["--object", "docs/a.txt", "--write", "probes/doctor.txt"],
    )
}

/// Each line's mark (`✓`, `✗`, `-`), in order, checking the names.
#[track_caller]
fn marks(out: &std::process::Output) -> String {
    let stdout = stdout_of(out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{stdout}");
    let mut marks = String::new();
    for (line, name) in lines.iter().zip(NAMES) {
        let (mark, rest) = line.split_once(' ').unwrap();
        assert!(rest.starts_with(&format!("{name}: ")), "{line}");
        marks.push_str(mark);
    }
    marks
}

/// The line of check `i` (0-based).
fn line(out: &std::process::Output, i: usize) -> String {
    stdout_of(out).lines().nth(i).unwrap().to_string()
}

/// Exit 3, nothing on stderr, these marks, and the failing line holding
/// every needle.
#[track_caller]
fn assert_fails(out: &std::process::Output, expected: &str, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(out));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(marks(out), expected, "{}", stdout_of(out));
    let failed = expected.chars().position(|c| c == '✗').unwrap();
    let text = line(out, failed);
    for needle in needles {
        assert!(text.contains(needle), "lacks {needle:?}: {text}");
    }
}

#[test]
fn doctor_passes_every_check_of_a_correct_edge() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &[]);
    let out = doctor_all(&server);
    assert_ok(&out);
    assert_eq!(marks(&out), "✓✓✓✓✓✓✓", "{}", stdout_of(&out));
    assert!(out.stderr.is_empty());
    assert_eq!(
        line(&out, 0),
        "✓ viewer access restricted: an unsigned GET is refused with CloudFront's 403 MissingKey"
    );
    // The probe is left under the name given, different on each run.
    let probe = std::fs::read_to_string(root.path().join("probes/doctor.txt")).unwrap();
    assert!(probe.starts_with("cfsign doctor probe, "), "{probe}");
    assert_ok(&doctor_all(&server));
    let again = std::fs::read_to_string(root.path().join("probes/doctor.txt")).unwrap();
    assert_ne!(probe, again);
    // Sent with no-store, so that CloudFront never serves an older one.
    let put = server
        .wait_for_log(14)
        .into_iter()
        .find(|l| l.starts_with("PUT "))
        .unwrap();
    assert!(put.starts_with("PUT /probes/doctor.txt 200"), "{put}");
}

#[test]
fn doctor_without_object_or_write_skips_those_checks() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &[]);
    let out = doctor(&server.url("/docs/"), &[]);
    assert_ok(&out);
    assert_eq!(marks(&out), "✓✓✓----");
    assert_eq!(line(&out, 3), "- signed reads: skipped (no --object given)");
    assert_eq!(line(&out, 4), "- PUT allowed: skipped (no --write given)");
    // Nothing was written.
    assert_eq!(walk(root.path()), ["docs", "docs/a.txt"]);
}

#[test]
fn doctor_finds_open_viewer_access() {
    let root = root();
    let server = ServeProcess::open(root.path());
    assert_fails(
        &doctor_all(&server),
        "✗✓-✓✓✓✓",
        &[
            "✗ viewer access restricted: an unsigned GET got 200, not CloudFront's 403 MissingKey: ",
            "restrict viewer access in the cache behaviour (Trusted key groups)",
        ],
    );
    // Reads and writes are still checked; the key is not, since nothing did.
    assert_eq!(
        line(&doctor_all(&server), 2),
        "- key trusted: skipped (viewer access is not restricted, so CloudFront checks no key)"
    );
}

#[test]
fn doctor_finds_a_skewed_clock_and_signs_the_rest_by_cloudfronts() {
    let root = root();
    for (skew, words) in [("10m", "10m ahead of"), ("-10m", "behind")] {
        let server = ServeProcess::signed(root.path(), &["--clock-skew", skew]);
        assert_fails(
            &doctor_all(&server),
            "✓✗✓✓✓✓✓",
            &[
                "✗ clock: CloudFront's clock (",
                words,
                "this machine's; the later checks are signed by CloudFront's: set this machine's clock right (NTP)",
            ],
        );
    }
}

#[test]
fn doctor_finds_a_key_outside_the_trusted_key_groups() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--unknown-key", KEY_ID]);
    let out = doctor_all(&server);
    assert_fails(
        &out,
        "✓✓✗----",
        &[
            "✗ key trusted: a signed HEAD got 403 InvalidKey from CloudFront (Unknown Key): ",
            "it knows no public key `K2JCJMDEHXQW5F` in a key group the cache behaviour trusts: upload the public key to CloudFront and add it to a trusted key group",
        ],
    );
    assert_eq!(
        line(&out, 3),
        "- signed reads: skipped (key trusted failed)"
    );
    assert!(!root.path().join("probes").exists());
}

#[test]
fn doctor_finds_another_key_under_the_same_id() {
    let root = root();
    let other = format!("{KEY_ID}={}", key("ec-p256-public.pem").display());
    let server = ServeProcess::start(root.path(), &["--public-key", &other]);
    assert_fails(
        &doctor_all(&server),
        "✓✓✗----",
        &[
            "✗ key trusted: a signed HEAD got 403 AccessDenied from CloudFront (Access denied): ",
            "the public key CloudFront holds as `K2JCJMDEHXQW5F` is another one, or is not in a key group the cache behaviour trusts: upload this key's public half and add it to a trusted key group",
        ],
    );
}

#[test]
fn doctor_finds_an_origin_that_refuses_reads() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--origin-deny", "get"]);
    let out = doctor_all(&server);
    // Reading the probe back would be refused the same way: skipped.
    assert_fails(
        &out,
        "✓✓✓✗✓✓-",
        &[
            "✗ signed reads: a signed HEAD of the object got 403 AccessDenied from the origin (Access Denied): ",
            "the bucket policy does not grant the distribution's origin access control (or identity) s3:GetObject",
        ],
    );
    assert_eq!(
        line(&out, 2),
        "✓ key trusted: CloudFront accepted a signed HEAD (answer: 403 AccessDenied from the origin)"
    );
    assert_eq!(line(&out, 6), "- read back: skipped (signed reads failed)");
}

#[test]
fn doctor_finds_an_origin_that_refuses_uploads() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--origin-deny", "put"]);
    assert_fails(
        &doctor_all(&server),
        "✓✓✓✓✓✗-",
        &[
            "✗ signed writes: a signed PUT got 403 AccessDenied from the origin (Access Denied): ",
            "s3:PutObject: grant it",
        ],
    );
}

#[test]
fn doctor_finds_a_behaviour_without_put() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--methods", "GET,HEAD"]);
    let out = doctor_all(&server);
    assert_fails(
        &out,
        "✓✓✓✓✗--",
        &[
            "✗ PUT allowed: a signed PUT got 403 InvalidMethod from CloudFront (",
            "the cache behaviour does not allow PUT: allow GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE in its allowed methods",
        ],
    );
    assert_eq!(
        line(&out, 5),
        "- signed writes: skipped (PUT allowed failed)"
    );
}

#[test]
fn doctor_reads_an_empty_object() {
    let root = root();
    std::fs::write(root.path().join("docs/empty.txt"), "").unwrap();
    let server = ServeProcess::signed(root.path(), &[]);
    let out = doctor(&server.url("/docs/"), &["--object", "empty.txt"]);
    assert_ok(&out);
    assert_eq!(marks(&out), "✓✓✓✓---");
    assert!(line(&out, 3).contains("(it is empty: 416 for its first bytes)"));
}

#[test]
fn doctor_finds_a_missing_object() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &[]);
    let out = doctor(&server.url("/"), &["--object", "docs/gone.txt"]);
    assert_fails(
        &out,
        "✓✓✓✗---",
        &[
            "✗ signed reads: a signed HEAD of the object got 404 ",
            "no object at that URL",
        ],
    );
}

#[test]
fn doctor_json_gives_one_object_per_check() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &["--methods", "GET,HEAD"]);
    let out = doctor(
        &server.url("/"),
        &[
            "--object",
            "docs/a.txt",
            "--write",
            "p.txt",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let steps: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "viewer-access",
            "clock",
            "key-trusted",
            "signed-reads",
            "put-allowed",
            "signed-writes",
            "read-back"
        ]
    );
    let results: Vec<&str> = steps
        .iter()
        .map(|s| s["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["pass", "pass", "pass", "pass", "fail", "skip", "skip"]
    );
    assert!(
        steps[4]["fix"]
            .as_str()
            .unwrap()
            .contains("allowed methods")
    );
    assert!(steps[0]["fix"].is_null());
    assert_eq!(steps[5]["detail"], "PUT allowed failed");
    for step in &steps {
        assert_eq!(step.as_object().unwrap().len(), 4, "{step}");
    }
}

#[test]
fn doctor_stops_at_a_network_failure_with_exit_4() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = doctor(&format!("http://{closed}/"), &[]);
    assert_refused(&out, 4, &["cannot connect to 127.0.0.1:"]);
}

#[test]
fn doctor_writes_under_a_prefix_with_a_query_string() {
    let root = root();
    let server = ServeProcess::signed(root.path(), &[]);
    for prefix in ["/docs?v=1", "/docs/?v=1"] {
        let out = doctor(
            &server.url(prefix),
            &["--object", "a.txt", "--write", "p.txt"],
        );
        assert_ok(&out);
        // Under the prefix's folder, not beside it (`/docsp.txt`).
        let names = walk(root.path());
        assert!(names.contains(&"docs/p.txt".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("docsp")), "{names:?}");
        std::fs::remove_file(root.path().join("docs/p.txt")).unwrap();
    }
}

#[test]
fn doctor_needs_a_key_and_good_names() {
    let out = cfsign()
        .args(["doctor", "https://d111111abcdef8.cloudfront.net/"])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["no private key"]);
    for (args, needle) in [
        (
            &["--object", "../etc/passwd"][..],
            "not a key relative to the prefix",
        ),
        (&["--write", "a//b"], "not a key relative to the prefix"),
    ] {
        let out = doctor("https://d111111abcdef8.cloudfront.net/", args);
        assert_refused(&out, 2, &[needle]);
    }
    let signed = "https://d111111abcdef8.cloudfront.net/?Expires=1&Signature=x&Key-Pair-Id=K";
    assert_refused(&doctor(signed, &[]), 2, &["give it unsigned"]);
    assert_refused(
        &doctor("ftp://host/", &[]),
        2,
        &["not an http:// or https:// URL prefix"],
    );
    // The scheme in any case, as everywhere else (here a closed port: exit 4,
    // not a refused prefix).
    let out = doctor("HTTP://127.0.0.1:9/", &[]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A host the HTTP client cannot parse: bad input, not a network failure.
    assert_refused(
        &doctor("http://[zz]/", &[]),
        2,
        &["`http://[zz]/` is not a URL (invalid IPv6 address)"],
    );
}

#[test]
fn doctor_takes_the_key_from_a_profile_and_signs_by_its_own_clock() {
    let root = root();
    // An edge 4s ahead (within the clock check's tolerance): the profile's
    // 1s expiry, by this machine's clock, would fail every signed check.
    let server = ServeProcess::signed(root.path(), &["--clock-skew", "4s"]);
    let dir = tempdir();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profile.default]\nkey_pair_id = \"{KEY_ID}\"\nprivate_key = \"{}\"\nexpires_in = \"1s\"\n",
            key("rsa2048-pkcs8.pem").display()
        ),
    )
    .unwrap();
    let out = cfsign()
        .env("CFSIGN_CONFIG", &config)
        .args(["doctor", &server.url("/docs/"), "--object", "a.txt"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(marks(&out), "✓✓✓✓---");
    let query = server
        .wait_for_log(3)
        .into_iter()
        .find(|l| l.starts_with("HEAD "))
        .unwrap();
    assert!(query.starts_with("HEAD /docs/a.txt 200"), "{query}");
}

#[test]
fn doctor_takes_an_encrypted_objects_etag_as_it_is() {
    use crate::support::faulty::{Fault, FaultyServer};
    // An origin that answers like S3 with SSE-KMS and no checksum echo: the
    // ETag looks like an MD5 but is not one, so it is not compared.
    let server = FaultyServer::start(Vec::new());
    let missing_key = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>";
    let header = |n: &str, v: &str| (n.to_string(), v.to_string());
    server.script([
        Fault::Status(
            403,
            vec![header("Server", "CloudFront")],
            missing_key.into(),
        ),
        Fault::None, // the signed HEAD of the prefix
        Fault::Status(
            200,
            vec![
                header("ETag", "\"0123456789abcdef0123456789abcdef\""),
                header("x-amz-server-side-encryption", "aws:kms"),
            ],
            String::new(),
        ),
    ]);
    let out = doctor(&server.url("/"), &["--write", "p.txt"]);
    let writes = line(&out, 5);
    assert!(
        writes.starts_with("✓ signed writes: the origin stored the ")
            && writes.ends_with("-byte probe (200, no checksum echo, and its ETag is not the MD5 of the bytes, so nothing was compared)"),
        "{}",
        stdout_of(&out)
    );
}
