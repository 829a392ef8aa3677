//! The layers of `src/`, each importing only those below it:
//!
//! | layer     | modules                                       | may name                  |
//! |-----------|-----------------------------------------------|---------------------------|
//! | CLI       | `main.rs`, `cli/` (flags, env, profiles, tty) | everything below          |
//! | transfer  | `transfer/`                                   | the bottom layer, tokio…  |
//! | serve     | `serve/`                                      | the bottom layer, tokio…  |
//! | bottom    | `sign/`, `verify.rs`, `time.rs`, `escape.rs`, `error.rs`, `digest.rs` | std and the crypto crates |
//!
//! This test reads every source file and fails on a name that crosses a
//! layer upwards: a module outside the CLI that names clap, indicatif, an
//! environment variable, the terminal, or a module of the CLI; a bottom
//! module that names tokio, hyper, reqwest, `transfer` or `serve`; and
//! `transfer` and `serve` naming each other.

use std::path::{Path, PathBuf};

/// What no module outside the CLI layer may name: the flags, the terminal,
/// the environment and the CLI's own modules. Transfers report progress
/// through `transfer::Progress`, which the CLI renders, and serve logs
/// through the sink its `Config` holds. (Standard output is not on the
/// list: `get` streams an object there when the caller asks for
/// `Destination::Stdout`, as a destination like any other.)
const CLI_ONLY: &[&str] = &[
    "clap",
    "clap_complete",
    "clap_mangen",
    "indicatif",
    "rpassword",
    "toml::",
    "env::var",
    "env::var_os",
    "env::vars",
    "IsTerminal",
    "is_terminal",
    "eprintln!",
    "println!",
    "io::stderr",
    "crate::cli",
    "crate::commands",
    "crate::config",
    "crate::profile",
    "crate::progress",
];

/// What the bottom layer (signing, verifying, time) may not name.
const NETWORK: &[&str] = &[
    "tokio",
    "hyper",
    "reqwest",
    "rustls",
    "crate::transfer",
    "crate::serve",
];

#[derive(Debug, PartialEq)]
enum Layer {
    Cli,
    Transfer,
    Serve,
    Bottom,
}

fn layer_of(relative: &Path) -> Layer {
    let first = relative
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    match first {
        "main.rs" | "cli" => Layer::Cli,
        "transfer" => Layer::Transfer,
        "serve" => Layer::Serve,
        _ => Layer::Bottom,
    }
}

fn forbidden(layer: &Layer) -> Vec<&'static str> {
    match layer {
        Layer::Cli => vec![],
        Layer::Transfer => [CLI_ONLY, &["crate::serve"]].concat(),
        Layer::Serve => [CLI_ONLY, &["crate::transfer"]].concat(),
        Layer::Bottom => [CLI_ONLY, NETWORK].concat(),
    }
}

/// The code of a file without its comments and without its unit tests
/// (a `#[cfg(test)]` module may use the environment, as tests do).
fn code_of(source: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code = match line.find(" // ") {
            Some(at) => &line[..at],
            None => line,
        };
        lines.push((number + 1, code.to_string()));
    }
    lines
}

/// Whether `code` names `name` as a whole word (`clap` but not `clapping`).
fn names(code: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        let starts = !before.is_some_and(is_word);
        let ends = name.ends_with([':', '!']) || !after.is_some_and(is_word);
        starts && ends
    })
}

fn violations_in(relative: &Path, source: &str) -> Vec<String> {
    let layer = layer_of(relative);
    let forbidden = forbidden(&layer);
    let mut found = Vec::new();
    for (number, code) in code_of(source) {
        for name in &forbidden {
            if names(&code, name) {
                found.push(format!(
                    "src/{}:{number}: the {layer:?} layer names `{name}`: {}",
                    relative.display(),
                    code.trim()
                ));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_names_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 20,
        "found only {} files under src/",
        files.len()
    );
    let mut violations = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        violations.extend(violations_in(file.strip_prefix(&src).unwrap(), &source));
    }
    assert!(
        violations.is_empty(),
        "modules that reach up a layer:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_sees_each_kind_of_crossing() {
    let cases = [
        ("transfer/get.rs", "use clap::Parser;"),
        ("transfer/put/body.rs", "    crate::cli::warn(line);"),
        ("serve/log.rs", "let v = std::env::var(\"X\");"),
        ("serve/log.rs", "    eprintln!(\"{line}\");"),
        ("transfer/progress.rs", "use std::io::IsTerminal;"),
        ("sign/key.rs", "use tokio::fs;"),
        ("verify.rs", "fn f(c: reqwest::Client) {}"),
        ("time.rs", "use crate::config::PolicyArgs;"),
        ("serve/mod.rs", "use crate::transfer::client;"),
    ];
    for (path, line) in cases {
        assert_eq!(
            violations_in(Path::new(path), line).len(),
            1,
            "{path}: {line}"
        );
    }
    let allowed = [
        ("cli/args.rs", "use clap::Parser;"),
        ("cli/commands/get.rs", "let v = std::env::var(\"X\");"),
        ("sign/key.rs", "// clap once derived this enum"),
        ("transfer/get.rs", "let clapping = 1; // clap"),
        (
            "serve/mod.rs",
            "#[cfg(test)]\nmod tests { fn f() { std::env::var(\"X\"); } }",
        ),
    ];
    for (path, line) in allowed {
        assert!(
            violations_in(Path::new(path), line).is_empty(),
            "{path}: {line}"
        );
    }
}
