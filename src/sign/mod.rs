//! Signing: policies, keys, and the URLs and cookies CloudFront accepts.
//!
//! ```
//! use cfsign::sign::{PrivateKey, Signer, Policy};
//! let pem = std::fs::read("tests/fixtures/keys/rsa2048-pkcs8.pem").unwrap();
//! let signer = Signer::new(PrivateKey::from_bytes(&pem, None).unwrap(),
//!                          "K2JCJMDEHXQW5F".parse().unwrap(), None);
//! let url = "https://d111111abcdef8.cloudfront.net/image.jpg";
//! let signed = signer.sign(&Policy::canned(url, 1893456000).unwrap());
//! let signed_url = signed.apply_to(url).unwrap();
//! assert!(signed_url.as_str().starts_with(
//!     "https://d111111abcdef8.cloudfront.net/image.jpg?Expires=1893456000&Signature="));
//! assert!(signed_url.as_str().ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"));
//! ```

pub mod cookies;
pub mod encode;
pub mod ip;
pub mod key;
mod pem;
pub mod policy;
pub mod resource;
mod spec;
pub mod url;

use std::fmt;
use std::str::FromStr;

pub use cookies::{CookieAttributes, SameSite, SignedCookies};
pub use ip::IpRange;
pub use key::{KeyError, Passphrase, PrivateKey, PublicKey};
pub use policy::{CannedPolicy, CustomPolicy, PolicyError};
pub use resource::{Resource, ResourcePattern};
pub use spec::PolicySpec;

use crate::time::Epoch;

/// The digest signed: SHA-1 is CloudFront's default; SHA-256 is announced
/// with `Hash-Algorithm=SHA256`.
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
    pub fn as_str(&self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
        }
    }

    /// Parses a `Hash-Algorithm` value exactly as CloudFront takes it.
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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyPairId(String);

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
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for IDs of CloudFront's own shape: upper-case ASCII letters and
    /// digits (`K2JCJMDEHXQW5F`, `APKAEIBAERJR2EXAMPLE`). Others sign, but
    /// CloudFront will not know them.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    Url,
    Cookies,
}

/// What gets signed: a canned policy (one URL, an expiry) or a custom one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    Canned(CannedPolicy),
    Custom(CustomPolicy),
}

impl Policy {
    /// A canned policy for `url`, which is first put in wire form.
    pub fn canned(url: &str, expires: Epoch) -> Result<Self, url::UrlError> {
        Ok(Policy::Canned(CannedPolicy {
            url: url::to_wire(url)?,
            expires,
        }))
    }

    /// The exact bytes that are signed.
    pub fn to_json(&self) -> String {
        match self {
            Policy::Canned(p) => p.to_json(),
            Policy::Custom(p) => p.json().to_string(),
        }
    }

    /// When the signature stops being accepted.
    pub fn expires(&self) -> Epoch {
        match self {
            Policy::Canned(p) => p.expires,
            Policy::Custom(p) => p.date_less_than,
        }
    }

    /// Whether this policy covers the wire-form `url`.
    pub fn covers(&self, url: &str) -> bool {
        match self {
            Policy::Canned(p) => p.url == url,
            Policy::Custom(p) => p.resource.matches(url),
        }
    }

    /// Whether the guide allows this policy in `carrier`: a canned policy's
    /// resource is a URL, fine for both; a custom one's may not be.
    pub fn allowed_in(&self, carrier: Carrier) -> Result<(), PolicyError> {
        match self {
            Policy::Canned(_) => Ok(()),
            Policy::Custom(p) => p.allowed_in(carrier),
        }
    }
}

/// A private key, the ID CloudFront knows its public half by, and the hash.
#[derive(Clone, Debug)]
pub struct Signer {
    key: PrivateKey,
    key_pair_id: KeyPairId,
    hash: HashAlgorithm,
}

impl Signer {
    /// `hash` defaults to the key's usual hash (SHA-1 for RSA, SHA-256 for ECDSA).
    pub fn new(key: PrivateKey, key_pair_id: KeyPairId, hash: Option<HashAlgorithm>) -> Self {
        let hash = hash.unwrap_or_else(|| key.default_hash());
        Signer {
            key,
            key_pair_id,
            hash,
        }
    }

    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    pub fn key_pair_id(&self) -> &KeyPairId {
        &self.key_pair_id
    }

    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// Signs a policy once; the result can be applied to every URL it covers.
    pub fn sign(&self, policy: &Policy) -> SignedPolicy {
        let json = policy.to_json();
        let signature = encode::encode(&self.key.sign(json.as_bytes(), self.hash));
        SignedPolicy {
            policy: policy.clone(),
            encoded_policy: match policy {
                Policy::Canned(_) => None,
                Policy::Custom(_) => Some(encode::encode(json.as_bytes())),
            },
            signature,
            key_pair_id: self.key_pair_id.clone(),
            hash: self.hash,
        }
    }
}

/// A policy with its signature: the parts of a signed URL or cookie set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPolicy {
    pub policy: Policy,
    /// CloudFront-encoded policy (custom policies only).
    pub encoded_policy: Option<String>,
    /// CloudFront-encoded signature.
    pub signature: String,
    pub key_pair_id: KeyPairId,
    pub hash: HashAlgorithm,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApplyError {
    #[error(transparent)]
    Url(#[from] url::UrlError),
    #[error(
        "the URL `{url}` is not covered by the policy resource `{resource}`: widen --resource or sign the URL separately"
    )]
    NotCovered { url: String, resource: String },
}

impl SignedPolicy {
    /// The signing query parameters, in botocore's order.
    pub fn query(&self) -> String {
        let mut q = match (&self.policy, &self.encoded_policy) {
            (Policy::Custom(_), Some(p)) => format!("Policy={p}"),
            _ => format!("Expires={}", self.policy.expires()),
        };
        q.push_str("&Signature=");
        q.push_str(&self.signature);
        q.push_str("&Key-Pair-Id=");
        q.push_str(self.key_pair_id.as_str());
        if self.hash != HashAlgorithm::Sha1 {
            q.push_str("&Hash-Algorithm=");
            q.push_str(self.hash.as_str());
        }
        q
    }

    /// Signs `url` with this policy: puts it in wire form, checks the policy
    /// covers it, and appends the parameters.
    pub fn apply_to(&self, url: &str) -> Result<SignedUrl, ApplyError> {
        let wire = url::to_wire(url)?;
        if !self.policy.covers(&wire) {
            let resource = match &self.policy {
                Policy::Canned(p) => p.url.clone(),
                Policy::Custom(p) => p.resource.to_string(),
            };
            return Err(ApplyError::NotCovered {
                url: wire,
                resource,
            });
        }
        let signed = url::append_query(&wire, &self.query());
        Ok(SignedUrl { url: wire, signed })
    }

    /// The signed cookies for this policy. Signed cookies allow fewer custom
    /// resources than signed URLs: check
    /// [`Policy::allowed_in`]`(Carrier::Cookies)` before signing for them.
    pub fn cookies(&self) -> SignedCookies {
        SignedCookies::from_signed(self)
    }
}

/// A URL (in wire form) and its signed form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUrl {
    url: String,
    signed: String,
}

impl SignedUrl {
    /// The signed URL.
    pub fn as_str(&self) -> &str {
        &self.signed
    }

    /// The URL that was signed, in wire form.
    pub fn unsigned(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.signed)
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
