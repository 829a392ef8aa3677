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
//! This module never retries on its own terms: pauses come from
//! [`RetryPolicy`], error bodies are read by [`response`], URLs are signed by
//! [`UrlSigner`], and the client is the one from [`client`](super::client).
//! Memory stays flat: one response chunk and one write buffer at a time.

mod checksum;
mod files;
mod name;
mod part;
mod range;
mod record;
mod sink;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_RANGE, ETAG, HeaderMap, IF_RANGE, LAST_MODIFIED, RANGE, RETRY_AFTER,
};

pub use self::checksum::Sha256Digest;
pub use self::name::file_name_for;
pub use self::range::{ContentRange, check_partial};
use self::sink::Sink;
use super::progress::{self, ProgressMode};
use super::response;
use super::retry::{self, RetryPolicy};
use super::signing::UrlSigner;
use crate::error::Error;

/// The most of an error body that is read to find CloudFront's `<Code>`.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Where the object goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// This file path, replaced atomically on success.
    File(PathBuf),
    /// Standard output, as the bytes arrive.
    Stdout,
}

#[derive(Clone, Debug, Default)]
pub struct GetOptions {
    pub retry: RetryPolicy,
    /// Keep the partial file on failure and carry on from it next time.
    pub resume: bool,
    /// The SHA-256 the object must have.
    pub sha256: Option<Sha256Digest>,
    pub progress: ProgressMode,
}

/// What a successful download did.
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
/// When `interrupt` resolves (Ctrl-C), the download stops with
/// [`Error::Interrupted`] and cleans up as after any other failure; pass
/// `std::future::pending()` for none.
pub async fn get(
    client: &reqwest::Client,
    signer: &UrlSigner,
    url: &str,
    to: &Destination,
    options: &GetOptions,
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
        options,
        label,
        bar: None,
    };
    let outcome = tokio::select! {
        biased;
        () = &mut interrupt => Err(Error::Interrupted),
        done = transfer.run(&mut sink, &mut state) => done,
    };
    if let Some(bar) = &transfer.bar {
        bar.finish_and_clear();
    }
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
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(Error::usage(format!(
            "cannot download a {}: URL: give an http:// or https:// URL",
            u.scheme()
        ))),
        Err(e) => Err(Error::usage(format!(
            "`{}` is not a URL ({e}): give the full URL, such as https://d111111abcdef8.cloudfront.net/path",
            crate::escape::shown_url(url)
        ))),
    }
}

/// What is known about the object and how far we are.
struct State {
    /// The object offset of the next byte the current answer delivers; equal
    /// to the bytes held except while stdout skips what it already wrote.
    offset: u64,
    total: Option<u64>,
    /// A strong ETag or a Last-Modified date, sent as `If-Range`.
    validator: Option<String>,
    resumed_from: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Done {
    Complete,
    /// `--continue` and a 416 for the size we already hold.
    AlreadyComplete,
    /// The reader of `-o -` went away (`| head`): not an error.
    StdoutClosed,
}

/// Why an attempt did not finish, when another attempt may.
enum Failure {
    /// No answer: refused connection, DNS, timeout.
    Transport(reqwest::Error),
    /// 408, 429 or a 5xx.
    Status {
        status: u16,
        body: Vec<u8>,
        retry_after: Option<Duration>,
    },
    /// The body stopped before its end.
    Body(Option<reqwest::Error>),
    /// An answer we cannot continue from (a wrong `Content-Range`, a 416 for
    /// bytes we thought we held): start over from zero, without a pause.
    StartOver(String),
}

struct Transfer<'a> {
    client: &'a reqwest::Client,
    signer: &'a UrlSigner,
    url: &'a str,
    /// The first attempt's URL, signed (and checked) before anything else.
    first_url: Option<String>,
    options: &'a GetOptions,
    label: String,
    bar: Option<indicatif::ProgressBar>,
}

enum Attempt {
    Done(Done),
    Failed(Failure),
}

