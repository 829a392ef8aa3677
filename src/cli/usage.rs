//! clap's errors as one line, like every other error: the error, clap's
//! "did you mean" tip and the command's `--help`, with any quoted value that
//! may be key text withheld.

use std::io::Write;
use std::process::ExitCode;

use cfsign::error::exit;

use super::args::Cli;

/// clap's own errors span several lines; usage errors here are one line with
/// clap's suggestion and a pointer to the command's `--help`, like every
/// other error.
pub(super) fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(exit::USAGE)
        } else {
            ExitCode::SUCCESS
        };
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let line = usage_line(&e, &args);
    let _ = writeln!(std::io::stderr(), "cfsign: {}", cfsign::escape::line(&line));
    ExitCode::from(exit::USAGE)
}

/// A usage error on one line: clap's error, its "did you mean" tips, and the
/// help of the (sub)command being parsed: `unexpected argument '--privat-key'
/// found; tip: a similar argument exists: '--private-key' (see `cfsign sign
/// --help`)`.
fn usage_line<S: AsRef<std::ffi::OsStr>>(e: &clap::Error, args: &[S]) -> String {
    let rendered = without_keys(&e.render().to_string(), args);
    let mut line = one_line(&rendered);
    for tip in rendered.lines().map(str::trim) {
        // Only suggestions: clap's other tips (such as "to pass '--x' as a
        // value, use '-- --x'") mislead more often than they help a typo.
        if tip.starts_with("tip:") && tip.contains("similar") {
            line.push_str("; ");
            line.push_str(tip);
        }
    }
    format!("{line} (see `{} --help`)", command_path(args))
}

/// clap's error with every value that may be key text withheld. clap
/// quotes the argument it could not place as it was given, so a key passed
/// where something else goes (a stray argument, `--key-pair-id "$KEY"`, a
/// key whose newlines a secret store flattened to `\n`, a bare base64 body)
/// would be printed whole: the arguments that may be keys are replaced
/// wherever they appear (`--flag=value` by its parts too, and a value that
/// holds `=` as base64 padding does, where clap took it for `--flag=value`),
/// then any quoted text that still may be one.
fn without_keys<S: AsRef<std::ffi::OsStr>>(rendered: &str, args: &[S]) -> String {
    use cfsign::escape::{KEY_NOT_SHOWN, may_be_key};
    let mut rendered = rendered.to_string();
    for arg in args.iter().skip(1).map(|a| a.as_ref().to_string_lossy()) {
        let (before, after) = arg.split_once('=').unwrap_or((&arg, ""));
        for shown in [arg.as_ref(), before, after] {
            if !shown.is_empty() && may_be_key(shown) {
                rendered = rendered.replace(shown, KEY_NOT_SHOWN);
            }
        }
    }
    let mut out = String::with_capacity(rendered.len());
    for (i, part) in rendered.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        let quoted = i % 2 == 1;
        out.push_str(if quoted && part != KEY_NOT_SHOWN && may_be_key(part) {
            KEY_NOT_SHOWN
        } else {
            part
        });
    }
    out
}

/// `cfsign` or `cfsign SUBCOMMAND`: the command whose help fits the error,
/// from the arguments (clap attaches its usage to only some errors). Only
/// `--profile NAME` and the help and version flags can come before the
/// subcommand.
fn command_path<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    use clap::CommandFactory;
    let mut rest = args.iter().skip(1).map(|a| a.as_ref().to_string_lossy());
    while let Some(arg) = rest.next() {
        if arg == "--profile" {
            rest.next();
        } else if !arg.starts_with('-') {
            return match Cli::command().find_subcommand(arg.as_ref()) {
                Some(sub) => format!("cfsign {}", sub.get_name()),
                None => "cfsign".to_string(),
            };
        }
    }
    "cfsign".to_string()
}

/// The first paragraph of a rendered clap error on one line: the error and
/// the indented lines that complete it (the arguments that are missing, the
/// possible values), without the usage and tips that follow.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines().skip_while(|l| l.trim().is_empty());
    let Some(first) = lines.next() else {
        return "invalid arguments".to_string();
    };
    let first = first.trim().trim_start_matches("error: ");
    let rest: Vec<&str> = lines
        .take_while(|l| l.starts_with(char::is_whitespace) && !l.trim().is_empty())
        .map(str::trim)
        .collect();
    match (rest.is_empty(), first.ends_with(':')) {
        (true, _) => first.to_string(),
        (false, true) => format!("{first} {}", rest.join(", ")),
        (false, false) => format!("{first} {}", rest.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    fn rendered_error(args: &[&str]) -> String {
        let e = Cli::try_parse_from(args).expect_err("a usage error");
        one_line(&e.render().to_string())
    }

    #[test]
    fn usage_errors_name_what_is_missing_or_allowed() {
        assert_eq!(
            rendered_error(&["cfsign", "get"]),
            "the following required arguments were not provided: <URL>"
        );
        assert_eq!(
            rendered_error(&["cfsign", "serve"]),
            "the following required arguments were not provided: --root <DIR>"
        );
        assert_eq!(
            rendered_error(&["cfsign", "get", "u", "--hash-algorithm", "md5"]),
            "invalid value 'md5' for '--hash-algorithm <ALG>' [possible values: SHA1, SHA256]"
        );
        // Tips and the usage block stay out of the one line.
        assert_eq!(
            rendered_error(&["cfsign", "get", "u", "--bogus"]),
            "unexpected argument '--bogus' found"
        );
        assert_eq!(
            rendered_error(&["cfsign", "get", "u", "--retries", "x"]),
            "invalid value 'x' for '--retries <N>': invalid digit found in string"
        );
        assert_eq!(one_line(""), "invalid arguments");
    }

    fn usage_error(args: &[&str]) -> String {
        usage_line(&Cli::try_parse_from(args).expect_err("a usage error"), args)
    }

    #[test]
    fn usage_errors_keep_suggestions_and_name_the_subcommand() {
        assert_eq!(
            usage_error(&["cfsign", "sign", "--privat-key", "k"]),
            "unexpected argument '--privat-key' found; tip: a similar argument exists: '--private-key' (see `cfsign sign --help`)"
        );
        assert_eq!(
            usage_error(&["cfsign", "sing"]),
            "unrecognized subcommand 'sing'; tip: a similar subcommand exists: 'sign' (see `cfsign --help`)"
        );
        assert_eq!(
            usage_error(&["cfsign", "put", "--bogus", "a", "b"]),
            "unexpected argument '--bogus' found (see `cfsign put --help`)"
        );
    }
}
