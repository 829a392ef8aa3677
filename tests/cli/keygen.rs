//! `cfsign keygen`, `completions` and `man`.

use crate::support::*;

#[test]
fn keygen_makes_keys_that_sign_and_verify() {
    for kind in ["rsa", "ecdsa"] {
        let dir = tempdir();
        let out = cfsign()
            .args(["keygen", "--type", kind, "--out"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_ok(&out);
        assert!(stdout_of(&out).contains("next steps"));
        let private = dir.path().join("private_key.pem");
        let public = dir.path().join("public_key.pem");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{kind}");
        }
        let private_text = std::fs::read_to_string(&private).unwrap();
        assert!(
            private_text.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{kind}"
        );
        assert!(
            std::fs::read_to_string(&public)
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        // Another implementation reads them.
        let check = std::process::Command::new("openssl")
            .args(["pkey", "-noout", "-in"])
            .arg(&private)
            .status()
            .unwrap();
        assert!(check.success());

        let url = "https://d111111abcdef8.cloudfront.net/a.txt";
        let out = cfsign()
            .args(["sign", url, "--key-pair-id", "KNEWKEY", "--private-key"])
            .arg(&private)
            .output()
            .unwrap();
        assert_ok(&out);
        assert!(
            out.stderr.is_empty(),
            "no warning for a fresh 0600 key: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let signed = stdout_of(&out).trim().to_string();
        let out = cfsign()
            .args(["verify", &signed, "--public-key"])
            .arg(format!("KNEWKEY={}", public.display()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", stdout_of(&out));

        // Never overwrites.
        let before = std::fs::read(&private).unwrap();
        let out = cfsign()
            .args(["keygen", "--type", kind, "--out"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_refused(&out, 2, &["already exists", "never overwrites"]);
        assert_eq!(std::fs::read(&private).unwrap(), before);
    }
}

#[test]
fn completions_and_man_page_generate() {
    for (shell, needle) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef cfsign"),
        ("fish", "complete -c cfsign"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = cfsign().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = stdout_of(&out);
        assert!(text.contains(needle), "{shell}");
        assert!(text.contains("key-pair-id"), "{shell}: flags are completed");
    }
    let out = cfsign().arg("man").output().unwrap();
    assert_ok(&out);
    let text = stdout_of(&out);
    assert!(
        text.starts_with(".ie") || text.contains(".TH cfsign"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("keygen") && text.contains("verify"));
    let out = cfsign().args(["completions", "tcsh"]).output().unwrap();
    assert_refused(&out, 2, &["tcsh"]);
}
