//! Canned and custom policies: the exact JSON bytes that get signed, and the
//! parser that turns a custom policy (from `--policy` or a URL's `Policy`
//! parameter) back into checked values. JSON is always produced by serde from
//! typed fields — never by pasting strings — and values that would need
//! escaping are refused before they get here.

use serde::Serialize;
use serde_json::{Map, Value};

mod strict;

use strict::{DUPLICATE_KEY, StrictValue};

use std::time::SystemTime;

use super::Carrier;
use super::ip::{IpRange, IpRangeError};
use super::resource::{Resource, ResourceError, ResourcePattern};
use super::url::{self, UrlError};
use crate::time::{Epoch, When, format_time};

/// Why a policy is refused. Messages are one line and say what to fix.
///
/// ```
/// use cfsign::sign::{CustomPolicy, PolicyError};
/// let two = r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9}}},{}]}"#;
/// assert_eq!(CustomPolicy::parse(two), Err(PolicyError::StatementCount(2)));
/// assert_eq!(CustomPolicy::parse(r#"{"Statements":[]}"#), Err(PolicyError::NoStatement));
/// assert!(matches!(CustomPolicy::parse("{"), Err(PolicyError::Json(_))));
/// let late = CustomPolicy::new("https://h/*".parse()?, 10, Some(20), None);
/// assert_eq!(late, Err(PolicyError::StartNotBeforeExpiry(20, 10)));
/// assert!(!late.unwrap_err().to_string().contains('\n'));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not JSON (serde_json's message, with line and column).
    #[error("the policy is not valid JSON: {0}")]
    Json(String),
    /// An object names a key twice.
    #[error(
        "the policy {0}: give each key once (JSON readers differ on which one counts, so CloudFront might enforce another value than the one checked here)"
    )]
    DuplicateKey(String),
    /// The top level is not `{"Statement":[…]}`.
    #[error("the policy must be an object with exactly one key, \"Statement\"")]
    NoStatement,
    /// Not exactly one statement.
    #[error("the policy has {0} statements; CloudFront accepts exactly one")]
    StatementCount(usize),
    /// The statement's shape is wrong (what is wrong follows).
    #[error("the policy statement {0}")]
    Statement(String),
    /// The `Resource` is not one the guide allows (for the carrier).
    #[error("the policy's Resource is invalid: {0}")]
    Resource(#[source] ResourceError),
    /// The `Resource` is not one string.
    #[error(
        "the policy's Resource is invalid: it must be one string: \"You can specify only one value for Resource\" (CloudFront Developer Guide, custom policies)"
    )]
    ResourceNotString,
    /// The `IpAddress` range is not one IPv4 address or CIDR block.
    #[error("the policy's IpAddress is invalid: {0}")]
    Ip(#[source] IpRangeError),
    /// The `IpAddress` condition is not `{"AWS:SourceIp": "…"}`.
    #[error("the policy's IpAddress is invalid: expected {{\"AWS:SourceIp\":\"a.b.c.d/n\"}}")]
    IpShape,
    /// The start time (`DateGreaterThan`) is not before the expiry.
    #[error("the policy's DateGreaterThan ({0}) is not before its DateLessThan ({1})")]
    StartNotBeforeExpiry(Epoch, Epoch),
    /// A time before 1970: `AWS:EpochTime` cannot be negative.
    #[error(
        "the policy's time {0} is before 1970-01-01, and CloudFront's AWS:EpochTime cannot be negative"
    )]
    NegativeTime(Epoch),
    /// An expiry that is not after the moment of signing.
    #[error(
        "the expiry {} is not after the time of signing ({}), so the signature would never be accepted",
        format_time(*expires),
        format_time(*now)
    )]
    NotInFuture {
        /// The expiry asked for.
        expires: Epoch,
        /// The second of signing.
        now: Epoch,
    },
    /// A canned policy's URL cannot be signed.
    #[error(transparent)]
    Url(#[from] UrlError),
}

/// `t`, refused when it is before 1970.
pub(crate) fn non_negative(t: Epoch) -> Result<Epoch, PolicyError> {
    if t < 0 {
        Err(PolicyError::NegativeTime(t))
    } else {
        Ok(t)
    }
}

/// The expiry `when` names, counted from `now`, refused when it is not
/// after `now`'s second (the signature would never be accepted).
pub(crate) fn expiry(when: When, now: SystemTime) -> Result<Epoch, PolicyError> {
    let expires = when.epoch_from(now);
    let now = When::At(now).epoch_from(now);
    if expires <= now {
        return Err(PolicyError::NotInFuture { expires, now });
    }
    Ok(expires)
}

