//! One module per subcommand. Each takes its parsed arguments and returns an
//! exit code or an [`Error`](cfsign::Error).

pub mod docs;
pub mod doctor;
pub mod get;
pub mod keygen;
pub mod put;
pub mod serve;
pub mod sign;
mod sign_check;
pub mod sign_cookies;
pub mod verify;

use std::io::{self, Write};

use cfsign::error::Error;

/// Writes to stdout; a closed pipe (`cfsign sign … | head -1`) is not an
/// error, just the end of the output.
pub(crate) fn write_stdout(out: &mut impl Write, bytes: &[u8]) -> Result<bool, Error> {
    match out.write_all(bytes) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Error::Runtime(format!("cannot write to stdout: {e}"))),
    }
}

pub(crate) fn flush_stdout(out: &mut impl Write) -> Result<(), Error> {
    match out.flush() {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Runtime(format!("cannot write to stdout: {e}"))),
    }
}

/// A runtime on this thread, for commands whose requests are few or take
/// turns on one file: no thread to start, no hand-off between threads.
pub(crate) fn current_thread_runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the async runtime: {e}")))
}

/// Runs `work` on `runtime` until it ends, or until Ctrl-C ends it with
/// [`Error::Interrupted`] (exit 130).
pub(crate) fn until_interrupted<T>(
    runtime: &tokio::runtime::Runtime,
    work: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    runtime.block_on(async {
        tokio::select! {
            done = work => done,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    })
}
