//! The policy's `Resource`: a URL, or a pattern with `*` (zero or more
//! characters) and `?` (exactly one character), matched against the whole URL
//! including its query string; or no `Resource` at all. Signer and verifier
//! both validate and match through here.
//!
//! What the CloudFront Developer Guide allows differs between its two
//! custom-policy pages, and both sides follow it for the carrier at hand:
//!
//! - "Create a signed URL using a custom policy": "Protocol – The value must
//!   begin with `http://`, `https://`, or `*`." The Resource is "optional but
//!   recommended": "If you omit the Resource parameter for a web
//!   distribution, users can access all of the files associated with any
//!   distribution that is associated with the key pair that you use to create
//!   the signed URL."
//! - "Set signed cookies using a custom policy": "Protocol – The value must
//!   begin with `http://` or `https://`." and "If you omit the `Resource`
//!   parameter, users can access all of the files associated with any
//!   distribution that is associated with the key pair …".
//! - Both: "You can specify only one value for `Resource`."
//!
//! So `*` alone and patterns that begin with `*` (`*://host/*`) sign URLs
//! only; a statement without `Resource` is allowed for both and covers every
//! URL. On top of the guide, `http://` and `https://` must be followed by a
//! host: a resource such as `https:///x` matches no request.

use std::fmt;
use std::str::FromStr;

use super::Carrier;

/// The guide's rule for a signed URL's Resource, quoted in refusals.
const URL_RULE: &str = "a signed URL's Resource must begin with http://, https:// or * (CloudFront Developer Guide, \"Create a signed URL using a custom policy\")";
/// The guide's rule for a signed cookie's Resource, quoted in refusals.
const COOKIE_RULE: &str = "a signed cookie's Resource must begin with http:// or https:// (CloudFront Developer Guide, \"Set signed cookies using a custom policy\")";

/// A validated `Resource` value: one that a signed URL may carry. Whether
/// signed cookies may carry it too is [`ResourcePattern::allowed_in`]'s answer.
///
/// ```
/// use cfsign::sign::{Carrier, ResourcePattern};
/// let p: ResourcePattern = "https://d111.cloudfront.net/images/*".parse().unwrap();
/// assert!(p.matches("https://d111.cloudfront.net/images/a/b.jpg?x=1"));
/// assert!(!p.matches("https://d111.cloudfront.net/video.mp4"));
/// let any: ResourcePattern = "*".parse().unwrap();
/// assert!(any.matches("http://example.com/x") && any.allowed_in(Carrier::Url).is_ok());
/// assert!(any.allowed_in(Carrier::Cookies).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePattern(String);

/// Why a text is not a `Resource` (for the carrier).
///
/// ```
/// use cfsign::sign::{Carrier, ResourcePattern, resource::ResourceError};
/// assert_eq!("".parse::<ResourcePattern>(), Err(ResourceError::Empty));
/// assert!(matches!("ftp://h/a".parse::<ResourcePattern>(), Err(ResourceError::Scheme(_))));
/// assert!(matches!("https:///a".parse::<ResourcePattern>(), Err(ResourceError::NoHost(_))));
/// assert!(matches!("https://h/\"a".parse::<ResourcePattern>(), Err(ResourceError::Character(..))));
/// let star: ResourcePattern = "*".parse()?;
/// assert_eq!(star.allowed_in(Carrier::Cookies), Err(ResourceError::CookieScheme("*".into())));
/// # Ok::<(), ResourceError>(())
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourceError {
    /// An empty resource.
    #[error("the resource is empty: {URL_RULE}")]
    Empty,
    /// No `http://`, `https://` or leading `*`.
    #[error("the resource `{0}` is not allowed: {URL_RULE}")]
    Scheme(String),
    /// `http://` or `https://` with no host after it.
    #[error("the resource `{0}` names no host after its scheme: write it as https://HOST/PATH")]
    NoHost(String),
    /// A resource that signed cookies may not carry (`*…`).
    #[error(
        "the resource `{0}` cannot be used in signed cookies: {COOKIE_RULE}; a resource that begins with * works in signed URLs only"
    )]
    CookieScheme(String),
    /// A character a policy cannot carry safely (the resource, and what).
    #[error(
        "the resource contains {1}, which a policy cannot carry safely: percent-encode it or use a wildcard (resource `{0}`)"
    )]
    Character(String, &'static str),
}

