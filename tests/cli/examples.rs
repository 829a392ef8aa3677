//! The library examples build and do what their doc comments say.

use crate::support::*;

/// Runs an example binary. `cargo test` builds the examples before the
/// tests; when this test runs alone (`--test cli`), it builds the one it needs.
fn run_example(name: &str, args: &[&str]) -> std::process::Output {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_cfsign"))
        .with_file_name("examples")
        .join(name);
    if !bin.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", name])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success(), "building example {name}");
    }
    std::process::Command::new(bin)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[test]
fn library_examples_sign_and_verify() {
    let key = key("rsa2048-pkcs8.pem").display().to_string();
    let out = run_example(
        "sign_url",
        &[
            &key,
            KEY_ID,
            "https://d111111abcdef8.cloudfront.net/image.jpg",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed = stdout_of(&out).trim().to_string();
    assert!(signed.starts_with("https://d111111abcdef8.cloudfront.net/image.jpg?Expires="));

    let public = key_path_str("rsa2048-public.pem");
    let out = run_example("verify_url", &[&signed, KEY_ID, &public]);
    assert!(
        stdout_of(&out).starts_with("accepted: expires at "),
        "{}",
        stdout_of(&out)
    );
    let out = run_example(
        "verify_url",
        &[&signed.replace("image.jpg", "image.png"), KEY_ID, &public],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout_of(&out).starts_with("rejected: AccessDenied (signature)"));

    let out = run_example(
        "signed_cookies",
        &[&key, KEY_ID, "d111111abcdef8.cloudfront.net"],
    );
    let text = stdout_of(&out);
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split(['=', ' ']).nth(1).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CloudFront-Policy",
            "CloudFront-Signature",
            "CloudFront-Key-Pair-Id"
        ],
        "{text}"
    );
    // The cookies verify for an object under the path.
    let header = text
        .lines()
        .map(|l| {
            l.trim_start_matches("Set-Cookie: ")
                .split(';')
                .next()
                .unwrap()
        })
        .collect::<Vec<_>>()
        .join("; ");
    let out = cfsign()
        .args([
            "verify",
            "https://d111111abcdef8.cloudfront.net/members/a/b.mp4",
            "--cookie",
            &header,
        ])
        .arg("--public-key")
        .arg(format!("{KEY_ID}={public}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
}

fn key_path_str(name: &str) -> String {
    key(name).display().to_string()
}
