//! Downloading one object so that nothing half-written ever sits at the
//! destination: bytes go to a partial file beside it (`.NAME.cfsign-part`),
//! which is fsynced and renamed over the destination only once the length and
//! any `--sha256` check out.
//!
//! Every attempt is signed afresh (a retry after the expiry would otherwise
//! meet a 403) and continues from the bytes already held, with `Range` and
//! `If-Range`; only a 206 whose `Content-Range` starts at exactly that offset
//! is appended, anything else starts over from zero. With `resume`
//! (`--continue`) the partial file and the object's validator (ETag or
//! Last-Modified, in `.NAME.cfsign-meta`) outlive a failed or interrupted run
//! so the next run carries on; without it, every failure removes them.
//!
//! This module never retries on its own terms: pauses come from
//! [`RetryPolicy`], error bodies are read by [`response`], URLs are signed by
//! [`UrlSigner`], and the client is the one from [`client`](super::client).
//! Memory stays flat: one response chunk and one write buffer at a time.

use std::fmt;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_RANGE, ETAG, HeaderMap, IF_RANGE, LAST_MODIFIED, RANGE, RETRY_AFTER,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::progress::{self, ProgressMode};
use super::response;
use super::retry::{self, RetryPolicy};
use super::signing::UrlSigner;
use crate::config::io_reason;
use crate::error::Error;

/// Bytes gathered before one write to the file: large enough that writes are
/// few, small enough that memory stays flat whatever the object's size.
const WRITE_BUFFER: usize = 256 * 1024;

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

/// A SHA-256 given as 64 hex digits (`--sha256`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sha256Digest(pub [u8; 32]);

impl FromStr for Sha256Digest {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        match hex::decode_to_slice(s.trim(), &mut out) {
            Ok(()) => Ok(Sha256Digest(out)),
            Err(_) => Err(format!(
                "`{}` is not a SHA-256: give 64 hex digits, as `sha256sum` prints them",
                s.chars().take(80).collect::<String>()
            )),
        }
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// The file name a URL's object is saved under: its last path segment,
/// percent-decoded, made safe to use as one name in the current folder.
/// Separators (`/`, `\`), NUL and control characters become `_`, leading dots
/// are dropped (no `..`, no hidden files), and what remains is cut to 255
/// bytes. A URL with no usable last segment (`https://host/`, `…/..`) is saved
/// as `index.html`, as wget does.
///
/// ```
/// use cfsign::transfer::get::file_name_for;
/// assert_eq!(file_name_for("https://h.net/a/my%20report.pdf?x=1"), "my report.pdf");
/// assert_eq!(file_name_for("https://h.net/a/..%2F..%2Fetc%2Fpasswd"), "_.._etc_passwd");
/// assert_eq!(file_name_for("https://h.net/"), "index.html");
/// ```
pub fn file_name_for(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    // The authority is not a path segment: `https://host` has no name.
    let segment = match rest.split_once('/') {
        Some((_, path)) => path.rsplit('/').next().unwrap_or_default(),
        None => "",
    };
    let decoded = String::from_utf8_lossy(&percent_decode(segment)).into_owned();
    let cleaned: String = decoded
        .chars()
        .map(|c| {
            let unsafe_here = c == '/' || c == '\\' || c.is_control();
            let reserved_on_windows =
                cfg!(windows) && matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|');
            if unsafe_here || reserved_on_windows {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut name = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_start()
        .to_string();
    if name.len() > 255 {
        let mut end = 255;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    if name.is_empty() {
        "index.html".to_string()
    } else {
        name
    }
}

/// `%XX` sequences decoded; a `%` not followed by two hex digits stays as is.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(Ok(b)) = bytes
                .get(i + 1..i + 3)
                .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16))
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A `Content-Range` response header, parsed strictly: `bytes a-b/total`
/// (`total` may be `*`) or `bytes */total`. No spaces, signs or other units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentRange {
    Bytes {
        first: u64,
        last: u64,
        total: Option<u64>,
    },
    Unsatisfied {
        total: u64,
    },
}

impl FromStr for ContentRange {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        fn number(s: &str) -> Result<u64, ()> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            s.parse().map_err(|_| ())
        }
        let spec = s.strip_prefix("bytes ").ok_or(())?;
        let (range, total) = spec.split_once('/').ok_or(())?;
        if range == "*" {
            return Ok(ContentRange::Unsatisfied {
                total: number(total)?,
            });
        }
        let (first, last) = range.split_once('-').ok_or(())?;
        let (first, last) = (number(first)?, number(last)?);
        let total = if total == "*" {
            None
        } else {
            Some(number(total)?)
        };
        if first > last || total.is_some_and(|t| last >= t) {
            return Err(());
        }
        Ok(ContentRange::Bytes { first, last, total })
    }
}

