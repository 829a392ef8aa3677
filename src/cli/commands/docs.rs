//! `cfsign completions SHELL`, `cfsign man`, and the text that ends each
//! `--help` (examples, environment, exit status). Everything is generated from
//! the clap definitions and the tables below, so the help, the man pages and
//! the completions cannot drift from the real flags or from each other.

use std::process::ExitCode;

use clap::CommandFactory;
use roff::{Roff, bold, roman};

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use cfsign::error::Error;

/// The exit codes of every command (DESIGN §2, README "Exit codes").
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "success"),
    ("1", "other runtime error"),
    ("2", "usage or input error (flags, key, policy, time, URL)"),
    ("3", "the server refused (HTTP 4xx)"),
    ("4", "network failure or HTTP 5xx after retries"),
    ("5", "integrity failure (checksum, ETag or length mismatch)"),
    ("130", "interrupted"),
];

/// What the commands that sign read from the environment.
const KEY_ENVIRONMENT: &[(&str, &str)] = &[
    ("CLOUDFRONT_KEY_PAIR_ID", "default for --key-pair-id"),
    (
        "CLOUDFRONT_PRIVATE_KEY",
        "the private key PEM text itself (literal \\n escapes accepted)",
    ),
    (
        "CLOUDFRONT_PRIVATE_KEY_FILE",
        "path of the private key, when --private-key is not given",
    ),
    (
        "CLOUDFRONT_PRIVATE_KEY_PASSPHRASE",
        "passphrase of an encrypted PKCS#8 key (otherwise asked on a terminal)",
    ),
    (
        "CFSIGN_PROFILE",
        "the profile to use when --profile is not given (default: default)",
    ),
    (
        "CFSIGN_CONFIG",
        "the config file (default: ~/.config/cfsign/config.toml)",
    ),
];

/// What the commands that send requests also read (`get`, `put`, `doctor`,
/// and `sign` for `--check`).
const TRANSFER_ENVIRONMENT: &[(&str, &str)] = &[
    (
        "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY",
        "the proxy to send requests through",
    ),
    ("NO_PROXY", "hosts reached without the proxy"),
];

/// Commands that read no variable say so, and why `CFSIGN_PROFILE` does not
/// matter to them.
const NO_ENVIRONMENT: &[(&str, &str)] = &[(
    "CFSIGN_PROFILE",
    "ignored: this command uses no key from a profile (and refuses --profile)",
)];

