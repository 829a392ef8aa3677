//! Secrets hygiene: no part of a private key or passphrase ever reaches
//! stdout or stderr, whatever fails; a key file others can read is warned
//! about once; no copy of a key is left in memory once it is loaded.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::table::Vector;
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

/// How a private key reaches `sign`, `get` and `put` in a row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    FlagPath,
    FlagFileUrl,
    /// `--private-key=PEM`, the AWS CLI's usage.
    FlagTextEquals,
    /// `--private-key PEM`: clap must take the `-----BEGIN` value.
    FlagText,
    /// `--private-key` with the PEM flattened to one line with literal `\n`.
    FlagFlat,
    EnvText,
    EnvFlat,
    EnvFile,
    /// `$CLOUDFRONT_PRIVATE_KEY_FILE` wrongly holding the PEM text.
    EnvFileText,
    ProfilePath,
    ProfileText,
    Stdin,
}

const WAYS: [Way; 12] = [
    Way::FlagPath,
    Way::FlagFileUrl,
    Way::FlagTextEquals,
    Way::FlagText,
    Way::FlagFlat,
    Way::EnvText,
    Way::EnvFlat,
    Way::EnvFile,
    Way::EnvFileText,
    Way::ProfilePath,
    Way::ProfileText,
    Way::Stdin,
];

/// How a key reaches `verify` and `serve`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PublicWay {
    Path,
    FileUrl,
    Text,
    /// `--public-key=ID=PEM`.
    TextEquals,
    Flat,
    /// The PEM text without `ID=`.
    TextWithoutId,
}

const PUBLIC_WAYS: [PublicWay; 6] = [
    PublicWay::Path,
    PublicWay::FileUrl,
    PublicWay::Text,
    PublicWay::TextEquals,
    PublicWay::Flat,
    PublicWay::TextWithoutId,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Damage {
    None,
    /// `sed '1s/-----$//'`: the header line loses its closing dashes.
    FirstLine,
    /// The same on the END line.
    LastLine,
    /// An intact encrypted key with the wrong passphrase.
    WrongPassphrase,
}

/// One key as a file in the table's folder, with its text.
struct KeyFile {
    name: &'static str,
    damage: Damage,
    path: String,
    text: String,
    /// Every 16-character window of the intact key's base64 lines.
    secrets: Vec<String>,
}

fn windows16(pem: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in pem
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':'))
    {
        let chars: Vec<char> = line.trim().chars().collect();
        out.extend(chars.windows(16).map(|w| w.iter().collect::<String>()));
    }
    out
}

fn damaged(text: &str, damage: Damage) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let strip = |l: &mut String| *l = l.trim_end_matches("-----").to_string();
    match damage {
        Damage::FirstLine => strip(&mut lines[0]),
        Damage::LastLine => strip(lines.last_mut().unwrap()),
        Damage::None | Damage::WrongPassphrase => {}
    }
    lines.join("\n") + "\n"
}

