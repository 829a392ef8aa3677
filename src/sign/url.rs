//! URLs as they go on the wire. CloudFront rebuilds the canned policy from the
//! request line, so the URL we sign must be byte for byte the URL the client
//! sends: characters a client would percent-encode are encoded here, and
//! nothing else is touched (no case folding, no port or dot-segment rewriting).

/// The query parameters CloudFront reserves for signing. A URL carrying any of
/// them is already signed.
///
/// ```
/// assert!(cfsign::sign::url::SIGNING_PARAMS.contains(&"Key-Pair-Id"));
/// ```
pub const SIGNING_PARAMS: [&str; 5] = [
    "Expires",
    "Policy",
    "Signature",
    "Key-Pair-Id",
    "Hash-Algorithm",
];

/// Why a URL cannot be signed. Messages show the URL shortened, or not at all when it may be a key.
///
/// ```
/// use cfsign::sign::url::{UrlError, to_wire};
/// assert_eq!(to_wire(""), Err(UrlError::Empty));
/// assert_eq!(to_wire("d111.cloudfront.net/a"), Err(UrlError::NoScheme("d111.cloudfront.net/a".into())));
/// assert!(matches!(to_wire("https://h/a#top"), Err(UrlError::Fragment(_))));
/// assert_eq!(
///     to_wire("https://h/a?Signature=x"),
///     Err(UrlError::AlreadySigned("https://h/a?Signature=x".into(), "Signature".into()))
/// );
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// An empty URL.
    #[error("the URL is empty")]
    Empty,
    /// No `http://` or `https://`.
    #[error(
        "`{0}` has no http:// or https:// scheme: give the full URL, such as https://d111111abcdef8.cloudfront.net/path"
    )]
    NoScheme(String),
    /// No host after the scheme.
    #[error("`{0}` has no host after the scheme")]
    NoHost(String),
    /// A host that is not ASCII.
    #[error(
        "the host in `{0}` must be ASCII: write an internationalised name in its xn-- (punycode) form"
    )]
    Host(String),
    /// A double quote, backslash or control character (the URL, and which).
    #[error(
        "the URL contains {1}, which cannot go into a policy resource: remove it or percent-encode it (URL `{0}`)"
    )]
    Character(String, &'static str),
    /// A `#fragment`, which no request carries.
    #[error(
        "the URL has a #fragment, which browsers never send to CloudFront: remove it (URL `{0}`)"
    )]
    Fragment(String),
    /// A signing parameter already present (the URL, and its name).
    #[error(
        "the URL already carries the signing parameter `{1}`, so it is signed already: sign the URL without it (URL `{0}`)"
    )]
    AlreadySigned(String, String),
}

fn shown(url: &str) -> String {
    const MAX: usize = 200;
    let scheme = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let is_url = scheme.starts_with("http://") || scheme.starts_with("https://");
    if !is_url && crate::escape::may_be_key(url) {
        // Not a URL but maybe a key, given in the URL's place (or piped to
        // `sign` on stdin): a message must not carry it to a log.
        return "(a value that may be a key, not shown)".into();
    }
    let mut s: String = url
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if url.chars().count() > MAX {
        s.push('…');
    }
    s
}

