//! `cfsign completions SHELL` and `cfsign man`: generated from the clap
//! definitions, so they cannot drift from the real flags.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Error;

pub fn completions(args: CompletionsArgs) -> Result<ExitCode, Error> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "cfsign", &mut out);
    write(&out)
}

pub fn man() -> Result<ExitCode, Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::Runtime(format!("cannot render the man page: {e}")))?;
    write(&out)
}

fn write(bytes: &[u8]) -> Result<ExitCode, Error> {
    let mut stdout = std::io::stdout().lock();
    if super::write_stdout(&mut stdout, bytes)? {
        super::flush_stdout(&mut stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}
