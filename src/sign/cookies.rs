//! Signed cookies: the same policy and signature as a signed URL, carried in
//! `CloudFront-*` cookies so that one signature covers many requests.

use super::{HashAlgorithm, Policy, SignedPolicy};

/// The `CloudFront-*` cookies for one signed policy, in the order they are
/// printed: Expires or Policy, Signature, Key-Pair-Id, then Hash-Algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCookies {
    pairs: Vec<(&'static str, String)>,
}

impl SignedCookies {
    pub(crate) fn from_signed(signed: &SignedPolicy) -> Self {
        let mut pairs = Vec::with_capacity(4);
        match (&signed.policy, &signed.encoded_policy) {
            (Policy::Custom(_), Some(p)) => pairs.push(("CloudFront-Policy", p.clone())),
            _ => pairs.push(("CloudFront-Expires", signed.policy.expires().to_string())),
        }
        pairs.push(("CloudFront-Signature", signed.signature.clone()));
        pairs.push(("CloudFront-Key-Pair-Id", signed.key_pair_id.to_string()));
        if signed.hash != HashAlgorithm::Sha1 {
            pairs.push((
                "CloudFront-Hash-Algorithm",
                signed.hash.as_str().to_string(),
            ));
        }
        SignedCookies { pairs }
    }

    /// Cookie names and values.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.pairs.iter().map(|(n, v)| (*n, v.as_str()))
    }

    /// `Set-Cookie` header values with `Domain`, `Path`, `Secure` and
    /// `HttpOnly`. CloudFront needs no `Expires`/`Max-Age`: the policy expires.
    pub fn set_cookie_values(&self, domain: &str, path: &str) -> Vec<String> {
        self.pairs()
            .map(|(n, v)| format!("{n}={v}; Domain={domain}; Path={path}; Secure; HttpOnly"))
            .collect()
    }

    /// One `Cookie` request header value carrying all of them.
    pub fn cookie_header_value(&self) -> String {
        self.pairs()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