/// Checks a 206's `Content-Range` against the request `bytes=<offset>-`:
/// it must start at exactly `offset`, name the total size, and agree with the
/// total already known. Returns the total.
pub fn check_partial(
    header: Option<&str>,
    offset: u64,
    known_total: Option<u64>,
) -> Result<u64, String> {
    let shown = header.unwrap_or("(none)");
    let wrong = |why: &str| format!("the server answered 206 with Content-Range {shown}, {why}");
    let Some(Ok(range)) = header.map(str::parse::<ContentRange>) else {
        return Err(wrong("which is not a valid byte range"));
    };
    match range {
        ContentRange::Bytes {
            first,
            total: Some(total),
            ..
        } => {
            if first != offset {
                Err(wrong(&format!("but bytes {offset}- were asked for")))
            } else if known_total.is_some_and(|k| k != total) {
                Err(wrong(&format!(
                    "but the object was {} bytes",
                    known_total.unwrap_or_default()
                )))
            } else {
                Ok(total)
            }
        }
        ContentRange::Bytes { total: None, .. } => Err(wrong("without the object's size")),
        ContentRange::Unsatisfied { .. } => Err(wrong("which names no bytes")),
    }
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
        Destination::File(path) => path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        Destination::Stdout => {
            if options.resume {
                return Err(Error::usage(
                    "--continue needs a file to continue: give -o PATH instead of -o -",
                ));
            }
            "stdout".to_string()
        }
    };
    let (mut sink, meta) = tokio::select! {
        biased;
        () = &mut interrupt => return Err(Error::Interrupted),
        opened = Sink::open(to, options) => opened?,
    };
    let held = sink.held;
    let mut state = State {
        offset: held,
        total: meta.length,
        validator: meta.validator,
        resumed_from: held,
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
            sink.fail(options.resume);
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
            sink.fail(false);
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
                sink.save_meta(state);
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
                sink.save_meta(state);
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
                        path.display(),
                        state.offset
                    )));
                }
                let why = format!(
                    "the server has no bytes from {} on (Content-Range {})",
                    state.offset,
                    range.unwrap_or("(none)")
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
    if e.is_timeout() {
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

/// What `--continue` keeps beside the partial file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Meta {
    validator: Option<String>,
    length: Option<u64>,
}

/// Where the bytes go, how many are held, and their running SHA-256.
struct Sink {
    out: Out,
    held: u64,
    hasher: Option<Sha256>,
}

enum Out {
    File(Box<PartFile>),
    Stdout(std::io::BufWriter<std::io::Stdout>),
}

/// Runs a short blocking file operation in place. Writes to the page cache
/// are quick, and doing them here spares a copy and a thread hop per buffer;
/// on a multi-threaded runtime, other tasks are moved off this thread first.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Sink {
    /// Whether the bytes held are the destination file itself (`--continue`
    /// found no partial file of ours), not yet known to be a prefix.
    fn probed_destination(&self) -> Option<&Path> {
        match &self.out {
            Out::File(part) if part.probing_destination => Some(&part.destination),
            _ => None,
        }
    }

    async fn open(to: &Destination, options: &GetOptions) -> Result<(Self, Meta), Error> {
        let mut hasher = options.sha256.map(|_| Sha256::new());
        let (out, held, meta) = match to {
            Destination::File(path) => {
                let path = path.clone();
                let resume = options.resume;
                let opened = tokio::task::spawn_blocking(move || -> Result<_, Error> {
                    let (part, held, meta) = PartFile::open(&path, resume)?;
                    if let Some(h) = &mut hasher {
                        part.hash_prefix(held, h)?;
                    }
                    Ok((part, held, meta, hasher))
                });
                let (part, held, meta, h) = opened
                    .await
                    .map_err(|e| Error::Runtime(format!("cannot open the partial file: {e}")))??;
                hasher = h;
                (Out::File(Box::new(part)), held, meta)
            }
            Destination::Stdout => (
                Out::Stdout(std::io::BufWriter::with_capacity(
                    WRITE_BUFFER,
                    std::io::stdout(),
                )),
                0,
                Meta::default(),
            ),
        };
        Ok((Sink { out, held, hasher }, meta))
    }

    /// Writes the next bytes; `false` when stdout's reader has gone.
    fn write(&mut self, bytes: &[u8]) -> Result<bool, Error> {
        match &mut self.out {
            Out::File(part) => blocking(|| part.write(bytes))?,
            Out::Stdout(out) => match blocking(|| out.write_all(bytes)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(false),
                Err(e) => return Err(Error::Runtime(format!("cannot write to stdout: {e}"))),
            },
        }
        self.held += bytes.len() as u64;
        if let Some(h) = &mut self.hasher {
            h.update(bytes);
        }
        Ok(true)
    }

    /// The next request asks for the whole object. A file starts over from
    /// zero; stdout cannot take back what it wrote, so it keeps its count and
    /// skips that many bytes of the next answer (see [`Sink::take_whole`]).
    fn start_over(&mut self, state: &mut State) -> Result<(), Error> {
        if let Out::File(part) = &mut self.out {
            blocking(|| part.truncate())?;
            self.held = 0;
            self.hasher = self.hasher.as_ref().map(|_| Sha256::new());
            state.validator = None;
            state.total = None;
        }
        state.offset = 0;
        Ok(())
    }

    /// A 200 (the whole object) arrived while bytes are held: stdout may skip
    /// what it wrote only if the object is provably the same one.
    fn take_whole(&mut self, state: &mut State, validator: &Option<String>) -> Result<(), Error> {
        if self.held == 0 && state.offset == 0 {
            return Ok(());
        }
        if let Out::Stdout(_) = self.out {
            if validator.is_none() || *validator != state.validator {
                return Err(Error::Integrity(format!(
                    "the object changed while it was being written to stdout ({} bytes written)",
                    self.held
                )));
            }
        }
        self.start_over(state)
    }

    fn adopt_destination(&mut self) -> Result<(), Error> {
        match &mut self.out {
            Out::File(part) => blocking(|| part.adopt_destination()),
            Out::Stdout(_) => Ok(()),
        }
    }

    fn save_meta(&self, state: &State) {
        if let Out::File(part) = &self.out {
            part.save_meta(state);
        }
    }

    fn digest(&mut self) -> Option<Sha256Digest> {
        self.hasher
            .take()
            .map(|h| Sha256Digest(h.finalize().into()))
    }

    fn commit(self) -> Result<(), Error> {
        match self.out {
            Out::File(part) => blocking(|| part.commit()),
            Out::Stdout(mut out) => match blocking(|| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::Runtime(format!("cannot write to stdout: {e}")))
                }
                _ => Ok(()),
            },
        }
    }

    /// After a failure: remove the partial file, or with `keep` leave it
    /// (flushed) for the next `--continue`.
    fn fail(self, keep: bool) {
        match self.out {
            Out::File(part) if keep && self.held > 0 => blocking(|| part.keep()),
            Out::File(part) => part.discard(),
            Out::Stdout(mut out) => {
                let _ = blocking(|| out.flush());
            }
        }
    }
}

