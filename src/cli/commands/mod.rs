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
