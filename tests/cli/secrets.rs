//! Secrets hygiene: no part of a private key or passphrase ever reaches
//! stdout or stderr, whatever fails; a key file others can read is warned
//! about once.

use crate::support::*;

/// Every 12-character window of the key's base64 body, and the passphrase.
fn secret_needles(pem: &str, passphrase: &str) -> Vec<String> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':'))
        .collect();
    let chars: Vec<char> = body.chars().collect();
    let mut needles: Vec<String> = chars
        .windows(12)
        .step_by(3)
        .map(|w| w.iter().collect())
        .collect();
    needles.push(passphrase.to_string());
    needles
}

#[track_caller]
fn assert_no_secret(out: &std::process::Output, needles: &[String], what: &str) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in needles {
        assert!(
            !text.contains(needle.as_str()),
            "{what}: output contains secret material {needle:?}: {text}"
        );
    }
}

/// Arguments and extra environment variables of one failing run.
type Case = (Vec<String>, Vec<(&'static str, String)>);

#[test]
fn error_paths_never_print_key_material() {
    let passphrase = PASSPHRASE;
    let dir = tempdir();
    let mut checked = 0;
    for name in [
        "rsa2048-pkcs8.pem",
        "rsa2048-pkcs1.pem",
        "ec-p256-sec1.pem",
        "rsa2048-pkcs8-encrypted.pem",
    ] {
        let pem = std::fs::read_to_string(key(name)).unwrap();
        let needles = secret_needles(&pem, passphrase);
        // The same key damaged in its middle, and given where a public key goes.
        let mut lines: Vec<String> = pem.lines().map(str::to_string).collect();
        let mid = lines.len() / 2;
        lines[mid] = lines[mid].chars().rev().collect();
        let damaged = dir.path().join(format!("damaged-{name}"));
        std::fs::write(&damaged, lines.join("\n")).unwrap();
        let flattened = pem.replace('\n', "\\n");
        let cases: Vec<Case> = vec![
            (
                vec![
                    "sign".into(),
                    "not a url".into(),
                    "--key-pair-id".into(),
                    KEY_ID.into(),
                    "--private-key".into(),
                    key(name).display().to_string(),
                ],
                vec![],
            ),
            (
                vec![
                    "sign".into(),
                    "https://h.example/a".into(),
                    "--key-pair-id".into(),
                    KEY_ID.into(),
                    "--private-key".into(),
                    damaged.display().to_string(),
                ],
                vec![],
            ),
            (
                vec![
                    "sign".into(),
                    "https://h.example/a".into(),
                    "--date-less-than".into(),
                    "2001-01-01".into(),
                ],
                vec![
                    ("CLOUDFRONT_PRIVATE_KEY", flattened.clone()),
                    ("CLOUDFRONT_KEY_PAIR_ID", KEY_ID.into()),
                ],
            ),
            (
                vec![
                    "sign".into(),
                    "https://h.example/a".into(),
                    "--key-pair-id".into(),
                    "bad/id".into(),
                ],
                vec![("CLOUDFRONT_PRIVATE_KEY", flattened.clone())],
            ),
            (
                vec![
                    "verify".into(),
                    "https://h.example/a?Expires=1&Signature=AAAA&Key-Pair-Id=K".into(),
                    "--public-key".into(),
                    format!("K={}", damaged.display()),
                ],
                vec![],
            ),
            (
                vec![
                    "serve".into(),
                    "--root".into(),
                    "/nonexistent-root".into(),
                    "--public-key".into(),
                    format!("K={}", damaged.display()),
                ],
                vec![],
            ),
        ];
        let mut cases = cases;
        if name.contains("encrypted") {
            cases.push((
                vec![
                    "sign".into(),
                    "https://h.example/a".into(),
                    "--key-pair-id".into(),
                    KEY_ID.into(),
                    "--private-key".into(),
                    key(name).display().to_string(),
                ],
                vec![("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", "wrong".into())],
            ));
        }
        for (args, env) in cases {
            let mut cmd = cfsign();
            cmd.args(&args);
            cmd.env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", passphrase);
            for (k, v) in &env {
                cmd.env(k, v);
            }
            let out = cmd
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            assert_ne!(out.status.code(), Some(0), "{name}: {args:?} should fail");
            assert_no_secret(&out, &needles, &format!("{name}: {args:?}"));
            checked += 1;
        }
    }
    assert!(checked >= 25);
}

#[test]
fn a_key_file_others_can_read_is_warned_about_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let path = dir.path().join("key.pem");
    std::fs::copy(key("rsa2048-pkcs8.pem"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let urls = "https://h.example/a\nhttps://h.example/b\nhttps://h.example/c\n";
    let out = cfsign()
        .args(["sign", "--key-pair-id", KEY_ID, "--private-key"])
        .arg(&path)
        .write_stdin(urls)
        .output()
        .unwrap();
    assert_one_warning(&out, &["readable by other users", "chmod 600"]);
    assert_eq!(stdout_of(&out).lines().count(), 3);

    // get and put load the key the same way, and warn the same once.
    let server = crate::support::faulty::FaultyServer::start(b"hello".to_vec());
    let upload = dir.path().join("up.txt");
    std::fs::write(&upload, "data").unwrap();
    for args in [
        vec![
            "get".to_string(),
            server.url("/hello.txt"),
            "-o".into(),
            dir.path().join("got.txt").display().to_string(),
        ],
        vec![
            "put".to_string(),
            upload.display().to_string(),
            server.url("/up.txt"),
        ],
    ] {
        let out = cfsign()
            .args(&args)
            .args(["--key-pair-id", KEY_ID, "--private-key"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("readable by other users"),
            "{args:?}: {stderr}"
        );
    }

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = cfsign()
        .args([
            "sign",
            "https://h.example/a",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
}
