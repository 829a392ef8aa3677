//! The verifier: CloudFront's checks of a signed URL or signed cookies, written
//! as the mirror image of the signer and shared by `cfsign verify` (which
//! explains a rejection) and `cfsign serve` (which enforces it).
//!
//! Every rule comes from the same place the signer uses: the canned policy is
//! rebuilt with [`CannedPolicy`], a custom policy is read with
//! [`CustomPolicy::parse`], wildcards are matched by [`ResourcePattern`](crate::sign::ResourcePattern), and
//! URLs are split with [`url::split_signed`], the inverse of the signer's
//! [`url::append_query`].

use std::fmt;
use std::net::Ipv4Addr;

use crate::escape;
use crate::sign::{CannedPolicy, CustomPolicy, HashAlgorithm, Policy, PublicKey, encode, url};
use crate::time::{Epoch, HumanDuration, format_time};

mod keys;
mod params;

pub use keys::KeyRing;
use params::Params;

/// The error codes CloudFront answers a refused request with (HTTP 403).
///
/// ```
/// use cfsign::verify::ErrorCode;
/// assert_eq!(ErrorCode::InvalidKey.as_str(), "InvalidKey");
/// assert_eq!(ErrorCode::InvalidKey.message(), "Unknown Key");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// No `Key-Pair-Id`.
    MissingKey,
    /// A `Key-Pair-Id` the distribution does not trust.
    InvalidKey,
    /// A policy (or `Expires`) that cannot be read.
    MalformedPolicy,
    /// Everything else: signature, expiry, start, IP, resource.
    AccessDenied,
}

impl ErrorCode {
    /// The `<Code>`.
    ///
    /// ```
    /// use cfsign::verify::ErrorCode;
    /// assert_eq!(ErrorCode::MissingKey.as_str(), "MissingKey");
    /// assert_eq!(ErrorCode::AccessDenied.as_str(), "AccessDenied");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::MissingKey => "MissingKey",
            ErrorCode::InvalidKey => "InvalidKey",
            ErrorCode::MalformedPolicy => "MalformedPolicy",
            ErrorCode::AccessDenied => "AccessDenied",
        }
    }

    /// CloudFront's `<Message>` for the code.
    ///
    /// ```
    /// use cfsign::verify::ErrorCode;
    /// assert_eq!(ErrorCode::AccessDenied.message(), "Access denied");
    /// assert_eq!(ErrorCode::MalformedPolicy.message(), "Malformed Policy");
    /// ```
    pub fn message(&self) -> &'static str {
        match self {
            ErrorCode::MissingKey => "Missing Key-Pair-Id query parameter or cookie value",
            ErrorCode::InvalidKey => "Unknown Key",
            ErrorCode::MalformedPolicy => "Malformed Policy",
            ErrorCode::AccessDenied => "Access denied",
        }
    }
}

/// The sentence of CloudFront's 403 page for a method the cache behaviour
/// does not allow ("HTTP 403 status code (Invalid method)", Amazon
/// CloudFront Developer Guide, gives the cause; the sentence is the page's,
/// as quoted where `serve` builds it). Said once: `serve --methods` writes
/// it and `get`/`put` recognise the page by it. The page has no `<Code>`,
/// so it is not an [`ErrorCode`].
#[cfg(any(feature = "serve", feature = "transfer"))]
pub(crate) const INVALID_METHOD_MESSAGE: &str = "This distribution is not configured to allow the HTTP request method that was used for this request.";

