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
    scrubbed(bin)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[test]
fn library_examples_sign_and_verify() {
    let private = key("rsa2048-pkcs8.pem").display().to_string();
    let public = key("rsa2048-public.pem").display().to_string();
    let out = run_example(
        "sign_url",
        &[
            &private,
            KEY_ID,
            "https://d111111abcdef8.cloudfront.net/image.jpg",
        ],
    );
    assert_ok(&out);
    let signed = stdout_of(&out).trim().to_string();
    assert!(signed.starts_with("https://d111111abcdef8.cloudfront.net/image.jpg?Expires="));

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
        &[&private, KEY_ID, "d111111abcdef8.cloudfront.net"],
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

/// `bash examples/NAME.sh ARGS` with the binary under test as `CFSIGN`, in
/// a scrubbed environment plus `env`, from `cwd`.
#[cfg(unix)]
fn run_script(
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
    cwd: &std::path::Path,
) -> std::process::Output {
    let mut cmd = scrubbed("bash");
    cmd.arg(root().join("examples").join(name))
        .args(args)
        .env("CFSIGN", env!("CARGO_BIN_EXE_cfsign"))
        .current_dir(cwd)
        .stdin(std::process::Stdio::null());
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

#[cfg(unix)]
#[test]
fn local_roundtrip_script() {
    let tmp = tempdir();
    let started = std::time::Instant::now();
    let out = run_script(
        "local-roundtrip.sh",
        &[],
        &[("TMPDIR", tmp.path().to_str().unwrap())],
        tmp.path(),
    );
    let elapsed = started.elapsed();
    let stdout = stdout_of(&out);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: Vec<&str> = stdout.lines().filter(|l| l.starts_with("==> ")).collect();
    assert_eq!(steps.len(), 8, "{stdout}");
    for needle in [
        "$ cfsign keygen --out keys",
        "$ cfsign serve --listen 127.0.0.1:0 --root bucket",
        "uploaded payload.bin → http://127.0.0.1:",
        "$ cmp payload.bin downloaded.bin",
        "accepted: CloudFront would accept this signed URL",
        "<Code>MissingKey</Code>",
        "\n403\n",
        "GET /uploads/payload.bin 403 MissingKey",
        "local round trip: OK",
    ] {
        assert!(stdout.contains(needle), "no {needle:?} in\n{stdout}");
    }
    // The trap removed the scratch folder (and stopped the server with it).
    assert_eq!(
        crate::support::serve::list_dir(tmp.path()),
        Vec::<String>::new()
    );
    assert!(elapsed < std::time::Duration::from_secs(15), "{elapsed:?}");
}

#[cfg(unix)]
#[test]
fn ci_upload_script_exit_codes() {
    use crate::support::faulty::{Fault, FaultyServer};
    use crate::support::serve::{ServeProcess, walk};

    let work = tempdir();
    let dist = work.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("index.html"), "<title>build</title>\n").unwrap();
    std::fs::write(dist.join("assets/app.js"), "console.log(1);\n").unwrap();
    let bucket = tempdir();
    let server = ServeProcess::signed(bucket.path(), &["--quiet"]);
    // As a secret store that flattens newlines keeps the PEM text.
    let pem = std::fs::read_to_string(key("rsa2048-pkcs8.pem"))
        .unwrap()
        .replace('\n', "\\n");
    let log = work.path().join("results.jsonl");
    let log_str = log.to_str().unwrap();
    let secrets = [
        ("CLOUDFRONT_KEY_PAIR_ID", KEY_ID),
        ("CLOUDFRONT_PRIVATE_KEY", pem.as_str()),
        ("UPLOAD_RESULT_LOG", log_str),
        ("GITHUB_ACTIONS", "true"),
    ];
    let prefix = server.url("/builds/42/");
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();

    // 0: every file uploaded, one JSON line each in the log.
    let out = run_script(
        "ci-upload.sh",
        &["dist", &prefix, "--cache-control", "no-cache"],
        &secrets,
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout_of(&out).trim(),
        format!("ci-upload: uploaded 2 objects to {prefix}; results in {log_str}")
    );
    let results: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 2);
    // Verified by the checksum serve echoes (as S3 does).
    assert!(results.iter().all(|r| r["checksum_sha256"].is_string()));
    assert_eq!(
        results[0]["url"],
        server.url("/builds/42/assets/app.js").as_str()
    );
    assert!(walk(&bucket.path().join("builds/42")).contains(&"assets/app.js".to_string()));
    assert_eq!(
        std::fs::read(bucket.path().join("builds/42/index.html")).unwrap(),
        std::fs::read(dist.join("index.html")).unwrap()
    );

    // 2: no key in the environment; nothing is sent.
    let without_key: Vec<_> = secrets
        .iter()
        .copied()
        .filter(|(n, _)| *n != "CLOUDFRONT_PRIVATE_KEY")
        .collect();
    let out = run_script(
        "ci-upload.sh",
        &["dist", &prefix],
        &without_key,
        work.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("set CLOUDFRONT_PRIVATE_KEY"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout_of(&out).starts_with("::error title=upload failed (exit 2)::"),
        "{}",
        stdout_of(&out)
    );

    // 3: a key ID the edge does not trust.
    let mut wrong_id = secrets.to_vec();
    wrong_id[0] = ("CLOUDFRONT_KEY_PAIR_ID", "KUNKNOWNKEY");
    let out = run_script("ci-upload.sh", &["dist", &prefix], &wrong_id, work.path());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("403 InvalidKey"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ci-upload: CloudFront or S3 refused an upload (0 uploaded)"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("PRIVATE KEY"), "{}", stderr(&out));

    // 4: nothing listens there (after put's retries, about 2 s).
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let out = run_script(
        "ci-upload.sh",
        &["dist", &format!("http://{closed}/builds/")],
        &secrets,
        work.path(),
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ci-upload: network failure"),
        "{}",
        stderr(&out)
    );

    // 5: the ETag is not the MD5 of the file.
    let faulty = FaultyServer::start(vec![]);
    faulty.script([Fault::WrongEtag(
        "\"00000000000000000000000000000000\"".into(),
    )]);
    let single = work.path().join("single");
    std::fs::create_dir(&single).unwrap();
    std::fs::write(single.join("a.txt"), "a\n").unwrap();
    let out = run_script(
        "ci-upload.sh",
        &["single", &faulty.url("/builds/")],
        &secrets,
        work.path(),
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ci-upload: integrity failure (0 uploaded)"),
        "{}",
        stderr(&out)
    );
}
