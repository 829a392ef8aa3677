//! Signing: policies, keys, and the URLs and cookies CloudFront accepts.
//!
//! Load a [`PrivateKey`] once, make a [`Signer`] of it, then sign per
//! request: [`Signer::sign_url`] for one URL with a canned policy, or a
//! [`Policy`] (canned, or a [`CustomPolicy`] with wildcards, a start time or
//! an IP range) with [`Signer::sign`], whose [`SignedPolicy`] applies to
//! every URL it covers and gives the [`SignedCookies`].
//!
//! ```
//! use cfsign::sign::{PrivateKey, Signer, Policy};
//! let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
//! let signer = Signer::new(PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
//! let url = "https://d111111abcdef8.cloudfront.net/image.jpg";
//! let signed = signer.sign(&Policy::canned(url, 1893456000)?);
//! let signed_url = signed.apply_to(url)?;
//! assert!(signed_url.as_str().starts_with(
//!     "https://d111111abcdef8.cloudfront.net/image.jpg?Expires=1893456000&Signature="));
//! assert!(signed_url.as_str().ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
pub mod cookies;
pub mod encode;
pub mod ip;
pub mod key;
mod pem;
pub mod policy;
pub mod resource;
mod signer;
mod spec;
pub mod url;

use std::fmt;
use std::str::FromStr;

pub use builder::CustomPolicyBuilder;
pub use cookies::{CookieAttributes, CookieError, SameSite, SignedCookies};
pub use ip::IpRange;
pub use key::{KeyError, Passphrase, PrivateKey, PublicKey};
pub use policy::{CannedPolicy, CustomPolicy, PolicyError};
pub use resource::{Resource, ResourcePattern};
pub use signer::{ApplyError, SignError, SignedPolicy, SignedUrl, Signer};
pub use spec::PolicySpec;

use crate::time::Epoch;
pub use crate::time::When;

/// The digest signed: SHA-1 is CloudFront's default; SHA-256 is announced
/// with `Hash-Algorithm=SHA256`.
///
/// ```
/// use cfsign::sign::HashAlgorithm;
/// assert_eq!(HashAlgorithm::from_param("SHA256"), Some(HashAlgorithm::Sha256));
/// assert_eq!(HashAlgorithm::from_param("sha256"), None); // as CloudFront: exact
/// assert_eq!(HashAlgorithm::Sha1.to_string(), "SHA1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum HashAlgorithm {
    /// SHA-1, CloudFront's default.
    #[serde(rename = "SHA1")]
    Sha1,
    /// SHA-256, announced with `Hash-Algorithm=SHA256`.
    #[serde(rename = "SHA256")]
    Sha256,
}

impl HashAlgorithm {
    /// The value of `Hash-Algorithm` / `CloudFront-Hash-Algorithm`.
    ///
    /// ```
    /// use cfsign::sign::HashAlgorithm;
    /// assert_eq!(HashAlgorithm::Sha256.as_str(), "SHA256");
    /// assert_eq!(HashAlgorithm::from_param(HashAlgorithm::Sha1.as_str()), Some(HashAlgorithm::Sha1));
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
        }
    }

    /// Parses a `Hash-Algorithm` value exactly as CloudFront takes it.
    ///
    /// ```
    /// use cfsign::sign::HashAlgorithm;
    /// assert_eq!(HashAlgorithm::from_param("SHA1"), Some(HashAlgorithm::Sha1));
    /// assert_eq!(HashAlgorithm::from_param("SHA512"), None);
    /// assert_eq!(HashAlgorithm::from_param(" SHA256"), None);
    /// ```
    pub fn from_param(value: &str) -> Option<Self> {
        match value {
            "SHA1" => Some(HashAlgorithm::Sha1),
            "SHA256" => Some(HashAlgorithm::Sha256),
            _ => None,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ID of a public key in a trusted key group (`K2JCJMDEHXQW5F`) or of a
/// legacy CloudFront key pair (`APKA…`). It goes into URLs and cookie values
/// unescaped, so it may hold only what both carry as is: ASCII letters,
/// digits and `-._~` (RFC 3986's unreserved characters, all of which are
/// also RFC 6265 cookie octets). The AWS CLI and the SDKs sign any ID, and
/// their tests and users' scripts use IDs such as `my_id`; CloudFront's own
/// IDs are upper-case letters and digits, which
/// [`KeyPairId::looks_like_cloudfront`] tells.
///
/// ```
/// use cfsign::sign::KeyPairId;
/// let id: KeyPairId = "K2JCJMDEHXQW5F".parse()?;
/// assert!(id.looks_like_cloudfront());
/// assert!(!"my_id".parse::<KeyPairId>()?.looks_like_cloudfront());
/// assert!("K2/x".parse::<KeyPairId>().is_err());
/// # Ok::<(), cfsign::sign::KeyPairIdError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyPairId(String);

/// A key ID that a URL or cookie cannot carry as is. The message shows the
/// value, unless it may be a key.
///
/// ```
/// use cfsign::sign::{KeyPairId, KeyPairIdError};
/// let err: KeyPairIdError = "K2 JCJ".parse::<KeyPairId>().unwrap_err();
/// assert!(err.to_string().starts_with("`K2 JCJ` is not a CloudFront key ID"));
/// // A private key pasted in its place is not repeated.
/// let pasted = "-----BEGIN PRIVATE KEY-----".parse::<KeyPairId>().unwrap_err();
/// assert!(!pasted.to_string().contains("BEGIN"));
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0} is not a CloudFront key ID that a URL or cookie can carry as is: use the public key's ID from the CloudFront console, such as K2JCJMDEHXQW5F (letters, digits and -._~ only)"
)]
pub struct KeyPairIdError(String);

