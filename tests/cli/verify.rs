//! `cfsign verify` against the hand-assembled table of signed URLs.

use crate::support::table::{Expect, Vector, rows, trusted_keys};
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
            assert!(out.status.success());
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
