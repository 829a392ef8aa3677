//! What to sign for each URL, decided once from the options: a canned
//! policy per URL, a custom policy per URL (a start time or an IP range), or
//! one custom policy shared by every URL.

use crate::error::Error;
use crate::time::Epoch;

use super::{CannedPolicy, Carrier, CustomPolicy, IpRange, Policy, ResourcePattern};

/// The policy options, validated: what to sign for each URL.
#[derive(Debug, Clone)]
pub enum PolicySpec {
    /// A canned policy per URL.
    Canned { expires: Epoch },
    /// A custom policy per URL (start time or IP, no explicit resource).
    PerUrl {
        expires: Epoch,
        start: Option<Epoch>,
        ip: Option<IpRange>,
    },
    /// One custom policy for every URL (`--resource` or `--policy`).
    Shared(CustomPolicy),
}

impl PolicySpec {
    /// The policy to sign for one URL (already in wire form).
    pub fn policy_for(&self, wire_url: &str) -> Result<Policy, Error> {
        Ok(match self {
            PolicySpec::Canned { expires } => Policy::Canned(CannedPolicy {
                url: wire_url.to_string(),
                expires: *expires,
            }),
            PolicySpec::PerUrl { expires, start, ip } => {
                let resource: ResourcePattern = wire_url.parse()?;
                Policy::Custom(CustomPolicy::new(resource, *expires, *start, *ip)?)
            }
            PolicySpec::Shared(p) => Policy::Custom(p.clone()),
        })
    }

    /// Whether the guide allows this spec's resource in `carrier`. Only a
    /// shared policy can fail: a per-URL policy's resource is an http(s) URL.
    pub fn check_for(&self, carrier: Carrier) -> Result<(), Error> {
        match self {
            PolicySpec::Shared(p) => Ok(p.allowed_in(carrier)?),
            _ => Ok(()),
        }
    }

    /// The one policy shared by all URLs, if there is one.
    pub fn shared(&self) -> Option<&CustomPolicy> {
        match self {
            PolicySpec::Shared(p) => Some(p),
            _ => None,
        }
    }
}