/// The longest key ID accepted: far above CloudFront's (14 or 20
/// characters), low enough that a pasted key or file cannot pass for one.
const KEY_PAIR_ID_MAX: usize = 128;

impl FromStr for KeyPairId {
    type Err = KeyPairIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if !s.is_empty() && s.len() <= KEY_PAIR_ID_MAX && s.bytes().all(safe) {
            Ok(KeyPairId(s.to_string()))
        } else {
            let shown = if crate::escape::may_be_key(s) {
                // A key pasted here (variables swapped) must not reach a log.
                "the value (not shown: it may be a key)".to_string()
            } else {
                format!("`{}`", crate::escape::shown(s).max(40))
            };
            Err(KeyPairIdError(shown))
        }
    }
}

impl KeyPairId {
    /// The ID.
    ///
    /// ```
    /// let id: cfsign::sign::KeyPairId = "APKAEIBAERJR2EXAMPLE".parse()?;
    /// assert_eq!(id.as_str(), "APKAEIBAERJR2EXAMPLE");
    /// # Ok::<(), cfsign::sign::KeyPairIdError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for IDs of CloudFront's own shape: upper-case ASCII letters and
    /// digits (`K2JCJMDEHXQW5F`, `APKAEIBAERJR2EXAMPLE`). Others sign, but
    /// CloudFront will not know them.
    ///
    /// ```
    /// use cfsign::sign::KeyPairId;
    /// assert!("APKAEIBAERJR2EXAMPLE".parse::<KeyPairId>()?.looks_like_cloudfront());
    /// assert!(!"k2jcjmdehxqw5f".parse::<KeyPairId>()?.looks_like_cloudfront());
    /// # Ok::<(), cfsign::sign::KeyPairIdError>(())
    /// ```
    pub fn looks_like_cloudfront(&self) -> bool {
        self.0
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    }
}

impl fmt::Display for KeyPairId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What carries a signature: a signed URL's query string or signed cookies.
/// The Developer Guide allows different custom-policy resources for each
/// (see [`resource`]). For a request with both, the signed URL wins.
///
/// ```
/// use cfsign::sign::{Carrier, Policy};
/// assert!(Policy::canned("https://h/a", 9)?.allowed_in(Carrier::Cookies).is_ok());
/// # Ok::<(), cfsign::sign::PolicyError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// The query string of a signed URL.
    Url,
    /// `CloudFront-*` cookies.
    Cookies,
}

/// What gets signed: a canned policy (one URL, an expiry) or a custom one.
///
/// ```
/// use cfsign::sign::{CustomPolicy, Policy};
/// let canned = Policy::canned("https://h/a.jpg", 1893456000)?;
/// assert!(canned.covers("https://h/a.jpg") && !canned.covers("https://h/b.jpg"));
/// let custom: Policy = CustomPolicy::new("https://h/*".parse()?, 1893456000, None, None)?.into();
/// assert!(custom.covers("https://h/b.jpg"));
/// assert_eq!(custom.expires(), 1893456000);
/// assert!(custom.to_json().starts_with(r#"{"Statement":[{"Resource":"https://h/*""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// One URL and an expiry; CloudFront rebuilds it from the request.
    Canned(CannedPolicy),
    /// A policy sent with the request (`Policy=`).
    Custom(CustomPolicy),
}