impl Transfer<'_> {
    async fn run(&mut self, sink: &mut Sink, state: &mut State) -> Result<Done, Error> {
        let attempts = self.options.retry.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(sink, state).await? {
                Attempt::Done(done) => return Ok(done),
                Attempt::Failed(f) => f,
            };
            if attempt >= attempts {
                return Err(failure.into_error(state, attempts));
            }
            let pause = match &failure {
                Failure::StartOver(_) => Duration::ZERO,
                Failure::Status { retry_after, .. } => {
                    self.options.retry.delay(attempt, *retry_after)
                }
                _ => self.options.retry.delay(attempt, None),
            };
            tokio::time::sleep(pause).await;
        }
    }

    async fn attempt(&mut self, sink: &mut Sink, state: &mut State) -> Result<Attempt, Error> {
        let url = match self.first_url.take() {
            Some(u) => u,
            None => self.signer.sign(self.url)?,
        };
        let mut request = self.client.get(&url);
        if state.offset > 0 {
            request = request.header(RANGE, format!("bytes={}-", state.offset));
            if let Some(v) = &state.validator {
                request = request.header(IF_RANGE, v);
            }
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if retry::retryable_error(&e) => {
                return Ok(Attempt::Failed(Failure::Transport(e)));
            }
            Err(e) => return Err(Error::Network(describe(&e))),
        };
        let status = response.status();
        let headers = response.headers().clone();
        match status {
            StatusCode::OK => {
                // After a Range request: Range ignored, or the object changed
                // (If-Range). Either way the answer is the whole object.
                let new_validator = validator(&headers);
                sink.take_whole(state, &new_validator)?;
                state.total = response.content_length();
                state.validator = new_validator;
            }
            StatusCode::PARTIAL_CONTENT => {
                let range = headers.get(CONTENT_RANGE).and_then(|v| v.to_str().ok());
                match check_partial(range, state.offset, state.total) {
                    Ok(total) => state.total = Some(total),
                    Err(why) => {
                        sink.start_over(state)?;
                        return Ok(Attempt::Failed(Failure::StartOver(why)));
                    }
                }
                sink.adopt_destination()?;
                if state.validator.is_none() {
                    state.validator = validator(&headers);
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE if state.offset > 0 => {
                let range = headers.get(CONTENT_RANGE).and_then(|v| v.to_str().ok());
                let total = match range.map(str::parse) {
                    Some(Ok(ContentRange::Unsatisfied { total })) => Some(total),
                    _ => state.total,
                };
                if total == Some(state.offset) || (total.is_none() && sink.held > 0) {
                    return Ok(Attempt::Done(Done::AlreadyComplete));
                }
                // A file of the user's that is longer than the object is not a
                // partial download of it: never replace it behind their back.
                if let (Some(total), Some(path)) = (total, sink.probed_destination()) {
                    return Err(Error::Integrity(format!(
                        "{} holds {} bytes but the object has {total}, so it is not a partial copy of it: move it away, or download without --continue",
                        crate::escape::shown_path(path),
                        state.offset
                    )));
                }
                let why = format!(
                    "the server has no bytes from {} on (Content-Range {})",
                    state.offset,
                    range.map_or_else(
                        || "(none)".to_string(),
                        |r| crate::escape::shown(r).to_string()
                    )
                );
                sink.start_over(state)?;
                return Ok(Attempt::Failed(Failure::StartOver(why)));
            }
            s if retry::retryable_status(s.as_u16()) => {
                let retry_after = headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry::parse_retry_after(v, chrono::Utc::now()));
                let body = error_body(response).await;
                return Ok(Attempt::Failed(Failure::Status {
                    status: s.as_u16(),
                    body,
                    retry_after,
                }));
            }
            s if s.is_client_error() => {
                let body = error_body(response).await;
                let signed_by_us = self.signer.holds_key() && !UrlSigner::is_signed(self.url);
                return Err(response::refused(s.as_u16(), &body, signed_by_us));
            }
            s if s.is_server_error() => {
                let body = error_body(response).await;
                return Err(Error::Network(status_line(s.as_u16(), &body)));
            }
            s => {
                return Err(Error::Runtime(format!(
                    "unexpected answer {s} from the server"
                )));
            }
        }
        self.stream(response, sink, state).await
    }

    async fn stream(
        &mut self,
        mut response: reqwest::Response,
        sink: &mut Sink,
        state: &mut State,
    ) -> Result<Attempt, Error> {
        let bar = self
            .bar
            .get_or_insert_with(|| progress::bar(self.options.progress, state.total, &self.label));
        if let Some(total) = state.total {
            bar.set_length(total);
        }
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Ok(Attempt::Failed(Failure::Body(Some(e)))),
            };
            // stdout after a restart: skip what was already written.
            let skip = sink
                .held
                .saturating_sub(state.offset)
                .min(chunk.len() as u64) as usize;
            state.offset += chunk.len() as u64;
            let fresh = &chunk[skip..];
            if fresh.is_empty() {
                continue;
            }
            if !sink.write(fresh)? {
                return Ok(Attempt::Done(Done::StdoutClosed));
            }
            bar.set_position(sink.held);
        }
        if state.total.is_some_and(|t| state.offset < t) {
            return Ok(Attempt::Failed(Failure::Body(None)));
        }
        Ok(Attempt::Done(Done::Complete))
    }
}

