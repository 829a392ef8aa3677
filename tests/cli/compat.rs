//! Drop-in compatibility with `aws cloudfront sign`: what the AWS CLI and
//! botocore accept, cfsign accepts, with the same output.

use crate::support::*;

/// Recorded AWS CLI runs (`tests/fixtures/awscli-sign.json`).
#[derive(serde::Deserialize)]
struct Recorded {
    args: Vec<String>,
    stdout: String,
}

/// The key ID is not part of the signed bytes, so botocore's URL for one ID
/// with another ID swapped in is botocore's URL for that other ID.
#[test]
fn key_ids_the_aws_cli_signs_are_signed_with_a_warning_when_not_cloudfront_shaped() {
    let recorded: Vec<Recorded> = fixture_json("awscli-sign.json");
    let case = &recorded[0];
    for id in ["my_id", "CF_KEYPAIR_ID", "MY_KEY_ID", "K1TESTKEY"] {
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                if a == KEY_ID {
                    id.to_string()
                } else {
                    a.clone()
                }
            })
            .collect();
        let out = cfsign().arg("sign").args(&args).output().unwrap();
        let expected = case.stdout.replace(
            &format!("Key-Pair-Id={KEY_ID}"),
            &format!("Key-Pair-Id={id}"),
        );
        assert_eq!(stdout_of(&out).trim_end(), expected, "{id}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if id == "K1TESTKEY" {
            assert!(stderr.is_empty(), "{stderr}");
        } else {
            assert_one_warning(&out, &[id, "does not look like a CloudFront public key ID"]);
        }
    }
    for id in ["K2/x", "a;b", "a&b", "a=b", "a b"] {
        let out = cfsign()
            .args(["sign", "https://h.example/a", "--key-pair-id", id])
            .arg("--private-key")
            .arg(key("rsa2048-pkcs8.pem"))
            .output()
            .unwrap();
        assert_refused(
            &out,
            2,
            &["not a CloudFront key ID", "letters, digits and -._~"],
        );
    }
}
