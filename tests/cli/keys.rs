//! Every private key the peers accept: encrypted PKCS#8 in each scheme
//! OpenSSL writes, key bodies under another label, and each way of giving
//! `--private-key` — checked against botocore's signed URLs
//! (`tests/fixtures/botocore-sign.json`) and openssl's signatures.

use std::process::Output;

use serde_json::Value;

use crate::support::table::Vector;
use crate::support::*;

/// The encrypted fixtures cfsign decrypts (made by openssl in gen.sh).
const DECRYPTS: [&str; 7] = [
    "rsa2048-enc-sha1-aes256.pem",
    "rsa2048-enc-sha224-aes128.pem",
    "rsa2048-enc-sha256-aes192.pem",
    "rsa2048-enc-sha384-des3.pem",
    "rsa2048-enc-sha512-aes256.pem",
    "rsa2048-enc-scrypt-aes256.pem",
    "ec-p256-enc-sha1-des3.pem",
];

/// The encrypted fixtures cfsign refuses, the scheme the message must name,
/// and the extra openssl arguments the conversion needs (the legacy
/// provider, which the message then mentions).
const REFUSED: [(&str, &str, &[&str]); 4] = [
    ("rsa2048-enc-camellia256.pem", "CAMELLIA-256-CBC", &[]),
    ("rsa2048-enc-sha512-256-aes128.pem", "HMAC-SHA512-256", &[]),
    (
        "rsa2048-enc-pbes1-md5-des.pem",
        "PBES1 pbeWithMD5AndDES-CBC",
        &["-provider", "legacy", "-provider", "default"],
    ),
    (
        "rsa2048-enc-pkcs12-3des.pem",
        "pbeWithSHA1And3-KeyTripleDES-CBC",
        &[],
    ),
];

/// How `--private-key` is given: the AWS CLI's `file://PATH` and PEM text,
/// and cfsign's plain path and `-` (stdin); every key format must sign the
/// same in each.
#[derive(Clone, Copy, Debug)]
enum Form {
    FileUrl,
    Path,
    Text,
    Stdin,
}

const FORMS: [Form; 4] = [Form::FileUrl, Form::Path, Form::Text, Form::Stdin];

/// `cfsign sign` with the key given in `form`, the right passphrase in the
/// environment, and `extra` arguments.
fn sign_with(key_file: &str, form: Form, extra: &[String]) -> Output {
    let path = key(key_file);
    let text = std::fs::read_to_string(&path).unwrap();
    let value = match form {
        Form::FileUrl => format!("file://{}", path.display()),
        Form::Path => path.display().to_string(),
        Form::Text => text.clone(),
        Form::Stdin => "-".to_string(),
    };
    let mut cmd = cfsign();
    cmd.arg("sign")
        .args(extra)
        .args(["--private-key", &value])
        .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", PASSPHRASE);
    if let Form::Stdin = form {
        cmd.write_stdin(text);
    }
    cmd.output().unwrap()
}

fn param(url: &str, name: &str) -> String {
    query_pairs(url)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
        .1
}

fn without_signature(url: &str) -> String {
    let signature = param(url, "Signature");
    url.replace(&format!("Signature={signature}"), "Signature=")
}

/// Each key botocore (through Python's cryptography) loads, in each form of
/// `--private-key`, canned and custom: RSA gives botocore's URL byte for
/// byte; ECDSA gives the same URL but for the (random) signature, which
/// openssl verifies — as it does botocore's, so the fixture is sound.
#[test]
fn every_private_key_form_signs_as_botocore_does() {
    let fixture: Value = fixture_json("botocore-sign.json");
    let url = fixture["url"].as_str().unwrap();
    let expires = fixture["expires"].as_i64().unwrap();
    let mut checked = 0;
    for case in fixture["cases"].as_array().unwrap() {
        if case.get("refused").is_some() {
            continue;
        }
        let key_file = case["key"].as_str().unwrap();
        let want = case["signed_url"].as_str().unwrap();
        let mut args: Vec<String> = vec![
            url.into(),
            "--key-pair-id".into(),
            fixture["key_pair_id"].as_str().unwrap().into(),
            "--date-less-than".into(),
            expires.to_string(),
        ];
        let policy = if case["kind"] == "custom" {
            args.extend([
                "--date-greater-than".into(),
                fixture["date_greater_than"].to_string(),
                "--ip-address".into(),
                fixture["ip_address"].as_str().unwrap().into(),
            ]);
            case["policy"].as_str().unwrap().to_string()
        } else {
            canned_policy(url, expires)
        };
        let ec = case["algorithm"] == "ECDSA-SHA1";
        if ec {
            // botocore signs SHA-1 only, and sends no Hash-Algorithm.
            args.extend(["--hash-algorithm".into(), "SHA1".into()]);
            let theirs = cf_b64decode(&param(want, "Signature"));
            let public = key("ec-p256-public.pem");
            assert!(openssl_verifies(
                &public,
                "sha1",
                policy.as_bytes(),
                &theirs
            ));
        }
        for form in FORMS {
            let out = sign_with(key_file, form, &args);
            let what = format!("{key_file} {} {form:?}", case["kind"]);
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = stdout_of(&out);
            let got = got.strip_suffix('\n').expect("one line");
            if ec {
                assert_eq!(without_signature(got), without_signature(want), "{what}");
                let ours = cf_b64decode(&param(got, "Signature"));
                let public = key("ec-p256-public.pem");
                assert!(
                    openssl_verifies(&public, "sha1", policy.as_bytes(), &ours),
                    "{what}"
                );
            } else {
                assert_eq!(got, want, "{what}");
            }
            checked += 1;
        }
    }
    // 11 keys (4 plain, 7 encrypted), canned and custom, in 4 forms.
    assert_eq!(checked, 11 * 2 * 4);
}

