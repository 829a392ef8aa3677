//! The README's examples, run as written, so the docs cannot drift from the
//! program. The rules a README block follows are in the README's own
//! development section ("The README is tested"); in short: each `console`
//! block is a shell session with `$ ` commands and their expected output,
//! the blocks of one `##` section share one `bash`, and the README's
//! CloudFront origin is pointed at a `cfsign serve` this test starts.
//!
//! `trycmd` was the obvious tool, but it runs commands without a shell, and
//! the examples are shell: pipes, `$(…)`, variables, a server in the
//! background.
#![cfg(unix)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::serve::ServeProcess;
use crate::support::*;

/// The distribution the README's examples use; sent to the test's server.
const DOC_ORIGIN: &str = "https://d111111abcdef8.cloudfront.net";
/// Where the README's examples start their own `cfsign serve`; a free port here.
const DOC_LISTEN: &str = "127.0.0.1:8080";
/// In expected output: any text within a line, or, alone, any lines.
const ANY: &str = "…";
/// Commands shown in the README but not run here, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo install --path .",
        "a release build of the binary `cargo test` built",
    ),
    ("cargo test", "it runs this test"),
];
/// What the `${{ secrets.NAME }}` of a YAML step stand for.
const SECRET_KEY_PAIR_ID: &str = "CLOUDFRONT_KEY_PAIR_ID";
const SECRET_PRIVATE_KEY: &str = "CLOUDFRONT_PRIVATE_KEY";
/// The longest a section may take.
const SECTION_LIMIT: Duration = Duration::from_secs(60);

/// One `##` section: its blocks' commands, in order, for one shell.
struct Section {
    title: String,
    steps: Vec<Step>,
}

struct Step {
    /// The README line the command starts on.
    line: usize,
    /// The command as written in the README.
    command: String,
    /// Expected output lines; `None`: not checked (a YAML step's).
    expected: Option<Vec<String>>,
}

impl Step {
    fn in_background(&self) -> bool {
        let text = self.command.trim_end();
        text.ends_with('&') && !text.ends_with("&&")
    }
}

/// A ```rust block and the example file it is an excerpt of.
struct RustExcerpt {
    line: usize,
    code: String,
    example: String,
}

struct Readme {
    sections: Vec<Section>,
    rust: Vec<RustExcerpt>,
    /// The NOT_RUN commands met.
    not_run: Vec<String>,
}

fn parse(text: &str) -> Readme {
    let mut readme = Readme {
        sections: vec![Section {
            title: "(top)".into(),
            steps: vec![],
        }],
        rust: vec![],
        not_run: vec![],
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(title) = line.strip_prefix("## ") {
            readme.sections.push(Section {
                title: title.to_string(),
                steps: vec![],
            });
        }
        let Some(info) = line.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i + 1;
        let end = start
            + lines[start..]
                .iter()
                .position(|l| l.starts_with("```"))
                .unwrap_or_else(|| panic!("README.md:{}: unclosed code block", i + 1));
        let body = &lines[start..end];
        let steps = &mut readme.sections.last_mut().unwrap().steps;
        match info.trim() {
            "console" => {
                for step in console_steps(body, start + 1) {
                    if NOT_RUN.iter().any(|(c, _)| *c == step.command) {
                        readme.not_run.push(step.command);
                    } else {
                        steps.push(step);
                    }
                }
            }
            "toml" => steps.push(Step {
                line: start,
                command: format!(
                    "mkdir -p ~/.config/cfsign && cat > ~/.config/cfsign/config.toml <<'README_EOF'\n{}\nREADME_EOF",
                    body.join("\n")
                ),
                expected: Some(vec![]),
            }),
            "yaml" => steps.push(yaml_step(body, start)),
            "rust" => {
                let example = lines[..i]
                    .iter()
                    .rev()
                    .find_map(|l| example_named(l))
                    .unwrap_or_else(|| {
                        panic!("README.md:{start}: a rust block must follow a mention of examples/NAME.rs")
                    });
                readme.rust.push(RustExcerpt {
                    line: start,
                    code: body.join("\n"),
                    example,
                });
            }
            "text" => {
                if let Some(l) = body.iter().position(|l| l.starts_with("$ ")) {
                    panic!(
                        "README.md:{}: a command in a text block; use a console block so it is run",
                        start + 1 + l
                    );
                }
            }
            other => panic!(
                "README.md:{}: a ```{other} block: use console (run by this test), text, toml, yaml or rust",
                i + 1
            ),
        }
        i = end + 1;
    }
    readme
}

