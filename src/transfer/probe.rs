//! One request, and what its answer says about the distribution: accepted
//! (a 2xx), refused (a 4xx, explained by `transfer::refusal`: who refused and
//! the setup step that fixes it), or no answer worth the name (a network
//! failure, or a 5xx once the retries are spent). `sign --check` and
//! `doctor` ask their questions with it; `get` and `put`, which stream
//! bodies and resume, keep their own attempts.
//!
//! Only what a check needs is kept: the status, the headers, the server's
//! `Date` (what CloudFront's clock says) beside this machine's clock, and a
//! bounded body.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{DATE, HeaderMap, HeaderValue, RANGE};

use super::refusal::{Asked, Refusal, Side};
use super::response::{self, describe, status_line};
use super::retry::{self, Attempt, Outcome, Pause, RetryPolicy};
use crate::error::Error;
use crate::sign::PublicKey;
use crate::time::{self, Epoch};

/// One request to send: the method, the URL as it goes on the wire
/// (signed already, or public), headers and a body.
///
/// A signed `HEAD` of an object on a local edge (`cfsign::serve`, standing
/// in for CloudFront), and the same `HEAD` unsigned:
///
/// ```
/// use cfsign::sign::{PrivateKey, Signer};
/// use cfsign::transfer::probe::{Probe, Probed};
/// use cfsign::transfer::{ClientOptions, RetryPolicy};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("a.txt"), "0123456789")?;
/// # let mut keys = cfsign::verify::KeyRing::new();
/// # keys.insert("K2JCJMDEHXQW5F", cfsign::sign::PublicKey::from_bytes(
/// #     include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
/// # let config = cfsign::serve::Config::new(root.path(), keys);
/// # let edge = cfsign::serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
/// let signer = Signer::new(PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// let url = format!("{}/a.txt", edge.url());
/// let signed = signer.sign_url(&url, std::time::Duration::from_secs(300))?;
///
/// let client = ClientOptions::default().build()?;
/// let head = Probe {
///     signed_with: Some(signer.key().public_key()),
///     ..Probe::new(reqwest::Method::HEAD, signed.as_str())
/// };
/// let Probed::Accepted(ok) = head.send(&client, &RetryPolicy::default()).await? else {
///     panic!("refused")
/// };
/// assert_eq!(ok.status, 200);
///
/// let unsigned = Probe::new(reqwest::Method::HEAD, &url).send(&client, &RetryPolicy::default()).await?;
/// let Probed::Refused(refused) = unsigned else { panic!("accepted") };
/// assert_eq!(refused.status(), 403);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone)]
pub struct Probe<'a> {
    /// `HEAD`, `GET` or `PUT`.
    pub method: Method,
    /// The URL, as requested (never shown in a message).
    pub url: &'a str,
    /// The public half of the key `url` was signed with, when cfsign signed
    /// it: a refused signature that checks with it names the key, not the
    /// bytes.
    pub signed_with: Option<PublicKey>,
    /// Headers to send (`Range`, `x-amz-content-sha256`, …).
    pub headers: HeaderMap,
    /// The body (a `PUT`'s); empty for the others.
    pub body: Vec<u8>,
    /// How long one attempt may take, answer and body: a question, not a
    /// download. The client's read timeout alone lets a server that sends
    /// a byte now and then hold a check for days.
    pub deadline: Duration,
}

/// [`Probe::deadline`]'s default.
const DEADLINE: Duration = Duration::from_secs(30);

/// What the answer meant.
///
/// ```
/// use cfsign::transfer::probe::{Probe, Probed};
/// use cfsign::transfer::{ClientOptions, RetryPolicy};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("a.txt"), "0123456789")?;
/// # let mut keys = cfsign::verify::KeyRing::new();
/// # keys.insert("K2JCJMDEHXQW5F", cfsign::sign::PublicKey::from_bytes(
/// #     include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
/// # let config = cfsign::serve::Config::new(root.path(), keys);
/// # let edge = cfsign::serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let url = format!("{}/a.txt", edge.url());
/// let client = ClientOptions::default().build()?;
/// match Probe::new(reqwest::Method::GET, &url).send(&client, &RetryPolicy::default()).await? {
///     Probed::Accepted(answer) => println!("{} bytes", answer.body.len()),
///     Probed::Refused(refused) => assert_eq!(refused.status(), 403),
/// }
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
#[derive(Debug)]
pub enum Probed {
    /// A 2xx.
    Accepted(Accepted),
    /// A 4xx (after retries, for 408 and 429).
    Refused(Refused),
}

