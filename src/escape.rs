//! The one rule for showing text that came from outside (URLs, policies,
//! cookies, file names, server bodies) on a terminal or in a log: control and
//! bidirectional-formatting characters are written as escapes, so that such
//! text can neither move the cursor, recolour the screen, forge a log line nor
//! reorder what a reader sees (`x\u{202e}txt.exe` shows as `xexe.txt`), and
//! long values are shortened with an ellipsis so that one value cannot flood a
//! line. Signed URLs in messages also lose their `Signature` and `Policy`
//! values: a message is no place for a credential.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// How many characters of one value a message shows before `…`.
pub(crate) const SHOWN_CHARS: usize = 200;

/// True for characters that must never reach a terminal raw: C0 and C1
/// controls (tab and newline included: one value stays on one line), the
/// line and paragraph separators, and the invisible formatting characters
/// that reorder or hide text (bidi embeddings, overrides and isolates,
/// zero-width characters, the byte-order mark, tag characters).
///
/// ```
/// use cfsign::escape::is_unsafe;
/// assert!(is_unsafe('\n') && is_unsafe('\u{202e}') && !is_unsafe('é'));
/// ```
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061c}'
                | '\u{06dd}'
                | '\u{070f}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

fn write_escaped(out: &mut impl fmt::Write, c: char) -> fmt::Result {
    match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    }
}

/// `text` with every unsafe character escaped and nothing shortened: the
/// last guard before a whole message line is written.
///
/// ```
/// assert_eq!(cfsign::escape::line("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
/// ```
pub fn line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A value from outside, ready for a message: escaped, and shortened to 200
/// characters (or [`Shown::max`]) with `…`. Made by [`shown`]; it is
/// `Display`.
///
/// ```
/// let long = "x".repeat(300);
/// assert_eq!(cfsign::escape::shown(&long).to_string().chars().count(), 201);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    text: &'a str,
    max: usize,
}

/// Shows `text` escaped and shortened; see [`Shown`].
///
/// ```
/// use cfsign::escape::shown;
/// assert_eq!(shown("x\u{202e}txt.exe").to_string(), "x\\u{202e}txt.exe");
/// assert_eq!(shown("abcdef").max(3).to_string(), "abc…");
/// assert_eq!(shown("-----BEGIN PRIVATE KEY-----").to_string(), "(PEM text, not shown: it may be a key)");
/// ```
pub fn shown(text: &str) -> Shown<'_> {
    Shown {
        text,
        max: SHOWN_CHARS,
    }
}

impl Shown<'_> {
    /// The same value shortened to `max` characters instead.
    ///
    /// ```
    /// use cfsign::escape::shown;
    /// assert_eq!(shown("report.pdf").max(6).to_string(), "report…");
    /// assert_eq!(shown("a.pdf").max(6).to_string(), "a.pdf");
    /// ```
    pub fn max(self, max: usize) -> Self {
        Shown { max, ..self }
    }
}

/// What a message shows instead of a value that holds PEM text.
const PEM_NOT_SHOWN: &str = "(PEM text, not shown: it may be a key)";