/// `$ ` lines (continued by a trailing `\`) and the output lines after each.
fn console_steps(body: &[&str], first_line: usize) -> Vec<Step> {
    let mut steps: Vec<Step> = vec![];
    let mut i = 0;
    while i < body.len() {
        let line = body[i];
        if let Some(command) = line.strip_prefix("$ ") {
            let mut command = command.to_string();
            let start = i;
            while command.ends_with('\\') && i + 1 < body.len() {
                i += 1;
                command.push('\n');
                command.push_str(body[i]);
            }
            steps.push(Step {
                line: first_line + start,
                command,
                expected: Some(vec![]),
            });
        } else if let Some(step) = steps.last_mut() {
            step.expected.as_mut().unwrap().push(line.to_string());
        } else {
            assert!(
                line.trim().is_empty(),
                "README.md:{}: output before the first `$ ` command",
                first_line + i
            );
        }
        i += 1;
    }
    for step in &mut steps {
        let expected = step.expected.as_mut().unwrap();
        while expected.last().is_some_and(|l| l.trim().is_empty()) {
            expected.pop();
        }
    }
    steps
}

/// A GitHub Actions step: its `run:` script under `bash -eo pipefail` (as
/// GitHub runs it) in a fresh environment holding only its `env:`, with
/// `${{ secrets.NAME }}` taken from the test's secrets.
fn yaml_step(body: &[&str], first_line: usize) -> Step {
    let mut env = vec![];
    let mut script = vec![];
    let mut i = 0;
    while i < body.len() {
        let trimmed = body[i].trim_start().trim_start_matches("- ");
        let indent = body[i].len() - body[i].trim_start().len();
        if trimmed == "env:" {
            while i + 1 < body.len() && indent_of(body[i + 1]) > indent {
                i += 1;
                let (name, value) = body[i].trim().split_once(": ").unwrap();
                let value = match value
                    .strip_prefix("${{ secrets.")
                    .and_then(|v| v.strip_suffix(" }}"))
                {
                    Some(secret) => format!("\"$README_SECRET_{secret}\""),
                    None => format!("'{value}'"),
                };
                env.push(format!("{name}={value}"));
            }
        } else if let Some(run) = trimmed.strip_prefix("run:") {
            if run.trim() == "|" {
                let block: Vec<&str> = body[i + 1..]
                    .iter()
                    .take_while(|l| l.trim().is_empty() || indent_of(l) > indent)
                    .copied()
                    .collect();
                let margin = block.iter().map(|l| indent_of(l)).min().unwrap_or(0);
                script.extend(block.iter().map(|l| l.get(margin..).unwrap_or("")));
                i += block.len();
            } else {
                script.push(run.trim());
            }
        }
        i += 1;
    }
    assert!(
        !script.is_empty(),
        "README.md:{first_line}: a yaml block without a run: script"
    );
    Step {
        line: first_line,
        command: format!(
            "env -i PATH=\"$PATH\" HOME=\"$HOME\" TZ=UTC GITHUB_ACTIONS=true GITHUB_SHA=0123456789abcdef0123456789abcdef01234567 {} \\\n  bash --noprofile --norc -eo pipefail <<'README_EOF'\n{}\nREADME_EOF",
            env.join(" "),
            script.join("\n")
        ),
        expected: None,
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `examples/NAME.rs` named on a line, if any.
fn example_named(line: &str) -> Option<String> {
    let start = line.find("examples/")?;
    let rest = &line[start..];
    let end = rest.find(".rs")? + 3;
    Some(rest[..end].to_string())
}

/// What `…` stands for, and the rest must equal.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split(ANY).collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == line;
    };
    if line.len() < first.len() + last.len() || !line.starts_with(first) || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((any, rest)) if any == ANY => {
            (0..=actual.len()).any(|k| lines_match(rest, &actual[k..]))
        }
        Some((pattern, rest)) => {
            actual
                .first()
                .is_some_and(|line| line_matches(pattern, line))
                && lines_match(rest, &actual[1..])
        }
    }
}

/// Rewrites between the README's addresses and the test's.
struct Addresses {
    origin: String,
    listen: String,
}

impl Addresses {
    fn to_local(&self, text: &str) -> String {
        text.replace(DOC_ORIGIN, &self.origin)
            .replace(DOC_LISTEN, &self.listen)
    }

    fn to_doc(&self, text: &str) -> String {
        text.replace(&self.origin, DOC_ORIGIN)
            .replace(&self.listen, DOC_LISTEN)
    }
}