/// The policy a canned-policy URL stands for: one URL (in wire form) and
/// an expiry. CloudFront rebuilds it from the request URL and `Expires`, so
/// it is never sent.
///
/// ```
/// use cfsign::sign::CannedPolicy;
/// let p = CannedPolicy::new("https://h/a b", 5)?;
/// assert_eq!((p.url(), p.expires()), ("https://h/a%20b", 5));
/// assert!(CannedPolicy::new("https://h/a#top", 5).is_err());
/// assert!(CannedPolicy::new("https://h/a", -1).is_err());
/// # Ok::<(), cfsign::sign::PolicyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedPolicy {
    url: String,
    expires: Epoch,
}

impl CannedPolicy {
    /// A canned policy for `url`, which is first put in wire form
    /// ([`url::to_wire`]), expiring at `expires` (not before 1970).
    ///
    /// ```
    /// use cfsign::sign::{CannedPolicy, PolicyError};
    /// let p = CannedPolicy::new("https://h/caf\u{e9}.jpg", 1_893_456_000)?;
    /// assert_eq!(p.url(), "https://h/caf%C3%A9.jpg");
    /// assert_eq!(CannedPolicy::new("https://h/a", -5), Err(PolicyError::NegativeTime(-5)));
    /// # Ok::<(), PolicyError>(())
    /// ```
    pub fn new(url: &str, expires: Epoch) -> Result<Self, PolicyError> {
        Ok(CannedPolicy {
            url: url::to_wire(url)?,
            expires: non_negative(expires)?,
        })
    }

    /// The policy CloudFront rebuilds for `url` exactly as the request
    /// carries it (the verifier's side; the signer checks with [`Self::new`]).
    pub(crate) fn rebuilt(url: String, expires: Epoch) -> Self {
        CannedPolicy { url, expires }
    }

    /// The URL, in wire form.
    ///
    /// ```
    /// let p = cfsign::sign::CannedPolicy::new("https://h/a b.jpg?size=large", 1_893_456_000)?;
    /// assert_eq!(p.url(), "https://h/a%20b.jpg?size=large");
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// When the signature stops being accepted.
    ///
    /// ```
    /// let p = cfsign::sign::CannedPolicy::new("https://h/a", 1_893_456_000)?;
    /// assert_eq!(p.expires(), 1_893_456_000);
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn expires(&self) -> Epoch {
        self.expires
    }

    /// The exact bytes CloudFront rebuilds: no whitespace, keys in this order.
    ///
    /// ```
    /// let p = cfsign::sign::CannedPolicy::new("https://h/a", 5)?;
    /// assert_eq!(p.to_json(),
    ///     r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}"#);
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn to_json(&self) -> String {
        policy_json(Some(&self.url), self.expires, None, None)
    }
}

/// A custom policy: a resource (possibly a wildcard pattern, or none), an
/// expiry, and optionally a start time and an IPv4 range. It holds the
/// exact bytes that are encoded into `Policy` and signed.
///
/// ```
/// use cfsign::sign::CustomPolicy;
/// let p = CustomPolicy::new("https://h/videos/*".parse()?, 1893456000, Some(1767225600), None)?;
/// assert_eq!(p.resource().to_string(), "https://h/videos/*");
/// assert_eq!((p.expires(), p.starts(), p.ip()), (1893456000, Some(1767225600), None));
/// assert!(CustomPolicy::new("https://h/*".parse()?, 10, Some(10), None).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomPolicy {
    resource: Resource,
    date_less_than: Epoch,
    date_greater_than: Option<Epoch>,
    ip: Option<IpRange>,
    json: String,
}

