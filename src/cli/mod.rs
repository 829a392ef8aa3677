//! The command line: clap definitions, dispatch, and how errors are shown.
//! Each subcommand's options are plain data here; `config` validates them
//! once into the types the commands work with.

mod args;
pub mod commands;
pub mod config;
mod json;
pub mod profile;
pub mod progress;
mod usage;

pub use args::*;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cfsign::error::Error;

/// Parses the command line, runs the command, and turns the outcome into an
/// exit code, printing errors as one line on stderr.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage::clap_error(e),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let profile = || profile::load(cli.profile.as_deref());
    match cli.command {
        Command::Sign(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                for url in args.urls.iter_mut().chain(args.url_flags.iter_mut()) {
                    *url = p.expand_url(url);
                }
            }
            commands::sign::run(args)
        }
        Command::SignCookies(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                if let Some(resource) = args.policy.resource.as_mut() {
                    *resource = p.expand_url(resource);
                }
            }
            commands::sign_cookies::run(args)
        }
        Command::Verify(args) => {
            refuse_profile(cli.profile.as_deref(), "verify", VERIFIES)?;
            commands::verify::run(args)
        }
        Command::Doctor(mut args) => {
            if let Some(p) = profile()? {
                // A profile's signing defaults do not apply: doctor signs
                // each check for a few minutes by CloudFront's clock.
                p.apply(&mut args.key, &mut PolicyArgs::default());
                args.prefix = p.expand_url(&args.prefix);
            }
            commands::doctor::run(args)
        }
        Command::Get(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                args.url = p.expand_url(&args.url);
            }
            commands::get::run(args)
        }
        Command::Put(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                // The URL comes last; a profile's domain completes a bare path.
                if let [_, .., url] = args.paths.as_mut_slice() {
                    if let Some(expanded) = url.to_str().map(|u| p.expand_url(u)) {
                        *url = expanded.into();
                    }
                }
            }
            commands::put::run(args)
        }
        Command::Serve(args) => {
            refuse_profile(cli.profile.as_deref(), "serve", VERIFIES)?;
            commands::serve::run(args)
        }
        Command::Keygen(args) => {
            refuse_profile(
                cli.profile.as_deref(),
                "keygen",
                " (keygen makes a new key pair: name its private key in a profile's private_key)",
            )?;
            commands::keygen::run(args)
        }
        Command::Completions(args) => {
            refuse_profile(cli.profile.as_deref(), "completions", "")?;
            commands::docs::completions(args)
        }
        Command::Man(args) => {
            refuse_profile(cli.profile.as_deref(), "man", "")?;
            commands::docs::man(args)
        }
    }
}

const VERIFIES: &str = " (it checks signatures with the public keys given by --public-key ID=PATH)";

/// `--profile` given to a command that signs nothing: a profile holds a
/// private key and signing defaults, so it would be silently ignored, and
/// `verify --profile prod` would seem to check against prod's key. Only the
/// flag is refused; `CFSIGN_PROFILE` is exported for the commands that sign
/// and is simply not read by the others.
fn refuse_profile(profile: Option<&str>, command: &str, hint: &str) -> Result<(), Error> {
    match profile {
        Some(_) => Err(Error::usage(format!(
            "--profile does not apply to `cfsign {command}`: profiles hold the key and defaults of sign, sign-cookies, get, put and doctor{hint}"
        ))),
        None => Ok(()),
    }
}

/// Prints an error as `cfsign: <message>` on one line.
pub fn report(e: &Error) {
    report_line(&e.to_string());
}

/// Prints `cfsign: <message>` on one line, as [`report`] prints an error.
pub fn report_line(message: &str) {
    // The last guard: a key's text given where another value goes (a URL,
    // `-o`, `--policy`, a time) is not shown, however the message quoted it.
    let message = cfsign::escape::without_key_text(message, false);
    let _ = writeln!(
        std::io::stderr(),
        "cfsign: {}",
        cfsign::escape::line(&message)
    );
}

/// Prints a warning as `cfsign: warning: <message>`.
pub fn warn(message: impl std::fmt::Display) {
    let message = message.to_string();
    let message = cfsign::escape::without_key_text(&message, false);
    let _ = writeln!(
        std::io::stderr(),
        "cfsign: warning: {}",
        cfsign::escape::line(&message)
    );
}
