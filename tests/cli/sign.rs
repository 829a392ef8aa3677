//! `cfsign sign`: bad input, output formats, batch behaviour.

use crate::support::*;

fn sign_cmd() -> assert_cmd::Command {
    let mut cmd = cfsign();
    cmd.arg("sign")
        .args(["--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8.pem"));
    cmd
}

const URL: &str = "https://d111111abcdef8.cloudfront.net/image.jpg";

/// One row per kind of bad input to `sign` (flags, key, policy, time, URL):
/// exit 2, one stderr line naming the problem, empty stdout.
#[test]
fn bad_inputs_are_refused_with_one_line() {
    let bad_policy = tempdir();
    let write = |name: &str, text: &str| {
        let p = bad_policy.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let invalid_json = write("invalid.json", "{\"Statement\":[");
    let multi = write(
        "multi.json",
        r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}},{"Resource":"https://x/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#,
    );
    let key_rows: &[(&str, &[&str])] = &[
        ("does-not-exist.pem", &["cannot read", "no such file"]),
        ("garbage.pem", &["could not be decoded"]),
        ("not-a-key.txt", &["neither PEM nor DER"]),
        ("rsa2048-public.pem", &["public key", "private key"]),
        ("dsa.pem", &["DSA", "RSA", "ECDSA"]),
        ("ed25519.pem", &["Ed25519", "not supported"]),
        ("ec-p384.pem", &["P-384", "P-256"]),
        ("ec-secp256k1.pem", &["secp256k1", "P-256"]),
        (
            "rsa2048-legacy-encrypted.pem",
            &["legacy", "openssl pkcs8 -topk8"],
        ),
        (
            "rsa2048-pkcs8-encrypted.pem",
            &["encrypted", "CLOUDFRONT_PRIVATE_KEY_PASSPHRASE"],
        ),
    ];
    for (name, needles) in key_rows {
        let out = cfsign()
            .args(["sign", URL, "--key-pair-id", KEY_ID, "--private-key"])
            .arg(key_arg(name))
            .output()
            .unwrap();
        assert_refused(&out, 2, needles);
    }
    let out = cfsign()
        .args(["sign", URL, "--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8-encrypted.pem"))
        .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", "wrong horse")
        .output()
        .unwrap();
    assert_refused(&out, 2, &["passphrase does not decrypt"]);

    let rows: &[(&[&str], &[&str])] = &[
        (
            &[URL, "--date-less-than", "next tuesday"],
            &["cannot read the time", "YYYY-MM-DD"],
        ),
        (
            &[URL, "--date-less-than", "2020-01-01"],
            &["in the past", "--allow-past"],
        ),
        (
            &[URL, "--date-less-than", "1893456000000"],
            &["milliseconds"],
        ),
        (
            &[URL, "--date-less-than", "20300101"],
            &["YYYYMMDD", "YYYY-MM-DD"],
        ),
        (&[URL, "--expires-in", "an hour"], &["duration"]),
        // A negative epoch is never what was meant, --allow-past or not.
        (
            &[URL, "--date-less-than", "1776-07-04", "--allow-past"],
            &["1776-07-04", "before 1970-01-01", "cannot be negative"],
        ),
        (
            &[
                URL,
                "--date-less-than",
                "1969-12-31T23:00:00Z",
                "--allow-past",
            ],
            &["before 1970-01-01"],
        ),
        (
            &[
                URL,
                "--date-greater-than",
                "1969-07-20",
                "--date-less-than",
                "2030-01-01",
            ],
            &["1969-07-20", "before 1970-01-01"],
        ),
        (
            &[URL, "--ip-address", "10.0.0.0/33"],
            &["--ip-address", "CIDR"],
        ),
        (&[URL, "--ip-address", "2001:db8::/32"], &["IPv6"]),
        (&["d111111abcdef8.cloudfront.net/image.jpg"], &["scheme"]),
        (
            &["https://d111111abcdef8.cloudfront.net/a\"b"],
            &["double quote"],
        ),
        (
            &["https://d111111abcdef8.cloudfront.net/a#top"],
            &["fragment"],
        ),
        (
            &["https://d111111abcdef8.cloudfront.net/a?Expires=5"],
            &["signing parameter", "Expires"],
        ),
        (
            &["https://d111111abcdef8.cloudfront.net/a?x=1&Signature=abc"],
            &["Signature"],
        ),
        (&[URL, "--policy", &invalid_json], &["not valid JSON"]),
        (&[URL, "--policy", &multi], &["2 statements", "exactly one"]),
        (
            &[URL, "--policy", "/nonexistent/policy.json"],
            &["cannot read the policy"],
        ),
        (
            &[
                URL,
                "--resource",
                "https://d111111abcdef8.cloudfront.net/videos/*",
            ],
            &["not covered", "videos/*"],
        ),
        (
            &[URL, "--resource", "d111111abcdef8.cloudfront.net/*"],
            &["--resource", "https://"],
        ),
        (
            &[
                URL,
                "--date-less-than",
                "2030-01-01",
                "--date-greater-than",
                "2030-01-01",
            ],
            &["active", "before", "expiration"],
        ),
        (
            &[
                URL,
                "--date-greater-than",
                "2031-01-01",
                "--date-less-than",
                "2030-01-01",
            ],
            &["before"],
        ),
        (&[URL, "--hash-algorithm", "MD5"], &["--hash-algorithm"]),
        (
            &[URL, "--expires-in", "1h", "--date-less-than", "2030-01-01"],
            &["cannot be used with"],
        ),
    ];
    for (args, needles) in rows {
        let out = sign_cmd().args(*args).output().unwrap();
        assert_refused(&out, 2, needles);
    }
}