impl CustomPolicy {
    /// Builds a custom policy from checked values: expiry
    /// (`DateLessThan`), optional start (`DateGreaterThan`, before the
    /// expiry) and IP range; no time before 1970. Conditions are written in
    /// botocore's order (DateLessThan, IpAddress, DateGreaterThan) so output
    /// matches the AWS CLI. [`CustomPolicy::builder`] takes durations and
    /// system times instead.
    ///
    /// ```
    /// use cfsign::sign::CustomPolicy;
    /// let p = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, Some(1_893_452_400), Some("192.0.2.0/24".parse()?))?;
    /// assert_eq!(
    ///     p.json(),
    ///     concat!(
    ///         r#"{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000},"#,
    ///         r#""IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1893452400}}}]}"#
    ///     )
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        resource: ResourcePattern,
        date_less_than: Epoch,
        date_greater_than: Option<Epoch>,
        ip: Option<IpRange>,
    ) -> Result<Self, PolicyError> {
        non_negative(date_less_than)?;
        date_greater_than.map(non_negative).transpose()?;
        if let Some(start) = date_greater_than {
            if start >= date_less_than {
                return Err(PolicyError::StartNotBeforeExpiry(start, date_less_than));
            }
        }
        let json = policy_json(
            Some(resource.as_str()),
            date_less_than,
            date_greater_than,
            ip,
        );
        Ok(CustomPolicy {
            resource: Resource::Pattern(resource),
            date_less_than,
            date_greater_than,
            ip,
            json,
        })
    }

    /// Parses and validates a custom policy for a signed URL, keeping `text`
    /// as the bytes to sign. Exactly one statement; `DateLessThan` required;
    /// nothing unknown.
    ///
    /// ```
    /// use cfsign::sign::CustomPolicy;
    /// let p = CustomPolicy::parse(r#"{"Statement":[{"Resource":"https://h/*",
    ///     "Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#)?;
    /// assert_eq!(p.expires(), 1893456000);
    /// assert!(p.json().contains('\n')); // signed as given
    /// assert!(CustomPolicy::parse(r#"{"Statement":[]}"#).is_err());
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        Self::parse_for(text, Carrier::Url)
    }

    /// [`CustomPolicy::parse`], by the guide's rules for `carrier` (signed
    /// cookies allow fewer resources than signed URLs).
    ///
    /// ```
    /// use cfsign::sign::{Carrier, CustomPolicy};
    /// let any = r#"{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":9}}}]}"#;
    /// assert!(CustomPolicy::parse_for(any, Carrier::Url).is_ok());
    /// assert!(CustomPolicy::parse_for(any, Carrier::Cookies).is_err());
    /// ```
    pub fn parse_for(text: &str, carrier: Carrier) -> Result<Self, PolicyError> {
        let StrictValue(value) = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            if message.starts_with(DUPLICATE_KEY) {
                PolicyError::DuplicateKey(message)
            } else {
                PolicyError::Json(message)
            }
        })?;
        let top = value.as_object().ok_or(PolicyError::NoStatement)?;
        if top.len() != 1 {
            return Err(PolicyError::NoStatement);
        }
        let statements = top
            .get("Statement")
            .and_then(Value::as_array)
            .ok_or(PolicyError::NoStatement)?;
        if statements.len() != 1 {
            return Err(PolicyError::StatementCount(statements.len()));
        }
        let statement = statements[0]
            .as_object()
            .ok_or_else(|| PolicyError::Statement("is not an object".into()))?;
        only_keys(statement, &["Resource", "Condition"], "statement")?;
        let resource = match statement.get("Resource") {
            None => Resource::Omitted,
            Some(Value::String(text)) => Resource::Pattern(
                text.parse::<ResourcePattern>()
                    .map_err(PolicyError::Resource)?,
            ),
            Some(_) => return Err(PolicyError::ResourceNotString),
        };
        resource
            .allowed_in(carrier)
            .map_err(PolicyError::Resource)?;
        let condition = statement
            .get("Condition")
            .and_then(Value::as_object)
            .ok_or_else(|| PolicyError::Statement("has no Condition object".into()))?;
        only_keys(
            condition,
            &["DateLessThan", "DateGreaterThan", "IpAddress"],
            "Condition",
        )?;
        let date_less_than = epoch_condition(condition, "DateLessThan")?
            .ok_or_else(|| PolicyError::Statement("has no DateLessThan condition".into()))?;
        let date_greater_than = epoch_condition(condition, "DateGreaterThan")?;
        let ip = match condition.get("IpAddress") {
            None => None,
            Some(v) => {
                let inner = v.as_object().filter(|o| o.len() == 1);
                let text = inner
                    .and_then(|o| o.get("AWS:SourceIp"))
                    .and_then(Value::as_str)
                    .ok_or(PolicyError::IpShape)?;
                Some(text.parse::<IpRange>().map_err(PolicyError::Ip)?)
            }
        };
        if let Some(start) = date_greater_than {
            if start >= date_less_than {
                return Err(PolicyError::StartNotBeforeExpiry(start, date_less_than));
            }
        }
        Ok(CustomPolicy {
            resource,
            date_less_than,
            date_greater_than,
            ip,
            json: text.to_string(),
        })
    }

    /// The exact policy bytes that are signed and sent.
    ///
    /// ```
    /// use cfsign::sign::CustomPolicy;
    /// // A parsed policy keeps its bytes as given, spaces and all.
    /// let text = r#"{ "Statement": [ { "Resource": "https://h/*", "Condition": { "DateLessThan": { "AWS:EpochTime": 1893456000 } } } ] }"#;
    /// assert_eq!(CustomPolicy::parse(text)?.json(), text);
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The `Resource`: a pattern, or none.
    ///
    /// ```
    /// use cfsign::sign::{CustomPolicy, Resource};
    /// let p = CustomPolicy::new("https://h/videos/*".parse()?, 1_893_456_000, None, None)?;
    /// assert_eq!(p.resource(), &Resource::Pattern("https://h/videos/*".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// When the signature stops being accepted (`DateLessThan`).
    ///
    /// ```
    /// let p = cfsign::sign::CustomPolicy::parse(
    ///     r#"{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#,
    /// )?;
    /// assert_eq!(p.expires(), 1_893_456_000);
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn expires(&self) -> Epoch {
        self.date_less_than
    }

    /// When the signature starts being accepted (`DateGreaterThan`), if set.
    ///
    /// ```
    /// use cfsign::sign::CustomPolicy;
    /// let later = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, Some(1_893_452_400), None)?;
    /// assert_eq!(later.starts(), Some(1_893_452_400));
    /// let now = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, None, None)?;
    /// assert_eq!(now.starts(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn starts(&self) -> Option<Epoch> {
        self.date_greater_than
    }

    /// The addresses allowed (`IpAddress`), if restricted.
    ///
    /// ```
    /// use cfsign::sign::CustomPolicy;
    /// let p = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, None, Some("10.0.0.0/8".parse()?))?;
    /// assert!(p.ip().is_some_and(|range| range.contains([10, 1, 2, 3].into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ip(&self) -> Option<IpRange> {
        self.ip
    }

    /// Whether the guide allows this policy's resource in `carrier`.
    ///
    /// ```
    /// use cfsign::sign::{Carrier, CustomPolicy, PolicyError};
    /// let p = CustomPolicy::new("*".parse()?, 1_893_456_000, None, None)?;
    /// assert!(p.allowed_in(Carrier::Url).is_ok());
    /// assert!(matches!(p.allowed_in(Carrier::Cookies), Err(PolicyError::Resource(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allowed_in(&self, carrier: Carrier) -> Result<(), PolicyError> {
        self.resource
            .allowed_in(carrier)
            .map_err(PolicyError::Resource)
    }
}

