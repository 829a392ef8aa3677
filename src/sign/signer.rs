//! The signer: a key loaded once, its ID and the hash, and what it makes —
//! a [`SignedPolicy`], applied to URLs ([`SignedUrl`]) or turned into
//! [`SignedCookies`].

use std::fmt;

use super::policy::{CannedPolicy, PolicyError, expiry};
use super::{Carrier, HashAlgorithm, KeyPairId, Policy, PrivateKey, SignedCookies, encode, url};
use crate::time::When;

/// A private key, the ID CloudFront knows its public half by, and the hash.
/// Load it once (keys take milliseconds to parse) and share it: signing
/// takes `&self`, and `Signer` is `Send + Sync`.
///
/// ```
/// use cfsign::sign::{HashAlgorithm, PrivateKey, Signer};
/// let pem = include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem");
/// let signer = Signer::new(PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// assert_eq!(signer.hash(), HashAlgorithm::Sha256); // ECDSA's usual hash
/// assert_eq!(signer.key_pair_id().as_str(), "K2JCJMDEHXQW5F");
/// assert_eq!(signer.key().describe(), "ECDSA P-256");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Signer {
    key: PrivateKey,
    key_pair_id: KeyPairId,
    hash: HashAlgorithm,
}

impl Signer {
    /// A signer; `hash` defaults to the key's usual hash
    /// ([`PrivateKey::default_hash`]: SHA-1 for RSA, SHA-256 for ECDSA).
    ///
    /// ```
    /// use cfsign::sign::{HashAlgorithm, PrivateKey, Signer};
    /// let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
    /// let key = PrivateKey::from_bytes(pem, None)?;
    /// let signer = Signer::new(key, "K2JCJMDEHXQW5F".parse()?, Some(HashAlgorithm::Sha256));
    /// assert_eq!(signer.hash(), HashAlgorithm::Sha256);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(key: PrivateKey, key_pair_id: KeyPairId, hash: Option<HashAlgorithm>) -> Self {
        let hash = hash.unwrap_or_else(|| key.default_hash());
        Signer {
            key,
            key_pair_id,
            hash,
        }
    }

    /// The private key.
    ///
    /// ```
    /// use cfsign::sign::{PrivateKey, Signer};
    /// let signer = Signer::new(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// assert_eq!(signer.key().rsa_bits(), Some(2048));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The ID that goes into `Key-Pair-Id`.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// assert_eq!(signer.key_pair_id().to_string(), "K2JCJMDEHXQW5F");
    /// let url = signer.sign_url("https://h/a", std::time::Duration::from_secs(60))?;
    /// assert!(url.as_str().ends_with(&format!("&Key-Pair-Id={}", signer.key_pair_id())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key_pair_id(&self) -> &KeyPairId {
        &self.key_pair_id
    }

    /// The hash signed with.
    ///
    /// ```
    /// use cfsign::sign::{HashAlgorithm, PrivateKey, Signer};
    /// let rsa = Signer::new(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// assert_eq!(rsa.hash(), HashAlgorithm::Sha1); // CloudFront's default
    /// let url = rsa.sign_url("https://h/a", std::time::Duration::from_secs(60))?;
    /// assert!(!url.as_str().contains("Hash-Algorithm"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// Signs a policy once; the result can be applied to every URL it covers.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use cfsign::sign::{CustomPolicy, Policy};
    /// let policy = CustomPolicy::new("https://d111111abcdef8.cloudfront.net/docs/*".parse()?, 1893456000, None, None)?;
    /// let signed = signer.sign(&Policy::Custom(policy));
    /// for page in ["a.html", "b.html"] {
    ///     let url = signed.apply_to(&format!("https://d111111abcdef8.cloudfront.net/docs/{page}"))?;
    ///     assert!(url.as_str().contains("?Policy="));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// Signs `url` with a canned policy that expires `expires` from now (a
    /// [`Duration`](std::time::Duration)) or at a
    /// [`SystemTime`](std::time::SystemTime): one call, as a web service
    /// signs a link per request. The URL is put in wire form first; an
    /// expiry that is not after the current second is refused.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// let in_five_minutes = signer.sign_url("https://d111111abcdef8.cloudfront.net/a b.jpg", Duration::from_secs(300))?;
    /// assert!(in_five_minutes.as_str().starts_with("https://d111111abcdef8.cloudfront.net/a%20b.jpg?Expires="));
    ///
    /// let at = UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100-01-01
    /// let until_2100 = signer.sign_url("https://d111111abcdef8.cloudfront.net/a.jpg", at)?;
    /// assert!(until_2100.as_str().contains("?Expires=4102444800&Signature="));
    ///
    /// assert!(signer.sign_url("https://d111111abcdef8.cloudfront.net/a.jpg", SystemTime::UNIX_EPOCH).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sign_url(&self, url: &str, expires: impl Into<When>) -> Result<SignedUrl, SignError> {
        let expires = expiry(expires.into(), std::time::SystemTime::now())?;
        let policy = Policy::Canned(CannedPolicy::new(url, expires)?);
        self.sign(&policy).apply_to(url)
    }

    /// Signs `policy` for signed cookies, after checking that the guide
    /// allows its resource in cookies ([`Policy::allowed_in`]).
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use std::time::Duration;
    /// use cfsign::sign::CustomPolicy;
    /// let policy = CustomPolicy::builder("https://d111111abcdef8.cloudfront.net/members/*")
    ///     .expires(Duration::from_secs(12 * 3600))
    ///     .build()?;
    /// let cookies = signer.sign_cookies(&policy.into())?;
    /// let names: Vec<&str> = cookies.pairs().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"]);
    ///
    /// // `*` alone is a signed URL's resource, not a signed cookie's.
    /// let any = CustomPolicy::builder("*").expires(Duration::from_secs(60)).build()?;
    /// assert!(signer.sign_cookies(&any.into()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sign_cookies(&self, policy: &Policy) -> Result<SignedCookies, SignError> {
        policy.allowed_in(Carrier::Cookies)?;
        Ok(self.sign(policy).cookies())
    }
}

