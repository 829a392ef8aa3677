//! The policy's `Resource`: a URL, or a pattern with `*` (zero or more
//! characters) and `?` (exactly one character), matched against the whole URL
//! including its query string. Signer and verifier both match through here.

use std::fmt;
use std::str::FromStr;

/// A validated `Resource` value.
///
/// ```
/// let p: cfsign::sign::ResourcePattern = "https://d111.cloudfront.net/images/*".parse().unwrap();
/// assert!(p.matches("https://d111.cloudfront.net/images/a/b.jpg?x=1"));
/// assert!(!p.matches("https://d111.cloudfront.net/video.mp4"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePattern(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceError {
    #[error("the resource is empty")]
    Empty,
    #[error("the resource `{0}` must start with http://, https:// or *:// followed by a host")]
    Scheme(String),
    #[error(
        "the resource contains {1}, which a policy cannot carry safely: percent-encode it or use a wildcard (resource `{0}`)"
    )]
    Character(String, &'static str),
}

impl ResourcePattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern uses `*` or `?` (and so needs a custom policy).
    pub fn is_wildcard(&self) -> bool {
        self.0.contains(['*', '?'])
    }

    /// Whether `url` (in wire form) matches this pattern as CloudFront would.
    pub fn matches(&self, url: &str) -> bool {
        glob_match(self.0.as_bytes(), url.as_bytes())
    }
}

impl FromStr for ResourcePattern {
    type Err = ResourceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown = || s.chars().take(200).collect::<String>();
        if s.is_empty() {
            return Err(ResourceError::Empty);
        }
        if let Some(what) = unsafe_char(s) {
            return Err(ResourceError::Character(shown(), what));
        }
        let host = ["http://", "https://", "*://"]
            .iter()
            .find_map(|scheme| s.strip_prefix(scheme));
        match host {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {
                Ok(ResourcePattern(s.to_string()))
            }
            _ => Err(ResourceError::Scheme(shown())),
        }
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that would need JSON escaping or that no URL on the wire has.
/// Refusing them keeps the policy bytes identical to what CloudFront rebuilds.
pub(crate) fn unsafe_char(s: &str) -> Option<&'static str> {
    s.chars().find_map(|c| match c {
        '"' => Some("a double quote"),
        '\\' => Some("a backslash"),
        c if c.is_control() => Some("a control character"),
        c if !c.is_ascii() => Some("a non-ASCII character"),
        ' ' => Some("a space"),
        _ => None,
    })
}

/// Wildcard match with `*` and `?`, linear in practice: on a mismatch it
/// backtracks only to the most recent `*`.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_table() {
        for (pattern, text, expected) in [
            ("https://h/a.jpg", "https://h/a.jpg", true),
            ("https://h/a.jpg", "https://h/a.jpgx", false),
            ("https://h/*", "https://h/", true),
            ("https://h/*", "https://h/x/y?z=1", true),
            ("*://h/*", "http://h/x", true),
            ("*://h/*", "https://h/x", true),
            ("https://h/v?/i", "https://h/v2/i", true),
            ("https://h/v?/i", "https://h/v/i", false),
            ("https://h/v?/i", "https://h/v22/i", false),
            ("https://h/*.jpg", "https://h/a/b.jpg", true),
            ("https://h/*.jpg", "https://h/a/b.png", false),
            ("https://h/*a*b*c", "https://h/xaybzc", true),
            ("https://h/*a*b*c", "https://h/xaybz", false),
            (
                "https://h/list?prefix=a*",
                "https://h/list?prefix=abc",
                true,
            ),
            ("*", "anything", true),
            ("?", "", false),
        ] {
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes()),
                expected,
                "{pattern} vs {text}"
            );
        }
    }

    #[test]
    fn validation() {
        assert!("https://h/*".parse::<ResourcePattern>().is_ok());
        assert!("*://h/x".parse::<ResourcePattern>().is_ok());
        for bad in [
            "",
            "h/x",
            "ftp://h/x",
            "https://",
            "https:///x",
            "https://h/\"x",
            "https://h/\\x",
            "https://h/\nx",
            "https://h/é",
            "https://h/a b",
        ] {
            assert!(bad.parse::<ResourcePattern>().is_err(), "{bad:?}");
        }
    }
}
