//! Bad input to `get`, `put`, `verify` and `serve`: the exit code of its
//! class (2 usage or input, 3 the server refused, 4 network or 5xx after
//! retries, 5 integrity, 1 anything else), one stderr line saying what was
//! wrong and how to fix it, nothing on stdout, nothing left behind and
//! nothing sent.

use std::path::Path;
use std::time::Duration;

use crate::support::faulty::FaultyServer;
use crate::support::serve::{ServeProcess, list_dir};
use crate::support::table::Vector;
use crate::support::*;

/// One bad input: the arguments (and environment, stdin) of one run, the
/// exit code, and words the one stderr line must contain.
struct Row {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    stdin: Vec<u8>,
    code: i32,
    needles: Vec<String>,
}

fn row(code: i32, args: &[&str], needles: &[&str]) -> Row {
    Row {
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        stdin: Vec::new(),
        code,
        needles: needles.iter().map(|n| n.to_string()).collect(),
    }
}

impl Row {
    fn env(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.env.push((name, value.into()));
        self
    }

    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// Runs `cfsign COMMAND ARGS` in `cwd` and checks the refusal.
    #[track_caller]
    fn check(&self, command: &str, cwd: &Path) {
        let out = cfsign()
            .current_dir(cwd)
            .arg(command)
            .args(&self.args)
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .write_stdin(self.stdin.clone())
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        // Printed only when the row fails: which row it was.
        let env: Vec<&str> = self.env.iter().map(|(n, _)| *n).collect();
        eprintln!("row: cfsign {command} {:?} env {env:?}", self.args);
        let needles: Vec<&str> = self.needles.iter().map(String::as_str).collect();
        assert_refused(&out, self.code, &needles);
        self.assert_no_secret(&String::from_utf8_lossy(&out.stderr));
    }

    /// Nothing of a key file named in the arguments, or of a key or
    /// passphrase fed by stdin or the environment, comes back in the message.
    #[track_caller]
    fn assert_no_secret(&self, stderr: &str) {
        let keys = fixtures().join("keys");
        let files: Vec<Vec<u8>> = self
            .args
            .iter()
            .filter_map(|a| a.find(keys.to_str().unwrap()).map(|i| &a[i..]))
            .filter_map(|path| std::fs::read(path).ok())
            .collect();
        let secrets = self
            .env
            .iter()
            .filter(|(n, _)| !n.ends_with("_FILE"))
            .map(|(_, v)| v.as_bytes())
            .chain([self.stdin.as_slice()])
            .chain(files.iter().map(Vec::as_slice));
        for secret in secrets {
            for line in String::from_utf8_lossy(secret).lines() {
                let line = line.trim();
                if line.len() >= 12 && !line.starts_with("-----") {
                    assert!(!stderr.contains(&line[..12]), "secret in stderr: {stderr}");
                }
            }
        }
    }
}

