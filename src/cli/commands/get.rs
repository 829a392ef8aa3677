//! `cfsign get`: the command-line glue around [`transfer::get`]: where the
//! object goes, the runtime, Ctrl-C, and the closing summary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::cli::GetArgs;
use crate::cli::config;
use crate::cli::progress::{Bar, ProgressMode};
use cfsign::error::Error;
use cfsign::transfer::RetryPolicy;
use cfsign::transfer::get::{self as transfer, Destination, GetOptions, file_name_for};

pub fn run(args: GetArgs) -> Result<ExitCode, Error> {
    config::claim_stdin(&args.key, &args.policy, None)?;
    let signer = config::url_signer(args.key, &args.policy)?;
    let to = destination(args.output.as_deref(), &args.url)?;
    let options = GetOptions {
        retry: RetryPolicy::with_retries(args.retries),
        resume: args.resume,
        sha256: args.sha256,
    };
    let mode = ProgressMode::from_flags(args.progress, args.quiet);
    let client = config::client_options(args.cacert.clone())?.build()?;
    // One thread: the connection task that reads the socket and the loop
    // that writes the file take turns on it, so no chunk is handed between
    // threads (a futex wake and an epoll round per chunk on a multi-thread
    // runtime) and the file writes need no `block_in_place`. Opening the
    // partial file still goes to tokio's blocking pool.
    let runtime = super::current_thread_runtime()?;
    let started = Instant::now();
    let result = runtime.block_on(transfer::get(
        &client,
        &signer,
        &args.url,
        &to,
        &options,
        &Bar::new(mode),
        interrupted(),
    ));
    let fetched = result?;

    if mode.visible() {
        let what = match &to {
            // A name from outside (the URL's, or one given with -o) may
            // hold what a terminal would act on.
            Destination::File(path) => cfsign::escape::shown_path(path),
            Destination::Stdout => "stdout".to_string(),
        };
        let line = if fetched.already_complete {
            format!("{what} is already complete")
        } else {
            let secs = started.elapsed().as_secs_f64();
            let fresh = fetched.bytes - fetched.resumed_from;
            format!(
                "saved {what}: {} in {secs:.1}s ({}/s)",
                indicatif::HumanBytes(fetched.bytes),
                indicatif::HumanBytes((fresh as f64 / secs.max(1e-3)) as u64),
            )
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves once on Ctrl-C (never, if the handler cannot be installed).
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// `-o -` is stdout; `-o FOLDER` and no `-o` name the file after the URL.
fn destination(output: Option<&Path>, url: &str) -> Result<Destination, Error> {
    let path = match output {
        Some(p) if p.as_os_str() == "-" => return Ok(Destination::Stdout),
        Some(p) if p.is_dir() => p.join(file_name_for(url)),
        // `-o out/` names a folder: it must exist, as with `-o out/name`.
        Some(p) if ends_with_separator(p) => {
            // `file/` does not exist to the OS, `file` does.
            let why = if p.components().as_path().exists() {
                "it is not a folder"
            } else {
                "the folder does not exist"
            };
            return Err(Error::usage(format!(
                "cannot save into {}: {why}",
                p.display()
            )));
        }
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(file_name_for(url)),
    };
    if path.file_name().is_none() {
        return Err(Error::usage(format!(
            "-o {}: give a file name to save to",
            path.display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(Error::usage(format!(
                "cannot save to {}: the folder {} does not exist",
                path.display(),
                parent.display()
            )));
        }
    }
    Ok(Destination::File(path))
}

fn ends_with_separator(path: &Path) -> bool {
    path.to_string_lossy()
        .chars()
        .next_back()
        .is_some_and(std::path::is_separator)
}