/// A request as CloudFront sees it: the input of [`check`].
///
/// ```
/// use cfsign::sign::{PrivateKey, Signer};
/// use cfsign::verify::{self, KeyRing, Request};
/// let key = PrivateKey::from_bytes(include_bytes!("../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
/// let mut keys = KeyRing::new();
/// keys.insert("K2JCJMDEHXQW5F", key.public_key());
/// let signer = Signer::new(key, "K2JCJMDEHXQW5F".parse()?, None);
///
/// use cfsign::sign::{CustomPolicy, Policy};
/// let policy = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, None, Some("192.0.2.0/24".parse()?))?;
/// let cookies = signer.sign(&Policy::Custom(policy)).cookies();
/// let header = cookies.cookie_header_value();
/// let request = Request {
///     url: "https://h/a.jpg",
///     cookie_header: Some(&header),
///     client_ip: Some("192.0.2.7".parse()?),
///     now: 1_800_000_000,
/// };
/// assert!(verify::check(&request, &keys).is_ok());
/// let elsewhere = Request { client_ip: Some("198.51.100.1".parse()?), ..request };
/// assert_eq!(verify::check(&elsewhere, &keys).unwrap_err().check, "ip-address");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The full URL the viewer asked for: scheme, host, path and query.
    pub url: &'a str,
    /// The `Cookie` header, if any.
    pub cookie_header: Option<&'a str>,
    /// The viewer's address; `None` skips the IP condition (and says so).
    pub client_ip: Option<Ipv4Addr>,
    /// The time of the request.
    pub now: Epoch,
}

/// Where the signature came from. A signed URL takes precedence over cookies.
pub use crate::sign::Carrier;

/// What an accepted request was signed with: the output of [`check`]. Only
/// [`check`] makes one (`#[non_exhaustive]`): holding one means the checks passed.
///
/// ```
/// use cfsign::sign::{PrivateKey, Signer};
/// use cfsign::verify::{self, KeyRing, Request};
/// let key = PrivateKey::from_bytes(include_bytes!("../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
/// let mut keys = KeyRing::new();
/// keys.insert("K2JCJMDEHXQW5F", key.public_key());
/// let signer = Signer::new(key, "K2JCJMDEHXQW5F".parse()?, None);
///
/// use cfsign::sign::{Carrier, HashAlgorithm};
/// let url = signer.sign_url("https://h/a.jpg", std::time::Duration::from_secs(60))?;
/// let request = Request { url: url.as_str(), cookie_header: None, client_ip: None, now: cfsign::time::now() };
/// let accepted = verify::check(&request, &keys)?;
/// assert_eq!(accepted.carrier, Carrier::Url);
/// assert_eq!(accepted.key_pair_id, "K2JCJMDEHXQW5F");
/// assert_eq!(accepted.hash, HashAlgorithm::Sha1);
/// assert!(accepted.policy.covers("https://h/a.jpg"));
/// // No client address was given, and the canned policy has no IP condition.
/// assert!(accepted.unchecked.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Accepted {
    /// Where the signature came from.
    pub carrier: Carrier,
    /// The policy, canned (rebuilt from the URL) or custom (as sent).
    pub policy: Policy,
    /// The `Key-Pair-Id` sent.
    pub key_pair_id: String,
    /// The hash signed with.
    pub hash: HashAlgorithm,
    /// `None` when no public keys were given: the signature was not checked.
    pub key: Option<String>,
    /// Conditions that could not be checked (IP without a client address).
    pub unchecked: Vec<String>,
}

/// A refusal: CloudFront's code, the check that failed, and why. Only
/// [`check`] makes one (`#[non_exhaustive]`).
///
/// ```
/// use cfsign::verify::{self, ErrorCode, KeyRing, Request};
/// let request = Request { url: "https://h/a.jpg?Expires=1893456000&Signature=AAAA", cookie_header: None, client_ip: None, now: 1_800_000_000 };
/// let rejection = verify::check(&request, &KeyRing::new()).unwrap_err();
/// assert_eq!(rejection.code, ErrorCode::MissingKey);
/// assert!(rejection.to_string().starts_with(&format!("MissingKey ({}): ", rejection.check)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// What CloudFront answers.
    pub code: ErrorCode,
    /// A short name of the failed check: "expired", "signature", …
    pub check: &'static str,
    /// One line for a person: what failed and the likely cause.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.as_str(),
            self.check,
            self.reason
        )
    }
}

impl std::error::Error for Rejection {}

fn reject(code: ErrorCode, check: &'static str, reason: impl Into<String>) -> Rejection {
    Rejection {
        code,
        check,
        reason: reason.into(),
    }
}

