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

/// One case of the AWS CLI's shared cookie vectors, as far as this test reads it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CookieCase {
    id: String,
    input: CookieInput,
    expected: CookieExpected,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CookieInput {
    resource: String,
    key_pair_id: String,
    private_key_file: String,
    expiration_date: Option<i64>,
    active_date: Option<i64>,
    ip_range: Option<String>,
    hash_algorithm: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CookieExpected {
    cookies: Option<std::collections::BTreeMap<String, String>>,
    error: Option<bool>,
}

/// `aws cloudfront sign-cookies ARGS` with `aws cloudfront` replaced by
/// `cfsign` (plus `--allow-past`: the vectors' expiry is 2026-01-01).
fn sign_cookies_args(input: &CookieInput) -> Vec<String> {
    let mut args = vec![
        "sign-cookies".to_string(),
        "--resource".into(),
        input.resource.clone(),
        "--key-pair-id".into(),
        input.key_pair_id.clone(),
        "--private-key".into(),
        format!(
            "file://{}",
            awscli_fixture(&input.private_key_file).display()
        ),
    ];
    for (flag, value) in [
        (
            "--date-less-than",
            input.expiration_date.map(|t| t.to_string()),
        ),
        (
            "--date-greater-than",
            input.active_date.map(|t| t.to_string()),
        ),
        ("--ip-address", input.ip_range.clone()),
        ("--hash-algorithm", input.hash_algorithm.clone()),
    ] {
        if let Some(value) = value {
            args.extend([flag.to_string(), value]);
        }
    }
    args.push("--allow-past".into());
    args
}

#[test]
fn sign_cookies_prints_the_aws_cli_json_object() {
    let cases: Vec<CookieCase> = fixture_json("awscli/sign-cookies-test-cases.json");
    let mut signed = 0;
    for case in &cases {
        let args = sign_cookies_args(&case.input);
        let out = cfsign().args(&args).output().unwrap();
        let what = format!("{}: cfsign {}", case.id, args.join(" "));
        // cfsign's documented deviations (tests/cli/vectors.rs): the expiry
        // defaults to one hour, and ECDSA keys may sign with SHA-1.
        let deviation = case.input.expiration_date.is_none()
            || case.id == "ecdsa-canned-policy-url-sha1-reject";
        if case.expected.error == Some(true) && !deviation {
            assert_eq!(out.status.code(), Some(2), "{what}");
            assert!(out.stdout.is_empty(), "{what}");
            continue;
        }
        let Some(expected) = &case.expected.cookies else {
            continue;
        };
        assert_eq!(out.status.code(), Some(0), "{what}: {:?}", out.stderr);
        let stdout = stdout_of(&out);
        // The AWS CLI's JSON output: four-space indent, newline at the end.
        assert!(
            stdout.starts_with("{\n    \"CloudFront-"),
            "{what}: {stdout}"
        );
        assert!(stdout.ends_with("\"\n}\n"), "{what}: {stdout}");
        let mut cookies: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&stdout).unwrap();
        if case.input.private_key_file.contains("ecdsa") {
            // ECDSA signatures are random: `tests/cli/vectors.rs` verifies them.
            let signature = cookies.remove("CloudFront-Signature").unwrap();
            assert!(!signature.is_empty());
        }
        assert_eq!(&cookies, expected, "{what}");
        signed += 1;
    }
    assert!(signed >= 5, "only {signed} cookie cases");
}

#[test]
fn sign_cookies_needs_a_resource() {
    let out = cfsign()
        .args(["sign-cookies", "--key-pair-id", KEY_ID])
        .arg("--private-key")
        .arg(key("rsa2048-pkcs8.pem"))
        .output()
        .unwrap();
    assert_refused(&out, 2, &["--resource"]);
}

// ---------------------------------------------------------------------------
// Times: dateutil's answers (tests/fixtures/dateutil-times.json)

#[derive(serde::Deserialize)]
struct DateutilTimes {
    command: String,
    cases: Vec<DateutilCase>,
}

#[derive(serde::Deserialize)]
struct DateutilCase {
    input: String,
    epoch: Option<i64>,
    error: Option<String>,
}

