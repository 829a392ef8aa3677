//! Signing for transfers: a URL that already carries a signature is used as
//! is; otherwise, when a key is given, it is signed afresh before every
//! attempt, so a retry after the expiry does not meet a 403.

use crate::error::Error;
use crate::sign::PolicySpec;
use crate::sign::{Signer, url};
use crate::time::{self, Epoch};

/// What to sign at a given time: called before every attempt, so a policy
/// relative to the clock (`--expires-in`) is computed again each time.
pub type PolicySource = Box<dyn Fn(Epoch) -> Result<PolicySpec, Error> + Send + Sync>;

/// Signs the URLs of a transfer (or leaves them as given).
pub struct UrlSigner {
    signer: Option<Signer>,
    policy: PolicySource,
}

impl UrlSigner {
    /// Signs with `signer`, when there is one, for the policy `policy` gives
    /// at the time of each attempt (the caller has checked it once already,
    /// so that a bad one fails before any request).
    pub fn new(signer: Option<Signer>, policy: PolicySource) -> Self {
        UrlSigner { signer, policy }
    }

    /// A signer that never signs (URLs are used as given).
    pub fn none() -> Self {
        UrlSigner {
            signer: None,
            // Never asked: there is no key.
            policy: Box::new(|_| Err(Error::usage("no key to sign with"))),
        }
    }

    /// Whether URLs will be signed by us (so re-signing can fix an expiry).
    pub(crate) fn holds_key(&self) -> bool {
        self.signer.is_some()
    }

    /// Whether `url` already carries signing parameters.
    pub(crate) fn is_signed(url: &str) -> bool {
        url.split_once('?')
            .is_some_and(|(_, q)| url::signing_param_in(q).is_some())
    }

    /// The URL to request now.
    pub(crate) fn sign(&self, raw: &str) -> Result<String, Error> {
        let Some(signer) = &self.signer else {
            return Ok(raw.to_string());
        };
        if Self::is_signed(raw) {
            return Ok(raw.to_string());
        }
        let wire = url::to_wire(raw)?;
        let policy = (self.policy)(time::now())?.policy_for(&wire)?;
        Ok(signer.sign(&policy).apply_to(&wire)?.as_str().to_string())
    }
}