/// The partial file beside the destination, removed on drop unless kept.
struct PartFile {
    destination: PathBuf,
    path: PathBuf,
    meta_path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    /// `--continue` found the destination itself but no partial file: its
    /// size is offered as the offset, and it becomes the partial file only if
    /// the server answers 206 (a 416 means it is complete and stays as is).
    probing_destination: bool,
    /// Leave the files on drop (an interrupted `--continue`).
    keep_on_drop: bool,
    settled: bool,
}

impl PartFile {
    /// Opens (or with `resume`, reopens) the partial file for `destination`;
    /// returns it with the bytes already held and the saved validator.
    fn open(destination: &Path, resume: bool) -> Result<(Self, u64, Meta), Error> {
        let name = destination
            .file_name()
            .ok_or_else(|| Error::usage(format!("{} is not a file name", destination.display())))?
            .to_string_lossy()
            .into_owned();
        let beside = |suffix: &str| destination.with_file_name(format!(".{name}.cfsign-{suffix}"));
        let mut part = PartFile {
            destination: destination.to_path_buf(),
            path: beside("part"),
            meta_path: beside("meta"),
            file: None,
            probing_destination: false,
            keep_on_drop: resume,
            settled: false,
        };
        let mut meta = Meta::default();
        let mut held = 0;
        if resume && part.path.is_file() {
            held = part.reopen()?;
            meta = std::fs::read(&part.meta_path)
                .ok()
                .and_then(|m| serde_json::from_slice(&m).ok())
                .unwrap_or_default();
        } else if resume && destination.is_file() {
            held = std::fs::metadata(destination)
                .map_err(|e| part.io_error("read", &e))?
                .len();
            part.probing_destination = held > 0;
        }
        if part.file.is_none() && !part.probing_destination {
            part.create()?;
        }
        Ok((part, held, meta))
    }