/// Inputs the AWS CLI (dateutil) reads that cfsign refuses on purpose, with
/// words of cfsign's message (README: "Compatibility with the AWS CLI").
const REFUSED_TIMES: [(&str, &str); 8] = [
    // dateutil: 01:00 / 00:15 *today*, almost always already past.
    ("1h", "use --expires-in 1h"),
    ("15m", "use --expires-in 15m"),
    // A policy's AWS:EpochTime cannot be negative; --allow-past keeps this.
    ("-5", "before 1970"),
    ("1969-12-31", "before 1970"),
    // Free-form dates outside the help's forms: month names, slashes (whose
    // day/month order readers disagree on), compact ISO, and zone names that
    // dateutil reads through the local zone or, unknown, as UTC.
    ("Jan 1 2030", "cannot read the time"),
    ("01/02/2030", "cannot read the time"),
    ("20300101T000000Z", "cannot read the time"),
    ("2030-01-01T00:00:00EST", "cannot read the time"),
];

/// Refused by the AWS CLI, signed by cfsign with `--allow-past`, which says
/// "sign what I typed" (without it they are refused: `time.rs` tests).
const SIGNED_TIMES: [(&str, i64); 1] = [("1893456000000", 1_893_456_000_000)];

/// `cfsign sign … --date-less-than TEXT --allow-past --format json`.
fn sign_at(text: &str) -> std::process::Output {
    cfsign()
        .args([
            "sign",
            "https://d111111abcdef8.cloudfront.net/a",
            "--key-pair-id",
            KEY_ID,
        ])
        .args(["--private-key", &key_arg("rsa2048-pkcs8.pem")])
        .args(["--date-less-than", text, "--allow-past", "--format", "json"])
        .output()
        .unwrap()
}

#[test]
fn times_give_the_epoch_the_aws_cli_gives() {
    let fixture: DateutilTimes = fixture_json("dateutil-times.json");
    assert!(fixture.command.contains("dateutil_times.py"));
    let (mut same, mut refused) = (0, 0);
    for case in &fixture.cases {
        let text = &case.input;
        let out = sign_at(text);
        let what = format!("--date-less-than {text:?}");
        if let Some((_, needle)) = REFUSED_TIMES.iter().find(|(t, _)| t == text) {
            assert!(case.epoch.is_some(), "{what}: dateutil reads it");
            assert_refused(&out, 2, &[needle]);
            continue;
        }
        let expected = match SIGNED_TIMES.iter().find(|(t, _)| t == text) {
            Some(&(_, epoch)) => {
                assert!(case.error.is_some(), "{what}: dateutil refuses it");
                Some(epoch)
            }
            None => case.epoch,
        };
        let Some(epoch) = expected else {
            assert_refused(&out, 2, &["time"]);
            refused += 1;
            continue;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
        assert_eq!(json["expires"], epoch, "{what}");
        same += 1;
    }
    assert!(
        same >= 30 && refused >= 6,
        "{same} signed, {refused} refused"
    );
    for (text, _) in REFUSED_TIMES.iter().chain(&[("1893456000000", "")]) {
        assert!(
            fixture.cases.iter().any(|c| c.input == *text),
            "{text} is not in the fixture"
        );
    }
}

/// The AWS CLI reads `--date-less-than 1h` as 01:00 today; cfsign points at
/// `--expires-in` instead, whatever the duration, in `sign` and `sign-cookies`.
#[test]
fn a_duration_as_the_expiry_time_points_to_expires_in() {
    for text in ["1h", "15m", "7d", "1h30m"] {
        assert_refused(&sign_at(text), 2, &[&format!("use --expires-in {text}")]);
        let out = cfsign()
            .args([
                "sign-cookies",
                "--resource",
                "https://d111111abcdef8.cloudfront.net/*",
            ])
            .args([
                "--key-pair-id",
                KEY_ID,
                "--private-key",
                &key_arg("rsa2048-pkcs8.pem"),
            ])
            .args(["--date-less-than", text])
            .output()
            .unwrap();
        assert_refused(&out, 2, &[&format!("use --expires-in {text}")]);
    }
}
