//! Downloading one object so that nothing half-written ever sits at the
//! destination, and nothing is written where it should not be: bytes go to a
//! file of this run's own beside it (`part.rs`), which is fsynced and renamed
//! over the destination only once the length and any `--sha256` check out.
//! Two runs to one destination each write their own file, so the destination
//! ends as exactly one whole object.
//!
//! Every attempt is signed afresh (a retry after the expiry would otherwise
//! meet a 403) and continues from the bytes already held, with `Range` and
//! `If-Range`; only a 206 whose `Content-Range` starts at exactly that offset
//! is appended (`range.rs`), anything else starts over from zero. With
//! `resume` (`--continue`) the partial file and its record (URL, ETag or
//! Last-Modified, length, SHA-256 of the bytes held; see `record.rs`) outlive
//! a failed or interrupted run so the next run carries on; without it, every
//! failure removes them.
//!
//! This module never retries on its own terms: attempts and pauses come from
//! [`RetryPolicy`], error bodies and transport errors are read by
//! `response`, URLs are signed by [`UrlSigner`], and the client is the one
//! from [`ClientOptions::build`](super::ClientOptions::build). `attempt.rs`
//! reads each answer.
//! Memory stays flat: one response chunk and one write buffer at a time.
//!
//! ```
//! use cfsign::transfer::get::{self, Destination, GetOptions};
//! use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};
//!
//! # #[cfg(feature = "serve")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use cfsign::serve::{self, Access, Config};
//! # let root = tempfile::tempdir()?;
//! # std::fs::write(root.path().join("report.pdf"), b"%PDF-1.7 ...")?;
//! # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
//! # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
//! // `edge` is a local `cfsign::serve` standing in for CloudFront.
//! let url = format!("{}/report.pdf", edge.url());
//! let out = tempfile::tempdir()?;
//! let to = Destination::File(out.path().join(get::file_name_for(&url)));
//! let options = GetOptions { resume: true, ..GetOptions::default() };
//! let client = ClientOptions::default().build()?;
//! let fetched = get::get(&client, &UrlSigner::none(), &url, &to, &options, &NoProgress, std::future::pending()).await?;
//! assert_eq!(fetched.bytes, 12);
//! assert_eq!(std::fs::read(out.path().join("report.pdf"))?, b"%PDF-1.7 ...");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "serve"))]
//! # fn main() {}
//! ```

mod attempt;
mod checksum;
mod files;
mod name;
mod part;
mod range;
mod record;
mod sink;

use std::path::PathBuf;

use self::attempt::Transfer;
pub use self::checksum::Sha256Digest;
pub use self::name::file_name_for;
pub use self::range::{ContentRange, check_partial};
use self::sink::Sink;
use super::progress::Progress;
use super::retry::RetryPolicy;
use super::signing::UrlSigner;
use crate::error::Error;

/// Where the object goes.
///
/// ```
/// use std::path::Path;
/// use cfsign::transfer::get::{Destination, file_name_for};
///
/// // As the command line reads `-o`: `-` is stdout, no `-o` names the
/// // file after the URL.
/// let to = |output: Option<&str>, url: &str| match output {
///     Some("-") => Destination::Stdout,
///     Some(path) => Destination::File(path.into()),
///     None => Destination::File(file_name_for(url).into()),
/// };
/// assert_eq!(to(Some("-"), "https://h.net/a.txt"), Destination::Stdout);
/// assert_eq!(
///     to(None, "https://h.net/dir/a%20b.txt"),
///     Destination::File(Path::new("a b.txt").to_path_buf())
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// This file path, replaced atomically on success.
    File(PathBuf),
    /// Standard output, as the bytes arrive.
    Stdout,
}

/// How to download. The default: [`RetryPolicy::default`], no resuming, no
/// checksum.
///
/// ```
/// use cfsign::transfer::RetryPolicy;
/// use cfsign::transfer::get::GetOptions;
///
/// let options = GetOptions {
///     retry: RetryPolicy::with_retries(Some(2)),
///     resume: true,
///     sha256: Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?),
/// };
/// assert_eq!(options.retry.attempts, 3);
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct GetOptions {
    /// How many attempts, and the pauses between them.
    pub retry: RetryPolicy,
    /// Keep the partial file on failure and carry on from it next time.
    pub resume: bool,
    /// The SHA-256 the object must have.
    pub sha256: Option<Sha256Digest>,
}

/// What a successful download did.
///
/// A second `resume` run to a destination that is already whole writes
/// nothing:
///
/// ```
/// use cfsign::transfer::get::{self, Destination, Fetched, GetOptions};
/// use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use cfsign::serve::{self, Access, Config};
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("report.pdf"), b"%PDF-1.7 ...")?;
/// # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let url = format!("{}/report.pdf", edge.url());
/// let out = tempfile::tempdir()?;
/// let to = Destination::File(out.path().join("report.pdf"));
/// let options = GetOptions { resume: true, ..GetOptions::default() };
/// let (client, signer) = (ClientOptions::default().build()?, UrlSigner::none());
/// let run = || get::get(&client, &signer, &url, &to, &options, &NoProgress, std::future::pending());
///
/// let first = run().await?;
/// assert_eq!(first, Fetched { bytes: 12, resumed_from: 0, already_complete: false });
/// let again = run().await?;
/// assert!(again.already_complete);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The object's size (for stdout: the bytes written).
    pub bytes: u64,
    /// Bytes already held from an earlier run (`--continue`).
    pub resumed_from: u64,
    /// `--continue` found the destination complete: nothing was written.
    pub already_complete: bool,
}

