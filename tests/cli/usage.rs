//! Using cfsign at a shell: usage errors that suggest the right name, help
//! with headings, examples and exit codes, completions that complete files,
//! folders and URLs, man pages that `man` reads, `--profile` where it means
//! something, and cookies as browsers and curl's cookie jar take them.

use std::path::Path;
use std::process::Command;

use crate::support::serve::{EC_KEY_ID, ServeProcess};
use crate::support::*;

const URL: &str = "https://d111111abcdef8.cloudfront.net/a.txt";

#[test]
fn misspellings_get_a_suggestion_and_the_subcommands_help() {
    let rows: &[(&[&str], &str, &str)] = &[
        (&["sing"], "a similar subcommand exists: 'sign'", "cfsign"),
        (
            &["verfy", URL],
            "a similar subcommand exists: 'verify'",
            "cfsign",
        ),
        (
            &["kegen"],
            "a similar subcommand exists: 'keygen'",
            "cfsign",
        ),
        (
            &["sign-cookie"],
            "some similar subcommands exist: 'sign', 'sign-cookies'",
            "cfsign",
        ),
        (
            &["sign", URL, "--privat-key", "k.pem"],
            "a similar argument exists: '--private-key'",
            "cfsign sign",
        ),
        (
            &["sign", URL, "--expire-in", "1h"],
            "a similar argument exists: '--expires-in'",
            "cfsign sign",
        ),
        (
            &["sign-cookies", "--resouce", URL],
            "a similar argument exists: '--resource'",
            "cfsign sign-cookies",
        ),
        (
            &["get", URL, "--sha265", "00"],
            "a similar argument exists: '--sha256'",
            "cfsign get",
        ),
        (
            &["--profile", "p", "put", "--jbos", "2", "a", URL],
            "a similar argument exists: '--jobs'",
            "cfsign put",
        ),
        (
            &["serve", "--rot", "dir"],
            "a similar argument exists: '--root'",
            "cfsign serve",
        ),
        (
            &["verify", URL, "--public-keys", "K=p.pem"],
            "a similar argument exists: '--public-key'",
            "cfsign verify",
        ),
        (
            &["sign", URL, "--format", "cookie"],
            "a similar value exists: 'cookies'",
            "cfsign sign",
        ),
    ];
    for (args, tip, help) in rows {
        let out = cfsign().args(*args).output().unwrap();
        let see = format!("(see `{help} --help`)");
        assert_refused(&out, 2, &[&format!("tip: {tip}"), &see]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.trim_end().ends_with(&see), "{args:?}: {stderr}");
    }
}

#[test]
fn profile_is_refused_where_it_means_nothing_and_its_variable_ignored() {
    let dir = tempdir();
    let out_dir = dir.path().to_str().unwrap();
    let refused: &[&[&str]] = &[
        &["verify", "--profile", "nosuch", URL],
        &["--profile", "nosuch", "verify", URL],
        &["serve", "--root", out_dir, "--no-auth", "--profile", "p"],
        &["keygen", "--out", out_dir, "--profile", "p"],
        &["completions", "bash", "--profile", "p"],
        &["man", "--profile", "p"],
    ];
    for args in refused {
        let out = cfsign().args(*args).output().unwrap();
        assert_refused(&out, 2, &["--profile does not apply to `cfsign "]);
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    // A CFSIGN_PROFILE exported for the commands that sign does not get in
    // the way of the others, even naming a profile that does not exist.
    let out = cfsign()
        .env("CFSIGN_PROFILE", "nosuch")
        .args(["keygen", "--out", out_dir])
        .output()
        .unwrap();
    assert_ok(&out);
    let out = cfsign()
        .env("CFSIGN_PROFILE", "nosuch")
        .args(["verify", URL])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // …while the commands that sign read it.
    let out = cfsign()
        .env("CFSIGN_PROFILE", "nosuch")
        .args(["sign", URL])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["nosuch"]);
}

