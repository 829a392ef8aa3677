//! Input made to break cfsign, found in review: key files that panicked it
//! or kept it busy for minutes, keys given in the wrong place that a usage
//! error quoted whole, and AWS CLI `--private-key` and time forms that
//! cfsign read differently.

use std::process::Output;
use std::time::Duration;

use crate::support::*;

/// Long enough for a debug build on a loaded machine, far shorter than
/// what the hostile keys cost before they were refused up front.
const DEADLINE: Duration = Duration::from_secs(10);

fn sign_with(key: &str, extra: &[&str]) -> Output {
    cfsign()
        .args(["sign", "https://h.example/a", "--key-pair-id", KEY_ID])
        .args(["--date-less-than", "2030-01-01", "--private-key", key])
        .args(extra)
        .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", PASSPHRASE)
        .timeout(DEADLINE)
        .output()
        .unwrap()
}

/// RSA-256 cannot hold a PKCS#1 v1.5 DigestInfo (OpenSSL's "digest too big
/// for rsa key" was an `expect` panic, exit 101); RSA-32768 took about 15 s
/// per signature (and a 1 MiB key file, days). Both are refused before any
/// arithmetic, with the sizes that sign.
#[test]
fn rsa_keys_of_sizes_that_cannot_sign_are_refused_at_once() {
    for hash in ["SHA1", "SHA256"] {
        let out = sign_with(&key_arg("rsa256-tiny.pem"), &["--hash-algorithm", hash]);
        assert_refused(&out, 2, &["RSA-256", "512 to 16384 bits"]);
    }
    let out = sign_with(&key_arg("rsa32768-huge.pem"), &[]);
    assert_refused(&out, 2, &["RSA-32768", "512 to 16384 bits"]);
}