/// A command's examples: (what it does, the command line).
fn examples(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "sign" => &[
            (
                "A signed URL valid for 15 minutes",
                "cfsign sign https://d111111abcdef8.cloudfront.net/image.jpg --key-pair-id K2JCJMDEHXQW5F --private-key private_key.pem --expires-in 15m",
            ),
            (
                "Signed cookies for a folder, as Set-Cookie lines",
                "cfsign sign https://d111111abcdef8.cloudfront.net/videos/intro.mp4 --resource 'https://d111111abcdef8.cloudfront.net/videos/*' --format cookies --same-site Lax",
            ),
            (
                "A batch: one URL per line in, one signed URL per line out",
                "cfsign sign --expires-in 1h < urls.txt > signed.txt",
            ),
            (
                "The same, and a signed HEAD of each: stderr names each refused URL and the fix",
                "cfsign sign --check < urls.txt > signed.txt",
            ),
        ],
        "sign-cookies" => &[(
            "The AWS CLI's sign-cookies, unchanged but for the program name",
            "cfsign sign-cookies --resource 'https://d111111abcdef8.cloudfront.net/videos/*' --key-pair-id K2JCJMDEHXQW5F --private-key file://private_key.pem --date-less-than 2030-01-01",
        )],
        "verify" => &[
            (
                "Why would CloudFront refuse this URL?",
                "cfsign verify \"$SIGNED_URL\" --public-key K2JCJMDEHXQW5F=public_key.pem",
            ),
            (
                "As of a time, from a viewer's address",
                "cfsign verify \"$SIGNED_URL\" --at 2030-01-01 --client-ip 192.0.2.10",
            ),
        ],
        "doctor" => &[
            (
                "Check the setup for signed reads of one object",
                "cfsign doctor https://d111111abcdef8.cloudfront.net/private/ --object docs/report.pdf",
            ),
            (
                "And for uploads (the probe is left at private/cfsign-probe.txt)",
                "cfsign doctor https://d111111abcdef8.cloudfront.net/private/ --write cfsign-probe.txt",
            ),
            (
                "For a script: one JSON object per check",
                "cfsign doctor https://d111111abcdef8.cloudfront.net/private/ --format json",
            ),
        ],
        "get" => &[
            (
                "Download into the current folder (signed with the configured key)",
                "cfsign get https://d111111abcdef8.cloudfront.net/docs/report.pdf",
            ),
            (
                "Resume, and check the content",
                "cfsign get https://d111111abcdef8.cloudfront.net/docs/report.pdf --continue --sha256 HEX",
            ),
            ("To stdout", "cfsign get \"$SIGNED_URL\" -o - | tar xz"),
        ],
        "put" => &[
            (
                "Upload one file",
                "cfsign put report.pdf https://d111111abcdef8.cloudfront.net/docs/report.pdf",
            ),
            (
                "Upload a folder's contents under a prefix, 8 at a time",
                "cfsign put -r dist/ https://d111111abcdef8.cloudfront.net/site/ --jobs 8",
            ),
            (
                "Upload stdin",
                "tar cz site | cfsign put - https://d111111abcdef8.cloudfront.net/site.tar.gz",
            ),
        ],
        "serve" => &[
            (
                "A local edge on a folder, trusting one key, on a free port",
                "cfsign serve --root bucket --public-key K2JCJMDEHXQW5F=public_key.pem --listen 127.0.0.1:0",
            ),
            (
                "No signature checks",
                "cfsign serve --root bucket --no-auth",
            ),
        ],
        "keygen" => &[
            ("An RSA-2048 key pair in this folder", "cfsign keygen"),
            (
                "An ECDSA P-256 pair as keys/prod-*.pem",
                "cfsign keygen --type ecdsa --out keys --prefix prod-",
            ),
        ],
        "completions" => &[
            (
                "Bash",
                "cfsign completions bash > ~/.local/share/bash-completion/completions/cfsign",
            ),
            ("Zsh", "cfsign completions zsh > ~/.zfunc/_cfsign"),
        ],
        "man" => &[
            (
                "Every page (cfsign.1, cfsign-sign.1, …)",
                "cfsign man --out ~/.local/share/man/man1",
            ),
            ("The top page on stdout", "cfsign man > cfsign.1"),
        ],
        _ => &[
            (
                "Sign a URL for 15 minutes",
                "cfsign sign https://d111111abcdef8.cloudfront.net/image.jpg --expires-in 15m",
            ),
            (
                "Download and upload through CloudFront",
                "cfsign get https://d111111abcdef8.cloudfront.net/docs/report.pdf",
            ),
            (
                "",
                "cfsign put -r dist/ https://d111111abcdef8.cloudfront.net/site/",
            ),
            (
                "Why would CloudFront refuse a URL?",
                "cfsign verify \"$SIGNED_URL\" --public-key K2JCJMDEHXQW5F=public_key.pem",
            ),
        ],
    }
}

/// The variables a command reads (`cfsign` itself: all of them).
fn environment(command: &str) -> Vec<(&'static str, &'static str)> {
    match command {
        "sign-cookies" => KEY_ENVIRONMENT.to_vec(),
        "sign" | "get" | "put" | "doctor" | "" => [KEY_ENVIRONMENT, TRANSFER_ENVIRONMENT].concat(),
        _ => NO_ENVIRONMENT.to_vec(),
    }
}

