//! What to sign for each URL, decided once from the options: a canned
//! policy per URL, a custom policy per URL (a start time or an IP range), or
//! one custom policy shared by every URL.

use crate::error::Error;
use crate::time::Epoch;

use super::policy::non_negative;
use super::{CannedPolicy, Carrier, CustomPolicy, IpRange, Policy, PolicyError, ResourcePattern};

/// The policy options, validated: what to sign for each URL.
///
/// ```
/// use cfsign::sign::{Policy, PolicySpec};
/// let spec = PolicySpec::canned(1893456000)?;
/// let policy = spec.policy_for("https://h/a.jpg")?;
/// assert!(matches!(policy, Policy::Canned(_)));
/// let per_url = PolicySpec::per_url(1893456000, None, Some("192.0.2.1".parse()?))?;
/// assert!(matches!(per_url.policy_for("https://h/a.jpg")?, Policy::Custom(_)));
/// assert!(PolicySpec::per_url(10, Some(10), None).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PolicySpec(Spec);

#[derive(Debug, Clone)]
enum Spec {
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
    /// A canned policy per URL, expiring at `expires`.
    ///
    /// ```
    /// use cfsign::sign::{Policy, PolicySpec};
    /// let spec = PolicySpec::canned(1_893_456_000)?;
    /// assert_eq!(spec.policy_for("https://h/a.jpg")?, Policy::canned("https://h/a.jpg", 1_893_456_000)?);
    /// assert!(PolicySpec::canned(-1).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn canned(expires: Epoch) -> Result<Self, PolicyError> {
        Ok(PolicySpec(Spec::Canned {
            expires: non_negative(expires)?,
        }))
    }

    /// A custom policy per URL (its resource is the URL), with a start time
    /// or an IP range; the times are checked as [`CustomPolicy::new`] checks
    /// them.
    ///
    /// ```
    /// use cfsign::sign::{Policy, PolicySpec};
    /// let spec = PolicySpec::per_url(1_893_456_000, Some(1_893_452_400), None)?;
    /// let Policy::Custom(policy) = spec.policy_for("https://h/a.jpg")? else { unreachable!() };
    /// assert_eq!(policy.resource().to_string(), "https://h/a.jpg");
    /// assert_eq!(policy.starts(), Some(1_893_452_400));
    /// assert!(spec.shared().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn per_url(
        expires: Epoch,
        start: Option<Epoch>,
        ip: Option<IpRange>,
    ) -> Result<Self, PolicyError> {
        let probe: ResourcePattern = "*".parse().expect("`*` is a resource");
        CustomPolicy::new(probe, expires, start, ip)?;
        Ok(PolicySpec(Spec::PerUrl { expires, start, ip }))
    }

    /// One custom policy for every URL.
    ///
    /// ```
    /// use cfsign::sign::{CustomPolicy, Policy, PolicySpec};
    /// let policy = CustomPolicy::new("https://h/docs/*".parse()?, 1_893_456_000, None, None)?;
    /// let spec = PolicySpec::shared_by_all(policy.clone());
    /// assert_eq!(spec.policy_for("https://h/docs/a.html")?, Policy::Custom(policy.clone()));
    /// assert_eq!(spec.policy_for("https://h/docs/b.html")?, Policy::Custom(policy));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared_by_all(policy: CustomPolicy) -> Self {
        PolicySpec(Spec::Shared(policy))
    }

    /// The policy to sign for one URL (already in wire form).
    ///
    /// ```
    /// use cfsign::sign::{Policy, PolicySpec, url::to_wire};
    /// let spec = PolicySpec::canned(1_893_456_000)?;
    /// let wire = to_wire("https://h/a b.jpg")?;
    /// assert!(spec.policy_for(&wire)?.covers("https://h/a%20b.jpg"));
    /// // Not in wire form: the policy would not cover what the request carries.
    /// assert!(spec.policy_for("https://h/a b.jpg").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn policy_for(&self, wire_url: &str) -> Result<Policy, Error> {
        if let Spec::Shared(p) = &self.0 {
            return Ok(Policy::Custom(p.clone()));
        }
        // The policy names the URL as the request carries it: a URL not
        // already in wire form would sign other bytes than are sent.
        if super::url::to_wire(wire_url)? != wire_url {
            return Err(Error::usage(
                "the URL is not in wire form: pass it through sign::url::to_wire first",
            ));
        }
        Ok(match &self.0 {
            Spec::Canned { expires } => Policy::Canned(CannedPolicy::new(wire_url, *expires)?),
            Spec::PerUrl { expires, start, ip } => {
                let resource: ResourcePattern = wire_url.parse()?;
                Policy::Custom(CustomPolicy::new(resource, *expires, *start, *ip)?)
            }
            Spec::Shared(p) => Policy::Custom(p.clone()),
        })
    }

    /// Whether the guide allows this spec's resource in `carrier`. Only a
    /// shared policy can fail: a per-URL policy's resource is an http(s) URL.
    ///
    /// ```
    /// use cfsign::sign::{Carrier, CustomPolicy, PolicySpec};
    /// let any = CustomPolicy::new("*".parse()?, 1_893_456_000, None, None)?;
    /// let spec = PolicySpec::shared_by_all(any);
    /// assert!(spec.check_for(Carrier::Url).is_ok());
    /// assert!(spec.check_for(Carrier::Cookies).is_err());
    /// assert!(PolicySpec::canned(1_893_456_000)?.check_for(Carrier::Cookies).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_for(&self, carrier: Carrier) -> Result<(), Error> {
        match &self.0 {
            Spec::Shared(p) => Ok(p.allowed_in(carrier)?),
            _ => Ok(()),
        }
    }

    /// The one policy shared by all URLs, if there is one.
    ///
    /// ```
    /// use cfsign::sign::{CustomPolicy, PolicySpec};
    /// let policy = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, None, None)?;
    /// assert_eq!(PolicySpec::shared_by_all(policy.clone()).shared(), Some(&policy));
    /// assert_eq!(PolicySpec::canned(1_893_456_000)?.shared(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared(&self) -> Option<&CustomPolicy> {
        match &self.0 {
            Spec::Shared(p) => Some(p),
            _ => None,
        }
    }
}
