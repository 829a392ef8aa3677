//! Text from outside never reaches a terminal raw: for arbitrary bytes in a
//! URL, a policy's resource, a cookie, a file name or a server's error body,
//! every line cfsign prints (stdout and stderr) holds no control or
//! bidi-formatting character but the newline that ends it.

use std::ffi::OsString;
use std::process::Output;

use proptest::prelude::*;

use crate::support::faulty::{Fault, FaultyServer};
use crate::support::*;

/// Fails unless every line of stdout and stderr is free of unsafe
/// characters and ends with a newline.
fn assert_clean(output: &Output, what: &str) -> Result<(), TestCaseError> {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        prop_assert!(
            text.is_empty() || text.ends_with('\n'),
            "{what}: {stream} does not end with a newline: {text:?}"
        );
        for line in text.lines() {
            prop_assert!(
                !line.chars().any(cfsign::escape::is_unsafe),
                "{what}: {stream} line holds an unsafe character: {line:?}"
            );
        }
    }
    Ok(())
}

/// Text biased towards what breaks terminals and logs: C0 and C1 controls,
/// ESC sequences, bidi overrides, newlines, and ordinary characters.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\t".to_string()),
        Just("\x1b[31m".to_string()),
        Just("\x1b]0;title\x07".to_string()),
        Just("\u{9b}2J".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2066}".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{feff}".to_string()),
        Just("\u{2028}".to_string()),
        "[\\x01-\\x1f\\x7f]",
        "[a-z/.%?&=*]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(pieces, 1..8).prop_map(|v| v.concat().replace('\0', "\u{1}"))
}

/// Bytes for places that take bytes (argv, file names, bodies): anything but
/// NUL.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        hostile_text().prop_map(String::into_bytes),
        prop::collection::vec(1u8..=255, 1..24),
    ]
}

#[cfg(unix)]
fn os(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes.to_vec())
}

#[cfg(not(unix))]
fn os(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}

fn run(args: &[OsString]) -> Output {
    cfsign().args(args).output().unwrap()
}

fn policy_with_resource(resource: &str) -> String {
    serde_json::json!({"Statement": [{
        "Resource": resource,
        "Condition": {"DateLessThan": {"AWS:EpochTime": 4_102_444_800i64}}
    }]})
    .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn urls_from_outside_are_escaped(junk in hostile_bytes()) {
        let mut url = b"https://h.example/".to_vec();
        url.extend_from_slice(&junk);
        let url = os(&url);
        let signed = run(&[
            "sign".into(), url.clone(), "--key-pair-id".into(), KEY_ID.into(),
            "--private-key".into(), key_arg("rsa2048-pkcs8.pem").into(),
        ]);
        assert_clean(&signed, "sign")?;
        assert_clean(&run(&["verify".into(), url]), "verify")?;

        let mut local = b"http://127.0.0.1:9/".to_vec();
        local.extend_from_slice(&junk);
        let out = run(&["get".into(), os(&local), "--retries".into(), "0".into(), "-o".into(), "-".into()]);
        assert_clean(&out, "get")?;
    }

    #[test]
    fn policy_resources_are_escaped(resource in hostile_text()) {
        let dir = tempdir();
        let policy = policy_with_resource(&resource);
        let file = dir.path().join("policy.json");
        std::fs::write(&file, &policy).unwrap();
        let signed = run(&[
            "sign".into(), "https://h.example/a".into(), "--key-pair-id".into(), KEY_ID.into(),
            "--private-key".into(), key_arg("rsa2048-pkcs8.pem").into(),
            "--policy".into(), file.into_os_string(),
        ]);
        assert_clean(&signed, "sign --policy")?;

        // A URL built by hand around the same policy bytes, as a viewer
        // could send it to `verify`.
        let encoded = cfsign::sign::encode::encode(policy.as_bytes());
        let url = format!("https://h.example/a?Policy={encoded}&Signature=AAAA&Key-Pair-Id={KEY_ID}");
        assert_clean(&run(&["verify".into(), url.into()]), "verify policy")?;
    }

    #[test]
    fn cookies_are_escaped(junk in hostile_text(), resource in hostile_text()) {
        let cookie = format!("CloudFront-Key-Pair-Id={junk}; other={junk}");
        assert_clean(
            &run(&["verify".into(), "https://h.example/a".into(), "--cookie".into(), cookie.into()]),
            "verify --cookie",
        )?;
        let encoded = cfsign::sign::encode::encode(policy_with_resource(&resource).as_bytes());
        let cookie = format!(
            "CloudFront-Policy={encoded}; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id={KEY_ID}"
        );
        assert_clean(
            &run(&["verify".into(), "https://h.example/a".into(), "--cookie".into(), cookie.into()]),
            "verify --cookie policy",
        )?;
    }

    #[cfg(unix)]
    #[test]
    fn file_names_are_escaped(name in hostile_bytes()) {
        let name: Vec<u8> = name.into_iter().map(|b| if b == b'/' { b'_' } else { b }).collect();
        prop_assume!(name != b"." && name != b"..");
        let dir = tempdir();
        let folder = dir.path().join("up");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join(os(&name)), b"body").unwrap();
        let server = FaultyServer::start(Vec::new());
        let put = cfsign()
            .arg("put").arg("-r").arg(&folder).arg(server.url("/docs/"))
            .args(["--retries", "0"])
            .output().unwrap();
        assert_clean(&put, "put -r")?;

        // The same name as the last segment of a URL `get` names its file after.
        let get_server = FaultyServer::start(b"object".to_vec());
        let encoded: String = name.iter().map(|b| format!("%{b:02X}")).collect();
        let get = cfsign()
            .arg("get").arg(get_server.url(&format!("/docs/{encoded}")))
            .args(["--retries", "0", "--progress"])
            .current_dir(dir.path())
            .output().unwrap();
        // `--progress` prints the "saved NAME" summary even off a terminal.
        assert_clean(&get, "get")?;
        prop_assert!(String::from_utf8_lossy(&get.stderr).starts_with("saved "), "{:?}", get);
    }

    #[test]
    fn server_error_bodies_are_escaped(body in hostile_text()) {
        for (code, xml) in [
            (403, format!("<Error><Code>{body}</Code><Message>{body}</Message></Error>")),
            (400, body.clone()),
        ] {
            let server = FaultyServer::start(b"object".to_vec());
            server.script([Fault::Status(code, vec![], xml.clone())]);
            let get = cfsign()
                .arg("get").arg(server.url("/a")).args(["--retries", "0", "-o", "-"])
                .output().unwrap();
            assert_clean(&get, "get error body")?;

            server.script([Fault::Status(code, vec![], xml)]);
            let dir = tempdir();
            let file = dir.path().join("f");
            std::fs::write(&file, b"body").unwrap();
            let put = cfsign()
                .arg("put").arg(&file).arg(server.url("/a")).args(["--retries", "0"])
                .output().unwrap();
            assert_clean(&put, "put error body")?;
        }
    }
}