/// Checks a request as CloudFront would. With an empty `keys`, everything but
/// the signature is checked and [`Accepted::key`] is `None`.
///
/// ```
/// use std::time::Duration;
/// use cfsign::sign::{PrivateKey, Signer};
/// use cfsign::verify::{self, ErrorCode, KeyRing, Request};
/// let key = PrivateKey::from_bytes(include_bytes!("../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
/// let mut keys = KeyRing::new();
/// keys.insert("K2JCJMDEHXQW5F", key.public_key());
/// let signer = Signer::new(key, "K2JCJMDEHXQW5F".parse()?, None);
/// let url = signer.sign_url("https://d111111abcdef8.cloudfront.net/a.jpg", Duration::from_secs(60))?;
///
/// let now = cfsign::time::now();
/// let request = Request { url: url.as_str(), cookie_header: None, client_ip: None, now };
/// let accepted = verify::check(&request, &keys)?;
/// assert_eq!(accepted.key.as_deref(), Some("K2JCJMDEHXQW5F"));
///
/// let later = Request { now: now + 3600, ..request };
/// let rejection = verify::check(&later, &keys).unwrap_err();
/// assert_eq!((rejection.code, rejection.check), (ErrorCode::AccessDenied, "expired"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check(request: &Request<'_>, keys: &KeyRing) -> Result<Accepted, Rejection> {
    check_with(request, keys, |key, s| {
        key.verify(s.message, s.hash, s.signature)
    })
}

/// One cryptographic check [`check_with`] asks for: what a cache of verified
/// signatures must key on (the policy's exact bytes, the hash, the signature
/// and the key pair ID; the key ring is the caller's) and how long a positive
/// answer may be kept.
pub(crate) struct SignatureCheck<'a> {
    // The ID and the expiry are read only by serve's cache of verified
    // signatures: unused in a build without it.
    #[allow(dead_code)]
    pub(crate) key_pair_id: &'a str,
    pub(crate) message: &'a [u8],
    pub(crate) hash: HashAlgorithm,
    pub(crate) signature: &'a [u8],
    #[allow(dead_code)]
    pub(crate) expires: Epoch,
}