    fn io_error(&self, what: &str, e: &std::io::Error) -> Error {
        Error::Runtime(format!(
            "cannot {what} {}: {}",
            self.path.display(),
            io_reason(e)
        ))
    }

    fn create(&mut self) -> Result<(), Error> {
        let file = std::fs::File::create(&self.path).map_err(|e| self.io_error("create", &e))?;
        self.file = Some(std::io::BufWriter::with_capacity(WRITE_BUFFER, file));
        Ok(())
    }

    /// Opens the existing partial file to append; returns its length.
    fn reopen(&mut self) -> Result<u64, Error> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| self.io_error("open", &e))?;
        let len = file
            .seek(SeekFrom::End(0))
            .map_err(|e| self.io_error("open", &e))?;
        self.file = Some(std::io::BufWriter::with_capacity(WRITE_BUFFER, file));
        Ok(len)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let file = self
            .file
            .as_mut()
            .expect("the partial file is open before bytes arrive");
        file.write_all(bytes)
            .map_err(|e| self.io_error("write", &e))
    }

    fn truncate(&mut self) -> Result<(), Error> {
        if self.probing_destination {
            self.probing_destination = false;
            return self.create();
        }
        if let Some(file) = &mut self.file {
            let r = file.flush().and_then(|()| {
                file.get_mut().set_len(0)?;
                file.get_mut().seek(SeekFrom::Start(0)).map(|_| ())
            });
            r.map_err(|e| self.io_error("truncate", &e))?;
        }
        let _ = std::fs::remove_file(&self.meta_path);
        Ok(())
    }

    /// A 206 for the destination's size: it is a partial download after all,
    /// so it moves aside and grows there.
    fn adopt_destination(&mut self) -> Result<(), Error> {
        if !self.probing_destination {
            return Ok(());
        }
        std::fs::rename(&self.destination, &self.path)
            .map_err(|e| self.io_error("move the destination to", &e))?;
        self.probing_destination = false;
        self.reopen().map(|_| ())
    }

    fn save_meta(&self, state: &State) {
        if !self.keep_on_drop {
            return;
        }
        let meta = Meta {
            validator: state.validator.clone(),
            length: state.total,
        };
        let _ = std::fs::write(
            &self.meta_path,
            serde_json::to_vec(&meta).unwrap_or_default(),
        );
    }

    /// Feeds the bytes already held into `hasher` (resuming with `--sha256`).
    fn hash_prefix(&self, held: u64, hasher: &mut Sha256) -> Result<(), Error> {
        if held == 0 {
            return Ok(());
        }
        let path = if self.probing_destination {
            &self.destination
        } else {
            &self.path
        };
        let file = std::fs::File::open(path).map_err(|e| self.io_error("read", &e))?;
        std::io::copy(&mut file.take(held), hasher).map_err(|e| self.io_error("read", &e))?;
        Ok(())
    }

    /// Flushed, fsynced, renamed over the destination, and the rename made
    /// durable. A complete destination found by `--continue` stays untouched.
    fn commit(mut self) -> Result<(), Error> {
        self.settled = true;
        if self.probing_destination {
            return Ok(());
        }
        let Some(mut file) = self.file.take() else {
            return Ok(());
        };
        let synced = file.flush().and_then(|()| file.get_ref().sync_all());
        drop(file);
        if let Err(e) = synced {
            self.discard_files();
            return Err(self.io_error("write", &e));
        }
        if let Err(e) = std::fs::rename(&self.path, &self.destination) {
            self.discard_files();
            return Err(Error::Runtime(format!(
                "cannot save {}: {}",
                self.destination.display(),
                io_reason(&e)
            )));
        }
        let _ = std::fs::remove_file(&self.meta_path);
        sync_parent(&self.destination);
        Ok(())
    }

    /// Flushes what is buffered so the next `--continue` starts from it.
    fn keep(mut self) {
        self.settled = true;
        if let Some(mut file) = self.file.take() {
            let _ = file.flush();
        }
    }

    fn discard(mut self) {
        self.settled = true;
        self.discard_files();
    }

    fn discard_files(&self) {
        if self.probing_destination {
            return;
        }
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(&self.meta_path);
    }
}

