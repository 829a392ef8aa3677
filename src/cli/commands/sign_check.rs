//! `cfsign sign --check`: once the signed URLs are printed, a signed `HEAD`
//! of each (a few at a time), and one stderr line per URL that was refused,
//! explained as `get` and `put` explain a refusal. Stdout stays what `sign`
//! prints without it, so a pipeline still gets only URLs.

use std::process::ExitCode;

use futures_util::StreamExt;

use crate::cli::config;
use cfsign::error::{Error, exit};
use cfsign::escape;
use cfsign::sign::{PublicKey, Signer};
use cfsign::transfer::RetryPolicy;
use cfsign::transfer::probe::{Probe, Probed};

/// How many `HEAD`s are in flight at once: enough to hide the round trips
/// of a short batch, few enough not to look like a flood to the edge.
const IN_FLIGHT: usize = 4;

/// The client and the key of the check, ready before anything is printed.
pub(super) struct Check {
    client: reqwest::Client,
    /// The public half of the signing key: a refused signature that checks
    /// with it is explained as a key CloudFront does not trust.
    key: PublicKey,
}

impl Check {
    /// Reads `--cacert` and the proxy variables (a bad one is a usage error
    /// before any output).
    pub(super) fn new(cacert: Option<std::path::PathBuf>, signer: &Signer) -> Result<Self, Error> {
        Ok(Check {
            client: config::client_options(cacert)?.build()?,
            key: signer.key().public_key(),
        })
    }

    /// Sends the `HEAD`s: exit 0 when every URL was accepted, 3 when one was
    /// refused, 4 at the first network failure (the others are not sent).
    pub(super) fn run(self, urls: Vec<&str>) -> Result<ExitCode, Error> {
        let runtime = super::current_thread_runtime()?;
        super::until_interrupted(&runtime, async { Ok(self.all(&urls).await) })
    }

    async fn all(&self, urls: &[&str]) -> ExitCode {
        let retry = RetryPolicy::default();
        let retry = &retry;
        let total = urls.len();
        let mut answers = futures_util::stream::iter(urls.iter().enumerate())
            .map(|(i, url)| async move {
                let head = Probe {
                    signed_with: Some(self.key.clone()),
                    ..Probe::new(reqwest::Method::HEAD, url)
                };
                (i, url, head.send(&self.client, retry).await)
            })
            .buffered(IN_FLIGHT);
        let mut code = exit::OK;
        while let Some((i, url, answer)) = answers.next().await {
            let at = format!("URL {} of {total} ({})", i + 1, escape::shown_url(url));
            match answer {
                Ok(Probed::Accepted(_)) => {}
                // The origin's answer: CloudFront let the signature through.
                Ok(Probed::Refused(missing)) if missing.status() == 404 => {
                    crate::cli::warn(format!(
                        "{at}: CloudFront accepted the signature, but the origin has no object there (404)"
                    ))
                }
                Ok(Probed::Refused(refused)) => {
                    crate::cli::report_line(&format!("{at}: {}", Error::from(refused)));
                    code = exit::REFUSED;
                }
                Err(e) => {
                    crate::cli::report_line(&format!("{at}: {e}"));
                    return ExitCode::from(e.exit_code());
                }
            }
        }
        ExitCode::from(code)
    }
}