/// What ends `cfsign [COMMAND] --help`: examples, environment, exit status.
/// `command` is the subcommand's name, or "" for `cfsign` itself.
pub fn long_help(command: &str) -> String {
    use std::fmt::Write;
    // Laid out as clap lays out options (name, then its meaning indented
    // below), so that clap's wrapping at the terminal's width keeps it legible.
    let mut out = String::from("Examples:\n");
    for (what, line) in examples(command) {
        if !what.is_empty() {
            let _ = writeln!(out, "  # {what}");
        }
        let _ = writeln!(out, "  {line}\n");
    }
    out.push_str("Environment:\n");
    for (name, meaning) in environment(command) {
        let _ = writeln!(out, "  {name}\n          {meaning}\n");
    }
    out.push_str("Exit status:\n");
    for (code, meaning) in EXIT_STATUS {
        let _ = writeln!(out, "  {code:>3}  {meaning}");
    }
    out.truncate(out.trim_end().len());
    out
}

pub fn completions(args: CompletionsArgs) -> Result<ExitCode, Error> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "cfsign", &mut out);
    write(&out)
}

/// `cfsign man`: the top page on stdout, or with `--out DIR` every page
/// (`cfsign.1`, `cfsign-sign.1`, …) written into DIR.
pub fn man(args: ManArgs) -> Result<ExitCode, Error> {
    let pages = pages();
    let Some(dir) = args.out else {
        let (_, top) = pages.into_iter().next().expect("the top page");
        return write(&top);
    };
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "--out {}: not a folder (create it first)",
            cfsign::escape::shown_path(&dir)
        )));
    }
    for (name, page) in pages {
        let path = dir.join(name);
        std::fs::write(&path, page).map_err(|e| {
            Error::Runtime(format!(
                "cannot write {}: {}",
                cfsign::escape::shown_path(&path),
                cfsign::error::io_reason(&e)
            ))
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every man page as (file name, roff): `cfsign.1` first, then one per
/// subcommand, named as the top page's SUBCOMMANDS section refers to them.
fn pages() -> Vec<(String, Vec<u8>)> {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let mut pages = vec![("cfsign.1".to_string(), page(&top, ""))];
    for sub in top.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_display_name().unwrap_or(sub.get_name());
        pages.push((format!("{name}.1"), page(sub, sub.get_name())));
    }
    pages
}

/// One page: clap_mangen's sections, then EXAMPLES, ENVIRONMENT and EXIT
/// STATUS from the tables above (instead of clap_mangen's EXTRA section,
/// which would repeat `--help`'s plain text).
fn page(cmd: &clap::Command, command: &str) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let rendered: std::io::Result<()> = (|| {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut out)?;
        }
        if cmd.has_subcommands() {
            man.render_subcommands_section(&mut out)?;
        }
        Ok(())
    })();
    rendered.expect("writing to a Vec does not fail");

    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for (what, line) in examples(command) {
        roff.control("TP", []);
        roff.text([roman(if what.is_empty() { "Also:" } else { what })]);
        roff.text([bold(*line)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in environment(command) {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(meaning)]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in EXIT_STATUS {
        roff.control("TP", []);
        roff.text([bold(*code)]);
        roff.text([roman(*meaning)]);
    }
    // `render` escapes apostrophes with a string that clap_mangen's preamble
    // (above) already defines; its own copy of that preamble is left out.
    let sections = roff.render();
    let start = sections.find(".SH").unwrap_or(0);
    out.extend_from_slice(&sections.as_bytes()[start..]);
    out
}

fn write(bytes: &[u8]) -> Result<ExitCode, Error> {
    let mut stdout = std::io::stdout().lock();
    if super::write_stdout(&mut stdout, bytes)? {
        super::flush_stdout(&mut stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_examples() {
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            assert!(
                !std::ptr::eq(examples(name), examples("")),
                "{name} has no examples of its own"
            );
        }
    }

    #[test]
    fn pages_have_one_title_and_the_added_sections() {
        let page = String::from_utf8(page(&Cli::command(), "")).unwrap();
        assert_eq!(page.matches(".TH ").count(), 1, "{page}");
        for section in [".SH EXAMPLES", ".SH ENVIRONMENT", ".SH \"EXIT STATUS\""] {
            assert!(page.contains(section), "{section}");
        }
    }
}