impl From<CannedPolicy> for Policy {
    fn from(p: CannedPolicy) -> Self {
        Policy::Canned(p)
    }
}

impl From<CustomPolicy> for Policy {
    fn from(p: CustomPolicy) -> Self {
        Policy::Custom(p)
    }
}

impl Policy {
    /// A canned policy for `url`, which is first put in wire form
    /// ([`CannedPolicy::new`]).
    ///
    /// ```
    /// use cfsign::sign::Policy;
    /// let policy = Policy::canned("https://h/a b.jpg", 1_893_456_000)?;
    /// assert!(policy.covers("https://h/a%20b.jpg"));
    /// assert!(Policy::canned("https://h/a.jpg", -1).is_err()); // before 1970
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn canned(url: &str, expires: Epoch) -> Result<Self, PolicyError> {
        CannedPolicy::new(url, expires).map(Policy::Canned)
    }

    /// The exact bytes that are signed.
    ///
    /// ```
    /// let policy = cfsign::sign::Policy::canned("https://h/a.jpg", 1_893_456_000)?;
    /// assert_eq!(
    ///     policy.to_json(),
    ///     r#"{"Statement":[{"Resource":"https://h/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#
    /// );
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn to_json(&self) -> String {
        match self {
            Policy::Canned(p) => p.to_json(),
            Policy::Custom(p) => p.json().to_string(),
        }
    }

    /// When the signature stops being accepted.
    ///
    /// ```
    /// let policy = cfsign::sign::Policy::canned("https://h/a.jpg", 1_893_456_000)?;
    /// assert_eq!(policy.expires(), 1_893_456_000);
    /// # Ok::<(), cfsign::sign::PolicyError>(())
    /// ```
    pub fn expires(&self) -> Epoch {
        match self {
            Policy::Canned(p) => p.expires(),
            Policy::Custom(p) => p.expires(),
        }
    }

    /// Whether this policy covers the wire-form `url`.
    ///
    /// ```
    /// use cfsign::sign::{CustomPolicy, Policy};
    /// let custom: Policy = CustomPolicy::new("https://h/videos/*".parse()?, 1_893_456_000, None, None)?.into();
    /// assert!(custom.covers("https://h/videos/a.mp4"));
    /// assert!(!custom.covers("https://h/images/a.jpg"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn covers(&self, url: &str) -> bool {
        match self {
            Policy::Canned(p) => p.url() == url,
            Policy::Custom(p) => p.resource().matches(url),
        }
    }

    /// Whether the guide allows this policy in `carrier`: a canned policy's
    /// resource is a URL, fine for both; a custom one's may not be.
    ///
    /// ```
    /// use cfsign::sign::{Carrier, CustomPolicy, Policy};
    /// // A resource that begins with `*` is for signed URLs only.
    /// let custom: Policy = CustomPolicy::new("*://h/videos/*".parse()?, 1_893_456_000, None, None)?.into();
    /// assert!(custom.allowed_in(Carrier::Url).is_ok());
    /// assert!(custom.allowed_in(Carrier::Cookies).is_err());
    /// assert!(Policy::canned("https://h/a", 1_893_456_000)?.allowed_in(Carrier::Cookies).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allowed_in(&self, carrier: Carrier) -> Result<(), PolicyError> {
        match self {
            Policy::Canned(_) => Ok(()),
            Policy::Custom(p) => p.allowed_in(carrier),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_that_a_url_and_a_cookie_carry_as_is_are_accepted() {
        for (id, cloudfront_shaped) in [
            ("K2JCJMDEHXQW5F", true),
            ("APKAEIBAERJR2EXAMPLE", true),
            ("K1TESTKEY", true),
            ("my_id", false),
            ("CF_KEYPAIR_ID", false),
            ("MY_KEY_ID", false),
            ("key-1.v2~x", false),
        ] {
            let parsed: KeyPairId = id.parse().unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(parsed.looks_like_cloudfront(), cloudfront_shaped, "{id}");
        }
        let too_long = "K".repeat(KEY_PAIR_ID_MAX + 1);
        for id in [
            "", "K2/x", "a b", "a;b", "a=b", "a&b", "a\"b", "a%2F", "a,b", "a\\b", "ü", "a\nb",
            &too_long,
        ] {
            let err = id.parse::<KeyPairId>().expect_err(id).to_string();
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