/// A policy with its signature: the parts of a signed URL or cookie set,
/// made by [`Signer::sign`].
///
/// ```
/// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// use cfsign::sign::{HashAlgorithm, Policy};
/// let signed = signer.sign(&Policy::canned("https://d111111abcdef8.cloudfront.net/a", 1893456000)?);
/// assert_eq!(signed.policy().expires(), 1893456000);
/// assert_eq!(signed.encoded_policy(), None); // canned: CloudFront rebuilds it
/// assert_eq!(signed.hash(), HashAlgorithm::Sha1);
/// assert_eq!(signed.key_pair_id().as_str(), "K2JCJMDEHXQW5F");
/// assert!(signed.query().starts_with(&format!("Expires=1893456000&Signature={}&", signed.signature())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPolicy {
    policy: Policy,
    encoded_policy: Option<String>,
    signature: String,
    key_pair_id: KeyPairId,
    hash: HashAlgorithm,
}

/// Why a URL could not be signed.
///
/// ```
/// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// use std::time::Duration;
/// use cfsign::sign::{Policy, PolicyError, SignError};
/// assert!(matches!(
///     signer.sign_url("https://h/a", Duration::ZERO),
///     Err(SignError::Policy(PolicyError::NotInFuture { .. }))
/// ));
/// let signed = signer.sign(&Policy::canned("https://h/a", 1_893_456_000)?);
/// assert!(matches!(signed.apply_to("h/a"), Err(SignError::Url(_))));
/// assert_eq!(
///     signed.apply_to("https://h/b"),
///     Err(SignError::NotCovered { url: "https://h/b".into(), resource: "https://h/a".into() })
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The URL cannot be signed as given.
    #[error(transparent)]
    Url(#[from] url::UrlError),
    /// The policy is not valid (or not for the carrier asked for).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The signed policy does not cover the URL.
    #[error(
        "the URL `{url}` is not covered by the policy resource `{resource}`: widen --resource or sign the URL separately"
    )]
    NotCovered {
        /// The URL, in wire form.
        url: String,
        /// The policy's resource.
        resource: String,
    },
}

/// The error of [`SignedPolicy::apply_to`], under its first name.
///
/// ```
/// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// use cfsign::sign::{ApplyError, Policy};
/// let signed = signer.sign(&Policy::canned("https://h/a", 1_893_456_000)?);
/// let err: ApplyError = signed.apply_to("https://h/b").unwrap_err();
/// assert!(matches!(err, cfsign::sign::SignError::NotCovered { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ApplyError = SignError;