/// A free loopback port that is no prefix of the server's, nor it of this
/// one (so that rewriting one address never touches the other).
fn free_listen(server: &str) -> String {
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listen = listener.local_addr().unwrap().to_string();
        let server = server.trim_start_matches("http://");
        if !listen.starts_with(server) && !server.starts_with(&listen) {
            return listen;
        }
    }
}

/// The bash script for a section: each command, then a marker with its
/// number and exit code; `$?` is restored before the next command, so that
/// `echo $?` shows it. A command run in the background is waited for until
/// its expected first line shows up.
fn script(section: &Section, addresses: &Addresses) -> String {
    let mut s = String::from(
        r#"exec 2>&1
__rc=0
__wait_for() {
  local i
  for i in $(seq 400); do
    tail -c +"$(($1 + 1))" "$README_OUT" | grep -qF -- "$2" && return 0
    sleep 0.025
  done
  echo "README test: no \"$2\" in the output after 10 s"
  return 1
}
"#,
    );
    for (n, step) in section.steps.iter().enumerate() {
        let command = addresses.to_local(&step.command);
        if step.in_background() {
            let first = step
                .expected
                .as_ref()
                .and_then(|e| e.first())
                .map(|l| addresses.to_local(l.split(ANY).next().unwrap()))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| {
                    panic!(
                        "README.md:{}: a command run in the background needs an expected first line to wait for",
                        step.line
                    )
                });
            writeln!(
                s,
                "__size=$(wc -c < \"$README_OUT\")\n{command}\n__rc=0\n__wait_for \"$__size\" '{}' || __rc=1",
                first.replace('\'', r"'\''")
            )
            .unwrap();
        } else {
            writeln!(s, "(exit $__rc)\n{command}\n__rc=$?").unwrap();
        }
        writeln!(s, "printf '\\n\\036{n} %d\\036\\n' \"$__rc\"").unwrap();
    }
    s.push_str("kill $(jobs -p) 2>/dev/null\nwait\n");
    s
}

/// Per step: its output (in the README's addresses) and exit code.
fn split_output(output: &str, steps: usize) -> Result<Vec<(String, i32)>, String> {
    let mut results = vec![];
    let mut rest = output;
    for n in 0..steps {
        let marker = format!("\n\x1e{n} ");
        let Some(at) = rest.find(&marker) else {
            return Err(format!("no end marker for command {n}"));
        };
        let after = &rest[at + marker.len()..];
        let close = after.find('\x1e').ok_or("a marker without its end")?;
        let code = after[..close].parse().map_err(|_| "a marker's exit code")?;
        results.push((rest[..at].trim_end_matches('\n').to_string(), code));
        rest = after[close + 1..]
            .strip_prefix('\n')
            .unwrap_or(&after[close + 1..]);
    }
    Ok(results)
}

/// A folder for one section: the README's files, the fixture key pair, the
/// example scripts.
fn sandbox() -> tempfile::TempDir {
    let dir = tempdir();
    let home = dir.path();
    copy_dir(&fixtures().join("readme/home"), home);
    copy_dir(&root().join("examples"), &home.join("examples"));
    std::fs::create_dir_all(home.join(".config/cfsign")).unwrap();
    for private in [
        home.join("private_key.pem"),
        home.join(".config/cfsign/private_key.pem"),
    ] {
        std::fs::copy(key("rsa2048-pkcs8.pem"), &private).unwrap();
        make_owner_only(&private);
    }
    std::fs::copy(key("rsa2048-public.pem"), home.join("public_key.pem")).unwrap();
    dir
}

fn make_owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The bucket behind the test's server: `tests/fixtures/readme/bucket/`,
/// plus `releases/site.tar.gz` packed from `tests/fixtures/readme/site/`.
fn bucket() -> tempfile::TempDir {
    let dir = tempdir();
    copy_dir(&fixtures().join("readme/bucket"), dir.path());
    std::fs::create_dir_all(dir.path().join("releases")).unwrap();
    let status = Command::new("tar")
        .arg("czf")
        .arg(dir.path().join("releases/site.tar.gz"))
        .arg("-C")
        .arg(fixtures().join("readme"))
        .arg("site")
        .status()
        .unwrap();
    assert!(status.success(), "tar czf");
    dir
}

