//! `Range`, `If-Range` and `Content-Range` as S3 answers them: one range of
//! bytes or none. Multiple ranges and malformed headers are ignored (the whole
//! object is sent with 200, as S3 does); a range that starts past the end is
//! unsatisfiable (416 with `Content-Range: bytes */total`).

/// What to send for a `Range` header.
///
/// ```
/// use cfsign::serve::{ByteRange, RangeRequest, parse_range};
///
/// assert_eq!(parse_range("bytes=0-99", 1000), RangeRequest::Part(ByteRange { start: 0, end: 99 }));
/// assert_eq!(parse_range("bytes=0-9,20-29", 1000), RangeRequest::Whole); // as S3: one range or none
/// assert_eq!(parse_range("bytes=1000-", 1000), RangeRequest::Unsatisfiable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: the whole object, 200.
    Whole,
    /// One satisfiable range: 206.
    Part(ByteRange),
    /// 416.
    Unsatisfiable,
}

/// An inclusive byte range `start..=end` within an object.
///
/// ```
/// use cfsign::serve::{ByteRange, RangeRequest, parse_range};
///
/// let RangeRequest::Part(range) = parse_range("bytes=-100", 1000) else { unreachable!() };
/// assert_eq!(range, ByteRange { start: 900, end: 999 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte sent.
    pub start: u64,
    /// The last byte sent (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// How many bytes the range holds: `Content-Length` on a 206.
    ///
    /// ```
    /// use cfsign::serve::ByteRange;
    ///
    /// assert_eq!(ByteRange { start: 100, end: 199 }.length(), 100);
    /// assert_eq!(ByteRange { start: 5, end: 5 }.length(), 1);
    /// ```
    pub fn length(&self) -> u64 {
        self.end - self.start + 1
    }

    /// `bytes a-b/total`, the value of `Content-Range` on a 206.
    ///
    /// ```
    /// use cfsign::serve::ByteRange;
    ///
    /// assert_eq!(ByteRange { start: 100, end: 199 }.content_range(1000), "bytes 100-199/1000");
    /// ```
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.start, self.end)
    }
}

/// `bytes */total`, the value of `Content-Range` on a 416.
pub(super) fn unsatisfied_content_range(total: u64) -> String {
    format!("bytes */{total}")
}

/// Reads a `Range` header against an object of `total` bytes:
/// `bytes=a-b`, `bytes=a-` and `bytes=-n`.
///
/// ```
/// use cfsign::serve::{ByteRange, RangeRequest, parse_range};
///
/// let part = |start, end| RangeRequest::Part(ByteRange { start, end });
/// assert_eq!(parse_range("bytes=100-199", 1000), part(100, 199));
/// assert_eq!(parse_range("bytes=900-", 1000), part(900, 999));
/// assert_eq!(parse_range("bytes=-5000", 1000), part(0, 999)); // the whole, as a 206
/// assert_eq!(parse_range("bytes=500-99999", 1000), part(500, 999)); // clamped
/// assert_eq!(parse_range("items=0-1", 1000), RangeRequest::Whole);
/// ```
pub fn parse_range(header: &str, total: u64) -> RangeRequest {
    let Some((unit, spec)) = header.trim().split_once('=') else {
        return RangeRequest::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // bytes=-n: the last n bytes.
        (true, false) => match number(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if total == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Part(ByteRange {
                start: total - n.min(total),
                end: total - 1,
            }),
            None => RangeRequest::Whole,
        },
        // bytes=a-: from a to the end.
        (false, true) => match number(first) {
            Some(a) if a >= total => RangeRequest::Unsatisfiable,
            Some(a) => RangeRequest::Part(ByteRange {
                start: a,
                end: total - 1,
            }),
            None => RangeRequest::Whole,
        },
        // bytes=a-b, b clamped to the end.
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if b < a => RangeRequest::Whole,
            (Some(a), Some(_)) if a >= total => RangeRequest::Unsatisfiable,
            (Some(a), Some(b)) => RangeRequest::Part(ByteRange {
                start: a,
                end: b.min(total - 1),
            }),
            _ => RangeRequest::Whole,
        },
        (true, true) => RangeRequest::Whole,
    }
}