/// An answer with a 2xx status.
///
/// ```
/// use cfsign::transfer::probe::{Probe, Probed};
/// use cfsign::transfer::{ClientOptions, RetryPolicy};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("a.txt"), "0123456789")?;
/// # let mut keys = cfsign::verify::KeyRing::new();
/// # keys.insert("K2JCJMDEHXQW5F", cfsign::sign::PublicKey::from_bytes(
/// #     include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
/// # let config = cfsign::serve::Config::new(root.path(), keys);
/// # let edge = cfsign::serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// # let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
/// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// # let url = signer.sign_url(&format!("{}/a.txt", edge.url()), std::time::Duration::from_secs(300))?.as_str().to_string();
/// let client = ClientOptions::default().build()?;
/// let Probed::Accepted(answer) = Probe::new(reqwest::Method::GET, &url).send(&client, &RetryPolicy::default()).await? else {
///     panic!("refused")
/// };
/// assert_eq!((answer.status, &answer.body[..]), (200, &b"0123456789"[..]));
/// assert!(answer.date.is_some_and(|date| (date - answer.local_time).abs() < 5));
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct Accepted {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The server's `Date`, when it sent a readable one.
    pub date: Option<Epoch>,
    /// This machine's clock when the answer came.
    pub local_time: Epoch,
    /// The body, at most 64 KiB of it (none for `HEAD`).
    pub body: Vec<u8>,
}

/// A refused request, explained: who refused and the likely fix. As an
/// [`Error`], it reads as `get` and `put` report the same refusal.
///
/// ```
/// use cfsign::transfer::probe::{Probe, Probed};
/// use cfsign::transfer::{ClientOptions, RetryPolicy};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("a.txt"), "0123456789")?;
/// # let mut keys = cfsign::verify::KeyRing::new();
/// # keys.insert("K2JCJMDEHXQW5F", cfsign::sign::PublicKey::from_bytes(
/// #     include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
/// # let config = cfsign::serve::Config::new(root.path(), keys);
/// # let edge = cfsign::serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let url = format!("{}/a.txt", edge.url());
/// let client = ClientOptions::default().build()?;
/// let Probed::Refused(refused) = Probe::new(reqwest::Method::HEAD, &url).send(&client, &RetryPolicy::default()).await? else {
///     panic!("accepted")
/// };
/// let e = cfsign::Error::from(refused);
/// assert_eq!(e.exit_code(), cfsign::error::exit::REFUSED);
/// // A HEAD is refused without a body: the probe reads the reason with a one-byte GET.
/// assert!(e.to_string().starts_with("403 MissingKey: Missing Key-Pair-Id query parameter or cookie value (refused by CloudFront: "), "{e}");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct Refused {
    pub(crate) refusal: Refusal,
    pub(crate) date: Option<Epoch>,
    pub(crate) local_time: Epoch,
    /// The answer had no body to read a code from.
    bare: bool,
}

impl<'a> Probe<'a> {
    /// A request of `method` for `url`, without headers, body or key.
    ///
    /// ```
    /// use cfsign::transfer::probe::Probe;
    /// let head = Probe::new(reqwest::Method::HEAD, "https://d111111abcdef8.cloudfront.net/a.txt");
    /// assert!(head.body.is_empty() && head.headers.is_empty() && head.signed_with.is_none());
    /// ```
    pub fn new(method: Method, url: &'a str) -> Self {
        Probe {
            method,
            url,
            signed_with: None,
            headers: HeaderMap::new(),
            body: Vec::new(),
            deadline: DEADLINE,
        }
    }

