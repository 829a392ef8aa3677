//! `cfsign verify` against the hand-assembled table of signed URLs.

use crate::support::table::{Expect, Vector, join, rows, trusted_keys};
use crate::support::*;

fn verify_cmd(url: &str) -> assert_cmd::Command {
    let mut cmd = cfsign();
    cmd.args(["verify", url]);
    for key in trusted_keys() {
        cmd.args(["--public-key", &key]);
    }
    cmd
}

#[test]
fn every_table_row_gets_the_right_verdict() {
    let rows = rows();
    assert!(rows.len() >= 50, "{} rows", rows.len());
    for row in rows {
        let mut cmd = verify_cmd(&row.url);
        if let Some(cookie) = &row.cookie {
            cmd.args(["--cookie", cookie]);
        }
        if let Some(ip) = row.client_ip {
            cmd.args(["--client-ip", ip]);
        }
        let out = cmd.output().unwrap();
        let stdout = stdout_of(&out);
        assert!(
            out.stderr.is_empty(),
            "{}: {}",
            row.name,
            String::from_utf8_lossy(&out.stderr)
        );
        match &row.expect {
            Expect::Accept => {
                assert_eq!(out.status.code(), Some(0), "{}: {stdout}", row.name);
                assert!(stdout.starts_with("accepted:"), "{}: {stdout}", row.name);
                assert!(
                    stdout.contains("signature: valid"),
                    "{}: {stdout}",
                    row.name
                );
            }
            Expect::Reject {
                code,
                check,
                needles,
            } => {
                assert_eq!(out.status.code(), Some(3), "{}: {stdout}", row.name);
                let prefix = format!("rejected: CloudFront would answer 403 {code} ({check}): ");
                assert!(
                    stdout.starts_with(&prefix),
                    "{}: expected {prefix}\n got {stdout}",
                    row.name
                );
                assert_eq!(stdout.lines().count(), 1, "{}: {stdout}", row.name);
                for needle in needles {
                    assert!(
                        stdout.contains(needle),
                        "{}: lacks {needle:?}: {stdout}",
                        row.name
                    );
                }
            }
        }
    }
}

#[test]
fn without_a_public_key_everything_but_the_signature_is_checked() {
    let v = Vector::by_id("rsa-sha1-custom-all-conditions");
    let out = cfsign().args(["verify", &v.signed_url()]).output().unwrap();
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("signature: NOT CHECKED"), "{stdout}");
    assert!(stdout.contains("--public-key K2JCJMDEHXQW5F="), "{stdout}");
    assert!(
        stdout.contains("not checked: only clients in 192.0.2.0/24"),
        "{stdout}"
    );
    assert!(
        stdout.contains("custom policy for https://d111111abcdef8.cloudfront.net/images/*"),
        "{stdout}"
    );

    // Expiry is still checked.
    let v = Vector::by_id("rsa-sha1-canned-past-expiry");
    let out = cfsign().args(["verify", &v.signed_url()]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout_of(&out).contains("(expired)"));
}

#[test]
fn at_moves_the_clock() {
    let v = Vector::by_id("rsa-sha1-canned-plain");
    let out = verify_cmd(&v.signed_url())
        .args(["--at", "2030-01-01T01:30:00Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout_of(&out).contains("expired at 2030-01-01T00:00:00Z (1h30m ago)"),
        "{}",
        stdout_of(&out)
    );
    let out = verify_cmd(&v.signed_url())
        .args(["--at", "2029-12-31T23:59:59Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout_of(&out).contains("(in 1s)"), "{}", stdout_of(&out));
}

#[test]
fn bad_verify_input_is_a_usage_error() {
    let v = Vector::by_id("rsa-sha1-canned-plain");
    for (args, needles) in [
        (vec!["--public-key", "K2JCJMDEHXQW5F"], vec!["ID=PATH"]),
        (
            vec!["--public-key", "K2JCJMDEHXQW5F=/nonexistent.pem"],
            vec!["cannot read the public key"],
        ),
        (vec!["--client-ip", "::1"], vec!["--client-ip", "IPv4"]),
        (vec!["--at", "yesterday"], vec!["cannot read the time"]),
    ] {
        let out = cfsign()
            .args(["verify", &v.signed_url()])
            .args(&args)
            .output()
            .unwrap();
        assert_refused(&out, 2, &needles);
    }
    let out = cfsign()
        .args(["verify", "d111111abcdef8.cloudfront.net/image.jpg"])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["not a full URL"]);
}

#[test]
fn our_signer_round_trips_through_the_verifier() {
    let url = "https://d111111abcdef8.cloudfront.net/media/clip 1.mp4?t=10";
    for (private, id, public) in [
        ("rsa2048-pkcs8.pem", "K2JCJMDEHXQW5F", "rsa2048-public.pem"),
        ("ec-p256-sec1.pem", "K3ECDSAP256KEY", "ec-p256-public.pem"),
    ] {
        for extra in [
            vec![],
            vec!["--hash-algorithm", "SHA256"],
            vec![
                "--resource",
                "https://d111111abcdef8.cloudfront.net/media/*",
                "--ip-address",
                "10.1.2.3",
            ],
        ] {
            let out = cfsign()
                .args(["sign", url, "--key-pair-id", id, "--private-key"])
                .arg(key(private))
                .args(&extra)
                .output()
                .unwrap();
            assert_ok(&out);
            let signed = stdout_of(&out).trim().to_string();
            let out = cfsign()
                .args(["verify", &signed, "--client-ip", "10.1.2.3", "--public-key"])
                .arg(format!("{id}={}", key(public).display()))
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{private} {extra:?}: {}",
                stdout_of(&out)
            );
        }
    }
}

/// Each signing parameter given twice, in a URL made by hand from the openssl
/// vectors or in cookies: refused with the name of the repeated one, whether
/// the added value comes after the signed one or before it.
#[test]
fn repeated_signing_parameters_are_refused() {
    let canned = Vector::by_id("rsa-sha256-canned-plain");
    let custom = Vector::by_id("rsa-sha1-custom-wildcard");
    let other_policy = Vector::by_id("rsa-sha1-custom-start").s("policy_encoded");
    let mut cases = vec![];
    for (v, name, value) in [
        (&canned, "Signature", "AAAA".to_string()),
        (&canned, "Expires", "4102444800".to_string()),
        (&canned, "Key-Pair-Id", "K3ECDSAP256KEY".to_string()),
        (&canned, "Hash-Algorithm", "SHA1".to_string()),
        (&custom, "Policy", other_policy),
    ] {
        let extra = (name.to_string(), value);
        cases.push((
            name,
            v.url_with(&[v.params(), vec![extra.clone()]].concat()),
        ));
        cases.push((name, v.url_with(&[vec![extra], v.params()].concat())));
    }
    for (name, url) in cases {
        let out = verify_cmd(&url).output().unwrap();
        let stdout = stdout_of(&out);
        assert_eq!(out.status.code(), Some(3), "{url}: {stdout}");
        assert!(
            stdout.starts_with(&format!(
                "rejected: CloudFront would answer 403 AccessDenied (repeated-parameter): the {name} query parameter appears more than once"
            )),
            "{url}: {stdout}"
        );
    }
    let cookie = format!("{}; CloudFront-Signature=AAAA", canned.cookie_header());
    let out = verify_cmd(&canned.s("url"))
        .args(["--cookie", &cookie])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout_of(&out).contains("the CloudFront-Signature cookie appears more than once"),
        "{}",
        stdout_of(&out)
    );
}