impl ResourcePattern {
    /// The pattern as written.
    ///
    /// ```
    /// let p: cfsign::sign::ResourcePattern = "https://h/images/*.jpg".parse()?;
    /// assert_eq!(p.as_str(), "https://h/images/*.jpg");
    /// # Ok::<(), cfsign::sign::resource::ResourceError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern uses `*` or `?` (and so needs a custom policy).
    ///
    /// ```
    /// use cfsign::sign::ResourcePattern;
    /// assert!("https://h/images/*".parse::<ResourcePattern>()?.is_wildcard());
    /// assert!("https://h/a?.jpg".parse::<ResourcePattern>()?.is_wildcard());
    /// assert!(!"https://h/a.jpg".parse::<ResourcePattern>()?.is_wildcard());
    /// # Ok::<(), cfsign::sign::resource::ResourceError>(())
    /// ```
    pub fn is_wildcard(&self) -> bool {
        self.0.contains(['*', '?'])
    }

    /// Whether `url` (in wire form) matches this pattern as CloudFront would.
    ///
    /// ```
    /// let p: cfsign::sign::ResourcePattern = "https://h/v?/*.mp4".parse()?;
    /// assert!(p.matches("https://h/v1/a/b.mp4"));
    /// assert!(p.matches("https://h/v2/a.mp4?x=1.mp4")); // the query string too
    /// assert!(!p.matches("https://h/v10/a.mp4")); // `?` is exactly one character
    /// assert!(!p.matches("http://h/v1/a.mp4"));
    /// # Ok::<(), cfsign::sign::resource::ResourceError>(())
    /// ```
    pub fn matches(&self, url: &str) -> bool {
        glob_match(self.0.as_bytes(), url.as_bytes())
    }

    /// Whether the guide allows this resource for `carrier`: every parsed
    /// pattern suits a signed URL; signed cookies need http:// or https://.
    ///
    /// ```
    /// use cfsign::sign::{Carrier, ResourcePattern};
    /// let any_scheme: ResourcePattern = "*://h/*".parse()?;
    /// assert!(any_scheme.allowed_in(Carrier::Url).is_ok());
    /// assert!(any_scheme.allowed_in(Carrier::Cookies).is_err());
    /// let https: ResourcePattern = "https://h/*".parse()?;
    /// assert!(https.allowed_in(Carrier::Cookies).is_ok());
    /// # Ok::<(), cfsign::sign::resource::ResourceError>(())
    /// ```
    pub fn allowed_in(&self, carrier: Carrier) -> Result<(), ResourceError> {
        match carrier {
            Carrier::Url => Ok(()),
            Carrier::Cookies if http_host(&self.0).is_some() => Ok(()),
            Carrier::Cookies => Err(ResourceError::CookieScheme(shown(&self.0))),
        }
    }
}

/// What follows `http://` or `https://`, when `s` begins with either.
fn http_host(s: &str) -> Option<&str> {
    s.strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
}

fn shown(s: &str) -> String {
    crate::escape::shown(s).to_string()
}

impl FromStr for ResourcePattern {
    type Err = ResourceError;

    /// Parses a resource by the signed-URL rule, the wider of the two.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ResourceError::Empty);
        }
        if let Some(what) = unsafe_char(s) {
            return Err(ResourceError::Character(shown(s), what));
        }
        match http_host(s) {
            Some(host) if host.is_empty() || host.starts_with('/') => {
                Err(ResourceError::NoHost(shown(s)))
            }
            Some(_) => Ok(ResourcePattern(s.to_string())),
            None if s.starts_with('*') => Ok(ResourcePattern(s.to_string())),
            None => Err(ResourceError::Scheme(shown(s))),
        }
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A custom policy's `Resource`: a pattern, or none (both pages of the guide
/// allow a statement without one; it covers every URL).
///
/// ```
/// use cfsign::sign::CustomPolicy;
/// let p = CustomPolicy::parse(r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9}}}]}"#)?;
/// assert!(p.resource().pattern().is_none() && p.resource().matches("https://any/thing"));
/// assert_eq!(p.resource().to_string(), "(no Resource: every URL)");
/// # Ok::<(), cfsign::sign::PolicyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The statement's `Resource`.
    Pattern(ResourcePattern),
    /// The statement has no `Resource`: every file of every distribution
    /// that trusts the key. The verifier, which knows one distribution, lets
    /// it cover every URL.
    Omitted,
}