fn only_keys(map: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), PolicyError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(PolicyError::Statement(format!(
            "has an unknown key `{}` in its {what} (allowed: {})",
            k.chars().take(40).collect::<String>(),
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn epoch_condition(
    condition: &Map<String, Value>,
    name: &str,
) -> Result<Option<Epoch>, PolicyError> {
    let Some(v) = condition.get(name) else {
        return Ok(None);
    };
    v.as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("AWS:EpochTime"))
        .and_then(Value::as_i64)
        .filter(|t| *t >= 0)
        .map(Some)
        .ok_or_else(|| {
            PolicyError::Statement(format!(
                "has an invalid {name}: expected {{\"AWS:EpochTime\": <Unix seconds as an integer>}}"
            ))
        })
}

#[derive(Serialize)]
struct PolicyDoc<'a> {
    #[serde(rename = "Statement")]
    statement: [Statement<'a>; 1],
}

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "Resource", skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    #[serde(rename = "Condition")]
    condition: Condition,
}

#[derive(Serialize)]
struct Condition {
    #[serde(rename = "DateLessThan")]
    date_less_than: EpochTime,
    #[serde(rename = "IpAddress", skip_serializing_if = "Option::is_none")]
    ip_address: Option<SourceIp>,
    #[serde(rename = "DateGreaterThan", skip_serializing_if = "Option::is_none")]
    date_greater_than: Option<EpochTime>,
}

#[derive(Serialize)]
struct EpochTime {
    #[serde(rename = "AWS:EpochTime")]
    epoch: Epoch,
}

#[derive(Serialize)]
struct SourceIp {
    #[serde(rename = "AWS:SourceIp")]
    source_ip: String,
}

fn policy_json(
    resource: Option<&str>,
    date_less_than: Epoch,
    date_greater_than: Option<Epoch>,
    ip: Option<IpRange>,
) -> String {
    let doc = PolicyDoc {
        statement: [Statement {
            resource,
            condition: Condition {
                date_less_than: EpochTime {
                    epoch: date_less_than,
                },
                ip_address: ip.map(|r| SourceIp {
                    source_ip: r.to_string(),
                }),
                date_greater_than: date_greater_than.map(|epoch| EpochTime { epoch }),
            },
        }],
    };
    serde_json::to_string(&doc).expect("a policy of strings and integers always serialises")
}

#[cfg(test)]
mod tests;