fn key_file(dir: &std::path::Path, name: &'static str, damage: Damage) -> KeyFile {
    use std::os::unix::fs::PermissionsExt;
    let intact = std::fs::read_to_string(key(name)).unwrap();
    let text = damaged(&intact, damage);
    let path = dir.join(format!("{damage:?}-{name}"));
    std::fs::write(&path, &text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    KeyFile {
        name,
        damage,
        path: path.display().to_string(),
        text,
        secrets: windows16(&intact),
    }
}

/// One run of the table and what it must give.
struct Row {
    label: String,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    stdin: Option<String>,
    code: i32,
    /// Words stderr must hold when the run is refused (code 2).
    needles: Vec<String>,
    /// The whole stdout, when it is known byte for byte.
    stdout: Option<String>,
    secrets: Vec<String>,
}

impl Row {
    /// Runs the row; `Err` says what was wrong.
    fn check(&self) -> Result<(), String> {
        let mut cmd = cfsign();
        cmd.args(&self.args)
            .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", PASSPHRASE)
            .timeout(std::time::Duration::from_secs(60));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.write_stdin(self.stdin.clone().unwrap_or_default());
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let fail = |why: String| Err(format!("{}: {why}\n  stderr: {stderr}", self.label));
        for secret in &self.secrets {
            if stdout.contains(secret.as_str()) || stderr.contains(secret.as_str()) {
                return fail(format!("output holds key material {secret:?}"));
            }
        }
        if out.status.code() != Some(self.code) {
            return fail(format!(
                "exit {:?}, expected {}",
                out.status.code(),
                self.code
            ));
        }
        if self.code == 2 {
            if !stdout.is_empty() || stderr.lines().count() != 1 {
                return fail("a refusal is one stderr line and no stdout".into());
            }
            for needle in &self.needles {
                if !stderr.contains(needle.as_str()) {
                    return fail(format!("stderr lacks {needle:?}"));
                }
            }
        }
        if let Some(expected) = &self.stdout {
            if stdout != *expected {
                return fail(format!("stdout {stdout:?}, expected {expected:?}"));
            }
        }
        Ok(())
    }
}

/// Runs rows on a few threads and reports every failing row at once.
fn run_rows(rows: &[Row]) {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(row) = rows.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(e) = row.check() {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// The arguments and environment that give `file` to a command `way`.
fn private_key_args(
    way: Way,
    file: &KeyFile,
    dir: &std::path::Path,
) -> (Vec<String>, Vec<(&'static str, String)>, Option<String>) {
    let flat = file.text.replace('\n', "\\n");
    let config = |value: String| {
        let path = dir.join(format!("{way:?}-{:?}-{}.toml", file.damage, file.name));
        std::fs::write(&path, format!("[profile.default]\nprivate_key = {value}\n")).unwrap();
        vec![("CFSIGN_CONFIG", path.display().to_string())]
    };
    let flag = |v: &str| vec!["--private-key".to_string(), v.to_string()];
    match way {
        Way::FlagPath => (flag(&file.path), vec![], None),
        Way::FlagFileUrl => (flag(&format!("file://{}", file.path)), vec![], None),
        Way::FlagTextEquals => (vec![format!("--private-key={}", file.text)], vec![], None),
        Way::FlagText => (flag(&file.text), vec![], None),
        Way::FlagFlat => (flag(&flat), vec![], None),
        Way::EnvText => (
            vec![],
            vec![("CLOUDFRONT_PRIVATE_KEY", file.text.clone())],
            None,
        ),
        Way::EnvFlat => (vec![], vec![("CLOUDFRONT_PRIVATE_KEY", flat)], None),
        Way::EnvFile => (
            vec![],
            vec![("CLOUDFRONT_PRIVATE_KEY_FILE", file.path.clone())],
            None,
        ),
        Way::EnvFileText => (
            vec![],
            vec![("CLOUDFRONT_PRIVATE_KEY_FILE", file.text.clone())],
            None,
        ),
        Way::ProfilePath => (vec![], config(format!("\"{}\"", file.path)), None),
        Way::ProfileText => (vec![], config(format!("\"\"\"\n{}\"\"\"", file.text)), None),
        Way::Stdin => (flag("-"), vec![], Some(file.text.clone())),
    }
}

/// What a refused run must name: the key's source, and what is wrong.
fn private_needles(way: Way, damage: Damage) -> Vec<String> {
    let source: &[&str] = match way {
        Way::FlagPath | Way::FlagFileUrl => &["key file"],
        Way::FlagTextEquals | Way::FlagText | Way::FlagFlat => &["--private-key"],
        Way::EnvText | Way::EnvFlat => &["$CLOUDFRONT_PRIVATE_KEY"],
        Way::EnvFile => &["key file", "$CLOUDFRONT_PRIVATE_KEY_FILE"],
        Way::EnvFileText => {
            return vec!["$CLOUDFRONT_PRIVATE_KEY_FILE holds PEM text, not a path".into()];
        }
        Way::ProfilePath => &["key file", "profile `default`"],
        Way::ProfileText => &["profile `default`"],
        Way::Stdin => &["stdin"],
    };
    let what = match damage {
        Damage::FirstLine => "header line is damaged",
        Damage::LastLine => "-----END",
        Damage::WrongPassphrase => "passphrase does not decrypt",
        Damage::None => "",
    };
    source
        .iter()
        .chain([&what])
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
        .collect()
}

/// The signed URL `sign` must print for an intact key: the openssl-made
/// vector for RSA (PKCS#1 v1.5 is deterministic); for ECDSA, whose openssl
/// signatures are random, cfsign's own RFC 6979 signature from the key file,
/// checked here once with openssl.
fn expected_signed_url(ec: bool) -> String {
    let v = Vector::by_id("rsa-sha1-canned-plain");
    if !ec {
        return v.signed_url() + "\n";
    }
    let out = cfsign()
        .args(["sign", &v.s("url"), "--date-less-than"])
        .arg(v.expires().to_string())
        .args(["--key-pair-id", KEY_ID, "--private-key"])
        .arg(key_arg("ec-p256-pkcs8.pem"))
        .output()
        .unwrap();
    let url = stdout_of(&out);
    let pairs = query_pairs(url.trim());
    let signature = &pairs.iter().find(|(n, _)| n == "Signature").unwrap().1;
    let policy = canned_policy(&v.s("url"), v.expires());
    assert!(openssl_verifies(
        &key("ec-p256-public.pem"),
        "sha256",
        policy.as_bytes(),
        &cf_b64decode(signature)
    ));
    url
}

/// The secrets table: `sign`, `get` and `put` with every way of giving a
/// private key, `verify` and `serve` with every way of giving `--public-key`;
/// RSA and EC keys in PKCS#1, PKCS#8 and SEC1, an encrypted PKCS#8 key, each
/// intact and with a damaged first or last line. No run prints a
/// 16-character piece of a key's base64 or the passphrase; intact keys work
/// in every form (`sign` byte for byte), damaged ones exit 2 naming the
/// key's source. Runs fail fast: downloads and uploads go to a closed port,
/// `serve` to a port in use.
#[test]
fn secrets_table() {
    let dir = tempdir();
    let upload = dir.path().join("up.txt");
    std::fs::write(&upload, "data").unwrap();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let rsa_url = expected_signed_url(false);
    let ec_url = expected_signed_url(true);
    let v = Vector::by_id("rsa-sha1-canned-plain");

    let private = [
        "rsa2048-pkcs1.pem",
        "rsa2048-pkcs8.pem",
        "rsa2048-pkcs8-encrypted.pem",
        "ec-p256-sec1.pem",
        "ec-p256-pkcs8.pem",
    ];
    let mut rows = Vec::new();
    for name in private {
        let mut damages = vec![Damage::None, Damage::FirstLine, Damage::LastLine];
        if name.contains("encrypted") {
            damages.push(Damage::WrongPassphrase);
        }
        for damage in damages {
            let file = key_file(dir.path(), name, damage);
            for way in WAYS {
                let (key_args, mut env, stdin) = private_key_args(way, &file, dir.path());
                if damage == Damage::WrongPassphrase {
                    env.push(("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", "wrong horse".into()));
                }
                let works = damage == Damage::None && way != Way::EnvFileText;
                let commands: [(Vec<String>, i32, Option<String>); 3] = [
                    (
                        vec![
                            "sign".into(),
                            v.s("url"),
                            "--date-less-than".into(),
                            v.expires().to_string(),
                        ],
                        0,
                        Some(
                            if name.starts_with("ec") {
                                &ec_url
                            } else {
                                &rsa_url
                            }
                            .clone(),
                        ),
                    ),
                    (
                        vec![
                            "get".into(),
                            format!("{closed}/a.txt"),
                            "-o".into(),
                            dir.path().join("got.txt").display().to_string(),
                            "--retries".into(),
                            "0".into(),
                        ],
                        4,
                        Some(String::new()),
                    ),
                    (
                        vec![
                            "put".into(),
                            upload.display().to_string(),
                            format!("{closed}/up.txt"),
                            "--retries".into(),
                            "0".into(),
                        ],
                        4,
                        Some(String::new()),
                    ),
                ];
                for (mut args, code, stdout) in commands {
                    let label = format!("{} {way:?} {name} {damage:?}", args[0]);
                    args.extend(["--key-pair-id".into(), KEY_ID.into()]);
                    args.extend(key_args.iter().cloned());
                    let mut secrets = file.secrets.clone();
                    secrets.extend([PASSPHRASE.to_string(), "wrong horse".into()]);
                    rows.push(Row {
                        label,
                        args,
                        env: env.clone(),
                        stdin: stdin.clone(),
                        code: if works { code } else { 2 },
                        needles: private_needles(way, damage),
                        stdout: if works { stdout } else { None },
                        secrets,
                    });
                }
            }
        }
    }

    let public = [
        "rsa2048-public.pem",
        "ec-p256-public.pem",
        "rsa2048-pkcs1.pem",
        "rsa2048-pkcs8.pem",
        "rsa2048-pkcs8-encrypted.pem",
        "ec-p256-sec1.pem",
        "ec-p256-pkcs8.pem",
    ];
    for name in public {
        let ec = name.starts_with("ec");
        let (id, vector) = if ec {
            ("K3ECDSAP256KEY", Vector::by_id("ecdsa-sha256-canned-plain"))
        } else {
            (KEY_ID, Vector::by_id("rsa-sha1-canned-plain"))
        };
        for damage in [Damage::None, Damage::FirstLine, Damage::LastLine] {
            let file = key_file(dir.path(), name, damage);
            for way in PUBLIC_WAYS {
                let spec = match way {
                    PublicWay::Path => format!("{id}={}", file.path),
                    PublicWay::FileUrl => format!("{id}=file://{}", file.path),
                    PublicWay::Text | PublicWay::TextEquals => format!("{id}={}", file.text),
                    PublicWay::Flat => format!("{id}={}", file.text.replace('\n', "\\n")),
                    PublicWay::TextWithoutId => file.text.clone(),
                };
                let key_args = match way {
                    PublicWay::TextEquals => vec![format!("--public-key={spec}")],
                    _ => vec!["--public-key".to_string(), spec],
                };
                let works = damage == Damage::None
                    && way != PublicWay::TextWithoutId
                    && !name.contains("encrypted");
                let needles = match (way, damage) {
                    (PublicWay::TextWithoutId, _) => vec!["without an ID".to_string()],
                    (_, Damage::FirstLine) => vec![format!("--public-key {id}"), "header".into()],
                    (_, Damage::LastLine) => vec![format!("--public-key {id}"), "-----END".into()],
                    _ => vec![format!("--public-key {id}"), "encrypted private key".into()],
                };
                let root = dir.path().display().to_string();
                for (mut args, code) in [
                    (vec!["verify".to_string(), vector.signed_url()], 0),
                    (
                        vec![
                            "serve".to_string(),
                            "--root".into(),
                            root,
                            "--listen".into(),
                            taken_addr.clone(),
                        ],
                        1,
                    ),
                ] {
                    let label = format!("{} {way:?} {name} {damage:?}", args[0]);
                    args.extend(key_args.iter().cloned());
                    rows.push(Row {
                        label,
                        args,
                        env: vec![],
                        stdin: None,
                        code: if works { code } else { 2 },
                        needles: needles.clone(),
                        stdout: None,
                        secrets: file.secrets.clone(),
                    });
                }
            }
        }
    }
    assert!(rows.len() > 800, "{} rows", rows.len());
    run_rows(&rows);
    drop(taken);
}

/// The readable memory of a running process that holds its heap: the
/// `[heap]` and anonymous mappings (other threads' arenas and stacks). The
/// main stack is left out: the environment and arguments live there, and a
/// process cannot wipe them.
/// `None` where the system forbids reading a child's memory (Yama
/// `ptrace_scope` 2 or 3 for a non-root user).
#[cfg(target_os = "linux")]
fn heap_of(pid: u32) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut heap = Vec::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let name = fields.get(5).copied().unwrap_or("");
        if !fields[1].starts_with('r') || !(name.is_empty() || name == "[heap]") {
            continue;
        }
        let (start, end) = fields[0].split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut region = vec![0; (end - start) as usize];
        if mem.seek(SeekFrom::Start(start)).is_ok() && mem.read_exact(&mut region).is_ok() {
            heap.extend_from_slice(&region);
        }
    }
    Some(heap)
}

/// The runs of 16 or more base64 characters in `bytes`, one per line.
#[cfg(target_os = "linux")]
fn base64_runs(bytes: &[u8]) -> String {
    let mut runs = String::new();
    for run in bytes
        .split(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
        .filter(|run| run.len() >= 16)
    {
        runs.push_str(std::str::from_utf8(run).unwrap());
        runs.push('\n');
    }
    runs
}

/// Every buffer that held a key while it was decoded (the file, the PEM's
/// base64 body, the DER, the decrypted PKCS#8, the passphrase) is wiped:
/// while `get` waits for a server that never answers, its heap holds no
/// 16-character piece of the key's base64, no 24-byte piece of its DER and
/// not the passphrase.
#[cfg(target_os = "linux")]
#[test]
fn no_copy_of_the_key_stays_in_memory_while_get_runs() {
    use base64::Engine as _;
    use std::io::Read;
    use std::process::Stdio;

    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/a.txt", server.local_addr().unwrap());
    let dir = tempdir();
    // `get` loads the system's certificate authorities, whose PEM text can
    // hold the same algorithm identifiers as a key's first bytes (an EC
    // key's `MBMGByqGSM49AgEG`): a window found there is public, not a copy.
    let public = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    for (name, how) in [
        ("rsa2048-pkcs8.pem", "--private-key"),
        ("rsa2048-pkcs1.pem", "--private-key"),
        ("ec-p256-sec1.pem", "--private-key"),
        ("rsa2048-pkcs8-encrypted.pem", "--private-key"),
        ("rsa2048-pkcs8-encrypted.pem", "stdin"),
        ("ec-p256-pkcs8.pem", "CLOUDFRONT_PRIVATE_KEY"),
    ] {
        let pem = std::fs::read_to_string(key(name)).unwrap();
        // The decrypted PKCS#8 of the encrypted key is the plain key's DER.
        let plain = std::fs::read_to_string(key(&name.replace("-encrypted", ""))).unwrap();
        let body: String = plain.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let mut cmd = cfsign_process();
        cmd.args(["get", &url, "--retries", "0", "--key-pair-id", KEY_ID, "-o"])
            .arg(dir.path().join("out"))
            .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", PASSPHRASE)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match how {
            "stdin" => cmd.args(["--private-key", "-"]),
            "--private-key" => cmd.arg("--private-key").arg(key(name)),
            env => cmd.env(env, &pem),
        };
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), pem.as_bytes()).unwrap();
        // Once the request arrives, the key has been loaded and used.
        let (mut conn, _) = server.accept().unwrap();
        let mut request = [0u8; 64];
        let _ = conn.read(&mut request);
        let heap = heap_of(child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        drop(conn);
        let Some(heap) = heap else {
            eprintln!("skipped: this system does not let a test read a child's memory");
            return;
        };

        let what = format!("{name} through {how}");
        assert!(heap.len() > 4096, "{what}: no heap read");
        // The heap's base64-looking runs, searched for every window (a
        // search of the whole heap per window would take minutes).
        let runs = base64_runs(&heap);
        for window in windows16(&plain)
            .iter()
            .chain(&windows16(&pem))
            .filter(|w| !public.contains(w.as_str()))
        {
            assert!(
                !runs.contains(window.as_str()),
                "{what}: base64 {window:?} in the heap"
            );
        }
        // Bytes as chars one for one, so that std's substring search (fast
        // even in a debug build) finds binary pieces.
        let bytes: String = heap.iter().map(|&b| b as char).collect();
        for piece in der.chunks_exact(24).step_by(4) {
            let piece: String = piece.iter().map(|&b| b as char).collect();
            assert!(!bytes.contains(&piece), "{what}: DER in the heap");
        }
        assert!(
            !bytes.contains(PASSPHRASE),
            "{what}: the passphrase in the heap"
        );
    }
}

/// A signed URL in a message loses its signature, whichever command shows
/// it.
#[test]
fn messages_about_signed_urls_elide_the_signature() {
    let signature = "SECRETSIGNATUREVALUE0123456789";
    for args in [
        vec![
            "get".to_string(),
            format!("http://[bad/x?Expires=1&Signature={signature}&Key-Pair-Id=K"),
        ],
        vec![
            "verify".to_string(),
            format!("h.example/x?Expires=1&Signature={signature}&Key-Pair-Id=K"),
        ],
    ] {
        let out = cfsign().args(&args).output().unwrap();
        assert_refused(&out, 2, &["Signature=…"]);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains(signature),
            "{args:?}"
        );
    }
}