/// Downloads `url` to `to`, signing it first (and again before every retry)
/// when `signer` holds a key and the URL is not already signed.
///
/// `progress` counts the bytes held, from the first byte that arrives, and
/// is finished when the download ends; it also hears why a partial file is
/// not continued. When `interrupt` resolves (Ctrl-C), the download stops
/// with [`Error::Interrupted`] and cleans up as after any other failure;
/// pass `std::future::pending()` for none.
///
/// A download checked against its SHA-256, and one stopped by its
/// `interrupt` (as the command line does on Ctrl-C):
///
/// ```
/// use cfsign::transfer::get::{self, Destination, GetOptions};
/// use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use cfsign::serve::{self, Access, Config};
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("report.pdf"), b"%PDF-1.7 ...")?;
/// # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let url = format!("{}/report.pdf", edge.url());
/// let out = tempfile::tempdir()?;
/// let to = Destination::File(out.path().join("report.pdf"));
/// let client = ClientOptions::default().build()?;
/// let signer = UrlSigner::none();
///
/// let wrong = GetOptions {
///     sha256: Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?),
///     ..GetOptions::default()
/// };
/// let err = get::get(&client, &signer, &url, &to, &wrong, &NoProgress, std::future::pending())
///     .await
///     .unwrap_err();
/// assert!(err.to_string().contains("SHA-256 mismatch"));
/// assert!(!out.path().join("report.pdf").exists()); // nothing half-checked is kept
///
/// let options = GetOptions::default();
/// let stopped = get::get(&client, &signer, &url, &to, &options, &NoProgress, async {}).await;
/// assert!(matches!(stopped, Err(cfsign::Error::Interrupted)));
///
/// let fetched = get::get(&client, &signer, &url, &to, &options, &NoProgress, std::future::pending()).await?;
/// assert_eq!(fetched.bytes, 12);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
pub async fn get(
    client: &reqwest::Client,
    signer: &UrlSigner,
    url: &str,
    to: &Destination,
    options: &GetOptions,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> Result<Fetched, Error> {
    let mut interrupt = std::pin::pin!(interrupt);
    let first_url = signer.sign(url)?;
    check_url(&first_url)?;
    let label = match to {
        Destination::File(path) => path.file_name().map_or_else(String::new, |n| {
            crate::escape::shown(&n.to_string_lossy()).to_string()
        }),
        Destination::Stdout => {
            if options.resume {
                return Err(Error::usage(
                    "--continue needs a file to continue: give -o PATH instead of -o -",
                ));
            }
            "stdout".to_string()
        }
    };
    let (mut sink, held) = tokio::select! {
        biased;
        () = &mut interrupt => return Err(Error::Interrupted),
        opened = Sink::open(to, options, url) => opened?,
    };
    if let Some(why) = &held.started_over {
        progress.warn(why);
    }
    let mut state = State {
        offset: sink.held,
        total: held.length,
        validator: held.validator,
        resumed_from: sink.held,
    };

    let mut transfer = Transfer {
        client,
        signer,
        url,
        first_url: Some(first_url),
        label,
        progress,
        started: false,
    };
    let outcome = tokio::select! {
        biased;
        () = &mut interrupt => Err(Error::Interrupted),
        done = transfer.run(&options.retry, &mut sink, &mut state) => done,
    };
    progress.finish();
    let done = match outcome {
        Ok(done) => done,
        Err(e) => {
            sink.fail(options.resume, &state);
            return Err(e);
        }
    };
    if done == Done::StdoutClosed {
        return Ok(Fetched {
            bytes: sink.held,
            resumed_from: 0,
            already_complete: false,
        });
    }
    if let (Some(expected), Some(actual)) = (options.sha256, sink.digest()) {
        if actual != expected {
            // The bytes are wrong, not merely incomplete: never keep them.
            sink.fail(false, &state);
            return Err(Error::Integrity(format!(
                "SHA-256 mismatch: expected {expected}, got {actual}"
            )));
        }
    }
    let bytes = sink.held;
    sink.commit()?;
    Ok(Fetched {
        bytes,
        resumed_from: state.resumed_from,
        already_complete: done == Done::AlreadyComplete,
    })
}

fn check_url(url: &str) -> Result<(), Error> {
    let u = super::client::check_parses(url)?;
    match u.scheme() {
        "http" | "https" => Ok(()),
        scheme => Err(Error::usage(format!(
            "cannot download a {scheme}: URL: give an http:// or https:// URL"
        ))),
    }
}

/// What is known about the object and how far we are.
pub(super) struct State {
    /// The object offset of the next byte the current answer delivers; equal
    /// to the bytes held except while stdout skips what it already wrote.
    pub offset: u64,
    pub total: Option<u64>,
    /// A strong ETag or a Last-Modified date, sent as `If-Range`.
    pub validator: Option<String>,
    pub resumed_from: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Done {
    Complete,
    /// `--continue` and a 416 for the size we already hold.
    AlreadyComplete,
    /// The reader of `-o -` went away (`| head`): not an error.
    StdoutClosed,
}