impl Failure {
    fn into_error(self, state: &State, attempts: u32) -> Error {
        let tries = if attempts == 1 {
            String::new()
        } else {
            format!(" (gave up after {attempts} attempts)")
        };
        match self {
            Failure::Transport(e) => Error::Network(format!("{}{tries}", describe(&e))),
            Failure::Status { status, body, .. } => {
                Error::Network(format!("{}{tries}", status_line(status, &body)))
            }
            Failure::Body(Some(e)) if e.is_timeout() => Error::Network(format!(
                "the server stopped sending after {} bytes: {}{tries}",
                state.offset,
                describe(&e)
            )),
            Failure::Body(_) => Error::Integrity(format!(
                "incomplete download: received {} of {} bytes{tries}",
                state.offset,
                state
                    .total
                    .map_or_else(|| "an unknown number of".to_string(), |t| t.to_string())
            )),
            Failure::StartOver(why) => Error::Integrity(format!("{why}{tries}")),
        }
    }
}

/// `503 ServiceUnavailable: message`, read as [`response::refused`] reads a
/// 4xx, for the statuses that are not refusals.
fn status_line(status: u16, body: &[u8]) -> String {
    match response::refused(status, body, false) {
        Error::Refused { code, message, .. } if !message.is_empty() => {
            format!("{status} {code}: {message}")
        }
        Error::Refused { code, .. } => format!("{status} {code}"),
        other => other.to_string(),
    }
}

/// A transport error in one line, without the (signed) URL.
fn describe(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(source) = root.source() {
        root = source;
    }
    let cause = root.to_string();
    let cause = match cause.find(" (os error") {
        Some(i) => cause[..i].to_string(),
        None => cause,
    };
    let host = e
        .url()
        .map(|u| {
            let host = u.host_str().unwrap_or_default();
            u.port()
                .map_or_else(|| host.to_string(), |p| format!("{host}:{p}"))
        })
        .unwrap_or_default();
    if let Some(tls) = super::client::tls_failure(e) {
        format!("{host}: {tls}")
    } else if let Some(proxy) = super::client::proxy_refusal(e) {
        format!("{host}: {proxy}")
    } else if e.is_timeout() {
        format!("{host} did not answer in time")
    } else if e.is_connect() {
        format!("cannot connect to {host}: {}", cause.to_lowercase())
    } else if e.is_redirect() {
        format!("{host}: too many redirects")
    } else {
        format!("{host}: {cause}")
    }
}

/// The value for `If-Range`: a strong ETag, else Last-Modified.
fn validator(headers: &HeaderMap) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
    };
    text(ETAG)
        .filter(|e| e.starts_with('"'))
        .or_else(|| text(LAST_MODIFIED))
        .map(str::to_string)
}

async fn error_body(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk[..chunk.len().min(ERROR_BODY_LIMIT - body.len())]);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    body
}