impl Drop for PartFile {
    /// Reached without settling only when the download was cancelled
    /// (dropped): the partial file goes, unless `--continue` wants it.
    fn drop(&mut self) {
        let empty = || std::fs::metadata(&self.path).is_ok_and(|m| m.len() == 0);
        if !self.settled && (!self.keep_on_drop || empty()) {
            self.discard_files();
        }
    }
}

#[cfg(unix)]
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = std::fs::File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_parent(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_is_parsed_strictly() {
        use ContentRange::*;
        let ok = |first, last, total| Ok(Bytes { first, last, total });
        for (text, expected) in [
            ("bytes 0-9/10", ok(0, 9, Some(10))),
            ("bytes 5-9/10", ok(5, 9, Some(10))),
            ("bytes 0-0/1", ok(0, 0, Some(1))),
            ("bytes 3-4/*", ok(3, 4, None)),
            ("bytes */10", Ok(Unsatisfied { total: 10 })),
            ("bytes */0", Ok(Unsatisfied { total: 0 })),
            ("bytes 5-10/10", Err(())),
            ("bytes 9-5/10", Err(())),
            ("bytes 0-0/0", Err(())),
            ("", Err(())),
            ("bytes", Err(())),
            ("bytes ", Err(())),
            ("bytes=5-9/10", Err(())),
            ("Bytes 5-9/10", Err(())),
            ("items 5-9/10", Err(())),
            ("bytes 5-9", Err(())),
            ("bytes 5-9/", Err(())),
            ("bytes -5-9/10", Err(())),
            ("bytes +5-9/10", Err(())),
            ("bytes 5-+9/10", Err(())),
            ("bytes 5 -9/10", Err(())),
            ("bytes  5-9/10", Err(())),
            ("bytes 5-9/10 ", Err(())),
            ("bytes 5-9/1_0", Err(())),
            ("bytes */*", Err(())),
            ("bytes 5-/10", Err(())),
            ("bytes -9/10", Err(())),
            ("bytes 0x5-9/10", Err(())),
            (
                "bytes 99999999999999999999-99999999999999999999/99999999999999999999",
                Err(()),
            ),
        ] {
            assert_eq!(text.parse::<ContentRange>(), expected, "{text:?}");
        }
    }

    #[test]
    fn a_partial_answer_must_start_at_the_offset() {
        for (header, offset, known, expected) in [
            (Some("bytes 5-9/10"), 5, None, Ok(10)),
            (Some("bytes 5-9/10"), 5, Some(10), Ok(10)),
            (Some("bytes 5-6/10"), 5, Some(10), Ok(10)),
            (
                Some("bytes 4-9/10"),
                5,
                None,
                Err("bytes 5- were asked for"),
            ),
            (
                Some("bytes 6-9/10"),
                5,
                None,
                Err("bytes 5- were asked for"),
            ),
            (
                Some("bytes 5-9/11"),
                5,
                Some(10),
                Err("the object was 10 bytes"),
            ),
            (
                Some("bytes 5-9/*"),
                5,
                None,
                Err("without the object's size"),
            ),
            (Some("bytes */10"), 5, None, Err("names no bytes")),
            (
                Some("bytes 5-10/10"),
                5,
                None,
                Err("not a valid byte range"),
            ),
            (Some("garbage"), 5, None, Err("not a valid byte range")),
            (None, 5, None, Err("not a valid byte range")),
        ] {
            let got = check_partial(header, offset, known);
            match expected {
                Ok(total) => assert_eq!(got, Ok(total), "{header:?}"),
                Err(needle) => {
                    let e = got.expect_err(header.unwrap_or("none"));
                    assert!(e.contains(needle), "{header:?}: {e}");
                }
            }
        }
    }

    #[test]
    fn file_names_never_leave_the_folder() {
        for (url, name) in [
            ("https://h.net/a/b.txt", "b.txt"),
            ("https://h.net/b.txt?x=1&y=/z", "b.txt"),
            ("https://h.net/b.txt#frag", "b.txt"),
            ("https://h.net/my%20file%C3%A9.txt", "my fileé.txt"),
            ("https://h.net/", "index.html"),
            ("https://h.net", "index.html"),
            ("https://h.net?x=/y.txt", "index.html"),
            ("https://h.net/a/", "index.html"),
            ("https://h.net/a/..", "index.html"),
            ("https://h.net/a/%2E%2E", "index.html"),
            ("https://h.net/a/.", "index.html"),
            ("https://h.net/.bashrc", "bashrc"),
            ("https://h.net/...x", "x"),
            ("https://h.net/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd"),
            ("https://h.net/..%5C..%5Cwin.ini", "_.._win.ini"),
            ("https://h.net/a%00b", "a_b"),
            ("https://h.net/a%0Ab%1B", "a_b_"),
            ("https://h.net/a%ZZb%4", "a%ZZb%4"),
            ("https://h.net/%FF.bin", "\u{fffd}.bin"),
            ("https://h.net/%20%20", "index.html"),
        ] {
            assert_eq!(file_name_for(url), name, "{url}");
        }
        let long = format!("https://h.net/{}", "é".repeat(200));
        let name = file_name_for(&long);
        assert!(
            name.len() <= 255 && name.chars().all(|c| c == 'é'),
            "{name}"
        );
    }

    #[test]
    fn sha256_digests() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let d: Sha256Digest = hex.parse().unwrap();
        assert_eq!(d.to_string(), hex);
        assert_eq!(hex.to_uppercase().parse::<Sha256Digest>().unwrap(), d);
        for bad in [
            "",
            "abc",
            &hex[1..],
            &format!("{hex}00"),
            &hex.replace('e', "g"),
        ] {
            let e = bad.parse::<Sha256Digest>().unwrap_err();
            assert!(e.contains("64 hex digits"), "{bad}: {e}");
        }
    }
}