/// [`check`], with the signature verified by `verify_signature` (`serve`
/// remembers signatures that verified). Every other check (resource, expiry,
/// start, IP) runs on every call.
pub(crate) fn check_with(
    request: &Request<'_>,
    keys: &KeyRing,
    verify_signature: impl Fn(&PublicKey, &SignatureCheck<'_>) -> bool,
) -> Result<Accepted, Rejection> {
    let (unsigned_url, url_params) = url::split_signed(request.url);
    let mut params = Params::default();
    for (name, value) in &url_params {
        params.set(name, value);
    }
    let carrier = if !params.is_empty() {
        Carrier::Url
    } else {
        params = request
            .cookie_header
            .map(Params::from_cookies)
            .unwrap_or_default();
        Carrier::Cookies
    };
    let (params_name, prefix) = match carrier {
        Carrier::Url => ("query parameter", ""),
        Carrier::Cookies => ("cookie", "CloudFront-"),
    };

    if let Some(name) = params.repeated {
        return Err(reject(
            ErrorCode::AccessDenied,
            "repeated-parameter",
            format!(
                "the {prefix}{name} {params_name} appears more than once: a signature carries each signing value once, so one was added after signing"
            ),
        ));
    }

    let key_pair_id = params.key_pair_id.clone().ok_or_else(|| {
        let reason = if params.is_empty() {
            "the request carries no signature: neither signing query parameters nor CloudFront-* cookies".to_string()
        } else {
            format!("the {prefix}Key-Pair-Id {params_name} is missing")
        };
        reject(ErrorCode::MissingKey, "key-pair-id", reason)
    })?;

    let policy = match (&params.policy, &params.expires) {
        (Some(_), Some(_)) => {
            return Err(reject(
                ErrorCode::MalformedPolicy,
                "policy",
                format!(
                    "both {prefix}Policy and {prefix}Expires are present: a URL is either canned (Expires) or custom (Policy)"
                ),
            ));
        }
        (Some(encoded), None) => {
            let bytes = encode::decode(encoded).ok_or_else(|| {
                reject(
                    ErrorCode::MalformedPolicy,
                    "policy",
                    format!("the {prefix}Policy value is not CloudFront base64 (expected A–Z a–z 0–9 - ~ _ only, unchanged since signing)"),
                )
            })?;
            let text = String::from_utf8(bytes).map_err(|_| {
                reject(
                    ErrorCode::MalformedPolicy,
                    "policy",
                    "the decoded policy is not UTF-8 text",
                )
            })?;
            // The guide allows a signed URL more resources than signed
            // cookies (`*`): read the policy by the rule of its carrier.
            Policy::Custom(CustomPolicy::parse_for(&text, carrier).map_err(|e| {
                // The error may quote the policy: escape it like any text
                // from the request.
                reject(
                    ErrorCode::MalformedPolicy,
                    "policy",
                    escape::line(&e.to_string()),
                )
            })?)
        }
        (None, Some(expires)) => {
            let expires: Epoch = expires
                .parse()
                .ok()
                .filter(|t: &Epoch| *t >= 0 && expires.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    reject(
                        ErrorCode::MalformedPolicy,
                        "expires",
                        format!("{prefix}Expires `{}` is not Unix seconds", shown(expires)),
                    )
                })?;
            // A canned policy stands for exactly the URL requested (for
            // cookies: the URL requested, including its query string).
            Policy::Canned(CannedPolicy::rebuilt(unsigned_url.clone(), expires))
        }
        (None, None) => {
            return Err(reject(
                ErrorCode::MalformedPolicy,
                "policy",
                format!(
                    "neither {prefix}Expires (canned policy) nor {prefix}Policy (custom policy) is present"
                ),
            ));
        }
    };

    let hash = match params.hash_algorithm.as_deref() {
        None => HashAlgorithm::Sha1,
        Some(v) => HashAlgorithm::from_param(v).ok_or_else(|| {
            reject(
                ErrorCode::AccessDenied,
                "hash-algorithm",
                format!(
                    "{prefix}Hash-Algorithm `{}` is neither SHA1 nor SHA256",
                    shown(v)
                ),
            )
        })?,
    };

    let signature_text = params.signature.as_deref().ok_or_else(|| {
        reject(
            ErrorCode::AccessDenied,
            "signature",
            format!("the {prefix}Signature {params_name} is missing"),
        )
    })?;
    let signature = encode::decode(signature_text).ok_or_else(|| {
        reject(
            ErrorCode::AccessDenied,
            "signature",
            format!("the {prefix}Signature value is not CloudFront base64 (was it URL-encoded or truncated?)"),
        )
    })?;

    let key_checked = if !keys.checks_signatures() {
        None
    } else {
        let key = keys.get(&key_pair_id).ok_or_else(|| {
            reject(
                ErrorCode::InvalidKey,
                "key-pair-id",
                match keys.ids().collect::<Vec<_>>().join(", ") {
                    trusted if trusted.is_empty() => format!(
                        "the key ID `{}` is not trusted: no key is",
                        shown(&key_pair_id)
                    ),
                    trusted => format!(
                        "the key ID `{}` is not one of the trusted keys ({trusted})",
                        shown(&key_pair_id)
                    ),
                },
            )
        })?;
        let message = policy.to_json();
        let wanted = SignatureCheck {
            key_pair_id: &key_pair_id,
            message: message.as_bytes(),
            hash,
            signature: &signature,
            expires: policy.expires(),
        };
        if !verify_signature(key, &wanted) {
            return Err(reject(
                ErrorCode::AccessDenied,
                "signature",
                diagnose_signature(
                    request,
                    &policy,
                    &key_pair_id,
                    hash,
                    &signature,
                    keys,
                    carrier,
                ),
            ));
        }
        Some(key_pair_id.clone())
    };

    if let Policy::Custom(custom) = &policy {
        if !custom.resource().matches(&unsigned_url) {
            return Err(reject(
                ErrorCode::AccessDenied,
                "resource",
                format!(
                    "the URL `{}` does not match the policy resource `{}`",
                    shown(&unsigned_url),
                    shown(&custom.resource().to_string())
                ),
            ));
        }
    }

    let expires = policy.expires();
    if request.now >= expires {
        return Err(reject(
            ErrorCode::AccessDenied,
            "expired",
            format!(
                "the signature expired at {} ({} ago)",
                format_time(expires),
                HumanDuration::from_seconds((request.now - expires).max(1) as u64).rough()
            ),
        ));
    }
    let mut unchecked = Vec::new();
    if let Policy::Custom(custom) = &policy {
        if let Some(start) = custom.starts() {
            if request.now < start {
                return Err(reject(
                    ErrorCode::AccessDenied,
                    "not-yet-valid",
                    format!(
                        "the signature is not valid before {} (in {})",
                        format_time(start),
                        HumanDuration::from_seconds((start - request.now) as u64).rough()
                    ),
                ));
            }
        }
        if let Some(range) = custom.ip() {
            match request.client_ip {
                Some(ip) if !range.contains(ip) => {
                    return Err(reject(
                        ErrorCode::AccessDenied,
                        "ip-address",
                        format!(
                            "the client address {ip} is outside the policy's IpAddress {range}"
                        ),
                    ));
                }
                Some(_) => {}
                None => unchecked.push(format!(
                    "only clients in {range} are allowed (no client address given)"
                )),
            }
        }
    }

    Ok(Accepted {
        carrier,
        policy,
        key_pair_id,
        hash,
        key: key_checked,
        unchecked,
    })
}