impl Resource {
    /// Whether `url` (in wire form) is covered.
    ///
    /// ```
    /// use cfsign::sign::Resource;
    /// let images = Resource::Pattern("https://h/images/*".parse()?);
    /// assert!(images.matches("https://h/images/a.jpg"));
    /// assert!(!images.matches("https://h/videos/a.mp4"));
    /// assert!(Resource::Omitted.matches("https://h/videos/a.mp4"));
    /// # Ok::<(), cfsign::sign::resource::ResourceError>(())
    /// ```
    pub fn matches(&self, url: &str) -> bool {
        match self {
            Resource::Pattern(p) => p.matches(url),
            Resource::Omitted => true,
        }
    }

    /// The pattern, if the statement has one.
    ///
    /// ```
    /// use cfsign::sign::Resource;
    /// let r = Resource::Pattern("https://h/*".parse()?);
    /// assert_eq!(r.pattern().map(|p| p.as_str()), Some("https://h/*"));
    /// assert_eq!(Resource::Omitted.pattern(), None);
    /// # Ok::<(), cfsign::sign::resource::ResourceError>(())
    /// ```
    pub fn pattern(&self) -> Option<&ResourcePattern> {
        match self {
            Resource::Pattern(p) => Some(p),
            Resource::Omitted => None,
        }
    }