/// Whether `text` holds a PEM boundary (`-----BEGIN`, `-----END`): a key's
/// text given where another value goes (a URL, `-o`, `--policy`, a time),
/// which a message must not show, not even in part.
fn holds_pem(text: &str) -> bool {
    text.contains("-----BEGIN") || text.contains("-----END")
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if holds_pem(self.text) {
            return f.write_str(PEM_NOT_SHOWN);
        }
        for (i, c) in self.text.chars().enumerate() {
            if i == self.max {
                return f.write_char('…');
            }
            if is_unsafe(c) {
                write_escaped(f, c)?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// Bytes from outside (a server's body, a file name that is not UTF-8)
/// shown like [`shown`], invalid UTF-8 as U+FFFD.
///
/// ```
/// assert_eq!(cfsign::escape::shown_bytes(b"ok\xff\x1b"), "ok\u{fffd}\\x1b");
/// ```
pub fn shown_bytes(bytes: &[u8]) -> String {
    shown(&String::from_utf8_lossy(bytes)).to_string()
}

/// A path for a message: escaped and shortened like [`shown`].
///
/// ```
/// let path = std::path::Path::new("dist/a\nb.txt");
/// assert_eq!(cfsign::escape::shown_path(path), "dist/a\\nb.txt");
/// ```
pub fn shown_path(path: &std::path::Path) -> String {
    shown(&path.to_string_lossy()).to_string()
}

/// Whether a value may be (part of) a key's text put where something else
/// goes: several lines, a PEM boundary or label (also with its newlines
/// flattened to `\n`, as secret stores hold keys), or a run of 24 or more
/// base64 characters (letters, digits, `+`, `=`; `/` not counted, since
/// paths break their runs with it) as a line of a key's body has. The one
/// rule: messages about such a value do not show it.
///
/// ```
/// use cfsign::escape::may_be_key;
/// assert!(may_be_key("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"));
/// assert!(!may_be_key("https://d111111abcdef8.cloudfront.net/a.jpg"));
/// ```
pub fn may_be_key(text: &str) -> bool {
    const BASE64_RUN: usize = 24;
    let mut run = 0;
    let long_run = text.bytes().any(|b| {
        run = if b.is_ascii_alphanumeric() || b == b'+' || b == b'=' {
            run + 1
        } else {
            0
        };
        run >= BASE64_RUN
    });
    holds_pem(text) || text.contains(['\n', '\r']) || text.contains("PRIVATE KEY") || long_run
}

/// What a message shows in place of a value for which [`may_be_key`] holds.
///
/// ```
/// use cfsign::escape::KEY_NOT_SHOWN;
/// use cfsign::time::{HumanDuration, TimeError};
/// // A key pasted where a duration goes is refused without being shown.
/// let err = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".parse::<HumanDuration>().unwrap_err();
/// assert_eq!(err, TimeError::BadDuration(KEY_NOT_SHOWN.into()));
/// ```
pub const KEY_NOT_SHOWN: &str = "(a value not shown: it may be a key)";

/// The query parameters whose values are credentials: a signed URL shown in
/// a message keeps their names and loses their values.
const ELIDED_PARAMS: [&str; 2] = ["Signature", "Policy"];

/// `url` with the values of `Signature` and `Policy` replaced by `…`, so that
/// a message about a signed URL does not carry a usable signature, and so
/// is a `user:password@` before the host.
fn without_credentials(url: &str) -> Cow<'_, str> {
    let url = without_userinfo(url);
    match without_signing_values(&url) {
        Cow::Borrowed(_) => url,
        Cow::Owned(out) => Cow::Owned(out),
    }
}

/// `scheme://user:password@host/…` as `scheme://…@host/…`.
fn without_userinfo(url: &str) -> Cow<'_, str> {
    let Some(at) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let authority_end = url[at..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| at + i);
    match url[at..authority_end].rfind('@') {
        Some(i) => Cow::Owned(format!("{}…{}", &url[..at], &url[at + i..])),
        None => Cow::Borrowed(url),
    }
}

fn without_signing_values(url: &str) -> Cow<'_, str> {
    let Some((base, query)) = url.split_once('?') else {
        return Cow::Borrowed(url);
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let secret = |pair: &str| {
        ELIDED_PARAMS
            .iter()
            .any(|name| pair.split_once('=').is_some_and(|(n, _)| n == *name))
    };
    if !query.split('&').any(secret) {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(base);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if secret(pair) => {
                out.push_str(name);
                out.push_str("=…");
            }
            _ => out.push_str(pair),
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    Cow::Owned(out)
}

/// A whole message line with every stretch that may be a key's text taken
/// out: the last guard, for values formatted without [`shown`] and for
/// clap's errors, which quote values as given (a PEM passed where another
/// option's value or a positional goes would otherwise be printed whole).
///
/// When the line holds a PEM boundary, or (`long_runs`) a run of 40 or more
/// base64 characters that is not hexadecimal (a line of a key's body is 64),
/// every run of 16 or more base64 characters is cut to `…`. Lines without
/// either are returned as they are.
///
/// ```
/// use cfsign::escape::without_key_text;
/// let clap = "unexpected argument '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF' found";
/// assert!(!without_key_text(clap, false).contains("MIIEvQIBADANBgkq"));
/// assert_eq!(without_key_text("no key here", true), "no key here");
/// ```
pub fn without_key_text(text: &str, long_runs: bool) -> Cow<'_, str> {
    const LONG_RUN: usize = 40;
    const CUT_RUN: usize = 16;
    let b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (b64(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    let long = |&(s, e): &(usize, usize)| {
        e - s >= LONG_RUN && !text[s..e].bytes().all(|b| b.is_ascii_hexdigit())
    };
    let triggered = holds_pem(text) || (long_runs && runs.iter().any(long));
    let cut: Vec<_> = runs.into_iter().filter(|(s, e)| e - s >= CUT_RUN).collect();
    if !triggered || cut.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 48);
    let mut at = 0;
    for (s, e) in cut {
        out.push_str(&text[at..s]);
        out.push('…');
        at = e;
    }
    out.push_str(&text[at..]);
    out.push_str(" (text that may be a key is not shown)");
    Cow::Owned(out)
}

/// A URL for a message: credentials elided, then escaped and shortened.
///
/// ```
/// assert_eq!(cfsign::escape::shown_url("https://h/a?Expires=1&Signature=abc&Key-Pair-Id=K"),
///            "https://h/a?Expires=1&Signature=…&Key-Pair-Id=K");
/// ```
pub fn shown_url(url: &str) -> String {
    shown(&without_credentials(url)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_escaped() {
        for (input, expected) in [
            ("plain text", "plain text"),
            ("a\nb", "a\\nb"),
            ("\r\t", "\\r\\t"),
            ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
            ("\x7f", "\\x7f"),
            ("\u{9b}31m", "\\u{9b}31m"),
            ("x\u{202e}txt.exe", "x\\u{202e}txt.exe"),
            ("\u{2066}a\u{2069}", "\\u{2066}a\\u{2069}"),
            ("zero\u{200b}width", "zero\\u{200b}width"),
            ("\u{feff}bom", "\\u{feff}bom"),
            ("café ✓", "café ✓"),
        ] {
            assert_eq!(line(input), expected, "{input:?}");
            assert_eq!(shown(input).to_string(), expected, "{input:?}");
        }
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "é".repeat(SHOWN_CHARS + 1);
        let s = shown(&long).to_string();
        assert_eq!(s.chars().count(), SHOWN_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(shown(&long[..2 * SHOWN_CHARS]).to_string(), "é".repeat(200));
        assert_eq!(shown("abcdef").max(3).to_string(), "abc…");
        // `line` never shortens: it guards whole messages.
        assert_eq!(line(&long), long);
    }

    #[test]
    fn pem_text_is_never_shown() {
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC/t0NcCMCKkvQI";
        for text in [
            format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"),
            format!("  -----BEGIN PRIVATE KEY-----\\n{body}"),
            format!("{body}\n-----END PRIVATE KEY-----"),
        ] {
            assert_eq!(shown(&text).to_string(), PEM_NOT_SHOWN);
            assert_eq!(shown_url(&text), PEM_NOT_SHOWN);
            let clap = format!("unexpected argument '{text}' found");
            let cut = without_key_text(&clap, false);
            assert!(!cut.contains("MIIEvQIBADANBgkq"), "{cut}");
            assert!(
                cut.ends_with("(text that may be a key is not shown)"),
                "{cut}"
            );
        }
        // A body line alone, in a clap error.
        let clap = format!("unexpected argument '{body}' found");
        let cut = without_key_text(&clap, true);
        assert!(!cut.contains("MIIEvQIBADANBgkq"), "{cut}");
        for plain in [
            "invalid value 'x' for '--retries <N>': invalid digit found in string",
            // PEM errors name boundaries and carry no body.
            "the PRIVATE KEY PEM block could not be decoded: its `-----END PRIVATE KEY-----` line is missing",
            // Hashes are not keys.
            "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 differs",
        ] {
            assert_eq!(without_key_text(plain, true), plain);
        }
    }

    #[test]
    fn bytes_are_decoded_lossily() {
        assert_eq!(shown_bytes(b"ok\xff\x1b"), "ok\u{fffd}\\x1b");
    }

    #[test]
    fn credentials_are_elided_from_urls() {
        for (input, expected) in [
            ("https://h/a", "https://h/a"),
            ("https://user:pw@h/a", "https://…@h/a"),
            ("https://u:p@h?x=@y", "https://…@h?x=@y"),
            ("https://h/a?to=x@y", "https://h/a?to=x@y"),
            (
                "http://u:p@h/a?Signature=s&Key-Pair-Id=K",
                "http://…@h/a?Signature=…&Key-Pair-Id=K",
            ),
            ("https://h/a?x=1", "https://h/a?x=1"),
            (
                "https://h/a?Expires=1&Signature=abc~&Key-Pair-Id=K",
                "https://h/a?Expires=1&Signature=…&Key-Pair-Id=K",
            ),
            (
                "https://h/a?q=1&Policy=eyJ&Signature=s#frag",
                "https://h/a?q=1&Policy=…&Signature=…#frag",
            ),
            // A name that merely contains a reserved one is left alone.
            ("https://h/a?XSignature=1", "https://h/a?XSignature=1"),
        ] {
            assert_eq!(without_credentials(input), expected);
        }
        assert_eq!(
            shown_url("http://[bad/x?Signature=abc\n"),
            "http://[bad/x?Signature=…"
        );
    }
}