/// A key's text given where another value goes — a positional URL, `--url`,
/// `-o`, `--policy`, a time, `--root`, a header, or an option clap refuses —
/// as PEM, flattened with literal `\n`, or indented (a YAML block): no
/// message shows any of it, whichever part of cfsign or clap reports it.
#[test]
fn key_text_in_the_wrong_place_is_never_echoed() {
    let dir = tempdir();
    let ok = key("rsa2048-pkcs8.pem").display().to_string();
    let upload = dir.path().join("up.txt");
    std::fs::write(&upload, "data").unwrap();
    let upload = upload.display().to_string();
    for name in ["rsa2048-pkcs8.pem", "ec-p256-sec1.pem"] {
        let pem = std::fs::read_to_string(key(name)).unwrap();
        let needles = secret_needles(&pem, PASSPHRASE);
        let pem = pem.trim_end().to_string();
        let indented: String = pem.lines().map(|l| format!("  {l}\n")).collect();
        for text in [pem.clone(), pem.replace('\n', "\\n"), indented] {
            let signing = ["--key-pair-id", KEY_ID, "--private-key", ok.as_str()];
            let u = "https://h.example/a";
            let cases: Vec<Vec<String>> = [
                vec!["sign", "--key-pair-id", KEY_ID, &text],
                vec!["sign", u, "--key-pair-id", &text, "--private-key", &ok],
                vec!["sign", u, "--hash-algorithm", &text],
                vec!["sign", "--url", &text],
                vec!["sign", "--", &text],
                vec!["sign", u, "--resource", &text],
                vec!["sign", u, "--policy", &text],
                vec!["sign", u, "--date-less-than", &text],
                vec!["sign", u, "--ip-address", &text],
                vec!["get", "--", &text],
                vec!["get", u, "-o", &text],
                vec!["verify", "--", &text],
                vec!["verify", u, "--client-ip", &text],
                vec!["verify", u, "--at", &text],
                vec!["put", &upload, "--", &text],
                vec!["put", "-H", &text, &upload, "http://127.0.0.1:9/x"],
                vec!["put", "--meta", &text, &upload, "http://127.0.0.1:9/x"],
                vec!["serve", "--no-auth", "--root", &text],
                vec!["serve", "--no-auth", "--root", ".", "--base-url", &text],
                vec!["keygen", "--out", &text],
            ]
            .into_iter()
            .map(|args| args.into_iter().map(String::from).collect())
            .collect();
            for args in cases {
                let mut cmd = cfsign();
                cmd.args(&args);
                if args[0] == "sign" && !args.contains(&"--private-key".to_string()) {
                    cmd.args(signing);
                }
                let out = cmd
                    .timeout(std::time::Duration::from_secs(20))
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(2), "{name}: {args:?}");
                assert_no_secret(&out, &needles, &format!("{name}: {args:?}"));
            }
        }
    }
}