/// Text from the URL reaches stdout escaped: a key ID with a tab, a policy
/// whose Resource holds a newline and an escape sequence.
#[test]
fn verify_shows_text_from_the_url_escaped() {
    let v = Vector::by_id("rsa-sha1-canned-plain");
    let params: Vec<(String, String)> = v
        .params()
        .into_iter()
        .map(|(n, value)| match n.as_str() {
            "Key-Pair-Id" => (n, "K\tX\u{202e}".to_string()),
            _ => (n, value),
        })
        .collect();
    let id = v.url_with(&params);
    let out = cfsign().args(["verify", &id]).output().unwrap();
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(r"key K\tX\u{202e})"), "{stdout}");

    let policy = cf_b64(
        br#"{"Statement":[{"Resource":"https://h/\nrejected: forged\n\u001b]0;x\u0007","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#,
    );
    let url = join(
        "https://h/a",
        &[
            ("Policy".into(), policy),
            ("Signature".into(), "AAAA".into()),
            ("Key-Pair-Id".into(), KEY_ID.into()),
        ],
    );
    let out = verify_cmd(&url).output().unwrap();
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains(r"\nrejected: forged\n\x1b]0;x\x07"),
        "{stdout}"
    );
}

/// A 120 KB URL whose policy makes a backtracking matcher take time URL ×
/// pattern (seconds): the match is linear, the answer immediate.
#[test]
fn verify_matches_a_pathological_resource_quickly() {
    let host = "https://d111111abcdef8.cloudfront.net";
    let policy = format!(
        r#"{{"Statement":[{{"Resource":"{host}/*{}b*","Condition":{{"DateLessThan":{{"AWS:EpochTime":4102444800}}}}}}]}}"#,
        "a".repeat(30_000)
    );
    let url = join(
        &format!("{host}/{}", "a".repeat(80_000)),
        &[
            ("Policy".into(), cf_b64(policy.as_bytes())),
            ("Signature".into(), "AAAA".into()),
            ("Key-Pair-Id".into(), KEY_ID.into()),
        ],
    );
    assert!(url.len() > 120_000);
    let started = std::time::Instant::now();
    let out = cfsign().args(["verify", &url]).output().unwrap();
    let took = started.elapsed();
    let stdout = stdout_of(&out);
    assert!(stdout.contains("(resource): the URL"), "{stdout}");
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
}

/// `verify` says which Resource form it accepted: `*`, or none at all (the
/// guide: every file of every distribution that trusts the key).
#[test]
fn verify_names_the_resource_form_it_accepted() {
    for (id, carrier, words) in [
        ("rsa-sha1-star", None, "custom policy for *\n"),
        (
            "rsa-sha1-no-resource",
            None,
            "custom policy without a Resource (it covers every URL)",
        ),
        (
            "rsa-sha1-no-resource",
            Some("cookies"),
            "custom policy without a Resource",
        ),
    ] {
        let v = Vector::in_file("policy-forms.json", id);
        let out = match carrier {
            None => verify_cmd(&v.signed_url()).output().unwrap(),
            Some(_) => verify_cmd(&v.s("url"))
                .args(["--cookie", &v.cookie_header()])
                .output()
                .unwrap(),
        };
        let stdout = stdout_of(&out);
        assert_eq!(out.status.code(), Some(0), "{id}: {stdout}");
        assert!(stdout.contains(words), "{id}: {stdout}");
        assert!(stdout.contains("signature: valid"), "{id}: {stdout}");
    }
}