impl SignedPolicy {
    /// The policy signed.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use cfsign::sign::Policy;
    /// let policy = Policy::canned("https://h/a", 1_893_456_000)?;
    /// assert_eq!(signer.sign(&policy).policy(), &policy);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The CloudFront-encoded policy (custom policies only: CloudFront
    /// rebuilds a canned one from the URL).
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use cfsign::sign::{CustomPolicy, Policy, encode};
    /// let custom = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, None, None)?;
    /// let signed = signer.sign(&Policy::Custom(custom.clone()));
    /// let encoded = signed.encoded_policy().expect("a custom policy is sent");
    /// assert_eq!(encode::decode(encoded).as_deref(), Some(custom.json().as_bytes()));
    /// assert!(signed.query().starts_with(&format!("Policy={encoded}&")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encoded_policy(&self) -> Option<&str> {
        self.encoded_policy.as_deref()
    }

    /// The CloudFront-encoded signature.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use cfsign::sign::{HashAlgorithm, Policy, encode};
    /// let policy = Policy::canned("https://h/a", 1_893_456_000)?;
    /// let signed = signer.sign(&policy);
    /// let raw = encode::decode(signed.signature()).expect("CloudFront's base64");
    /// let public = signer.key().public_key();
    /// assert!(public.verify(policy.to_json().as_bytes(), HashAlgorithm::Sha1, &raw));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The key ID that goes with the signature.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use cfsign::sign::Policy;
    /// let signed = signer.sign(&Policy::canned("https://h/a", 1_893_456_000)?);
    /// assert_eq!(signed.key_pair_id(), signer.key_pair_id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key_pair_id(&self) -> &KeyPairId {
        &self.key_pair_id
    }

    /// The hash signed with.
    ///
    /// ```
    /// use cfsign::sign::{HashAlgorithm, Policy, PrivateKey, Signer};
    /// let signer = Signer::new(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, Some(HashAlgorithm::Sha256));
    /// let signed = signer.sign(&Policy::canned("https://h/a", 1_893_456_000)?);
    /// assert_eq!(signed.hash(), HashAlgorithm::Sha256);
    /// assert!(signed.query().ends_with("&Hash-Algorithm=SHA256"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// The signing query parameters, in botocore's order.
    ///
    /// ```
    /// use cfsign::sign::{CustomPolicy, Policy, PrivateKey, Signer};
    /// let signer = Signer::new(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// let custom = CustomPolicy::new("https://h/*".parse()?, 1_893_456_000, None, None)?;
    /// let query = signer.sign(&Policy::Custom(custom)).query();
    /// let names: Vec<&str> = query.split('&').map(|p| p.split('=').next().unwrap()).collect();
    /// assert_eq!(names, ["Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use cfsign::sign::Policy;
    /// let signed = signer.sign(&Policy::canned("https://d111111abcdef8.cloudfront.net/a?v=2", 1893456000)?);
    /// let url = signed.apply_to("https://d111111abcdef8.cloudfront.net/a?v=2")?;
    /// assert!(url.as_str().starts_with("https://d111111abcdef8.cloudfront.net/a?v=2&Expires=1893456000&"));
    /// assert!(signed.apply_to("https://d111111abcdef8.cloudfront.net/b").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_to(&self, url: &str) -> Result<SignedUrl, SignError> {
        let wire = url::to_wire(url)?;
        if !self.policy.covers(&wire) {
            let resource = match &self.policy {
                Policy::Canned(p) => p.url().to_string(),
                Policy::Custom(p) => p.resource().to_string(),
            };
            return Err(SignError::NotCovered {
                url: wire,
                resource,
            });
        }
        let signed = url::append_query(&wire, &self.query());
        Ok(SignedUrl { url: wire, signed })
    }

    /// The signed cookies for this policy. Signed cookies allow fewer custom
    /// resources than signed URLs: check
    /// [`Policy::allowed_in`]`(Carrier::Cookies)` before signing for them,
    /// or sign with [`Signer::sign_cookies`], which does.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// use cfsign::sign::Policy;
    /// let signed = signer.sign(&Policy::canned("https://h/a", 1_893_456_000)?);
    /// let cookies = signed.cookies();
    /// assert!(cookies.pairs().any(|pair| pair == ("CloudFront-Signature", signed.signature())));
    /// assert!(cookies.pairs().any(|pair| pair == ("CloudFront-Expires", "1893456000")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cookies(&self) -> SignedCookies {
        SignedCookies::from_signed(self)
    }
}

/// A URL (in wire form) and its signed form.
///
/// ```
/// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// let url = signer.sign_url("https://d111111abcdef8.cloudfront.net/ü.txt", std::time::Duration::from_secs(60))?;
/// assert_eq!(url.unsigned(), "https://d111111abcdef8.cloudfront.net/%C3%BC.txt");
/// assert_eq!(url.to_string(), url.as_str());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUrl {
    url: String,
    signed: String,
}

impl SignedUrl {
    /// The signed URL.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// let url = signer.sign_url("https://h/a.jpg?w=100", std::time::Duration::from_secs(60))?;
    /// assert!(url.as_str().starts_with("https://h/a.jpg?w=100&Expires="));
    /// assert!(url.as_str().ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.signed
    }

    /// The URL that was signed, in wire form.
    ///
    /// ```
    /// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// let url = signer.sign_url("https://h/a b.jpg", std::time::Duration::from_secs(60))?;
    /// assert_eq!(url.unsigned(), "https://h/a%20b.jpg");
    /// assert!(url.as_str().starts_with(url.unsigned()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unsigned(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.signed)
    }
}

impl From<SignedUrl> for String {
    fn from(url: SignedUrl) -> String {
        url.signed
    }
}
