//! Signed cookies: the same policy and signature as a signed URL, carried in
//! `CloudFront-*` cookies so that one signature covers many requests.

use super::{HashAlgorithm, Policy, SignedPolicy};
use crate::time::Epoch;

/// The `CloudFront-*` cookies for one signed policy, in the order they are
/// printed: Expires or Policy, Signature, Key-Pair-Id, then Hash-Algorithm.
///
/// ```
/// # let signer = cfsign::sign::Signer::new(cfsign::sign::PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// use cfsign::sign::Policy;
/// let cookies = signer.sign(&Policy::canned("https://h/a", 1893456000)?).cookies();
/// let pairs: Vec<(&str, &str)> = cookies.pairs().collect();
/// assert_eq!(pairs[0], ("CloudFront-Expires", "1893456000"));
/// assert_eq!(pairs[3], ("CloudFront-Hash-Algorithm", "SHA256"));
/// assert!(cookies.cookie_header_value().starts_with("CloudFront-Expires=1893456000; CloudFront-Signature="));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCookies {
    pairs: Vec<(&'static str, String)>,
    /// The policy's `DateLessThan`, which the `Expires` attribute repeats.
    expires: Epoch,
}

/// The `SameSite` attribute: whether a browser sends the cookies with
/// requests that another site starts (see [`CookieAttributes`]).
///
/// ```
/// use cfsign::sign::{CookieAttributes, SameSite};
/// let attributes = CookieAttributes::default().with_same_site(SameSite::None);
/// assert_eq!(attributes.same_site(), Some(SameSite::None));
/// assert_eq!(SameSite::None.as_str(), "None");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Only with requests that this site starts.
    Strict,
    /// Also with top-level navigations from other sites.
    Lax,
    /// With every request (the browser then requires `Secure`).
    None,
}

impl SameSite {
    /// The attribute's value.
    ///
    /// ```
    /// assert_eq!(cfsign::sign::SameSite::Lax.as_str(), "Lax");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// The attributes of the `Set-Cookie` lines. `Secure` and `HttpOnly` are
/// always set: the cookies carry a credential, and no script needs them.
///
/// `Domain` and `Path` go into the header, so they are checked when set: a
/// `;` would start another attribute, a line break another header, and a
/// Domain that is not a host name makes every cookie jar drop the cookie.
///
/// ```
/// use cfsign::sign::{CookieAttributes, SameSite};
/// let attributes = CookieAttributes::default()
///     .with_path("/members/")?
///     .with_domain("d111111abcdef8.cloudfront.net")?
///     .with_same_site(SameSite::Strict);
/// assert_eq!(attributes.path(), "/members/");
/// assert!(CookieAttributes::default().with_path("/\r\nSet-Cookie: admin=1").is_err());
/// assert!(CookieAttributes::default().with_domain("h; Domain=evil.example").is_err());
/// assert!(CookieAttributes::default().with_path("/a\u{2028}Set-Cookie: admin=1").is_err());
/// # Ok::<(), cfsign::sign::CookieError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieAttributes {
    domain: Option<String>,
    path: String,
    same_site: Option<SameSite>,
    session: bool,
}

/// Why a cookie attribute cannot go into a `Set-Cookie` header.
///
/// ```
/// use cfsign::sign::{CookieAttributes, CookieError};
/// assert_eq!(CookieAttributes::default().with_path("videos/"), Err(CookieError::Path));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieError {
    /// A `Domain` that is not a host name (letters, digits, hyphens and
    /// dots).
    #[error(
        "a cookie Domain is a host name: letters, digits, hyphens and dots, such as d111111abcdef8.cloudfront.net"
    )]
    Domain,
    /// A `Path` that does not begin with `/`, or holds a `;`, a control
    /// character or a character beyond ASCII (RFC 6265, section 4.1.1).
    #[error(
        "a cookie Path begins with / and holds only ASCII, without ; or control characters, such as /videos/"
    )]
    Path,
}

