//! One attempt of a download: the request (a `Range` from the bytes held,
//! with `If-Range`), what its answer means (the whole object, the rest of
//! it, nothing more to send, a refusal, a failure worth another attempt),
//! and the body streamed into the sink.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, ETAG, HeaderMap, IF_RANGE, LAST_MODIFIED, RANGE};

use super::range::{ContentRange, check_partial};
use super::sink::Sink;
use super::{Done, State};
use crate::error::Error;
use crate::transfer::progress::Progress;
use crate::transfer::refusal::{Asked, Refusal};
use crate::transfer::response::{self, describe, status_line};
use crate::transfer::retry::{self, Attempt, Outcome, Pause, RetryPolicy};
use crate::transfer::signing::UrlSigner;

/// Why an attempt did not finish, when another attempt may.
pub(super) enum Failure {
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

impl retry::Failure for Failure {
    fn pause(&self) -> Pause {
        match self {
            Failure::StartOver(_) => Pause::None,
            Failure::Status { retry_after, .. } => Pause::Backoff(*retry_after),
            _ => Pause::Backoff(None),
        }
    }
}

/// One download's attempts.
pub(super) struct Transfer<'a> {
    pub client: &'a reqwest::Client,
    pub signer: &'a UrlSigner,
    pub url: &'a str,
    /// The first attempt's URL, signed (and checked) before anything else.
    pub first_url: Option<String>,
    /// What the progress shows: the destination's name.
    pub label: String,
    /// Where the bytes held are reported.
    pub progress: &'a dyn Progress,
    /// Whether the progress has started (at the first byte).
    pub started: bool,
}

impl Transfer<'_> {
    /// Attempts as `retry` allows, until the object is whole (or stdout's
    /// reader is gone).
    pub(super) async fn run(
        &mut self,
        retry: &RetryPolicy,
        sink: &mut Sink,
        state: &mut State,
    ) -> Result<Done, Error> {
        let outcome = retry.run(async |_| self.attempt(sink, state).await).await?;
        match outcome {
            Outcome::Done(done) => Ok(done),
            Outcome::GaveUp { last, attempts } => Err(last.into_error(state, attempts)),
        }
    }

    async fn attempt(
        &mut self,
        sink: &mut Sink,
        state: &mut State,
    ) -> Result<Attempt<Done, Failure>, Error> {
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
                let retry_after = retry::retry_after(&headers);
                let body = response::error_body(response, None).await;
                return Ok(Attempt::Failed(Failure::Status {
                    status: s.as_u16(),
                    body,
                    retry_after,
                }));
            }
            s if s.is_client_error() => {
                let body = response::error_body(response, None).await;
                let asked = Asked {
                    method: reqwest::Method::GET,
                    url: &url,
                    our_key: self
                        .signer
                        .public_key()
                        .filter(|_| !UrlSigner::is_signed(self.url)),
                    now: crate::time::now(),
                };
                return Err(Refusal::classify(s.as_u16(), &headers, &body, &asked).into());
            }
            s if s.is_server_error() => {
                let body = response::error_body(response, None).await;
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
    ) -> Result<Attempt<Done, Failure>, Error> {
        if !self.started {
            self.progress.start(&self.label, state.total);
            self.started = true;
        } else if let Some(total) = state.total {
            self.progress.set_total(total);
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
            self.progress.set_position(sink.held);
        }
        if state.total.is_some_and(|t| state.offset < t) {
            return Ok(Attempt::Failed(Failure::Body(None)));
        }
        Ok(Attempt::Done(Done::Complete))
    }
}

impl Failure {
    /// The error once the attempts are spent.
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