// A minimal DER writer for encrypted keys with chosen parameters.

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match body.len() {
        n if n < 0x80 => out.push(n as u8),
        n => {
            let bytes: Vec<u8> = n
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    out.extend_from_slice(body);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn int(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    if bytes.first().is_none_or(|&b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        body.extend(groups.iter().rev());
    }
    tlv(0x06, &body)
}

/// An `EncryptedPrivateKeyInfo`: PBES2 with `kdf`, AES-256-CBC, `data`.
fn encrypted_key(kdf: Vec<u8>, data: &[u8]) -> Vec<u8> {
    let aes = seq(&[oid("2.16.840.1.101.3.4.1.42"), tlv(0x04, &[7; 16])]);
    let pbes2 = seq(&[oid("1.2.840.113549.1.5.13"), seq(&[kdf, aes])]);
    seq(&[pbes2, tlv(0x04, data)])
}

fn pbkdf2(iterations: u64) -> Vec<u8> {
    let prf = seq(&[oid("1.2.840.113549.2.9"), vec![0x05, 0x00]]);
    let params = seq(&[tlv(0x04, &[1; 8]), int(iterations), prf]);
    seq(&[oid("1.2.840.113549.1.5.12"), params])
}

fn scrypt(n: u64, r: u64, p: u64) -> Vec<u8> {
    let params = seq(&[tlv(0x04, &[1; 8]), int(n), int(r), int(p)]);
    seq(&[oid("1.3.6.1.4.1.11591.4.11"), params])
}

/// Key derivations that cost minutes (PBKDF2 with 2^32-1 iterations: about
/// 15 min; scrypt with N·r·p = 2^26 within OpenSSL's memory limit: 20 s) are
/// refused before a passphrase is tried; invalid ones (scrypt N = 0, which
/// panicked inside pkcs5 in debug builds; no iteration) and ciphertext that
/// is no whole number of blocks are damaged files, not wrong passphrases.
#[test]
fn encrypted_keys_with_hostile_parameters_are_refused_up_front() {
    let dir = tempdir();
    let blocks = [7u8; 1216];
    let cases: [(&str, Vec<u8>, &[&str]); 7] = [
        (
            "iterations",
            encrypted_key(pbkdf2(u64::from(u32::MAX)), &blocks),
            &["unsupported cipher", "4294967295 iterations"],
        ),
        (
            "scrypt-work",
            encrypted_key(scrypt(1024, 1, 65535), &blocks),
            &["unsupported cipher", "N=1024, r=1, p=65535"],
        ),
        (
            "scrypt-n0",
            encrypted_key(scrypt(0, 8, 1), &blocks),
            &["damaged"],
        ),
        (
            "scrypt-n1000",
            encrypted_key(scrypt(1000, 8, 1), &blocks),
            &["damaged"],
        ),
        (
            "no-iterations",
            encrypted_key(pbkdf2(0), &blocks),
            &["damaged"],
        ),
        ("empty-data", encrypted_key(pbkdf2(1), &[]), &["damaged"]),
        (
            "partial-block",
            encrypted_key(pbkdf2(1), &[7; 17]),
            &["damaged"],
        ),
    ];
    for (name, der, needles) in cases {
        let path = dir.path().join(format!("{name}.der"));
        std::fs::write(&path, &der).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let out = sign_with(path.to_str().unwrap(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(!stderr.contains("wrong passphrase"), "{name}: {stderr}");
        assert_refused(&out, 2, needles);
    }
}

/// The AWS CLI reads `--private-key` through its paramfile prefixes:
/// `file://` and `fileb://` (which its help for the option names), with
/// `~` and `$VAR` expanded in the path (`os.path.expandvars(expanduser())`,
/// needed since no shell expands them after `file://`).
#[test]
fn private_key_paths_as_the_aws_cli_reads_them() {
    let home = tempdir();
    let pem = std::fs::read(key("rsa2048-pkcs8.pem")).unwrap();
    let copy = home.path().join("private_key.pem");
    std::fs::write(&copy, pem).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let signed = |value: &str| {
        let out = cfsign()
            .args(["sign", "https://h.example/a", "--key-pair-id", KEY_ID])
            .args(["--date-less-than", "2030-01-01", "--private-key", value])
            .env("HOME", home.path())
            .env("KEYS", home.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success() && stderr.is_empty(),
            "{value}: {stderr}"
        );
        stdout_of(&out)
    };
    let expected = signed(copy.to_str().unwrap());
    for value in [
        format!("fileb://{}", copy.display()),
        "file://~/private_key.pem".to_string(),
        "fileb://~/private_key.pem".to_string(),
        "file://$HOME/private_key.pem".to_string(),
        "file://${KEYS}/private_key.pem".to_string(),
    ] {
        assert_eq!(signed(&value), expected, "{value}");
    }
    let der = format!("fileb://{}", key("rsa2048-pkcs8.der").display());
    assert_eq!(signed(&der), expected);
}

/// A key given where another value belongs — a stray argument, or in
/// `--key-pair-id` when variables are swapped — is not quoted by the usage
/// error, also when a secret store flattened its newlines to `\n` (one
/// line, so nothing cut it short before); characters that would act on a
/// terminal (here a bidi override) are escaped, not written raw.
#[test]
fn usage_errors_never_quote_a_key() {
    let pem = std::fs::read_to_string(key("rsa2048-pkcs8.pem")).unwrap();
    let flat = pem.replace('\n', "\\n");
    let body_line = pem.lines().nth(4).unwrap().to_string();
    let runs: Vec<&str> = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.split('/'))
        .filter(|r| r.len() >= 12)
        .collect();
    let key_file = key_arg("rsa2048-pkcs8.pem");
    let cases: Vec<Vec<&str>> = vec![
        vec!["sign-cookies", &flat],
        vec![
            "sign",
            "https://h.example/a",
            "--private-key",
            &key_file,
            &body_line,
        ],
        vec![
            "sign",
            "https://h.example/a",
            "--private-key",
            &key_file,
            "--key-pair-id",
            &flat,
        ],
        vec![
            "sign",
            "https://h.example/a",
            "--private-key",
            &key_file,
            "--key-pair-id",
            &body_line,
        ],
        vec![
            "sign",
            "https://h.example/a",
            "--hash-algorithm",
            &body_line,
        ],
    ];
    for args in cases {
        let out = cfsign().args(&args).output().unwrap();
        assert_refused(&out, 2, &["not shown"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for run in &runs {
            assert!(!stderr.contains(run), "{args:?} quotes {run}: {stderr}");
        }
    }
    let out = cfsign().arg("sig\u{202e}n").output().unwrap();
    assert_refused(&out, 2, &["sig\\u{202e}n"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\u{202e}'), "{stderr:?}");
}

/// Unix seconds with a fraction as botocore reads them: `float()`, then
/// `datetime.fromtimestamp` rounds to microseconds half to even, then
/// `int()`. Recorded with botocore 1.44.8:
/// `int(datetime2timestamp(parse_to_aware_datetime(v)))`.
#[test]
fn fractional_unix_seconds_give_botocores_epoch() {
    for (text, epoch) in [
        ("1893456000.9999995", 1893456001),
        ("1893456000.99999949", 1893456001),
        ("1893456000.99999999999", 1893456001),
        ("1893456000.9999994", 1893456000),
        ("1893456000.5", 1893456000),
        ("1893456001.4999995", 1893456001),
    ] {
        let out = cfsign()
            .args(["sign", "https://h.example/a", "--key-pair-id", KEY_ID])
            .arg("--private-key")
            .arg(key("rsa2048-pkcs8.pem"))
            .args(["--date-less-than", text, "--format", "json"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&stdout_of(&out))
            .unwrap_or_else(|e| panic!("{text}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(json["expires"], epoch, "{text}");
    }
}