impl Default for CookieAttributes {
    fn default() -> Self {
        CookieAttributes {
            domain: None,
            path: "/".to_string(),
            same_site: None,
            session: false,
        }
    }
}

impl CookieAttributes {
    /// `Domain`; without it the cookies are the setting host's only.
    ///
    /// ```
    /// # use cfsign::sign::CookieAttributes;
    /// let a = CookieAttributes::default().with_domain(".example.com")?;
    /// assert_eq!(a.domain(), Some(".example.com"));
    /// # Ok::<(), cfsign::sign::CookieError>(())
    /// ```
    pub fn with_domain(mut self, domain: impl Into<String>) -> Result<Self, CookieError> {
        let domain = domain.into();
        // A host name: labels of letters, digits, `-` and `_`, joined by
        // dots (a leading dot is what older tools write, and jars take it).
        // Anything else is dropped by every cookie jar, or adds attributes
        // or headers of its own.
        let host = domain.strip_prefix('.').unwrap_or(&domain);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !host.split('.').all(label_ok) {
            return Err(CookieError::Domain);
        }
        self.domain = Some(domain);
        Ok(self)
    }

    /// `Path` (default `/`).
    ///
    /// ```
    /// # use cfsign::sign::CookieAttributes;
    /// assert_eq!(CookieAttributes::default().with_path("/videos/")?.path(), "/videos/");
    /// # Ok::<(), cfsign::sign::CookieError>(())
    /// ```
    pub fn with_path(mut self, path: impl Into<String>) -> Result<Self, CookieError> {
        let path = path.into();
        // RFC 6265's path-value: US-ASCII without controls or `;`. Other
        // characters (U+2028, say) are line breaks to some readers.
        let allowed = |b: u8| (b' '..=b'~').contains(&b) && b != b';';
        if !path.starts_with('/') || !path.bytes().all(allowed) {
            return Err(CookieError::Path);
        }
        self.path = path;
        Ok(self)
    }

    /// `SameSite`; without it the browser's default applies (`Lax` in most).
    ///
    /// ```
    /// # use cfsign::sign::{CookieAttributes, SameSite};
    /// let a = CookieAttributes::default().with_same_site(SameSite::Lax);
    /// assert_eq!(a.same_site(), Some(SameSite::Lax));
    /// ```
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// Session cookies (no `Expires`): kept until the browser closes, even
    /// after the policy has expired and CloudFront refuses them.
    ///
    /// ```
    /// # use cfsign::sign::CookieAttributes;
    /// assert!(CookieAttributes::default().with_session(true).session());
    /// ```
    pub fn with_session(mut self, session: bool) -> Self {
        self.session = session;
        self
    }

    /// The `Domain`, if set.
    ///
    /// ```
    /// # use cfsign::sign::CookieAttributes;
    /// assert_eq!(CookieAttributes::default().domain(), None);
    /// ```
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The `Path`.
    ///
    /// ```
    /// # use cfsign::sign::CookieAttributes;
    /// assert_eq!(CookieAttributes::default().path(), "/");
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `SameSite` attribute, if set.
    ///
    /// ```
    /// # use cfsign::sign::CookieAttributes;
    /// assert_eq!(CookieAttributes::default().same_site(), None);
    /// ```
    pub fn same_site(&self) -> Option<SameSite> {
        self.same_site
    }

    /// Whether these are session cookies (no `Expires`).
    ///
    /// ```
    /// # use cfsign::sign::CookieAttributes;
    /// assert!(!CookieAttributes::default().session());
    /// ```
    pub fn session(&self) -> bool {
        self.session
    }
}

