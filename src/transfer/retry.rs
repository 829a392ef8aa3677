//! When and how long to wait before trying again: connect errors, timeouts,
//! cut bodies, 429 and 5xx are retried with exponential backoff and full
//! jitter; a `Retry-After` from the server is honoured (within a cap). The
//! one loop of attempts, `RetryPolicy::run`, serves `get` and `put` alike.

use std::time::Duration;

use rand::Rng;

/// How many attempts, and the pauses between them. The default: 5
/// attempts, pauses from 200 ms doubling up to 10 s, a `Retry-After` of up
/// to 2 minutes honoured.
///
/// Three quick attempts at a port nobody listens on:
///
/// ```
/// use std::time::Duration;
/// use cfsign::transfer::get::{self, Destination, GetOptions};
/// use cfsign::transfer::{ClientOptions, NoProgress, RetryPolicy, UrlSigner};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
/// let options = GetOptions {
///     retry: RetryPolicy {
///         attempts: 3,
///         base_delay: Duration::from_millis(1),
///         ..RetryPolicy::default()
///     },
///     ..GetOptions::default()
/// };
/// let out = tempfile::tempdir()?;
/// let err = get::get(
///     &ClientOptions::default().build()?,
///     &UrlSigner::none(),
///     &format!("http://{closed}/a.txt"),
///     &Destination::File(out.path().join("a.txt")),
///     &options,
///     &NoProgress,
///     std::future::pending(),
/// )
/// .await
/// .unwrap_err();
/// assert!(err.to_string().contains("gave up after 3 attempts"), "{err}");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (0 counts as 1).
    pub attempts: u32,
    /// The backoff's ceiling after the first failure; it doubles after each.
    pub base_delay: Duration,
    /// The highest the backoff's ceiling goes.
    pub max_delay: Duration,
    /// The longest `Retry-After` we are willing to wait.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The default policy, with `--retries N` meaning N attempts after the
    /// first (`None`: the default number).
    ///
    /// ```
    /// use cfsign::transfer::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::with_retries(Some(2)).attempts, 3);
    /// assert_eq!(RetryPolicy::with_retries(Some(0)).attempts, 1);
    /// assert_eq!(RetryPolicy::with_retries(None).attempts, RetryPolicy::default().attempts);
    /// ```
    pub fn with_retries(retries: Option<u32>) -> Self {
        let mut policy = RetryPolicy::default();
        if let Some(n) = retries {
            policy.attempts = n.saturating_add(1);
        }
        policy
    }

    /// The pause before attempt `attempt + 1` (`attempt` counts from 1).
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        // Full jitter, but never less than half the ceiling so that a quick
        // series of failures still spreads out.
        let half = ceiling / 2;
        half + rand::thread_rng().gen_range(Duration::ZERO..=half)
    }
}

/// How long to wait before the next attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pause {
    /// The backoff, or the server's `Retry-After` when it gave one.
    Backoff(Option<Duration>),
    /// None: the next attempt does something else (a download that starts
    /// over from zero).
    None,
}

/// An attempt that failed in a way worth another.
pub(crate) trait Failure {
    /// The pause before the next attempt.
    fn pause(&self) -> Pause;
}

/// How one attempt ended, short of an error that ends them all.
pub(crate) enum Attempt<T, F> {
    Done(T),
    Failed(F),
}

/// How the attempts ended.
pub(crate) enum Outcome<T, F> {
    Done(T),
    /// Every attempt failed; `last` is the last failure.
    GaveUp {
        last: F,
        attempts: u32,
    },
}

impl RetryPolicy {
    /// Runs `attempt` (given its number, from 1) until it is done, fails
    /// for good (`Err`), or the attempts are spent, pausing between them.
    pub(crate) async fn run<T, F: Failure>(
        &self,
        mut attempt: impl AsyncFnMut(u32) -> Result<Attempt<T, F>, crate::error::Error>,
    ) -> Result<Outcome<T, F>, crate::error::Error> {
        let attempts = self.attempts.max(1);
        let mut n = 0;
        loop {
            n += 1;
            let failure = match attempt(n).await? {
                Attempt::Done(done) => return Ok(Outcome::Done(done)),
                Attempt::Failed(failure) => failure,
            };
            if n >= attempts {
                return Ok(Outcome::GaveUp {
                    last: failure,
                    attempts: n,
                });
            }
            let pause = match failure.pause() {
                Pause::Backoff(retry_after) => self.delay(n, retry_after),
                Pause::None => Duration::ZERO,
            };
            tokio::time::sleep(pause).await;
        }
    }
}

/// Whether an HTTP status is worth another attempt.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (status >= 500 && status != 501 && status != 505)
}

/// Whether a transport error is worth another attempt (not a certificate
/// or other TLS failure, nor a proxy refusing the tunnel: the next attempt
/// would meet the same one).
pub(crate) fn retryable_error(e: &reqwest::Error) -> bool {
    (e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() || e.is_decode())
        && !super::client::is_tls_failure(e)
        && super::client::proxy_refusal(e).is_none()
}

/// The `Retry-After` of an answer, if it has a readable one.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, chrono::Utc::now())
}

/// Reads `Retry-After`: delta-seconds or an HTTP date (any of its three
/// forms); a date already past means "now".
fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::from(now))
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for (s, r) in [
            (200, false),
            (403, false),
            (404, false),
            (408, true),
            (429, true),
            (500, true),
            (501, false),
            (503, true),
            (599, true),
        ] {
            assert_eq!(retryable_status(s), r, "{s}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Tue, 01 Jan 2030 00:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Mon, 31 Dec 2029 00:00:05 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Tuesday, 01-Jan-30 00:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Tue Jan  1 00:00:05 2030", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let d = p.delay(attempt, None);
            let ceiling = (p.base_delay * (1 << (attempt - 1))).min(p.max_delay);
            assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(9999))),
            p.max_retry_after
        );
    }
}
