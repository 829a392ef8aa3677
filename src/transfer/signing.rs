//! Signing for transfers: a URL that already carries a signature is used as
//! is; otherwise, when a key is configured, it is signed afresh before every
//! attempt, so a retry after the expiry does not meet a 403.

use crate::cli::{KeyArgs, PolicyArgs};
use crate::config;
use crate::error::Error;
use crate::sign::PolicySpec;
use crate::sign::{Signer, url};
use crate::time;

pub struct UrlSigner {
    signer: Option<Signer>,
    policy: PolicyArgs,
    /// A policy that does not depend on the clock (`--policy`, `--resource`
    /// with `--date-less-than`) is read once.
    fixed: Option<PolicySpec>,
}

impl UrlSigner {
    /// Validates the key and policy options once, up front. The key options
    /// are consumed (see [`config::signer`]).
    pub fn new(key: KeyArgs, policy: &PolicyArgs) -> Result<Self, Error> {
        config::single_stdin(&config::stdin_readers(&key, policy))?;
        let signer = config::signer(key)?;
        let spec = config::policy_spec(policy, time::now())?;
        let fixed = (policy.policy.is_some()).then_some(spec);
        Ok(UrlSigner {
            signer,
            policy: policy.clone(),
            fixed,
        })
    }

    /// A signer that never signs (URLs are used as given).
    pub fn none() -> Self {
        UrlSigner {
            signer: None,
            policy: PolicyArgs::default(),
            fixed: None,
        }
    }

    /// Whether URLs will be signed by us (so re-signing can fix an expiry).
    pub fn holds_key(&self) -> bool {
        self.signer.is_some()
    }

    /// Whether `url` already carries signing parameters.
    pub fn is_signed(url: &str) -> bool {
        url.split_once('?')
            .is_some_and(|(_, q)| url::signing_param_in(q).is_some())
    }

    /// The URL to request now.
    pub fn sign(&self, raw: &str) -> Result<String, Error> {
        let Some(signer) = &self.signer else {
            return Ok(raw.to_string());
        };
        if Self::is_signed(raw) {
            return Ok(raw.to_string());
        }
        let wire = url::to_wire(raw)?;
        let spec = match &self.fixed {
            Some(spec) => spec.clone(),
            None => config::policy_spec(&self.policy, time::now())?,
        };
        let policy = spec.policy_for(&wire)?;
        Ok(signer.sign(&policy).apply_to(&wire)?.as_str().to_string())
    }
}