/// A key given where something else goes — flattened to one line (`\n`
/// written out, as `CLOUDFRONT_PRIVATE_KEY` takes it) or as its bare base64
/// body — is not quoted back by clap's usage errors, nor by the messages of
/// values that fail to parse.
#[test]
fn a_misplaced_key_is_not_echoed_by_usage_errors() {
    let pem = std::fs::read_to_string(key("rsa2048-pkcs8.pem")).unwrap();
    let needles = secret_needles(&pem, "not-a-passphrase-in-this-test");
    let flattened = pem.trim_end().replace('\n', "\\n");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let url = "https://h.example/a";
    for value in [pem.as_str(), flattened.as_str(), body.as_str()] {
        let equals = format!("--hash-algorithm={value}");
        let cases: Vec<Vec<&str>> = vec![
            vec!["sign", url, "--hash-algorithm", value],
            vec!["sign", url, &equals],
            vec!["sign", url, "--expires-in", value],
            vec!["sign", url, "--same-site", value],
            vec!["sign", url, "--format", value],
            vec!["sign", "--privat-key", value],
            vec!["sign-cookies", value],
            vec!["verify", url, value],
            vec!["keygen", value],
            vec!["get", url, "--retries", value],
            vec!["serve", "--listen", value],
            vec!["completions", value],
        ];
        for args in cases {
            let out = cfsign()
                .args(&args)
                .args(["--key-pair-id", KEY_ID])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert_no_secret(&out, &needles, &format!("{:?}", &args[..2]));
        }
    }
}