/// `--key-pair-id KEY_ID --private-key file://…/NAME`.
fn with_key(name: &str, args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend([
        "--key-pair-id".into(),
        KEY_ID.into(),
        "--private-key".into(),
    ]);
    all.push(key_arg(name));
    all
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A loopback address nothing listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// `get`: a folder holding `keep.txt` is the working folder and the
/// destination of the rows that reach a server; after every row it holds
/// `keep.txt` alone, unchanged (no partial file, nothing overwritten).
#[test]
fn get_bad_inputs() {
    let objects = tempdir();
    std::fs::write(objects.path().join("a.txt"), b"hello\n").unwrap();
    let server = ServeProcess::open(objects.path());
    let closed = closed_port();
    let url = format!("{closed}/a.txt");
    let url = url.as_str();
    let signed = |args: &[&str]| with_key("rsa2048-pkcs8.pem", args);
    let pem = std::fs::read_to_string(key("rsa2048-pkcs8.pem")).unwrap();
    let damaged: String = pem.lines().take(8).collect::<Vec<_>>().join("\n");
    let zeros = "0".repeat(64);

    let rows = [
        row(2, &[], &["required", "<URL>"]),
        row(
            2,
            &["d111111abcdef8.cloudfront.net/a.txt"],
            &["not a URL", "https://"],
        ),
        row(
            2,
            &["ftp://127.0.0.1/a.txt"],
            &["ftp", "http:// or https://"],
        ),
        row(
            2,
            &[
                url,
                "--key-pair-id",
                KEY_ID,
                "--private-key",
                "/nonexistent/key.pem",
            ],
            &["cannot read the private key", "no such file"],
        ),
        row(
            2,
            &strs(&with_key("garbage.pem", &[url])),
            &["could not be decoded"],
        ),
        row(
            2,
            &strs(&with_key("rsa2048-public.pem", &[url])),
            &["public key, not a private key"],
        ),
        row(
            2,
            &strs(&with_key("rsa2048-pkcs8-encrypted.pem", &[url])),
            &["passphrase does not decrypt"],
        )
        .env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", "wrong horse battery"),
        row(
            2,
            &[url, "--key-pair-id", KEY_ID],
            &["$CLOUDFRONT_PRIVATE_KEY", "could not be decoded"],
        )
        .env("CLOUDFRONT_PRIVATE_KEY", damaged),
        row(
            2,
            &[url, "--key-pair-id", KEY_ID],
            &["no private key", "--private-key"],
        ),
        row(
            2,
            &[url, "--private-key", &key_arg("rsa2048-pkcs8.pem")],
            &["key pair ID", "CLOUDFRONT_KEY_PAIR_ID"],
        ),
        row(
            2,
            &[
                url,
                "--key-pair-id",
                "K2/../x",
                "--private-key",
                &key_arg("rsa2048-pkcs8.pem"),
            ],
            &["not a CloudFront key ID"],
        ),
        row(
            2,
            &[url, "--sha256", "abc123"],
            &["--sha256", "64 hex digits"],
        ),
        row(2, &[url, "--sha256", &"g".repeat(64)], &["64 hex digits"]),
        row(2, &[url, "-c", "-o", "-"], &["--continue", "-o PATH"]),
        row(
            2,
            &[url, "-o", "missing/a.txt"],
            &["missing", "does not exist"],
        ),
        row(2, &[url, "-o", "missing/"], &["missing/", "does not exist"]),
        row(2, &[url, "-o", "keep.txt/"], &["keep.txt/", "not a folder"]),
        row(
            2,
            &[url, "--retries", "many"],
            &["--retries", "invalid digit"],
        ),
        row(
            2,
            &strs(&signed(&[url, "--expires-in", "an hour"])),
            &["duration", "1h30m"],
        ),
        row(
            2,
            &strs(&signed(&[url, "--date-less-than", "2020-01-01"])),
            &["in the past", "--allow-past"],
        ),
        row(
            2,
            &strs(&signed(&[url, "--date-less-than", "1893456000000"])),
            &["milliseconds"],
        ),
        row(
            2,
            &strs(&signed(&[&format!("{url}#top")])),
            &["fragment", "remove it"],
        ),
        row(
            2,
            &strs(&signed(&[url, "--ip-address", "2001:db8::/32"])),
            &["--ip-address", "IPv6"],
        ),
        row(
            2,
            &strs(&signed(&[url, "--resource", &format!("{closed}/videos/*")])),
            &["not covered", "--resource"],
        ),
        row(
            2,
            &[url, "--hash-algorithm", "MD5"],
            &["--hash-algorithm", "possible values", "SHA256"],
        ),
        row(
            2,
            &strs(&signed(&[
                url,
                "--expires-in",
                "1h",
                "--date-less-than",
                "2030-01-01",
            ])),
            &["--expires-in", "cannot be used with"],
        ),
        // Past the options: the network and the server.
        row(
            4,
            &[url, "--retries", "0", "-o", "keep.txt"],
            &["cannot connect", "refused"],
        ),
        row(
            3,
            &[
                &server.url("/missing.txt"),
                "--retries",
                "0",
                "-o",
                "keep.txt",
            ],
            &["404 NoSuchKey"],
        ),
        row(
            5,
            &[&server.url("/a.txt"), "-o", "keep.txt", "--sha256", &zeros],
            &["SHA-256 mismatch", &zeros],
        ),
    ];
    let dir = tempdir();
    std::fs::write(dir.path().join("keep.txt"), b"precious").unwrap();
    for row in &rows {
        row.check("get", dir.path());
        assert_eq!(list_dir(dir.path()), ["keep.txt"], "{:?}", row.args);
        assert_eq!(
            std::fs::read(dir.path().join("keep.txt")).unwrap(),
            b"precious"
        );
    }
}

/// `put`: every row is refused before a byte is sent.
#[test]
fn put_bad_inputs() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("f.txt"), b"f").unwrap();
    std::fs::write(d.join("g.txt"), b"g").unwrap();
    std::fs::create_dir(d.join("folder")).unwrap();
    std::fs::write(d.join("folder/x.txt"), b"x").unwrap();
    let huge = std::fs::File::create(d.join("huge.iso")).unwrap();
    huge.set_len((5 << 30) + 1).unwrap(); // sparse: no disk used
    drop(huge);
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("/proc/self/environ", d.join("env")).unwrap();
        std::fs::create_dir(d.join("links-only")).unwrap();
        symlink("/etc/passwd", d.join("links-only/passwd")).unwrap();
        symlink("../f.txt", d.join("links-only/f.txt")).unwrap();
    }
    let server = FaultyServer::start(Vec::new());
    let url = server.url("/f.txt");
    let url = url.as_str();
    let prefix = server.url("/p/");
    let prefix = prefix.as_str();
    let pem = std::fs::read_to_string(key("rsa2048-pkcs8.pem")).unwrap();

    let rows = [
        row(2, &[], &["required", "<FILE>"]),
        row(2, &["f.txt"], &["give the files to upload, then the URL"]),
        row(
            2,
            &["missing.txt", url],
            &["cannot read missing.txt", "no such file"],
        ),
        row(2, &["folder", url], &["folder is a folder", "pass -r"]),
        row(2, &["huge.iso", url], &["single-PUT limit", "5 GiB"]),
        // A host the HTTP client cannot parse is bad input, not a network failure.
        row(
            2,
            &["f.txt", "http://[zz]/f.txt"],
            &["`http://[zz]/f.txt` is not a URL (invalid IPv6 address)"],
        ),
        row(
            2,
            &["f.txt", "http://h:99999/f.txt"],
            &["is not a URL (invalid port number)"],
        ),
        row(
            2,
            &["f.txt", "g.txt", &server.url("/x")],
            &["2 files", "end the URL with /"],
        ),
        row(
            2,
            &["f.txt", "127.0.0.1/f.txt"],
            &["no http:// or https:// scheme"],
        ),
        row(
            2,
            &["f.txt", "ftp://127.0.0.1/f.txt"],
            &["no http:// or https:// scheme"],
        ),
        row(
            2,
            &["f.txt", &format!("{url}#top")],
            &["fragment", "remove it"],
        ),
        row(
            2,
            &["f.txt", url, "--meta", "owner"],
            &["--meta", "key=value"],
        ),
        row(
            2,
            &["f.txt", url, "--meta", "=me"],
            &["--meta", "key is empty"],
        ),
        row(
            2,
            &["f.txt", url, "--header", "X-Note"],
            &["--header", "Name: value"],
        ),
        row(
            2,
            &["f.txt", url, "--header", "X-Note: café"],
            &["X-Note", "printable ASCII"],
        ),
        row(
            2,
            &["f.txt", url, "--header", "X Note: v"],
            &["X Note", "not a valid header name"],
        ),
        row(
            2,
            &["f.txt", url, "--header", "Content-Length: 1"],
            &["Content-Length", "set by cfsign"],
        ),
        row(
            2,
            &["f.txt", url, "--content-type", "text/plain; charset=ü"],
            &["Content-Type", "printable ASCII"],
        ),
        row(2, &["f.txt", url, "--jobs", "0"], &["--jobs", "1..=64"]),
        row(2, &["f.txt", url, "--jobs", "65"], &["--jobs", "1..=64"]),
        row(
            2,
            &["f.txt", url, "--acl", "private", "--no-acl"],
            &["--acl", "cannot be used with", "--no-acl"],
        ),
        row(
            2,
            &["f.txt", url, "--acl", "everyone"],
            &["--acl", "possible values", "public-read"],
        ),
        row(
            2,
            &["f.txt", url, "--format", "xml"],
            &["--format", "possible values", "json"],
        ),
        row(
            2,
            &["-", url, "--key-pair-id", KEY_ID, "--private-key", "-"],
            &["private key is read from stdin", "--private-key PATH"],
        )
        .stdin(pem.clone()),
        row(
            2,
            &["-", "f.txt", prefix],
            &["- (stdin) must be the only file"],
        )
        .stdin("data"),
        row(
            2,
            &["-", prefix],
            &["stdin has no file name", "full object URL"],
        )
        .stdin("data"),
        row(
            2,
            &strs(&with_key(
                "rsa2048-pkcs8.pem",
                &["f.txt", url, "--resource", prefix],
            )),
            &["not covered", "--resource"],
        ),
        row(
            2,
            &strs(&with_key("dsa.pem", &["f.txt", url])),
            &["DSA", "not supported"],
        ),
        row(
            2,
            &strs(&with_key(
                "rsa2048-pkcs8.pem",
                &["f.txt", url, "--date-less-than", "20300101"],
            )),
            &["YYYYMMDD", "YYYY-MM-DD"],
        ),
        row(
            2,
            &strs(&with_key(
                "rsa2048-pkcs8.pem",
                &[
                    "f.txt",
                    url,
                    "--date-less-than",
                    "1776-07-04",
                    "--allow-past",
                ],
            )),
            &["before 1970-01-01", "cannot be negative"],
        ),
        row(
            2,
            &["f.txt", url, "--follow-symlinks"],
            &["--follow-symlinks is for links in folders", "add -r"],
        ),
    ];
    for row in &rows {
        row.check("put", d);
    }
    // Nothing is read from /proc, /sys or /dev, named or walked, and a
    // folder whose entries all lead out of it has nothing to upload.
    #[cfg(unix)]
    for row in [
        row(
            2,
            &["env", url],
            &[
                "env (as /proc/",
                "in /proc, /sys or /dev",
                "cfsign put - URL < env",
            ],
        ),
        row(2, &["/sys/kernel/notes", url], &["cfsign never reads them"]),
        row(2, &["-r", "/dev/", prefix], &["in /proc, /sys or /dev"]),
        row(
            2,
            &["-r", "links-only", prefix],
            &["nothing to upload", "only 2 links or special files"],
        ),
    ] {
        row.check("put", d);
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

/// `verify`: exit 2 for input it cannot judge (exit 3 is a verdict).
#[test]
fn verify_bad_inputs() {
    let v = Vector::by_id("rsa-sha1-canned-plain").signed_url();
    let v = v.as_str();
    let relative = &v[v.find("/image").expect("a path")..];
    let public = |name: &str| format!("{KEY_ID}={}", key(name).display());
    let rows = [
        row(2, &[], &["required", "<URL>"]),
        row(
            2,
            &["d111111abcdef8.cloudfront.net/image.jpg"],
            &["not a full URL", "scheme and host"],
        ),
        row(2, &[relative], &["not a full URL"]),
        row(
            2,
            &[v, "--public-key", KEY_ID],
            &["--public-key", "ID=PATH"],
        ),
        row(
            2,
            &[
                v,
                "--public-key",
                &format!("={}", key("rsa2048-public.pem").display()),
            ],
            &["--public-key", "ID=PATH"],
        ),
        row(
            2,
            &[
                v,
                "--public-key",
                &format!("{KEY_ID}=/nonexistent/public.pem"),
            ],
            &["cannot read the public key", "no such file"],
        ),
        row(
            2,
            &[
                v,
                "--public-key",
                &format!("{KEY_ID}={}", fixtures().display()),
            ],
            &["cannot read the public key", "directory"],
        ),
        row(
            2,
            &[v, "--public-key", &public("garbage.pem")],
            &["could not be decoded"],
        ),
        row(
            2,
            &[v, "--public-key", &public("not-a-key.txt")],
            &["neither PEM nor DER", "BEGIN PUBLIC KEY"],
        ),
        row(
            2,
            &[v, "--public-key", &public("rsa2048-pkcs8-encrypted.pem")],
            &["encrypted private key", "openssl pkey -pubout"],
        ),
        row(
            2,
            &[v, "--public-key", &public("dsa.pem")],
            &["DSA", "not supported"],
        ),
        row(
            2,
            &[v, "--public-key", &public("ec-p384.pem")],
            &["P-384", "P-256"],
        ),
        row(
            2,
            &[
                v,
                "--public-key",
                &format!("K2/x={}", key("rsa2048-public.pem").display()),
            ],
            &["not a CloudFront key ID"],
        ),
        row(
            2,
            &[v, "--client-ip", "2001:db8::1"],
            &["--client-ip", "IPv4"],
        ),
        row(
            2,
            &[v, "--client-ip", "10.0.0.0/8"],
            &["--client-ip", "IPv4"],
        ),
        row(
            2,
            &[v, "--at", "yesterday"],
            &["cannot read the time", "YYYY-MM-DD"],
        ),
        row(2, &[v, "--at", "2030-13-01"], &["cannot read the time"]),
    ];
    for row in &rows {
        row.check("verify", &root());
    }
}

/// `serve`: refused before it listens; the root is left as it was.
#[test]
fn serve_bad_inputs() {
    let dir = tempdir();
    let served = dir.path().join("root");
    std::fs::create_dir(&served).unwrap();
    std::fs::write(dir.path().join("file.txt"), b"not a folder").unwrap();
    let root = served.to_str().unwrap();
    let public = |name: &str| format!("{KEY_ID}={}", key(name).display());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let open = |args: &[&str]| -> Vec<String> {
        ["--no-auth", "--root", root, "--listen", "127.0.0.1:0"]
            .iter()
            .chain(args)
            .map(|a| a.to_string())
            .collect()
    };
    let signed = |args: &[&str]| -> Vec<String> {
        ["--root", root, "--listen", "127.0.0.1:0"]
            .iter()
            .chain(args)
            .map(|a| a.to_string())
            .collect()
    };
    let missing = dir.path().join("missing");
    let file = dir.path().join("file.txt");
    let rows = [
        row(2, &["--no-auth"], &["required", "--root"]),
        row(
            2,
            &["--no-auth", "--root", missing.to_str().unwrap()],
            &["cannot serve", "no such file"],
        ),
        row(
            2,
            &["--no-auth", "--root", file.to_str().unwrap()],
            &["cannot serve", "not a folder"],
        ),
        row(2, &strs(&signed(&[])), &["--public-key", "--no-auth"]),
        row(
            2,
            &strs(&open(&["--public-key", &public("rsa2048-public.pem")])),
            &["--no-auth", "cannot be used with", "--public-key"],
        ),
        row(
            2,
            &["--no-auth", "--root", root, "--listen", "localhost:8080"],
            &["--listen", "IP address and a port"],
        ),
        row(
            2,
            &["--no-auth", "--root", root, "--listen", "127.0.0.1"],
            &["--listen", "IP address and a port"],
        ),
        row(
            2,
            &["--no-auth", "--root", root, "--listen", "127.0.0.1:65536"],
            &["--listen", "IP address and a port"],
        ),
        row(
            1,
            &["--no-auth", "--root", root, "--listen", &taken],
            &[&taken, "in use", "port 0"],
        ),
        row(
            2,
            &strs(&signed(&["--public-key", KEY_ID])),
            &["--public-key", "ID=PATH"],
        ),
        row(
            2,
            &strs(&signed(&[
                "--public-key",
                &format!("{KEY_ID}=/nonexistent/public.pem"),
            ])),
            &["cannot read the public key", "no such file"],
        ),
        row(
            2,
            &strs(&signed(&["--public-key", &public("garbage.pem")])),
            &["could not be decoded"],
        ),
        row(
            2,
            &strs(&signed(&[
                "--public-key",
                &public("rsa2048-pkcs8-encrypted.pem"),
            ])),
            &["encrypted private key", "openssl pkey -pubout"],
        ),
        row(
            2,
            &strs(&signed(&["--public-key", &public("ed25519.pem")])),
            &["Ed25519", "not supported"],
        ),
        row(
            2,
            &strs(&open(&["--base-url", "d111111abcdef8.cloudfront.net"])),
            &["--base-url", "scheme and host"],
        ),
        row(
            2,
            &strs(&open(&[
                "--base-url",
                "https://d111111abcdef8.cloudfront.net/media",
            ])),
            &["--base-url", "scheme and host"],
        ),
        row(
            2,
            &strs(&open(&[
                "--base-url",
                "ftp://d111111abcdef8.cloudfront.net",
            ])),
            &["--base-url", "scheme and host"],
        ),
    ];
    for row in &rows {
        row.check("serve", dir.path());
    }
    assert!(list_dir(&served).is_empty(), "the root was written to");
    assert_eq!(list_dir(dir.path()), ["file.txt", "root"]);
}

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
