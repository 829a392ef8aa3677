//! Helpers shared by the integration tests: the binary with a scrubbed
//! environment, fixture paths, and small assertions.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Once;

use assert_cmd::Command;

pub mod answers;
pub mod awscli;
pub mod faulty;
pub mod proxy;
pub mod table;
pub mod tls;
pub mod transfer;

pub const KEY_ID: &str = "K2JCJMDEHXQW5F";
pub const PASSPHRASE: &str = "correct horse battery staple";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

/// A fixture key's path. Git stores files 0644; private keys are made 0600
/// here so that the "readable by others" warning does not fire in every test.
pub fn key(name: &str) -> PathBuf {
    static PERMS: Once = Once::new();
    PERMS.call_once(|| make_private(&fixtures().join("keys"), |_| true));
    fixtures().join("keys").join(name)
}

/// A key (or other file) of the AWS CLI's shared vectors in
/// `tests/fixtures/awscli/`; its `.pem` files are made 0600 like [`key`]'s.
pub fn awscli_fixture(name: &str) -> PathBuf {
    static PERMS: Once = Once::new();
    let dir = fixtures().join("awscli");
    PERMS.call_once(|| make_private(&dir, |p| p.extension().is_some_and(|e| e == "pem")));
    dir.join(name)
}

/// Sets mode 0600 on the files of `dir` that `select` picks (Unix only).
fn make_private(dir: &Path, select: fn(&Path) -> bool) {
    #[cfg(unix)]
    for entry in std::fs::read_dir(dir).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let path = entry.unwrap().path();
        if select(&path) {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, select);
}

/// Reads and parses a JSON file under `tests/fixtures/`.
pub fn fixture_json<T: serde::de::DeserializeOwned>(relative: &str) -> T {
    let path = fixtures().join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn key_arg(name: &str) -> String {
    format!("file://{}", key(name).display())
}

/// `program` in an environment of PATH and `TZ=UTC` alone: the developer's
/// HOME, AWS_*, CLOUDFRONT_*, CFSIGN_* and proxy variables would change what
/// cfsign reads, signs and connects to.
pub fn scrubbed(program: impl AsRef<OsStr>) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("TZ", "UTC");
    cmd
}

/// The binary under test, [`scrubbed`], from the repository root; for a
/// child that is spawned rather than run to its end (else use [`cfsign`]).
pub fn cfsign_process() -> std::process::Command {
    let mut cmd = scrubbed(env!("CARGO_BIN_EXE_cfsign"));
    cmd.current_dir(root());
    cmd
}

/// [`cfsign_process`] with assert_cmd's conveniences (`write_stdin`, `assert`).
pub fn cfsign() -> Command {
    Command::from_std(cfsign_process())
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Asserts the documented shape of a bad-input failure: the exit code, one
/// stderr line containing every needle, nothing on stdout.
#[track_caller]
pub fn assert_refused(output: &std::process::Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit code; stderr: {stderr}"
    );
    assert!(stdout.is_empty(), "stdout must be empty, got: {stdout}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "exactly one stderr line, got: {stderr}"
    );
    for needle in needles {
        assert!(
            stderr.to_lowercase().contains(&needle.to_lowercase()),
            "stderr lacks {needle:?}: {stderr}"
        );
    }
}

/// Asserts exit 0, showing stderr and stdout when it is not.
#[track_caller]
pub fn assert_ok(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Asserts a success that printed exactly one stderr line, a warning holding
/// every needle.
#[track_caller]
pub fn assert_one_warning(output: &std::process::Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("cfsign: warning: "), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    }
}

/// Runs `openssl dgst -<hash> -verify PUB -signature SIG` over `message`.
pub fn openssl_verifies(public_key: &Path, hash: &str, message: &[u8], signature: &[u8]) -> bool {
    let dir = tempdir();
    let msg = dir.path().join("msg");
    let sig = dir.path().join("sig");
    std::fs::write(&msg, message).unwrap();
    std::fs::write(&sig, signature).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["dgst", &format!("-{hash}"), "-verify"])
        .arg(public_key)
        .arg("-signature")
        .arg(&sig)
        .arg(&msg)
        .output()
        .expect("openssl is needed as the test oracle");
    out.status.success()
}

/// The canned policy CloudFront rebuilds from a request: exactly these bytes,
/// no whitespace, keys in this order; written out independently of the crate
/// under test.
pub fn canned_policy(resource: &str, expires: impl std::fmt::Display) -> String {
    format!(
        r#"{{"Statement":[{{"Resource":"{resource}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
    )
}

/// CloudFront's base64 (`+=/` → `-_~`), written here, not taken from cfsign.
pub fn cf_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace('+', "-")
        .replace('=', "_")
        .replace('/', "~")
}

/// Decodes CloudFront base64 independently of the crate under test.
pub fn cf_b64decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    let std: String = s
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(std)
        .unwrap()
}

/// Query parameters of a URL as (name, value) pairs, in order.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (n, v) = p.split_once('=').unwrap_or((p, ""));
                    (n.to_string(), v.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// `Set-Cookie:` lines as (name, value) pairs, in order; every line must be a
/// `Set-Cookie:` line (blank lines between URLs are skipped).
pub fn set_cookies(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let rest = line
                .strip_prefix("Set-Cookie: ")
                .unwrap_or_else(|| panic!("not a Set-Cookie line: {line}"));
            let pair = rest.split(';').next().unwrap();
            let (n, v) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("cookie without `=`: {line}"));
            (n.to_string(), v.to_string())
        })
        .collect()
}

/// Seconds since the Unix epoch, from the system clock.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub mod serve;