/// Whether an `If-Range` validator still matches the object, so that the
/// range may be honoured: a strong ETag equal to ours, or an HTTP date equal
/// to `Last-Modified` (to the second). Anything else means "send it all".
///
/// ```
/// use cfsign::serve::if_range_matches;
///
/// let (etag, modified) = ("d41d8cd98f00b204e9800998ecf8427e", 784_111_777);
/// assert!(if_range_matches("\"d41d8cd98f00b204e9800998ecf8427e\"", etag, modified));
/// assert!(if_range_matches("Sun, 06 Nov 1994 08:49:37 GMT", etag, modified));
/// assert!(!if_range_matches("W/\"d41d8cd98f00b204e9800998ecf8427e\"", etag, modified)); // weak
/// assert!(!if_range_matches("Sun, 06 Nov 1994 08:49:38 GMT", etag, modified));
/// ```
pub fn if_range_matches(value: &str, etag_hex: &str, last_modified: i64) -> bool {
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        // Weak validators never match If-Range (RFC 9110 §13.1.5).
        return value.len() == etag_hex.len() + 2
            && value.starts_with('"')
            && value.ends_with('"')
            && &value[1..value.len() - 1] == etag_hex;
    }
    crate::time::parse_http_date(value) == Some(last_modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_http_date;

    fn part(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Part(ByteRange { start, end })
    }

    #[test]
    fn range_table() {
        use RangeRequest::{Unsatisfiable, Whole};
        let rows: &[(&str, u64, RangeRequest)] = &[
            ("bytes=0-0", 10, part(0, 0)),
            ("bytes=0-9", 10, part(0, 9)),
            ("bytes=2-5", 10, part(2, 5)),
            ("bytes=5-100", 10, part(5, 9)),
            ("bytes=9-", 10, part(9, 9)),
            ("bytes=0-", 10, part(0, 9)),
            ("bytes=-3", 10, part(7, 9)),
            ("bytes=-10", 10, part(0, 9)),
            ("bytes=-11", 10, part(0, 9)),
            ("BYTES=1-2", 10, part(1, 2)),
            (" bytes = 1 - 2 ", 10, part(1, 2)),
            // Unsatisfiable: start at or past the end, empty suffix, empty object.
            ("bytes=10-", 10, Unsatisfiable),
            ("bytes=10-20", 10, Unsatisfiable),
            ("bytes=-0", 10, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-1", 0, Unsatisfiable),
            // Ignored (whole object): multiple ranges, malformed, other units.
            ("bytes=0-1,3-4", 10, Whole),
            ("bytes=5-2", 10, Whole),
            ("bytes=a-b", 10, Whole),
            ("bytes=-", 10, Whole),
            ("bytes=1", 10, Whole),
            ("bytes=+1-2", 10, Whole),
            ("bytes=0x1-2", 10, Whole),
            ("bytes=99999999999999999999999-", 10, Whole),
            ("items=0-1", 10, Whole),
            ("0-1", 10, Whole),
            ("", 10, Whole),
        ];
        for (header, total, expected) in rows {
            assert_eq!(
                parse_range(header, *total),
                *expected,
                "Range: {header:?} of {total}"
            );
        }
    }

    #[test]
    fn content_range_values() {
        assert_eq!(
            ByteRange { start: 2, end: 5 }.content_range(10),
            "bytes 2-5/10"
        );
        assert_eq!(ByteRange { start: 2, end: 5 }.length(), 4);
        assert_eq!(unsatisfied_content_range(10), "bytes */10");
    }

    #[test]
    fn if_range_table() {
        let etag = "0123456789abcdef0123456789abcdef";
        let date = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
        let rows: &[(&str, bool)] = &[
            ("\"0123456789abcdef0123456789abcdef\"", true),
            (" \"0123456789abcdef0123456789abcdef\" ", true),
            ("W/\"0123456789abcdef0123456789abcdef\"", false),
            ("\"ffffffffffffffffffffffffffffffff\"", false),
            ("0123456789abcdef0123456789abcdef", false),
            ("\"", false),
            ("Sun, 06 Nov 1994 08:49:37 GMT", true),
            ("Sun, 06 Nov 1994 08:49:36 GMT", false),
            // The obsolete forms a recipient must accept (RFC 9110 §5.6.7).
            ("Sunday, 06-Nov-94 08:49:37 GMT", true),
            ("Sun Nov  6 08:49:37 1994", true),
            ("not a date", false),
        ];
        for (value, expected) in rows {
            assert_eq!(if_range_matches(value, etag, date), *expected, "{value:?}");
        }
        assert_eq!(format_http_date(date), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