impl SignedCookies {
    pub(crate) fn from_signed(signed: &SignedPolicy) -> Self {
        let mut pairs = Vec::with_capacity(4);
        match (signed.policy(), signed.encoded_policy()) {
            (Policy::Custom(_), Some(p)) => pairs.push(("CloudFront-Policy", p.to_string())),
            _ => pairs.push(("CloudFront-Expires", signed.policy().expires().to_string())),
        }
        pairs.push(("CloudFront-Signature", signed.signature().to_string()));
        pairs.push(("CloudFront-Key-Pair-Id", signed.key_pair_id().to_string()));
        if signed.hash() != HashAlgorithm::Sha1 {
            pairs.push((
                "CloudFront-Hash-Algorithm",
                signed.hash().as_str().to_string(),
            ));
        }
        SignedCookies {
            pairs,
            expires: signed.policy().expires(),
        }
    }

    /// Cookie names and values, as a web framework's cookie jar takes them
    /// (`.map(|(n, v)| (n, v.to_string())).collect::<Vec<_>>()` for owned
    /// pairs).
    ///
    /// ```
    /// use cfsign::sign::{PrivateKey, Signer, Policy};
    /// let signer = Signer::new(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// let cookies = signer.sign(&Policy::canned("https://h/a", 1_893_456_000)?).cookies();
    /// let names: Vec<&str> = cookies.pairs().map(|(name, _)| name).collect();
    /// assert_eq!(
    ///     names,
    ///     ["CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id", "CloudFront-Hash-Algorithm"]
    /// );
    /// assert!(cookies.pairs().any(|pair| pair == ("CloudFront-Key-Pair-Id", "K2JCJMDEHXQW5F")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.pairs.iter().map(|(n, v)| (*n, v.as_str()))
    }

    /// `Set-Cookie` header values: `Domain`, `Path`, an `Expires` equal to
    /// the policy's expiry (unless session cookies are asked for: CloudFront
    /// itself needs none, but a browser then drops cookies that could only
    /// earn a 403), `Secure`, `HttpOnly` and `SameSite`.
    ///
    /// ```
    /// # use cfsign::sign::*;
    /// # let key = PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None).unwrap();
    /// # let signer = Signer::new(key, "K2JCJMDEHXQW5F".parse().unwrap(), None);
    /// let url = "https://d111111abcdef8.cloudfront.net/a";
    /// let cookies = signer.sign(&Policy::canned(url, 1893456000).unwrap()).cookies();
    /// let attributes = CookieAttributes::default()
    ///     .with_domain("d111111abcdef8.cloudfront.net")
    ///     .unwrap()
    ///     .with_same_site(SameSite::Lax);
    /// assert_eq!(
    ///     cookies.set_cookie_values(&attributes)[0],
    ///     "CloudFront-Expires=1893456000; Domain=d111111abcdef8.cloudfront.net; Path=/; \
    ///      Expires=Tue, 01 Jan 2030 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax"
    /// );
    /// ```
    pub fn set_cookie_values(&self, attributes: &CookieAttributes) -> Vec<String> {
        let mut tail = String::new();
        if let Some(domain) = &attributes.domain {
            tail.push_str("; Domain=");
            tail.push_str(domain);
        }
        tail.push_str("; Path=");
        tail.push_str(&attributes.path);
        if !attributes.session {
            tail.push_str("; Expires=");
            tail.push_str(&crate::time::format_http_date(self.expires));
        }
        tail.push_str("; Secure; HttpOnly");
        if let Some(same_site) = attributes.same_site {
            tail.push_str("; SameSite=");
            tail.push_str(same_site.as_str());
        }
        self.pairs()
            .map(|(n, v)| format!("{n}={v}{tail}"))
            .collect()
    }

    /// One `Cookie` request header value carrying all of them (for a client
    /// that sends the cookies itself).
    ///
    /// ```
    /// use cfsign::sign::{PrivateKey, Signer, Policy};
    /// let signer = Signer::new(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// let cookies = signer.sign(&Policy::canned("https://h/a", 1_893_456_000)?).cookies();
    /// let header = cookies.cookie_header_value();
    /// assert!(header.starts_with("CloudFront-Expires=1893456000; CloudFront-Signature="));
    /// assert!(header.ends_with("; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F; CloudFront-Hash-Algorithm=SHA256"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cookie_header_value(&self) -> String {
        self.pairs()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
