//! Bad input to `get`, `put`, `verify` and `serve` (DESIGN.md §2): the
//! documented exit code, one stderr line saying what was wrong and how to
//! fix it, nothing on stdout, nothing left behind and nothing sent.

use crate::support::*;

/// Stdin feeds one input: the key, a policy, URLs and upload data cannot
/// share it, whichever command reads them.
#[test]
fn stdin_feeds_one_input_only() {
    let pem = std::fs::read_to_string(key("rsa2048-pkcs8.pem")).unwrap();
    let policy = r#"{"Statement":[{"Resource":"http://127.0.0.1:9/*","Condition":{"DateLessThan":{"AWS:EpochTime":4102444800}}}]}"#;
    let file = key_arg("rsa2048-pkcs8.pem");
    let url = "http://127.0.0.1:9/o.txt";
    let id = ["--key-pair-id", KEY_ID];
    let rows: &[(&[&str], &str, &[&str])] = &[
        (
            &["get", url, "--private-key", "-", "--policy", "-"],
            &pem,
            &["private key and the policy", "stdin"],
        ),
        (
            &[
                "put",
                "Cargo.toml",
                url,
                "--private-key",
                "-",
                "--policy",
                "-",
            ],
            &pem,
            &["private key and the policy", "stdin"],
        ),
        (
            &["put", "-", url, "--private-key", &file, "--policy", "-"],
            policy,
            &["policy and the data to upload", "stdin"],
        ),
        (
            &["sign", url, "--private-key", "-", "--policy", "-"],
            &pem,
            &["private key and the policy", "stdin"],
        ),
        (
            &["sign", "--private-key", &file, "--policy", "-"],
            policy,
            &["policy and the URLs", "stdin"],
        ),
    ];
    for (args, stdin, needles) in rows {
        let out = cfsign()
            .args(*args)
            .args(id)
            .write_stdin(*stdin)
            .output()
            .unwrap();
        assert_refused(&out, 2, needles);
    }
}