/// A key body under another label than its own, as OpenSSL 3 reads it:
/// PKCS#8 under `RSA PRIVATE KEY` or `EC PRIVATE KEY`, PKCS#1 or SEC1 under
/// `PRIVATE KEY`. RSA signs byte for byte as openssl did; ECDSA verifies.
#[test]
fn key_bodies_under_another_label_are_read_as_what_they_hold() {
    let v = Vector::by_id("rsa-sha1-canned-plain");
    let args = [
        v.s("url"),
        "--key-pair-id".into(),
        KEY_ID.into(),
        "--date-less-than".into(),
        v.expires().to_string(),
    ];
    for name in [
        "rsa2048-pkcs8-as-rsa-label.pem",
        "rsa2048-pkcs1-as-pkcs8-label.pem",
    ] {
        let out = sign_with(name, Form::FileUrl, &args);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout_of(&out), v.signed_url() + "\n", "{name}");
    }
    let policy = canned_policy(&v.s("url"), v.expires());
    for name in [
        "ec-p256-pkcs8-as-ec-label.pem",
        "ec-p256-sec1-as-pkcs8-label.pem",
    ] {
        let out = sign_with(name, Form::FileUrl, &args);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = stdout_of(&out);
        assert_eq!(param(url.trim(), "Hash-Algorithm"), "SHA256", "{name}");
        let signature = cf_b64decode(&param(url.trim(), "Signature"));
        assert!(
            openssl_verifies(
                &key("ec-p256-public.pem"),
                "sha256",
                policy.as_bytes(),
                &signature
            ),
            "{name}"
        );
    }
}

/// Every 16-character piece of a PEM file's base64 body.
fn body_pieces(pem: &str) -> Vec<String> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let chars: Vec<char> = body.chars().collect();
    chars.windows(16).map(|w| w.iter().collect()).collect()
}

#[track_caller]
fn assert_no_key_material(out: &Output, key_file: &str) {
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &stdout_of(out);
    let pem = std::fs::read_to_string(key(key_file)).unwrap();
    for piece in body_pieces(&pem) {
        assert!(!text.contains(&piece), "{key_file}: {text}");
    }
    assert!(!text.contains(PASSPHRASE), "{key_file}: {text}");
}

/// A wrong passphrase says so (and never "unsupported"); a scheme cfsign
/// cannot decrypt says "unsupported cipher", names it, and gives the
/// openssl command that converts it — whatever the passphrase, and without
/// asking for one. Neither message shows key material.
#[test]
fn a_wrong_passphrase_and_an_unsupported_cipher_say_which() {
    let args = [
        "https://h.example/a".to_string(),
        "--key-pair-id".into(),
        KEY_ID.into(),
        "--expires-in".into(),
        "1h".into(),
    ];
    for name in DECRYPTS {
        let out = cfsign()
            .arg("sign")
            .args(&args)
            .args(["--private-key", &key_arg(name)])
            .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", "not the passphrase")
            .output()
            .unwrap();
        assert_refused(&out, 2, &["key file", "wrong passphrase"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("unsupported"), "{name}: {stderr}");
        assert_no_key_material(&out, name);
    }
    for (name, scheme, _) in REFUSED {
        for passphrase in [Some(PASSPHRASE), Some("not the passphrase"), None] {
            let mut cmd = cfsign();
            cmd.arg("sign")
                .args(&args)
                .args(["--private-key", &key_arg(name)]);
            if let Some(p) = passphrase {
                cmd.env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", p);
            }
            let out = cmd.output().unwrap();
            assert_refused(
                &out,
                2,
                &[
                    "unsupported cipher",
                    scheme,
                    "openssl pkcs8 -topk8 -v2 aes-256-cbc",
                ],
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("wrong passphrase"), "{name}: {stderr}");
            assert_eq!(
                stderr.contains("-provider legacy"),
                name.contains("pbes1"),
                "{name}: {stderr}"
            );
            assert_no_key_material(&out, name);
        }
    }
}

/// The conversion the "unsupported cipher" message gives works: openssl
/// re-encrypts each refused key, and cfsign then signs with it byte for
/// byte as openssl signed with the plain key.
#[test]
fn the_suggested_conversion_makes_a_key_cfsign_signs_with() {
    let v = Vector::by_id("rsa-sha1-canned-plain");
    let dir = tempdir();
    let pass = format!("pass:{PASSPHRASE}");
    for (name, _, provider) in REFUSED {
        let converted = dir.path().join(name);
        let out = std::process::Command::new("openssl")
            .args(["pkcs8", "-topk8"])
            .args(provider)
            .args(["-v2", "aes-256-cbc", "-in"])
            .arg(key(name))
            .arg("-out")
            .arg(&converted)
            .args(["-passin", &pass, "-passout", &pass])
            .output()
            .expect("openssl is needed as the test oracle");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let private = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(&converted, private).unwrap();
        }
        let out = cfsign()
            .args(["sign", &v.s("url"), "--key-pair-id", KEY_ID])
            .args(["--date-less-than", &v.expires().to_string()])
            .arg("--private-key")
            .arg(&converted)
            .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", PASSPHRASE)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout_of(&out), v.signed_url() + "\n", "{name}");
    }
}