    /// Whether the guide allows this resource for `carrier`.
    ///
    /// ```
    /// use cfsign::sign::{Carrier, Resource};
    /// assert!(Resource::Pattern("*".parse()?).allowed_in(Carrier::Cookies).is_err());
    /// // No Resource at all is allowed for both.
    /// assert!(Resource::Omitted.allowed_in(Carrier::Cookies).is_ok());
    /// # Ok::<(), cfsign::sign::resource::ResourceError>(())
    /// ```
    pub fn allowed_in(&self, carrier: Carrier) -> Result<(), ResourceError> {
        self.pattern().map_or(Ok(()), |p| p.allowed_in(carrier))
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Pattern(p) => p.fmt(f),
            Resource::Omitted => f.write_str("(no Resource: every URL)"),
        }
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

/// Wildcard match with `*` and `?` (one byte), without backtracking: the
/// pattern is cut at its stars into segments; the first must match the start
/// of the text, the last its end, and each one between is taken at its
/// leftmost place after the previous one. Taking the leftmost place is always
/// right: it leaves the most text for the segments after it.
///
/// The cost is linear, O(text + pattern), when the segments between stars
/// have no `?` (they are found with Knuth–Morris–Pratt) or are up to 64
/// bytes long (found with one machine word of Shift-And). A longer segment
/// with `?` costs text × segment / 64 word operations: finding a pattern with
/// "don't care" positions has no known linear algorithm, and Shift-And keeps
/// the worst case, a policy and a URL filling 125 KB, to tens of milliseconds.
/// The old matcher, which backtracked to the last `*`, took seconds there.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let segments: Vec<&[u8]> = pattern.split(|&b| b == b'*').collect();
    let [first, middle @ .., last] = segments.as_slice() else {
        // No star: one segment, the whole text.
        return text.len() == pattern.len() && matches_at(pattern, text);
    };
    if first.len() + last.len() > text.len()
        || !matches_at(first, text)
        || !matches_at(last, &text[text.len() - last.len()..])
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for segment in middle.iter().filter(|s| !s.is_empty()) {
        match find(segment, rest) {
            Some(at) => rest = &rest[at + segment.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `segment` (no `*`) matches the start of `text`.
fn matches_at(segment: &[u8], text: &[u8]) -> bool {
    segment.len() <= text.len() && segment.iter().zip(text).all(|(&p, &t)| p == b'?' || p == t)
}

/// Where `segment` (no `*`, not empty) first occurs in `text`.
fn find(segment: &[u8], text: &[u8]) -> Option<usize> {
    if segment.len() > text.len() {
        None
    } else if segment.contains(&b'?') {
        find_shift_and(segment, text)
    } else {
        find_kmp(segment, text)
    }
}

/// Knuth–Morris–Pratt: O(text + segment), whatever the bytes.
fn find_kmp(segment: &[u8], text: &[u8]) -> Option<usize> {
    // border[i]: the length of the longest proper prefix of segment[..=i]
    // that is also its suffix.
    let mut border = vec![0; segment.len()];
    let mut k = 0;
    for i in 1..segment.len() {
        while k > 0 && segment[i] != segment[k] {
            k = border[k - 1];
        }
        if segment[i] == segment[k] {
            k += 1;
        }
        border[i] = k;
    }
    let mut k = 0;
    for (i, &b) in text.iter().enumerate() {
        while k > 0 && b != segment[k] {
            k = border[k - 1];
        }
        if b == segment[k] {
            k += 1;
        }
        if k == segment.len() {
            return Some(i + 1 - k);
        }
    }
    None
}

/// Shift-And (Baeza-Yates–Gonnet), which takes `?` in its stride: bit `j` of
/// the state is set while segment[..=j] matches the text ending here. One
/// word per 64 bytes of segment, and only the words that can hold a set bit
/// are updated.
fn find_shift_and(segment: &[u8], text: &[u8]) -> Option<usize> {
    let words = segment.len().div_ceil(64);
    // masks[b * words + w]: the positions where byte `b` may stand.
    let mut masks = vec![0u64; 256 * words];
    for (j, &p) in segment.iter().enumerate() {
        let bit = 1u64 << (j % 64);
        if p == b'?' {
            for b in 0..256 {
                masks[b * words + j / 64] |= bit;
            }
        } else {
            masks[usize::from(p) * words + j / 64] |= bit;
        }
    }
    let last = segment.len() - 1;
    let mut state = vec![0u64; words];
    // The words below `live` hold every set bit; a step can carry one word
    // further. Where the text rarely matches the segment, one word is live.
    let mut live = 0;
    for (i, &b) in text.iter().enumerate() {
        let mask = &masks[usize::from(b) * words..][..words];
        let reach = (live + 1).min(words);
        let mut carry = 1; // a match may start at every byte
        for (word, &m) in state[..reach].iter_mut().zip(mask) {
            let next_carry = *word >> 63;
            *word = ((*word << 1) | carry) & m;
            carry = next_carry;
        }
        if state[last / 64] >> (last % 64) & 1 == 1 {
            return Some(i - last);
        }
        live = state[..reach]
            .iter()
            .rposition(|&w| w != 0)
            .map_or(0, |top| top + 1);
    }
    None
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

    /// Patterns that made the old matcher (backtracking to the last `*`)
    /// take time text × pattern, against a 125 KB text: linear now, so each
    /// takes a few milliseconds (the bound is generous for debug builds on a
    /// busy machine; the old matcher took seconds).
    #[test]
    fn pathological_patterns_take_linear_time() {
        let host = "https://d111111abcdef8.cloudfront.net/";
        let text = format!("{host}{}", "a".repeat(125_000));
        // This thread's CPU time, not the wall clock, which other tenants of
        // a shared machine move: a backtracking or quadratic matcher takes
        // seconds to forever here, the linear one milliseconds.
        let thread_cpu = || {
            let mut now: libc::timespec = unsafe { std::mem::zeroed() };
            // SAFETY: `now` is a valid timespec for the call to fill (and
            // all-zero bytes are a valid timespec).
            let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
            assert_eq!(ok, 0);
            std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
        };
        let timed = |pattern: &str, text: &str| {
            let started = thread_cpu();
            let matched = glob_match(pattern.as_bytes(), text.as_bytes());
            let took = thread_cpu() - started;
            assert!(
                took < std::time::Duration::from_millis(500),
                "{took:?} of CPU for {}…",
                &pattern[..60]
            );
            matched
        };
        for pattern in [
            format!("{host}{}b", "*a".repeat(40_000)),
            format!("{host}*{}b*", "a".repeat(60_000)),
            format!("{host}{}b", "*a?a".repeat(20_000)),
            format!("{host}*{}b*", "a?".repeat(32)),
        ] {
            assert!(!timed(&pattern, &text));
        }
        assert!(timed(&format!("{host}{}*", "*a".repeat(40_000)), &text));
        // A long segment with `?` costs text × segment / 64: at CloudFront's
        // URL limit (8 KB) that is still little.
        let text = format!("{host}{}", "a".repeat(8192));
        assert!(!timed(&format!("{host}*{}b*", "a?".repeat(2048)), &text));
    }

    /// What a glob means, written the obvious way: `dp[i][j]` says whether
    /// pattern[i..] matches text[j..].
    fn reference(pattern: &[u8], text: &[u8]) -> bool {
        let (m, n) = (pattern.len(), text.len());
        let mut dp = vec![vec![false; n + 1]; m + 1];
        dp[m][n] = true;
        for i in (0..m).rev() {
            for j in (0..=n).rev() {
                dp[i][j] = match pattern[i] {
                    b'*' => dp[i + 1][j] || (j < n && dp[i][j + 1]),
                    b'?' => j < n && dp[i + 1][j + 1],
                    c => j < n && text[j] == c && dp[i + 1][j + 1],
                };
            }
        }
        dp[0][0]
    }

    /// A text the pattern matches: each `*` becomes `fill`, each `?` a `b`.
    fn instance(pattern: &str, fill: &[String]) -> String {
        let mut fills = fill.iter().cycle();
        pattern
            .chars()
            .map(|c| match c {
                '*' => fills.next().cloned().unwrap_or_default(),
                '?' => "b".to_string(),
                c => c.to_string(),
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2000, ..Default::default()
        })]

        #[test]
        fn matches_like_the_reference_on_small_inputs(
            pattern in "[ab*?]{0,10}",
            text in "[ab]{0,12}",
        ) {
            proptest::prop_assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes()),
                reference(pattern.as_bytes(), text.as_bytes())
            );
        }

        /// Segments past 64 bytes (several Shift-And words), texts made to
        /// match and then perhaps changed in one byte.
        #[test]
        fn matches_like_the_reference_on_long_segments(
            pattern in "([ab?]{0,150}\\*){0,3}[ab?]{0,150}",
            fill in proptest::collection::vec("[ab]{0,20}", 1..4),
            change in proptest::option::of((proptest::prelude::any::<proptest::sample::Index>(), b'a'..=b'c')),
        ) {
            let mut text = instance(&pattern, &fill).into_bytes();
            if let (Some((at, byte)), false) = (change, text.is_empty()) {
                let at = at.index(text.len());
                text[at] = byte;
            }
            proptest::prop_assert_eq!(
                glob_match(pattern.as_bytes(), &text),
                reference(pattern.as_bytes(), &text)
            );
        }
    }

    #[test]
    fn validation() {
        for good in ["https://h/*", "http://*", "*://h/x", "*", "*.example.com/*"] {
            let p: ResourcePattern = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(p.allowed_in(Carrier::Url), Ok(()), "{good}");
        }
        for bad in [
            "",
            "h/x",
            "ftp://h/x",
            "HTTPS://h/x",
            "http*://h/x",
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

    /// The guide's cookie page allows http:// and https:// only; its URL page
    /// also allows a leading `*`. Refusals quote the rule and the page.
    #[test]
    fn cookies_take_http_and_https_only() {
        for ok in ["https://h/*", "http://h/a?b=*"] {
            let p: ResourcePattern = ok.parse().unwrap();
            assert_eq!(p.allowed_in(Carrier::Cookies), Ok(()), "{ok}");
        }
        for url_only in ["*", "*://h/*", "*.example.com/*"] {
            let p: ResourcePattern = url_only.parse().unwrap();
            let err = p.allowed_in(Carrier::Cookies).unwrap_err().to_string();
            assert!(
                err.contains("must begin with http:// or https://")
                    && err.contains("Set signed cookies using a custom policy"),
                "{url_only}: {err}"
            );
        }
        let err = "h/x".parse::<ResourcePattern>().unwrap_err().to_string();
        assert!(
            err.contains("must begin with http://, https:// or *")
                && err.contains("Create a signed URL using a custom policy"),
            "{err}"
        );
        assert_eq!(Resource::Omitted.allowed_in(Carrier::Cookies), Ok(()));
        assert!(Resource::Omitted.matches("http://any/thing"));
    }
}