#[test]
fn get_and_put_sign_with_the_profiles_key() {
    let root = tempdir();
    std::fs::write(root.path().join("a.txt"), b"from the edge").unwrap();
    let server = ServeProcess::signed(root.path(), &[]);
    let home = tempdir();
    let config = home.path().join("config.toml");
    let host = server.base.trim_start_matches("http://");
    std::fs::write(
        &config,
        format!(
            "[profile.edge]\nkey_pair_id = \"{EC_KEY_ID}\"\nprivate_key = \"{}\"\ndomain = \"{host}\"\n",
            key("ec-p256-pkcs8.pem").display()
        ),
    )
    .unwrap();
    let saved = home.path().join("saved.txt");
    let out = cfsign()
        .env("CFSIGN_CONFIG", &config)
        .args(["--profile", "edge", "get", &server.url("/a.txt"), "-o"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(std::fs::read(&saved).unwrap(), b"from the edge");

    let out = cfsign()
        .env("CFSIGN_CONFIG", &config)
        .env("CFSIGN_PROFILE", "edge")
        .arg("put")
        .arg(&saved)
        .arg(server.url("/b.txt"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        std::fs::read(root.path().join("b.txt")).unwrap(),
        b"from the edge"
    );
    // Without the profile the server refuses: the key came from it.
    let out = cfsign()
        .env("CFSIGN_CONFIG", &config)
        .args(["get", &server.url("/a.txt"), "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

fn help(args: &[&str]) -> String {
    let out = cfsign().args(args).output().unwrap();
    assert_ok(&out);
    stdout_of(&out)
}

#[test]
fn long_help_has_headings_examples_and_exit_codes() {
    for (command, headings) in [
        (
            "get",
            &["Key:", "Policy:", "Output:", "Transfer:", "Network:"][..],
        ),
        (
            "put",
            &["Key:", "Policy:", "Output:", "Transfer:", "Network:"],
        ),
        ("sign", &["Key:", "Policy:", "Output:"]),
        ("serve", &["Key:", "Network:"]),
    ] {
        let text = help(&[command, "--help"]);
        for heading in headings {
            assert!(
                text.lines().any(|l| l == *heading),
                "{command}: {heading}\n{text}"
            );
        }
    }
    for command in [
        "sign",
        "sign-cookies",
        "verify",
        "get",
        "put",
        "serve",
        "keygen",
        "completions",
        "man",
    ] {
        let text = help(&[command, "--help"]);
        let examples = text.find("\nExamples:\n  ").expect(command);
        let environment = text.find("\nEnvironment:\n  ").expect(command);
        let exit = text.find("\nExit status:\n").expect(command);
        assert!(examples < environment && environment < exit, "{command}");
        assert!(text.contains(&format!("  cfsign {command}")), "{command}");
        assert!(text.trim_end().ends_with("130  interrupted"), "{command}");
        // The short help stays short.
        assert!(
            !help(&[command, "-h"]).contains("Exit status:"),
            "{command}"
        );
    }
    let top = help(&["--help"]);
    assert!(top.contains("Exit status:") && top.contains("CFSIGN_PROFILE"));

    // The small things: no empty env value, no empty default, the real form.
    let text = help(&["keygen", "--help"]);
    assert!(!text.contains("[env: CFSIGN_PROFILE=]"), "{text}");
    assert!(!text.contains("[default: \"\"]"), "{text}");
    for command in ["verify", "serve"] {
        let text = help(&[command, "--help"]);
        assert!(
            // The value is a path or the PEM text itself: a key.
            text.contains("--public-key <ID=KEY>") && !text.contains("ID=PEM"),
            "{text}"
        );
    }
}

#[test]
fn completions_complete_files_folders_and_urls() {
    let zsh = help(&["completions", "zsh"]);
    let line = |needle: &str| -> String {
        zsh.lines()
            .filter(|l| l.contains(needle))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        line("'--private-key=[").ends_with(":KEY:_files' \\"),
        "{zsh}"
    );
    assert!(line(")--policy=[").ends_with(":FILE:_files' \\"));
    assert!(line("'--root=[").ends_with(":DIR:_files -/' \\"));
    assert!(line("'--out=[").contains(":DIR:_files -/' \\"));
    assert!(line("'--resource=[").contains(":PATTERN:_urls' \\"));
    assert!(line("'--base-url=[").ends_with(":URL:_urls' \\"));
    assert!(line(":url -- The signed URL").ends_with(":_urls' \\"));
    assert!(line("::urls -- URLs to sign").ends_with(":_urls' \\"));

    let fish = help(&["completions", "fish"]);
    let fish_line = |command: &str, flag: &str| -> String {
        fish.lines()
            .find(|l| {
                l.contains(&format!("__fish_cfsign_using_subcommand {command}\""))
                    && l.contains(&format!("-l {flag} "))
            })
            .unwrap_or_else(|| panic!("{command} {flag}\n{fish}"))
            .to_string()
    };
    assert!(fish_line("sign", "private-key").ends_with(" -r -F"));
    assert!(fish_line("serve", "root").ends_with("-r -f -a \"(__fish_complete_directories)\""));
    assert!(fish_line("keygen", "out").ends_with("-r -f -a \"(__fish_complete_directories)\""));
    // A URL is not a file name.
    assert!(fish_line("serve", "base-url").ends_with(" -r -f"));
}

#[test]
fn man_writes_every_page_and_man_reads_them() {
    let dir = tempdir();
    let out = cfsign()
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "cfsign-completions.1",
            "cfsign-doctor.1",
            "cfsign-get.1",
            "cfsign-keygen.1",
            "cfsign-man.1",
            "cfsign-put.1",
            "cfsign-serve.1",
            "cfsign-sign-cookies.1",
            "cfsign-sign.1",
            "cfsign-verify.1",
            "cfsign.1"
        ]
    );
    for page in &pages {
        let text = man_l(&dir.path().join(page));
        for section in ["NAME", "SYNOPSIS", "EXAMPLES", "ENVIRONMENT", "EXIT STATUS"] {
            assert!(
                text.lines().any(|l| l.trim_end() == section),
                "{page}: no {section}\n{text}"
            );
        }
        assert!(text.contains("130"), "{page}");
    }
    // Every page the top page refers to exists.
    let top = man_l(&dir.path().join("cfsign.1"));
    for sub in pages.iter().filter(|p| p.starts_with("cfsign-")) {
        let reference = format!("{}(1)", sub.trim_end_matches(".1"));
        assert!(top.contains(&reference), "{reference}\n{top}");
    }
    // Without --out, the top page on stdout, as before.
    let stdout = cfsign().arg("man").output().unwrap().stdout;
    assert_eq!(stdout, std::fs::read(dir.path().join("cfsign.1")).unwrap());
}

/// `man -l PAGE` as text, asserting that groff warned about nothing.
fn man_l(page: &Path) -> String {
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("man (man-db) is installed: .ci/run installs it");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{}: {stderr}",
        page.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `Set-Cookie: name=value; attributes…` lines → (name, value, attributes).
fn parse_set_cookies(text: &str) -> Vec<(String, String, Vec<String>)> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let l = l.strip_prefix("Set-Cookie: ").expect(l);
            let mut parts = l.split("; ");
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            (name.into(), value.into(), parts.map(String::from).collect())
        })
        .collect()
}

/// Sends a file of `Set-Cookie` lines with curl (`-b FILE`) and returns the
/// status and the Netscape cookie jar curl writes (`-c JAR`).
fn curl_with_cookies(url: &str, cookies: &str) -> (String, Vec<Vec<String>>) {
    let dir = tempdir();
    let file = dir.path().join("cookies.txt");
    let jar = dir.path().join("jar.txt");
    std::fs::write(&file, cookies).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-b"])
        .arg(&file)
        .arg("-c")
        .arg(&jar)
        .arg(url)
        .output()
        .expect("curl runs");
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    let jar = std::fs::read_to_string(&jar).unwrap_or_default();
    let rows = jar
        .lines()
        .filter(|l| !l.is_empty() && (!l.starts_with('#') || l.starts_with("#HttpOnly_")))
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();
    (status, rows)
}

#[test]
fn cookies_with_every_attribute_are_accepted_by_serve_and_by_curls_jar() {
    let root = tempdir();
    std::fs::write(root.path().join("a.txt"), b"a").unwrap();
    let server = ServeProcess::signed(root.path(), &[]);
    let a = server.url("/a.txt");
    let all = server.url("/*");
    let expires = unix_now() + 3600;
    let expiry = expires.to_string();
    let policies: &[&[&str]] = &[
        &[],
        &["--resource", &all],
        &["--resource", &all, "--hash-algorithm", "SHA256"],
    ];
    let attributes: &[&[&str]] = &[
        &[],
        &["--same-site", "Strict"],
        &["--same-site", "lax", "--cookie-path", "/"],
        &["--same-site", "None", "--cookie-domain", "127.0.0.1"],
        &["--session-cookie"],
        &["--session-cookie", "--same-site", "Lax"],
    ];
    for policy in policies {
        for extra in attributes {
            let session = extra.contains(&"--session-cookie");
            let signed = cfsign()
                .args([
                    "sign",
                    &a,
                    "--format",
                    "cookies",
                    "--date-less-than",
                    &expiry,
                ])
                .args([
                    "--key-pair-id",
                    KEY_ID,
                    "--private-key",
                    &key_arg("rsa2048-pkcs8.pem"),
                ])
                .args(*policy)
                .args(*extra)
                .output()
                .unwrap();
            assert_ok(&signed);
            let text = stdout_of(&signed);
            let cookies = parse_set_cookies(&text);
            for (name, _, attrs) in &cookies {
                let has = |a: &str| attrs.iter().any(|x| x == a);
                assert!(
                    has("Domain=127.0.0.1") && has("Path=/"),
                    "{name}: {attrs:?}"
                );
                assert!(has("Secure") && has("HttpOnly"), "{name}: {attrs:?}");
                let expires_attr = attrs.iter().find_map(|a| a.strip_prefix("Expires="));
                match expires_attr {
                    Some(date) => {
                        assert!(!session, "{attrs:?}");
                        let t = httpdate::parse_http_date(date).unwrap();
                        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                        assert_eq!(secs as i64, expires, "{date}");
                    }
                    None => assert!(session, "{attrs:?}"),
                }
                if let Some(i) = extra.iter().position(|a| *a == "--same-site") {
                    let wanted = extra[i + 1];
                    let value = attrs.iter().find_map(|a| a.strip_prefix("SameSite="));
                    assert!(value.unwrap().eq_ignore_ascii_case(wanted), "{attrs:?}");
                }
            }
            let (status, jar) = curl_with_cookies(&a, &text);
            assert_eq!(status, "200", "{policy:?} {extra:?}\n{text}");
            assert_eq!(jar.len(), cookies.len(), "{jar:?}");
            for row in &jar {
                // Netscape jar: domain, subdomains, path, secure, expiry, name, value.
                assert_eq!(row[0], "#HttpOnly_127.0.0.1", "{row:?}");
                assert_eq!((row[2].as_str(), row[3].as_str()), ("/", "TRUE"), "{row:?}");
                let jar_expiry = if session {
                    "0".to_string()
                } else {
                    expiry.clone()
                };
                assert_eq!(row[4], jar_expiry, "{row:?}");
            }
        }
    }

    // sign-cookies: Set-Cookie lines on request; the AWS CLI's object
    // otherwise, which has no room for attributes.
    let out = cfsign()
        .args(["sign-cookies", "--resource", &all, "--format", "cookies"])
        .args(["--same-site", "Strict", "--date-less-than", &expiry])
        .args([
            "--key-pair-id",
            EC_KEY_ID,
            "--private-key",
            &key_arg("ec-p256-pkcs8.pem"),
        ])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(
        text.lines()
            .all(|l| l.ends_with("; Secure; HttpOnly; SameSite=Strict"))
    );
    assert_eq!(curl_with_cookies(&a, &text).0, "200", "{text}");
    let out = cfsign()
        .args(["sign-cookies", "--resource", &all, "--same-site", "Lax"])
        .args([
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            &key_arg("rsa2048-pkcs8.pem"),
        ])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["--same-site", "--format cookies"]);

    // A Cookie request header has no attributes to set.
    let out = cfsign()
        .args(["sign", &a, "--format", "header", "--session-cookie"])
        .args([
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            &key_arg("rsa2048-pkcs8.pem"),
        ])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["--session-cookie", "--format cookies or json"]);

    // JSON carries the same Set-Cookie values as --format cookies.
    let args = [
        "sign",
        &a,
        "--date-less-than",
        &expiry,
        "--same-site",
        "Lax",
    ];
    let key = [
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        &key_arg("rsa2048-pkcs8.pem"),
    ];
    let json = stdout_of(
        &cfsign()
            .args(args)
            .args(key)
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    let line: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let lines = stdout_of(
        &cfsign()
            .args(args)
            .args(key)
            .args(["--format", "cookies"])
            .output()
            .unwrap(),
    );
    let from_json: Vec<String> = line["set_cookie"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("Set-Cookie: {}", v.as_str().unwrap()))
        .collect();
    assert_eq!(from_json, lines.lines().collect::<Vec<_>>());
}

#[test]
fn durations_take_humantimes_forms() {
    for (duration, seconds) in [
        ("1h 30m", 5400),
        ("90min", 5400),
        ("1day", 86_400),
        ("1.5h", 5400),
        ("2w", 1_209_600),
    ] {
        let now = unix_now();
        let out = cfsign()
            .args(["sign", URL, "--expires-in", duration])
            .args([
                "--key-pair-id",
                KEY_ID,
                "--private-key",
                &key_arg("rsa2048-pkcs8.pem"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{duration}: {out:?}");
        let expires: i64 = query_pairs(stdout_of(&out).trim())[0].1.parse().unwrap();
        assert!(
            (now + seconds..=now + seconds + 5).contains(&expires),
            "{duration}"
        );
    }
    let out = cfsign()
        .args(["sign", URL, "--expires-in", "an hour"])
        .args([
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            &key_arg("rsa2048-pkcs8.pem"),
        ])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["cannot read the duration `an hour`"]);
}

/// humantime reads `M` as months: `15M` would sign for fifteen months where
/// fifteen minutes were meant (the parser before it refused `M`).
#[test]
fn a_duration_in_capital_m_is_refused_not_read_as_months() {
    for duration in ["15M", "1h 30M", "2M"] {
        let out = cfsign()
            .args(["sign", URL, "--expires-in", duration])
            .args([
                "--key-pair-id",
                KEY_ID,
                "--private-key",
                &key_arg("rsa2048-pkcs8.pem"),
            ])
            .output()
            .unwrap();
        assert_refused(&out, 2, &[duration, "months", "m or min for minutes"]);
    }
}

/// A Domain with a port or a scheme makes every cookie jar drop the cookie;
/// a `;` in a Domain or Path adds attributes of its own.
#[test]
fn cookie_attributes_no_jar_would_take_are_refused() {
    let rows: &[(&str, &str)] = &[
        ("--cookie-domain", "d111111abcdef8.cloudfront.net:443"),
        ("--cookie-domain", "https://d111111abcdef8.cloudfront.net/"),
        ("--cookie-domain", "h.example; SameSite=None"),
        ("--cookie-domain", ""),
        ("--cookie-domain", "h..example"),
        ("--cookie-path", "/a;Domain=evil.example"),
        ("--cookie-path", "/a\u{2028}Set-Cookie: admin=1"),
        ("--cookie-path", "videos/"),
        ("--cookie-path", ""),
    ];
    for (flag, value) in rows {
        let out = cfsign()
            .args(["sign", URL, "--format", "cookies", flag, value])
            .args([
                "--key-pair-id",
                KEY_ID,
                "--private-key",
                &key_arg("rsa2048-pkcs8.pem"),
            ])
            .output()
            .unwrap();
        assert_refused(&out, 2, &[flag]);
    }
    // A leading dot is what older tools write, and jars take it.
    let out = cfsign()
        .args(["sign", URL, "--format", "cookies"])
        .args([
            "--cookie-domain",
            ".cloudfront.net",
            "--cookie-path",
            "/a b/",
        ])
        .args([
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            &key_arg("rsa2048-pkcs8.pem"),
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(stdout_of(&out).contains("; Domain=.cloudfront.net; Path=/a b/;"));
}