/// Runs one section; the failures, each described.
fn run_section(section: &Section, server: &ServeProcess) -> Vec<String> {
    let home = sandbox();
    let addresses = Addresses {
        origin: server.base.clone(),
        listen: free_listen(&server.base),
    };
    let out_path = home.path().join(".readme-test-output");
    let out = std::fs::File::create(&out_path).unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_cfsign"));
    let path = std::env::join_paths(
        std::iter::once(binary.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let pem = std::fs::read_to_string(key("rsa2048-pkcs8.pem")).unwrap();
    let mut cmd = scrubbed("bash");
    cmd.arg("--noprofile")
        .arg("--norc")
        .arg("-c")
        .arg(script(section, &addresses))
        .env("PATH", path)
        .env("HOME", home.path())
        .env("CFSIGN", &binary)
        .env("README_OUT", &out_path)
        .env(format!("README_SECRET_{SECRET_KEY_PAIR_ID}"), KEY_ID)
        // As a secret store that flattens newlines keeps it.
        .env(
            format!("README_SECRET_{SECRET_PRIVATE_KEY}"),
            pem.replace('\n', "\\n"),
        )
        .current_dir(home.path())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    if let Some(tmp) = std::env::var_os("TMPDIR") {
        cmd.env("TMPDIR", tmp);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().expect("bash runs the README's examples");
    let started = Instant::now();
    let timed_out = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        if started.elapsed() > SECTION_LIMIT {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned();
    let context = |what: String| format!("## {}: {what}\n--- output ---\n{output}", section.title);
    if timed_out {
        return vec![context(format!("still running after {SECTION_LIMIT:?}"))];
    }
    let results = match split_output(&output, section.steps.len()) {
        Ok(results) => results,
        Err(e) => return vec![context(e)],
    };
    let mut failures = vec![];
    for (n, (step, (actual, code))) in section.steps.iter().zip(&results).enumerate() {
        let actual = addresses.to_doc(actual);
        let shown_next = section
            .steps
            .get(n + 1)
            .is_some_and(|next| next.command.trim() == "echo $?");
        if *code != 0 && !shown_next {
            failures.push(format!(
                "README.md:{}: `{}` exited {code} (follow it with `$ echo $?` where that is meant)\n{actual}",
                step.line, step.command
            ));
        }
        if let Some(expected) = &step.expected {
            let lines: Vec<&str> = if actual.is_empty() {
                vec![]
            } else {
                actual.lines().collect()
            };
            if !lines_match(expected, &lines) {
                failures.push(format!(
                    "README.md:{}: `{}`\n--- expected ---\n{}\n--- got ---\n{actual}",
                    step.line,
                    step.command,
                    expected.join("\n")
                ));
            }
        }
    }
    failures
}

#[test]
fn every_example_runs() {
    let readme = parse(&std::fs::read_to_string(root().join("README.md")).unwrap());

    for (command, _why) in NOT_RUN {
        assert!(
            readme.not_run.iter().any(|c| c == command),
            "NOT_RUN lists `{command}`, which the README no longer shows"
        );
    }
    let mut failures = vec![];
    for excerpt in &readme.rust {
        let source = std::fs::read_to_string(root().join(&excerpt.example)).unwrap();
        let mut example = source.lines().map(str::trim);
        for line in excerpt
            .code
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            if !example.any(|l| l == line) {
                failures.push(format!(
                    "README.md:{}: `{line}` is not in {} (in this order)",
                    excerpt.line, excerpt.example
                ));
                break;
            }
        }
    }

    let bucket = bucket();
    let server = ServeProcess::signed(bucket.path(), &["--quiet"]);
    let sections: Vec<&Section> = readme
        .sections
        .iter()
        .filter(|s| !s.steps.is_empty())
        .collect();
    assert!(sections.len() >= 10, "the README's sections were not found");
    // Sections are independent: run them side by side.
    std::thread::scope(|scope| {
        let runs: Vec<_> = sections
            .iter()
            .map(|section| scope.spawn(|| run_section(section, &server)))
            .collect();
        for run in runs {
            failures.extend(run.join().unwrap());
        }
    });
    assert!(
        failures.is_empty(),
        "{} README example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn expected_output_wildcards() {
    assert!(line_matches("a…c", "abbbc"));
    assert!(line_matches("a…c", "ac"));
    assert!(!line_matches("a…c", "abd"));
    assert!(line_matches("…x…y…", "0x1y2"));
    assert!(!line_matches("…y…x…", "0x1y2"));
    assert!(line_matches("plain", "plain"));
    assert!(!line_matches("plain", "plainer"));
    assert!(!line_matches("ab…ba", "aba"));
    let expected: Vec<String> = ["first", ANY, "last"].map(String::from).to_vec();
    assert!(lines_match(&expected, &["first", "last"]));
    assert!(lines_match(&expected, &["first", "1", "2", "last"]));
    assert!(!lines_match(&expected, &["first", "1"]));
    assert!(!lines_match(&[], &["unexpected"]));
}