    /// Sends the request, again after a connect error, a timeout, a 408, a
    /// 429 or a 5xx as `retry` allows; a `HEAD` refused without a body is
    /// asked again as a one-byte `GET`, to read why. `Err` is a network failure (exit 4)
    /// or an answer that is neither 2xx nor 4xx; a refusal is `Ok`. See
    /// [`Probe`] for an example.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cfsign::transfer::probe::Probe;
    /// use cfsign::transfer::{ClientOptions, RetryPolicy};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    /// let url = format!("http://{closed}/a.txt");
    /// let retry = RetryPolicy { attempts: 2, base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
    /// let client = ClientOptions::default().build()?;
    /// let err = Probe::new(reqwest::Method::HEAD, &url).send(&client, &retry).await.unwrap_err();
    /// assert_eq!(err.exit_code(), cfsign::error::exit::NETWORK);
    /// assert!(err.to_string().contains("gave up after 2 attempts"), "{err}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(
        &self,
        client: &reqwest::Client,
        retry: &RetryPolicy,
    ) -> Result<Probed, Error> {
        super::client::check_parses(self.url)?;
        let probed = self.send_once(client, retry).await?;
        let Probed::Refused(refused) = &probed else {
            return Ok(probed);
        };
        if self.method != Method::HEAD || !refused.bare {
            return Ok(probed);
        }
        // An answer to HEAD has no body, so a refusal says neither its code
        // nor who made it: the same URL is asked again with a GET of one
        // byte, whose refusal carries CloudFront's (or S3's) `<Error>`.
        let mut headers = self.headers.clone();
        headers.insert(RANGE, HeaderValue::from_static("bytes=0-0"));
        let get = Probe {
            method: Method::GET,
            headers,
            ..self.clone()
        };
        match get.send_once(client, retry).await {
            Ok(Probed::Refused(why)) if why.status() == refused.status() => {
                Ok(Probed::Refused(why))
            }
            _ => Ok(probed),
        }
    }

    async fn send_once(
        &self,
        client: &reqwest::Client,
        retry: &RetryPolicy,
    ) -> Result<Probed, Error> {
        match retry.run(async |_| self.attempt(client).await).await? {
            Outcome::Done(probed) => Ok(probed),
            Outcome::GaveUp { last, attempts } => {
                let tries = match attempts {
                    1 => String::new(),
                    n => format!(" (gave up after {n} attempts)"),
                };
                Err(match last {
                    Failure::Transport(e) => Error::Network(format!("{}{tries}", describe(&e))),
                    Failure::Status {
                        refused: Some(r), ..
                    } => r.refusal.into(),
                    Failure::Status { status, body, .. } => {
                        Error::Network(format!("{}{tries}", status_line(status, &body)))
                    }
                })
            }
        }
    }

    async fn attempt(&self, client: &reqwest::Client) -> Result<Attempt<Probed, Failure>, Error> {
        let mut request = client
            .request(self.method.clone(), self.url)
            .headers(self.headers.clone())
            .timeout(self.deadline);
        if self.method == Method::PUT || !self.body.is_empty() {
            request = request.body(self.body.clone());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if retry::retryable_error(&e) => {
                return Ok(Attempt::Failed(Failure::Transport(e)));
            }
            Err(e) => return Err(Error::Network(describe(&e))),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let date = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(time::parse_http_date);
        let retry_after = retry::retry_after(&headers);
        let body = response::error_body(response, None).await;
        let local_time = time::now();
        match status {
            200..=299 => Ok(Attempt::Done(Probed::Accepted(Accepted {
                status,
                headers,
                date,
                local_time,
                body,
            }))),
            400..=499 => {
                let asked = Asked {
                    method: self.method.clone(),
                    url: self.url,
                    our_key: self.signed_with.clone(),
                    now: local_time,
                };
                let refused = Refused {
                    refusal: Refusal::classify(status, &headers, &body, &asked),
                    date,
                    local_time,
                    bare: body.is_empty(),
                };
                if retry::retryable_status(status) {
                    return Ok(Attempt::Failed(Failure::Status {
                        status,
                        body,
                        retry_after,
                        refused: Some(refused),
                    }));
                }
                Ok(Attempt::Done(Probed::Refused(refused)))
            }
            s if retry::retryable_status(s) => Ok(Attempt::Failed(Failure::Status {
                status,
                body,
                retry_after,
                refused: None,
            })),
            s if s >= 500 => Err(Error::Network(status_line(s, &body))),
            s => Err(Error::Runtime(format!(
                "unexpected answer {s} from the server"
            ))),
        }
    }
}