/// Why a signature did not verify: try the usual mistakes, most specific first.
fn diagnose_signature(
    request: &Request<'_>,
    policy: &Policy,
    key_pair_id: &str,
    hash: HashAlgorithm,
    signature: &[u8],
    keys: &KeyRing,
    carrier: Carrier,
) -> String {
    let message = policy.to_json();
    let other_hash = match hash {
        HashAlgorithm::Sha1 => HashAlgorithm::Sha256,
        HashAlgorithm::Sha256 => HashAlgorithm::Sha1,
    };
    let key = keys.get(key_pair_id);
    if key.is_some_and(|k| k.verify(message.as_bytes(), other_hash, signature)) {
        return match hash {
            HashAlgorithm::Sha1 => {
                "the signature was made with SHA-256, but Hash-Algorithm=SHA256 is missing".into()
            }
            HashAlgorithm::Sha256 => {
                "the signature was made with SHA-1, but Hash-Algorithm says SHA256".into()
            }
        };
    }
    if let Some(other) = keys.ids().filter(|id| *id != key_pair_id).find(|id| {
        keys.get(id)
            .is_some_and(|k| k.verify(message.as_bytes(), hash, signature))
    }) {
        return format!(
            "the signature was made with the private key of `{other}`, but Key-Pair-Id says `{key_pair_id}`"
        );
    }
    if carrier == Carrier::Url {
        let (unsigned, _) = url::split_signed(request.url);
        // Parameters after the first signing parameter were added after signing.
        if let Some(query) = request.url.split_once('?').map(|(_, q)| q) {
            let names: Vec<&str> = query
                .split('&')
                .map(|p| p.split('=').next().unwrap_or(p))
                .collect();
            if let Some(first) = names.iter().position(|n| url::SIGNING_PARAMS.contains(n)) {
                let added: Vec<&str> = names[first..]
                    .iter()
                    .copied()
                    .filter(|n| !url::SIGNING_PARAMS.contains(n))
                    .collect();
                if !added.is_empty() {
                    return format!(
                        "the query parameter(s) {} come after the signing parameters: a parameter added after signing changes the signed URL",
                        shown(&added.join(", "))
                    );
                }
            }
        }
        if let Policy::Canned(_) = policy {
            if let Ok(wire) = url::to_wire(&unsigned) {
                if wire != unsigned {
                    return format!(
                        "the URL is not in wire form (it should read `{}`): it was probably signed in one encoding and sent in another",
                        shown(&wire)
                    );
                }
            }
        }
    }
    match policy {
        Policy::Canned(_) => "the signature does not match this URL and expiry: the URL (path or query) changed after signing, it was signed with another private key, or it was signed for a wildcard resource (a canned policy covers exactly one URL; wildcards need a custom policy)".into(),
        Policy::Custom(_) => "the signature does not match the policy: the policy changed after signing, or it was signed with another private key".into(),
    }
}

/// A value from the request inside a reason: escaped, so that a reason is
/// always one safe line (it goes to `verify`'s stdout and `serve`'s log),
/// and shortened.
fn shown(s: &str) -> escape::Shown<'_> {
    escape::shown(s).max(120)
}
