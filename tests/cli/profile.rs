//! Profiles in the config file: precedence and error messages.

use crate::support::*;

fn config(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn query_value(url: &str, name: &str) -> String {
    query_pairs(url.trim())
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap()
        .1
}

#[test]
fn profile_supplies_key_expiry_and_domain() {
    let dir = tempdir();
    let path = config(
        dir.path(),
        &format!(
            "[profile.default]\nkey_pair_id = \"KPROFILEDEFAULT\"\nprivate_key = \"{}\"\nexpires_in = \"15m\"\ndomain = \"d111111abcdef8.cloudfront.net\"\n\n[profile.ec]\nkey_pair_id = \"KPROFILEEC\"\nprivate_key = \"{}\"\n",
            key("rsa2048-pkcs8.pem").display(),
            key("ec-p256-pkcs8.pem").display()
        ),
    );
    let now = unix_now();
    let out = cfsign()
        .env("CFSIGN_CONFIG", &path)
        .args(["sign", "/videos/a.mp4"])
        .output()
        .unwrap();
    assert_ok(&out);
    let url = stdout_of(&out);
    assert!(
        url.starts_with("https://d111111abcdef8.cloudfront.net/videos/a.mp4?Expires="),
        "{url}"
    );
    assert_eq!(query_value(&url, "Key-Pair-Id"), "KPROFILEDEFAULT");
    let expires: i64 = query_value(&url, "Expires").parse().unwrap();
    assert!((now + 900..=now + 905).contains(&expires), "{expires}");

    // The environment overrides the profile, and flags override both.
    let out = cfsign()
        .env("CFSIGN_CONFIG", &path)
        .env("CLOUDFRONT_KEY_PAIR_ID", "KFROMENV")
        .args(["sign", "/a"])
        .output()
        .unwrap();
    assert_eq!(query_value(&stdout_of(&out), "Key-Pair-Id"), "KFROMENV");
    let out = cfsign()
        .env("CFSIGN_CONFIG", &path)
        .env("CLOUDFRONT_KEY_PAIR_ID", "KFROMENV")
        .args([
            "sign",
            "/a",
            "--key-pair-id",
            "KFROMFLAG",
            "--expires-in",
            "2h",
        ])
        .output()
        .unwrap();
    let url = stdout_of(&out);
    assert_eq!(query_value(&url, "Key-Pair-Id"), "KFROMFLAG");
    assert!(query_value(&url, "Expires").parse::<i64>().unwrap() >= now + 7200);

    // --profile and $CFSIGN_PROFILE pick another profile.
    for select in [vec!["--profile", "ec"], vec![]] {
        let mut cmd = cfsign();
        cmd.env("CFSIGN_CONFIG", &path)
            .args(["sign", "https://h.example/a"])
            .args(&select);
        if select.is_empty() {
            cmd.env("CFSIGN_PROFILE", "ec");
        }
        let url = stdout_of(&cmd.output().unwrap());
        assert_eq!(query_value(&url, "Key-Pair-Id"), "KPROFILEEC");
        assert_eq!(
            query_value(&url, "Hash-Algorithm"),
            "SHA256",
            "the EC key came from the profile"
        );
    }
}

#[test]
fn config_errors_name_the_file_and_line() {
    let dir = tempdir();
    for (text, needles) in [
        (
            "[profile.default]\nkey_pair_id = \"K1\"\n\nexpires_in = \"an hour\"\n",
            vec![":4:", "duration"],
        ),
        (
            "[profile.default]\nkey_pair_id = \"K1\"\nprivate_kye = \"x\"\n",
            vec![":3:", "private_kye"],
        ),
        ("[profile.default\n", vec![":1:"]),
        (
            "[profile.default]\nkey_pair_id = \"K/1\"\n",
            vec![":2:", "not a CloudFront key ID"],
        ),
    ] {
        let path = config(dir.path(), text);
        let out = cfsign()
            .env("CFSIGN_CONFIG", &path)
            .args(["sign", "https://h.example/a"])
            .output()
            .unwrap();
        let mut needles = needles;
        let shown = path.display().to_string();
        needles.push(&shown);
        assert_refused(&out, 2, &needles);
    }
    let path = config(dir.path(), "[profile.default]\nkey_pair_id = \"K1\"\n");
    let out = cfsign()
        .env("CFSIGN_CONFIG", &path)
        .args(["sign", "https://h.example/a", "--profile", "prod"])
        .output()
        .unwrap();
    assert_refused(&out, 2, &["no [profile.prod]", "default"]);
}

/// A default config file that cannot be reached — HOME under a regular file
/// (ENOTDIR, whoever runs the test), or under a folder the user may not
/// enter — is no config file: every command works as without one. A config
/// file named by $CFSIGN_CONFIG must be readable.
#[test]
fn an_unreachable_home_is_no_config_file() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempdir();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let mut homes = vec![file.join("home")];
    // Mode 000 does not stop root (CI runs tests as root).
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    if std::fs::metadata(&file).unwrap().uid() != 0 {
        std::fs::create_dir(locked.join("home")).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        homes.push(locked.join("home"));
    }
    for home in &homes {
        for var in ["HOME", "XDG_CONFIG_HOME"] {
            let out = cfsign()
                .env(var, home)
                .args(["sign", "https://h.example/a", "--key-pair-id", KEY_ID])
                .args(["--private-key", &key_arg("rsa2048-pkcs8.pem")])
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{var}={}: {}",
                home.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Naming a profile still needs a config file.
        let out = cfsign()
            .env("HOME", home)
            .args(["sign", "https://h.example/a", "--profile", "prod"])
            .output()
            .unwrap();
        assert_refused(&out, 2, &["cannot read the config file"]);
    }
    for named in [file.join("config.toml"), dir.path().join("missing.toml")] {
        let out = cfsign()
            .env("CFSIGN_CONFIG", &named)
            .args(["sign", "https://h.example/a", "--key-pair-id", KEY_ID])
            .args(["--private-key", &key_arg("rsa2048-pkcs8.pem")])
            .output()
            .unwrap();
        assert_refused(&out, 2, &["cannot read the config file", ".toml"]);
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// A profile's `private_key` may hold the PEM text itself, or a path;
/// errors name the profile and the entry, never the value.
#[test]
fn profile_private_key_is_a_path_or_the_pem_text() {
    let dir = tempdir();
    let pem = std::fs::read_to_string(key("rsa2048-pkcs1.pem")).unwrap();
    let v = crate::support::table::Vector::by_id("rsa-sha1-canned-plain");
    for value in [
        format!("\"{}\"", key("rsa2048-pkcs1.pem").display()),
        format!("\"file://{}\"", key("rsa2048-pkcs1.pem").display()),
        format!("\"\"\"\n{pem}\"\"\""),
        format!("'''{pem}'''"),
        format!("\"{}\"", pem.replace('\n', "\\n")),
    ] {
        let path = config(
            dir.path(),
            &format!("[profile.default]\nkey_pair_id = \"{KEY_ID}\"\nprivate_key = {value}\n"),
        );
        let out = cfsign()
            .env("CFSIGN_CONFIG", &path)
            .args(["sign", &v.s("url"), "--date-less-than"])
            .arg(v.expires().to_string())
            .output()
            .unwrap();
        assert_eq!(stdout_of(&out), v.signed_url() + "\n", "{value}");
    }
    let damaged = pem.replacen("-----\n", "\n", 1);
    let path = config(
        dir.path(),
        &format!(
            "[profile.default]\nkey_pair_id = \"{KEY_ID}\"\nprivate_key = \"\"\"\n{damaged}\"\"\"\n"
        ),
    );
    let out = cfsign()
        .env("CFSIGN_CONFIG", &path)
        .args(["sign", "https://h.example/a"])
        .output()
        .unwrap();
    assert_refused(
        &out,
        2,
        &[
            "the private_key of profile `default`",
            "header line is damaged",
        ],
    );
    let body = pem.lines().nth(1).unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&body[..16]));
}