/// An attempt worth another.
enum Failure {
    Transport(reqwest::Error),
    /// 408, 429 (kept as a refusal for when the attempts run out) or a 5xx.
    Status {
        status: u16,
        body: Vec<u8>,
        retry_after: Option<Duration>,
        refused: Option<Refused>,
    },
}

impl retry::Failure for Failure {
    fn pause(&self) -> Pause {
        match self {
            Failure::Status { retry_after, .. } => Pause::Backoff(*retry_after),
            Failure::Transport(_) => Pause::Backoff(None),
        }
    }
}

impl Probed {
    /// The server's `Date`, when it sent a readable one: what its clock
    /// said, refused or not.
    pub(crate) fn date(&self) -> Option<Epoch> {
        match self {
            Probed::Accepted(a) => a.date,
            Probed::Refused(r) => r.date,
        }
    }

    /// This machine's clock when the answer came (see [`Probed::date`]).
    pub(crate) fn local_time(&self) -> Epoch {
        match self {
            Probed::Accepted(a) => a.local_time,
            Probed::Refused(r) => r.local_time,
        }
    }
}

impl Refused {
    /// The HTTP status (403, 404, …).
    ///
    /// ```
    /// use cfsign::transfer::probe::{Probe, Probed};
    /// use cfsign::transfer::{ClientOptions, RetryPolicy};
    ///
    /// # #[cfg(feature = "serve")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let root = tempfile::tempdir()?;
    /// # std::fs::write(root.path().join("a.txt"), "0123456789")?;
    /// # let mut keys = cfsign::verify::KeyRing::new();
    /// # keys.insert("K2JCJMDEHXQW5F", cfsign::sign::PublicKey::from_bytes(
    /// #     include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
    /// # let config = cfsign::serve::Config::new(root.path(), keys);
    /// # let edge = cfsign::serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
    /// # let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// # let url = signer.sign_url(&format!("{}/missing.txt", edge.url()), std::time::Duration::from_secs(300))?.as_str().to_string();
    /// let client = ClientOptions::default().build()?;
    /// let Probed::Refused(missing) = Probe::new(reqwest::Method::HEAD, &url).send(&client, &RetryPolicy::default()).await? else {
    ///     panic!("accepted")
    /// };
    /// assert_eq!(missing.status(), 404);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "serve"))]
    /// # fn main() {}
    /// ```
    pub fn status(&self) -> u16 {
        self.refusal.status
    }

    /// CloudFront's or S3's error code (`AccessDenied`), or the status's
    /// reason phrase when the body has none. See [`Probe`].
    pub(crate) fn code(&self) -> &str {
        &self.refusal.code
    }

    /// Whether CloudFront itself refused (the signature, the cache
    /// behaviour), rather than the origin behind it, which only sees what
    /// CloudFront accepted.
    pub(crate) fn by_cloudfront(&self) -> bool {
        self.refusal.side == Side::CloudFront
            || self.refusal.side == Side::Unknown && self.refusal.status == 403
    }
}

/// The refusal as `get` and `put` report it (exit 3).
impl From<Refused> for Error {
    fn from(r: Refused) -> Self {
        r.refusal.into()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    use super::{Probe, Probed};
    use crate::transfer::{ClientOptions, RetryPolicy};

    /// A server that answers with a long body, one byte every 100 ms (each
    /// read well within the client's read timeout), gets no more than the
    /// deadline.
    #[tokio::test]
    async fn a_dripping_answer_ends_at_the_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/a.txt", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.read(&mut [0; 4096]);
            let head =
                "HTTP/1.1 403 Forbidden\r\nServer: CloudFront\r\nContent-Length: 100\r\n\r\n";
            let mut out = stream.write_all(head.as_bytes());
            while out.is_ok() {
                std::thread::sleep(Duration::from_millis(100));
                out = stream.write_all(b"x");
            }
        });
        let client = ClientOptions::default().build().unwrap();
        let retry = RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        };
        let probe = Probe {
            deadline: Duration::from_millis(500),
            ..Probe::new(reqwest::Method::GET, &url)
        };
        let start = Instant::now();
        let answer = probe.send(&client, &retry).await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(5), "{answer:?}");
        let Probed::Refused(refused) = answer else {
            panic!("{answer:?}")
        };
        assert_eq!(refused.status(), 403);
    }
}