#[test]
fn missing_key_or_id_is_a_usage_error() {
    let out = cfsign()
        .args(["sign", URL, "--key-pair-id", KEY_ID])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["no private key", "--private-key"]);
    let out = cfsign()
        .args(["sign", URL, "--private-key"])
        .arg(key("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["key pair ID", "CLOUDFRONT_KEY_PAIR_ID"]);
    let out = cfsign()
        .args(["sign", URL, "--key-pair-id", "K2/../x", "--private-key"])
        .arg(key("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["not a CloudFront key ID"]);
}

#[test]
fn key_from_environment_text_with_escaped_newlines() {
    let pem = std::fs::read_to_string(key("ec-p256-pkcs8.pem")).unwrap();
    let flattened = pem.replace('\n', "\\n");
    let out = cfsign()
        .args(["sign", URL, "--date-less-than", "2030-01-01"])
        .env("CLOUDFRONT_KEY_PAIR_ID", KEY_ID)
        .env("CLOUDFRONT_PRIVATE_KEY", flattened)
        .output()
        .unwrap();
    assert_ok(&out);
    let line = stdout_of(&out);
    assert!(
        line.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256\n"),
        "{line}"
    );

    let out = cfsign()
        .args(["sign", URL, "--date-less-than", "2030-01-01"])
        .env("CLOUDFRONT_KEY_PAIR_ID", KEY_ID)
        .env("CLOUDFRONT_PRIVATE_KEY_FILE", key("rsa2048-pkcs1.pem"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(stdout_of(&out).starts_with(&format!("{URL}?Expires=1893456000&Signature=")));
}

#[test]
fn key_from_stdin_and_passphrase_from_environment() {
    let pem = std::fs::read(key("rsa2048-pkcs8-encrypted.pem")).unwrap();
    let out = cfsign()
        .args([
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            "-",
            "--date-less-than",
            "2030-01-01",
        ])
        .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", PASSPHRASE)
        .write_stdin(pem)
        .output()
        .unwrap();
    assert_ok(&out);
    let plain = sign_cmd()
        .args([URL, "--date-less-than", "2030-01-01"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), stdout_of(&plain));
}

#[test]
fn other_rsa_sizes_sign_with_one_warning() {
    let out = cfsign()
        .args(["sign", URL, "--key-pair-id", KEY_ID, "--private-key"])
        .arg(key("rsa3072-pkcs8.pem"))
        .output()
        .unwrap();
    assert_one_warning(&out, &["RSA-3072", "2048"]);
    assert_eq!(stdout_of(&out).lines().count(), 1);
}

#[test]
fn expires_in_is_relative_to_now() {
    let before = unix_now();
    let out = sign_cmd()
        .args([URL, "--expires-in", "1h30m"])
        .output()
        .unwrap();
    let after = unix_now();
    let url = stdout_of(&out);
    let expires: i64 = query_pairs(url.trim())
        .into_iter()
        .find(|(n, _)| n == "Expires")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(
        (before + 5400..=after + 5400).contains(&expires),
        "{expires}"
    );
    // The default is one hour.
    let url = stdout_of(&sign_cmd().arg(URL).output().unwrap());
    let expires: i64 = query_pairs(url.trim())[0].1.parse().unwrap();
    assert!((before + 3600..=unix_now() + 3600).contains(&expires));
}

#[test]
fn wire_form_is_what_gets_signed_and_printed() {
    let out = sign_cmd()
        .args([
            "https://d111111abcdef8.cloudfront.net/my file é.txt?q=a b",
            "--date-less-than",
            "2030-01-01",
        ])
        .output()
        .unwrap();
    let line = stdout_of(&out);
    assert!(
        line.starts_with("https://d111111abcdef8.cloudfront.net/my%20file%20%C3%A9.txt?q=a%20b&Expires=1893456000&"),
        "{line}"
    );
}

/// A URL's host becomes the cookies' `Domain`: one that would add an
/// attribute (`;`) or a cookie (`,`) to the `Set-Cookie` line is refused,
/// before anything is printed, in every format that prints `Set-Cookie`.
#[test]
fn a_host_that_would_break_a_set_cookie_line_is_refused() {
    for host in [
        "d111111abcdef8.cloudfront.net;Domain=evil.example",
        "a,b.example",
        "a=b.example",
    ] {
        let url = format!("https://{host}/image.jpg");
        for format in ["cookies", "json"] {
            let out = sign_cmd()
                .args([&url, "--date-less-than", "2030-01-01", "--format", format])
                .output()
                .unwrap();
            assert_refused(&out, 2, &["cookie Domain"]);
        }
        let out = sign_cmd()
            .args(["--date-less-than", "2030-01-01", "--format", "url", &url])
            .output()
            .unwrap();
        assert_ok(&out);
    }
}

/// An IP literal cannot be a cookie Domain: the cookies are the host's own.
#[test]
fn an_ip_literal_host_sets_no_domain() {
    let out = sign_cmd()
        .args(["https://[::1]:8443/a", "--date-less-than", "2030-01-01"])
        .args(["--format", "cookies"])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = stdout_of(&out);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains("Domain="), "{text}");
}

#[test]
fn cookies_canned_and_custom() {
    let out = sign_cmd()
        .args([URL, "--date-less-than", "2030-01-01", "--format", "cookies"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let names: Vec<&str> = lines
        .iter()
        .map(|l| {
            l.strip_prefix("Set-Cookie: ")
                .unwrap()
                .split('=')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "CloudFront-Expires",
            "CloudFront-Signature",
            "CloudFront-Key-Pair-Id"
        ]
    );
    assert_eq!(
        lines[0],
        "Set-Cookie: CloudFront-Expires=1893456000; Domain=d111111abcdef8.cloudfront.net; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Secure; HttpOnly"
    );
    // The cookie signature is the URL signature for the same policy.
    let url = stdout_of(
        &sign_cmd()
            .args([URL, "--date-less-than", "2030-01-01"])
            .output()
            .unwrap(),
    );
    let sig = &query_pairs(url.trim())[1].1;
    assert!(lines[1].starts_with(&format!("Set-Cookie: CloudFront-Signature={sig};")));

    let out = sign_cmd()
        .args([
            URL,
            "--date-less-than",
            "2030-01-01",
            "--resource",
            "https://d111111abcdef8.cloudfront.net/*",
        ])
        .args([
            "--format",
            "cookies",
            "--hash-algorithm",
            "sha256",
            "--cookie-domain",
            ".example.com",
            "--cookie-path",
            "/media",
        ])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    let names: Vec<&str> = text
        .lines()
        .map(|l| {
            l.strip_prefix("Set-Cookie: ")
                .unwrap()
                .split('=')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "CloudFront-Policy",
            "CloudFront-Signature",
            "CloudFront-Key-Pair-Id",
            "CloudFront-Hash-Algorithm"
        ]
    );
    assert!(
        text.lines()
            .all(|l| l.ends_with(
                "; Domain=.example.com; Path=/media; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Secure; HttpOnly"
            ))
    );
    let policy = text
        .lines()
        .next()
        .unwrap()
        .split(['=', ';'])
        .nth(1)
        .unwrap();
    assert_eq!(
        String::from_utf8(cf_b64decode(policy)).unwrap(),
        r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#
    );
}

#[test]
fn header_and_json_formats() {
    let out = sign_cmd()
        .args([URL, "--date-less-than", "2030-01-01", "--format", "header"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(text.lines().count(), 1);
    assert!(
        text.starts_with("Cookie: CloudFront-Expires=1893456000; CloudFront-Signature="),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F")
    );

    let urls = [URL, "https://d111111abcdef8.cloudfront.net/b.jpg?x=1"];
    let out = sign_cmd()
        .args(urls)
        .args(["--date-less-than", "2030-01-01", "--format", "json"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (line, url) in lines.iter().zip(urls) {
        assert_eq!(line["url"], url);
        assert!(line["signed_url"].as_str().unwrap().starts_with(url));
        assert_eq!(line["expires"], 1893456000);
        assert_eq!(line["key_pair_id"], KEY_ID);
        assert_eq!(line["hash_algorithm"], "SHA1");
        assert_eq!(line["policy"], canned_policy(url, 1893456000));
    }
}

#[test]
fn batch_from_stdin_keeps_input_order() {
    let urls: Vec<String> = (0..300)
        .map(|i| format!("https://d111111abcdef8.cloudfront.net/f/{i}.bin"))
        .collect();
    let out = sign_cmd()
        .args(["--date-less-than", "2030-01-01"])
        .write_stdin(format!("{}\n\n", urls.join("\n")))
        .output()
        .unwrap();
    assert_ok(&out);
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), urls.len());
    for (line, url) in lines.iter().zip(&urls) {
        assert!(
            line.starts_with(&format!("{url}?Expires=1893456000&Signature=")),
            "{line}"
        );
    }
    // Each line equals signing that URL alone.
    let single = stdout_of(
        &sign_cmd()
            .args([&urls[137], "--date-less-than", "2030-01-01"])
            .output()
            .unwrap(),
    );
    assert_eq!(format!("{}\n", lines[137]), single);
}

#[test]
fn batch_with_a_bad_line_prints_nothing() {
    let out = sign_cmd()
        .args(["--date-less-than", "2030-01-01"])
        .write_stdin(format!(
            "{URL}\nhttps://d111111abcdef8.cloudfront.net/a#b\n{URL}\n"
        ))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["URL 2 of 3", "fragment"]);
}

#[test]
fn wildcard_policy_is_signed_once_and_checked_per_url() {
    let out = sign_cmd()
        .args(["--date-less-than", "2030-01-01", "--resource", "https://d111111abcdef8.cloudfront.net/images/*"])
        .write_stdin(
            "https://d111111abcdef8.cloudfront.net/images/a.jpg\nhttps://d111111abcdef8.cloudfront.net/images/b/c.jpg?w=1\n",
        )
        .output()
        .unwrap();
    assert_ok(&out);
    let text = stdout_of(&out);
    let tails: Vec<String> = text
        .lines()
        .map(|l| {
            query_pairs(l)
                .into_iter()
                .filter(|(n, _)| n != "w")
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        })
        .collect();
    assert_eq!(tails.len(), 2);
    assert_eq!(
        tails[0], tails[1],
        "one policy, one signature for every URL"
    );
    assert!(tails[0].starts_with("Policy="));

    let out = sign_cmd()
        .args(["--date-less-than", "2030-01-01", "--resource", "https://d111111abcdef8.cloudfront.net/images/*"])
        .write_stdin("https://d111111abcdef8.cloudfront.net/images/a.jpg\nhttps://d111111abcdef8.cloudfront.net/video.mp4\n")
        .output()
        .unwrap();
    assert_refused(&out, 2, &["URL 2 of 2", "not covered"]);
}

#[test]
fn policy_file_is_signed_as_given() {
    let dir = tempdir();
    let policy = r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/*","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#;
    let path = dir.path().join("policy.json");
    std::fs::write(&path, format!("{policy}\n")).unwrap();
    let out = sign_cmd()
        .args([URL, "--policy"])
        .arg(&path)
        .output()
        .unwrap();
    assert_ok(&out);
    let pairs = query_pairs(stdout_of(&out).trim());
    assert_eq!(pairs[0].0, "Policy");
    assert_eq!(
        String::from_utf8(cf_b64decode(&pairs[0].1)).unwrap(),
        policy
    );
    let sig = cf_b64decode(&pairs[1].1);
    assert!(openssl_verifies(
        &key("rsa2048-public.pem"),
        "sha1",
        policy.as_bytes(),
        &sig
    ));
    // From stdin too.
    let out = sign_cmd()
        .args([URL, "--policy", "-"])
        .write_stdin(policy)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(query_pairs(stdout_of(&out).trim())[0].1, pairs[0].1);
}

#[test]
fn closed_stdout_is_not_an_error() {
    let urls: String = (0..2000)
        .map(|i| format!("https://h.example/{i}\n"))
        .collect();
    let mut child = cfsign_process()
        .args([
            "sign",
            "--key-pair-id",
            KEY_ID,
            "--resource",
            "https://h.example/*",
            "--private-key",
        ])
        .arg(key("rsa2048-pkcs8.pem"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::{Read, Write};
    child
        .stdin
        .take()
        .unwrap()
        .write_all(urls.as_bytes())
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // stdout is dropped (closed) here.
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
}

/// serde_json keeps the last of two equal keys, another reader may keep the
/// first: a policy that names a key twice is neither signed nor accepted.
#[test]
fn a_policy_naming_a_key_twice_is_refused_by_sign_and_verify() {
    use cfsign::sign::{HashAlgorithm, PrivateKey, encode};
    let policy = r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/private/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}},"Resource":"https://d111111abcdef8.cloudfront.net/*"}]}"#;
    let dir = tempdir();
    let path = dir.path().join("policy.json");
    std::fs::write(&path, policy).unwrap();
    let out = sign_cmd()
        .args([URL, "--policy"])
        .arg(&path)
        .output()
        .unwrap();
    assert_refused(
        &out,
        2,
        &["names the key `Resource` twice", "give each key once"],
    );

    // The verifier reads policies with the same parser: signed correctly,
    // the policy is still malformed.
    let private =
        PrivateKey::from_bytes(&std::fs::read(key("rsa2048-pkcs8.pem")).unwrap(), None).unwrap();
    let signature = private.sign(policy.as_bytes(), HashAlgorithm::Sha1);
    let url = format!(
        "{URL}?Policy={}&Signature={}&Key-Pair-Id={KEY_ID}",
        encode::encode(policy.as_bytes()),
        encode::encode(&signature)
    );
    let out = cfsign()
        .args(["verify", &url, "--public-key"])
        .arg(format!("{KEY_ID}={}", key("rsa2048-public.pem").display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let text = format!(
        "{}{}",
        stdout_of(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("MalformedPolicy"), "{text}");
    assert!(text.contains("names the key `Resource` twice"), "{text}");
}

/// The Resource forms the Developer Guide allows, signed by `sign` and
/// `sign-cookies` byte for byte as openssl signed the hand-written policies
/// of `policy-forms.json` (RSA PKCS#1 v1.5 is deterministic): `*` and a
/// pattern beginning with `*` in signed URLs, through `--resource` and
/// `--policy`; a statement without Resource in URLs and cookies alike.
#[test]
fn resource_forms_of_the_guide_sign_as_openssl_did() {
    use crate::support::table::Vector;
    let form = |id: &str| Vector::in_file("policy-forms.json", id);
    let dir = tempdir();
    let policy_file = |v: &Vector| {
        let path = dir.path().join(format!("{}.json", v.s("id")));
        std::fs::write(&path, v.s("policy")).unwrap();
        path.display().to_string()
    };
    let expiry = ["--date-less-than", "1893456000"];
    for (id, extra) in [
        ("rsa-sha1-star", &["--resource", "*"][..]),
        (
            "rsa-sha256-star",
            &["--resource", "*", "--hash-algorithm", "SHA256"],
        ),
        (
            "rsa-sha1-star-host",
            &["--resource", "*.cloudfront.net/images/*"],
        ),
    ] {
        let v = form(id);
        let out = sign_cmd()
            .arg(v.s("url"))
            .args(expiry)
            .args(extra)
            .output()
            .unwrap();
        assert!(out.stderr.is_empty(), "{id}: {out:?}");
        assert_eq!(stdout_of(&out), format!("{}\n", v.s("signed_url")), "{id}");
    }
    for id in ["rsa-sha1-star", "rsa-sha1-no-resource"] {
        let v = form(id);
        let out = sign_cmd()
            .args([v.s("url"), "--policy".into(), policy_file(&v)])
            .output()
            .unwrap();
        assert!(out.stderr.is_empty(), "{id}: {out:?}");
        assert_eq!(stdout_of(&out), format!("{}\n", v.s("signed_url")), "{id}");
    }

    // No Resource: signed cookies too, from both commands.
    let v = form("rsa-sha1-no-resource");
    let expected = vec![
        ("CloudFront-Policy".to_string(), v.s("policy_encoded")),
        ("CloudFront-Signature".to_string(), v.s("signature")),
        ("CloudFront-Key-Pair-Id".to_string(), KEY_ID.to_string()),
    ];
    let out = sign_cmd()
        .args([v.s("url"), "--format".into(), "cookies".into()])
        .args(["--policy", &policy_file(&v)])
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "{out:?}");
    assert_eq!(set_cookies(&stdout_of(&out)), expected);
    let out = cfsign()
        .args(["sign-cookies", "--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("rsa2048-pkcs8.pem"))
        .args(["--policy", &policy_file(&v)])
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "{out:?}");
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&stdout_of(&out)).unwrap();
    let got: Vec<(String, String)> = json
        .into_iter()
        .map(|(n, v)| (n, v.as_str().unwrap().to_string()))
        .collect();
    let mut want = expected.clone();
    want.sort();
    let mut got = got;
    got.sort();
    assert_eq!(got, want);
}

/// The forms the guide does not allow are refused before signing, with its
/// rule and page in the message: `*` (alone or leading) in signed cookies,
/// a Resource that begins with neither http://, https:// nor *, a list.
#[test]
fn resource_forms_the_guide_refuses_are_usage_errors() {
    use crate::support::table::Vector;
    let dir = tempdir();
    let policy_file = |id: &str| {
        let path = dir.path().join(format!("{id}.json"));
        let v = Vector::in_file("policy-forms.json", id);
        std::fs::write(&path, v.s("policy")).unwrap();
        path.display().to_string()
    };
    let cookie_rule: &[&str] = &[
        "must begin with http:// or https://",
        "Set signed cookies using a custom policy",
    ];
    let url_rule: &[&str] = &[
        "must begin with http://, https:// or *",
        "Create a signed URL using a custom policy",
    ];
    let expiry = ["--date-less-than", "1893456000"];
    let star_policy = policy_file("rsa-sha1-star");
    let sign_rows: &[(&[&str], &[&str])] = &[
        (
            &[URL, "--resource", "*", "--format", "cookies"],
            cookie_rule,
        ),
        (&[URL, "--resource", "*", "--format", "header"], cookie_rule),
        (
            &[
                URL,
                "--resource",
                "*://d111111abcdef8.cloudfront.net/*",
                "--format",
                "cookies",
            ],
            cookie_rule,
        ),
        (
            &[URL, "--policy", &star_policy, "--format", "cookies"],
            cookie_rule,
        ),
        (
            &[URL, "--resource", "d111111abcdef8.cloudfront.net/image.jpg"],
            url_rule,
        ),
        (
            &[URL, "--resource", "ftp://d111111abcdef8.cloudfront.net/*"],
            url_rule,
        ),
        (
            &[URL, "--policy", &policy_file("rsa-sha1-no-scheme")],
            url_rule,
        ),
        (
            &[URL, "--policy", &policy_file("rsa-sha1-resource-list")],
            &["only one value for Resource"],
        ),
    ];
    for (args, needles) in sign_rows {
        let mut cmd = sign_cmd();
        cmd.args(*args);
        if !args.contains(&"--policy") {
            cmd.args(expiry);
        }
        assert_refused(&cmd.output().unwrap(), 2, needles);
    }
    for resource in [
        "*",
        "*://d111111abcdef8.cloudfront.net/*",
        "*.cloudfront.net/*",
    ] {
        let out = cfsign()
            .args(["sign-cookies", "--key-pair-id", KEY_ID, "--private-key"])
            .arg(key_arg("rsa2048-pkcs8.pem"))
            .args(["--resource", resource])
            .args(expiry)
            .output()
            .unwrap();
        assert_refused(&out, 2, cookie_rule);
    }
}
