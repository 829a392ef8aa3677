//! A distribution that misses one setup step, to rehearse its refusal
//! offline: the cache behaviour's allowed methods ([`AllowedMethods`]), an
//! origin whose bucket policy lacks a permission ([`OriginDeny`]). (A key
//! left out of the trusted key groups is a key taken out of the ring,
//! [`KeyRing::remove`](crate::verify::KeyRing::remove); a skewed edge clock
//! is [`Config::clock_skew`](super::Config::clock_skew).) The answers are
//! in the catalogue, [`super::xml`].

use std::fmt;
use std::str::FromStr;

use hyper::Method;

use super::xml::ErrorResponse;

/// The seven methods a cache behaviour can allow, in CloudFront's order.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::OPTIONS,
    Method::PUT,
    Method::PATCH,
    Method::POST,
    Method::DELETE,
];

/// The methods a cache behaviour allows. CloudFront offers three sets
/// (`GET,HEAD`; `GET,HEAD,OPTIONS`; all seven); any subset is taken here.
/// Any other method gets CloudFront's own 403 page, before the signature
/// is checked.
///
/// ```
/// use cfsign::serve::AllowedMethods;
/// let read_only: AllowedMethods = "GET,HEAD".parse()?;
/// assert_eq!(read_only.to_string(), "GET, HEAD");
/// assert!("get, head, put".parse::<AllowedMethods>().is_ok());
/// assert!("GET,FETCH".parse::<AllowedMethods>().is_err());
/// assert!("".parse::<AllowedMethods>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedMethods(u8);

impl AllowedMethods {
    pub(super) fn allows(&self, method: &Method) -> bool {
        METHODS
            .iter()
            .position(|m| m == method)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }
}

impl FromStr for AllowedMethods {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bits = 0;
        for name in s.split(',').map(str::trim) {
            let i = METHODS
                .iter()
                .position(|m| m.as_str().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "`{}` is not a method a cache behaviour can allow: list some of GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE",
                        crate::escape::shown(name)
                    )
                })?;
            bits |= 1 << i;
        }
        Ok(AllowedMethods(bits))
    }
}

impl fmt::Display for AllowedMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = METHODS
            .iter()
            .filter(|m| self.allows(m))
            .map(Method::as_str)
            .collect();
        f.write_str(&names.join(", "))
    }
}

/// What the origin's bucket policy fails to grant the distribution's
/// origin access identity (or control): S3 answers `AccessDenied`, which
/// CloudFront passes on, once the edge has let the request through.
///
/// ```
/// use cfsign::serve::OriginDeny;
/// let no_uploads = OriginDeny { put: true, ..OriginDeny::default() };
/// assert!(!no_uploads.get);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OriginDeny {
    /// No `s3:GetObject`: GET and HEAD are refused.
    pub get: bool,
    /// No `s3:PutObject`: PUT is refused.
    pub put: bool,
}

impl OriginDeny {
    /// The origin's refusal of `method`, if its policy lacks the permission.
    pub(super) fn check(&self, method: &Method) -> Result<(), ErrorResponse> {
        let permission = match *method {
            Method::GET | Method::HEAD if self.get => "s3:GetObject",
            Method::PUT if self.put => "s3:PutObject",
            _ => return Ok(()),
        };
        Err(ErrorResponse::origin_access_denied(permission))
    }
}
