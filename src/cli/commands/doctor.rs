//! `cfsign doctor URL-PREFIX`: the command-line glue around
//! [`transfer::doctor`](cfsign::transfer::doctor): the key and client from
//! the usual options, one line per check on stdout as each completes (text
//! or JSON), and the exit code (3 when a check failed).

use std::process::ExitCode;

use serde::Serialize;

use crate::cli::config;
use crate::cli::{DoctorArgs, DoctorFormat, PolicyArgs};
use cfsign::error::{Error, exit};
use cfsign::transfer::RetryPolicy;
use cfsign::transfer::doctor::{self, DoctorOptions, Skip, Step, Verdict};

pub fn run(args: DoctorArgs) -> Result<ExitCode, Error> {
    config::claim_stdin(&args.key, &PolicyArgs::default(), None)?;
    let signer = config::required_signer(args.key)?;
    let client = config::client_options(args.cacert)?.build()?;
    let options = DoctorOptions {
        object: args.object,
        write: args.write,
        retry: RetryPolicy::with_retries(args.retries),
    };
    let runtime = super::current_thread_runtime()?;
    let mut failed = false;
    let mut unwritable = None;
    let mut print = |step: &Step| {
        failed |= step.verdict == Verdict::Fail;
        let line = render(step, args.format);
        let mut out = std::io::stdout().lock();
        // A closed stdout ends nothing: the exit code still says the outcome.
        let written = super::write_stdout(&mut out, line.as_bytes())
            .and_then(|_| super::flush_stdout(&mut out));
        if let Err(e) = written {
            unwritable.get_or_insert(e);
        }
    };
    super::until_interrupted(
        &runtime,
        doctor::doctor(&client, signer, &args.prefix, &options, &mut print),
    )?;
    if let Some(e) = unwritable {
        return Err(e);
    }
    Ok(ExitCode::from(if failed {
        exit::REFUSED
    } else {
        exit::OK
    }))
}

/// `✓ name: detail`, `✗ name: detail: fix`, `- name: skipped (why)`, or
/// one JSON object; server text is escaped.
fn render(step: &Step, format: DoctorFormat) -> String {
    let name = step.check.name();
    match format {
        DoctorFormat::Text => {
            let line = match step.verdict {
                Verdict::Pass => format!("✓ {name}: {}", step.detail),
                Verdict::Fail => format!(
                    "✗ {name}: {}: {}",
                    step.detail,
                    step.fix.as_deref().unwrap_or_default()
                ),
                Verdict::Skip(why) => format!("- {name}: skipped ({})", skipped(why)),
            };
            format!("{}\n", cfsign::escape::line(&line))
        }
        DoctorFormat::Json => {
            let (result, detail) = match step.verdict {
                Verdict::Pass => ("pass", step.detail.clone()),
                Verdict::Fail => ("fail", step.detail.clone()),
                Verdict::Skip(why) => ("skip", skipped(why)),
            };
            crate::cli::json::line(&JsonStep {
                step: step.check.id(),
                result,
                detail,
                fix: step.fix.as_deref(),
            })
        }
    }
}

#[derive(Serialize)]
struct JsonStep<'a> {
    step: &'static str,
    result: &'static str,
    detail: String,
    fix: Option<&'a str>,
}

/// Why a check was skipped, naming the option that would make it run.
fn skipped(why: Skip) -> String {
    match why {
        Skip::NoObject => "no --object given".to_string(),
        Skip::NoWrite => "no --write given".to_string(),
        Skip::NoDate => "the answer carried no Date header".to_string(),
        Skip::Unrestricted => {
            "viewer access is not restricted, so CloudFront checks no key".to_string()
        }
        Skip::Failed(check) => format!("{} failed", check.name()),
    }
}