/// Returns the wire form of `url`, refusing what cannot be signed: no scheme,
/// quotes, backslashes, control characters, fragments and URLs that already
/// carry a signing parameter.
///
/// ```
/// use cfsign::sign::url::to_wire;
/// assert_eq!(to_wire("https://h.net/my file é.txt?q=a b").unwrap(),
///            "https://h.net/my%20file%20%C3%A9.txt?q=a%20b");
/// assert_eq!(to_wire("https://h.net/a%20b").unwrap(), "https://h.net/a%20b");
/// assert!(to_wire("https://h.net/a?Expires=1").is_err());
/// ```
pub fn to_wire(url: &str) -> Result<String, UrlError> {
    if url.is_empty() {
        return Err(UrlError::Empty);
    }
    if let Some(what) = url.chars().find_map(|c| match c {
        '"' => Some("a double quote"),
        '\\' => Some("a backslash"),
        c if c.is_control() => Some("a control character"),
        _ => None,
    }) {
        return Err(UrlError::Character(shown(url), what));
    }
    if url.contains('#') {
        return Err(UrlError::Fragment(shown(url)));
    }
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
        .ok_or_else(|| UrlError::NoScheme(shown(url)))?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if authority.is_empty() {
        return Err(UrlError::NoHost(shown(url)));
    }
    if !authority.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(UrlError::Host(shown(url)));
    }
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    if let Some(query) = query {
        if let Some(name) = signing_param_in(query) {
            return Err(UrlError::AlreadySigned(shown(url), name.to_string()));
        }
    }

    let mut out = String::with_capacity(url.len() + 16);
    out.push_str(scheme);
    out.push_str("://");
    out.push_str(authority);
    percent_encode_into(&mut out, path, in_path_set);
    if let Some(query) = query {
        out.push('?');
        percent_encode_into(&mut out, query, in_query_set);
    }
    Ok(out)
}

/// The first signing parameter named in a query string, if any.
///
/// ```
/// use cfsign::sign::url::signing_param_in;
/// assert_eq!(signing_param_in("a=1&Expires=2"), Some("Expires"));
/// assert_eq!(signing_param_in("expires=2"), None); // names are case-sensitive
/// ```
pub fn signing_param_in(query: &str) -> Option<&'static str> {
    query.split('&').find_map(|pair| {
        let name = pair.split_once('=').map_or(pair, |(n, _)| n);
        SIGNING_PARAMS.iter().copied().find(|p| *p == name)
    })
}

/// Appends signing parameters the way botocore does: `&` whenever the URL
/// contains `?` (even a trailing one), else `?`.
///
/// ```
/// use cfsign::sign::url::append_query;
/// assert_eq!(append_query("https://h/a", "Expires=1"), "https://h/a?Expires=1");
/// assert_eq!(append_query("https://h/a?", "Expires=1"), "https://h/a?&Expires=1");
/// ```
pub fn append_query(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut out = String::with_capacity(url.len() + 1 + params.len());
    out.push_str(url);
    out.push(sep);
    out.push_str(params);
    out
}

/// The mirror of [`append_query`]: splits a signed URL into the URL that was
/// signed and the signing parameters (name, raw value) in the order they
/// appear. Parameters that are not signing parameters stay in the URL, in
/// place, so one added after signing changes the URL and fails the check.
///
/// ```
/// use cfsign::sign::url::split_signed;
/// let (url, params) = split_signed("https://h/a?v=1&Expires=9&Signature=S&Key-Pair-Id=K");
/// assert_eq!(url, "https://h/a?v=1");
/// assert_eq!(params[0], ("Expires".to_string(), "9".to_string()));
/// ```
pub fn split_signed(url: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut params = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if SIGNING_PARAMS.contains(&name) {
            params.push((name.to_string(), value.to_string()));
        } else {
            kept.push(pair);
        }
    }
    if params.is_empty() {
        return (url.to_string(), params);
    }
    // botocore joins with `&` after any `?`: `a?` was signed as `a?&Expires=…`,
    // `a` as `a?Expires=…`. An empty kept list means there was no `?` at all.
    let unsigned = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (unsigned, params)
}

/// Percent-encodes one path segment (a file name) for joining under a URL
/// prefix: what [`to_wire`] encodes, plus the characters that would change
/// the URL's structure (`%`, `?`, `#`, `/`) or that it refuses (`"`, `\\`,
/// control characters). The result passes through [`to_wire`] unchanged.
///
/// ```
/// use cfsign::sign::url::path_segment;
/// assert_eq!(path_segment("my file é?.txt"), "my%20file%20%C3%A9%3F.txt");
/// assert_eq!(path_segment("100%"), "100%25");
/// ```
pub fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    percent_encode_into(&mut out, name, in_segment_set);
    out
}

fn in_segment_set(b: u8) -> bool {
    in_path_set(b) || matches!(b, b'%' | b'?' | b'#' | b'/' | b'"' | b'\\') || b.is_ascii_control()
}

