//! A custom policy from what a program has at hand — a resource string,
//! durations or system times, an IP range — checked once, in
//! [`CustomPolicyBuilder::build`].

use std::time::SystemTime;

use super::policy::{CustomPolicy, PolicyError, expiry};
use super::{IpRange, ResourcePattern};
use crate::time::When;

impl CustomPolicy {
    /// Starts a custom policy for `resource` (a URL, or a pattern with `*`
    /// and `?`); see [`CustomPolicyBuilder`].
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use cfsign::sign::CustomPolicy;
    /// let policy = CustomPolicy::builder("https://d111111abcdef8.cloudfront.net/videos/*")
    ///     .expires(Duration::from_secs(3600))
    ///     .starts(SystemTime::now())
    ///     .ip("192.0.2.0/24".parse()?)
    ///     .build()?;
    /// assert!(policy.resource().matches("https://d111111abcdef8.cloudfront.net/videos/a.mp4"));
    /// assert_eq!(policy.ip().map(|r| r.to_string()).as_deref(), Some("192.0.2.0/24"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(resource: impl Into<String>) -> CustomPolicyBuilder {
        CustomPolicyBuilder {
            resource: resource.into(),
            expires: None,
            starts: None,
            ip: None,
        }
    }
}

/// The parts of a custom policy, checked together by
/// [`build`](Self::build): the resource must parse, an expiry must be given
/// and lie after the moment of building, and a start time must come before
/// the expiry.
///
/// ```
/// use std::time::Duration;
/// use cfsign::sign::{CustomPolicy, PolicyError};
/// let no_expiry = CustomPolicy::builder("https://h/*").build();
/// assert!(matches!(no_expiry, Err(PolicyError::Statement(_))));
/// let late_start = CustomPolicy::builder("https://h/*")
///     .expires(Duration::from_secs(60))
///     .starts(Duration::from_secs(120))
///     .build();
/// assert!(matches!(late_start, Err(PolicyError::StartNotBeforeExpiry(..))));
/// let no_scheme = CustomPolicy::builder("h/*").expires(Duration::from_secs(60)).build();
/// assert!(matches!(no_scheme, Err(PolicyError::Resource(_))));
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CustomPolicyBuilder {
    resource: String,
    expires: Option<When>,
    starts: Option<When>,
    ip: Option<IpRange>,
}

impl CustomPolicyBuilder {
    /// When the signature stops being accepted (`DateLessThan`): a
    /// [`Duration`](std::time::Duration) from the moment of building, or a
    /// [`SystemTime`]. Required.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use cfsign::sign::CustomPolicy;
    /// let at = UNIX_EPOCH + Duration::from_secs(1_893_456_000);
    /// let policy = CustomPolicy::builder("https://h/*").expires(at).build()?;
    /// assert_eq!(policy.expires(), 1_893_456_000);
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn expires(mut self, when: impl Into<When>) -> Self {
        self.expires = Some(when.into());
        self
    }

    /// When the signature starts being accepted (`DateGreaterThan`).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use cfsign::sign::CustomPolicy;
    /// let policy = CustomPolicy::builder("https://h/*")
    ///     .starts(UNIX_EPOCH + Duration::from_secs(1_893_456_000))
    ///     .expires(UNIX_EPOCH + Duration::from_secs(1_893_459_600))
    ///     .build()?;
    /// assert_eq!(policy.starts(), Some(1_893_456_000));
    /// assert!(policy.json().contains(r#""DateGreaterThan":{"AWS:EpochTime":1893456000}"#));
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn starts(mut self, when: impl Into<When>) -> Self {
        self.starts = Some(when.into());
        self
    }

    /// The only client addresses allowed (`IpAddress`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cfsign::sign::CustomPolicy;
    /// let policy = CustomPolicy::builder("https://h/*")
    ///     .expires(Duration::from_secs(60))
    ///     .ip("203.0.113.7".parse()?)
    ///     .build()?;
    /// assert!(policy.json().contains(r#""IpAddress":{"AWS:SourceIp":"203.0.113.7/32"}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ip(mut self, range: IpRange) -> Self {
        self.ip = Some(range);
        self
    }

    /// The checked policy, with times counted from now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cfsign::sign::CustomPolicy;
    /// let before = cfsign::time::now();
    /// let policy = CustomPolicy::builder("https://h/videos/*").expires(Duration::from_secs(3600)).build()?;
    /// assert!(policy.expires() >= before + 3600 && policy.expires() <= cfsign::time::now() + 3600);
    /// assert_eq!(policy.starts(), None);
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn build(self) -> Result<CustomPolicy, PolicyError> {
        let now = SystemTime::now();
        let resource: ResourcePattern = self.resource.parse().map_err(PolicyError::Resource)?;
        let expires = self
            .expires
            .ok_or_else(|| PolicyError::Statement("has no DateLessThan condition".into()))?;
        let expires = expiry(expires, now)?;
        let starts = self.starts.map(|s| s.epoch_from(now));
        CustomPolicy::new(resource, expires, starts, self.ip)
    }
}