/// WHATWG path percent-encode set, minus `"` and `#` (refused earlier).
fn in_path_set(b: u8) -> bool {
    matches!(b, b' ' | b'<' | b'>' | b'`' | b'{' | b'}' | b'^') || !b.is_ascii()
}

/// WHATWG special-query percent-encode set, minus `"` and `#`.
fn in_query_set(b: u8) -> bool {
    matches!(b, b' ' | b'<' | b'>' | b'\'') || !b.is_ascii()
}

fn percent_encode_into(out: &mut String, s: &str, encode: fn(u8) -> bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if encode(b) {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push(b as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_table() {
        for (input, expected) in [
            ("https://h/a.jpg", "https://h/a.jpg"),
            ("https://H/A.JPG", "https://H/A.JPG"),
            ("HTTPS://h:443/./a/../b", "HTTPS://h:443/./a/../b"),
            ("https://h", "https://h"),
            ("https://h?", "https://h?"),
            ("https://h/a?", "https://h/a?"),
            ("https://h/a b", "https://h/a%20b"),
            ("https://h/a%20b", "https://h/a%20b"),
            ("https://h/ü", "https://h/%C3%BC"),
            ("https://h/{x}^`<>", "https://h/%7Bx%7D%5E%60%3C%3E"),
            ("https://h/p?q={x}'", "https://h/p?q={x}%27"),
            ("https://h/p?a=1&b=*", "https://h/p?a=1&b=*"),
            ("https://h/p|q", "https://h/p|q"),
        ] {
            assert_eq!(to_wire(input).as_deref(), Ok(expected), "{input}");
        }
    }

    #[test]
    fn refusals() {
        for (input, kind) in [
            ("", "Empty"),
            ("h/a.jpg", "NoScheme"),
            ("ftp://h/a", "NoScheme"),
            ("https:///a", "NoHost"),
            ("https://hé/a", "Host"),
            ("https://h/a\"b", "Character"),
            ("https://h/a\\b", "Character"),
            ("https://h/a\tb", "Character"),
            ("https://h/a\u{85}b", "Character"),
            ("https://h/a#top", "Fragment"),
            ("https://h/a?Expires=1", "AlreadySigned"),
            ("https://h/a?x=1&Key-Pair-Id=K", "AlreadySigned"),
            ("https://h/a?Signature", "AlreadySigned"),
            ("https://h/a?Hash-Algorithm=SHA256", "AlreadySigned"),
        ] {
            let err = to_wire(input).unwrap_err();
            assert!(format!("{err:?}").starts_with(kind), "{input}: {err:?}");
        }
        // Names are case-sensitive in CloudFront: `expires` is the origin's.
        assert!(to_wire("https://h/a?expires=1").is_ok());
    }

    #[test]
    fn segments_survive_to_wire() {
        for (name, expected) in [
            ("a.txt", "a.txt"),
            ("a b", "a%20b"),
            ("ü", "%C3%BC"),
            ("50%", "50%25"),
            ("q?#", "q%3F%23"),
            ("x\"y\\z\t", "x%22y%5Cz%09"),
            ("a+b=c&d;e", "a+b=c&d;e"),
        ] {
            let seg = path_segment(name);
            assert_eq!(seg, expected, "{name}");
            let url = format!("https://h/p/{seg}");
            assert_eq!(to_wire(&url).unwrap(), url);
        }
    }

    #[test]
    fn split_mirrors_append() {
        for base in [
            "https://h/a",
            "https://h/a?",
            "https://h/a?x=1",
            "https://h/a?x=1&y",
        ] {
            let signed = append_query(base, "Expires=1&Signature=S&Key-Pair-Id=K");
            let (unsigned, params) = split_signed(&signed);
            assert_eq!(unsigned, base);
            let names: Vec<_> = params.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["Expires", "Signature", "Key-Pair-Id"]);
        }
        let (unsigned, _) = split_signed("https://h/a?Expires=1&Signature=S&Key-Pair-Id=K&x=2");
        assert_eq!(unsigned, "https://h/a?x=2");
    }
}
