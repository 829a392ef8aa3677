//! `Content-Range`, read strictly: a 206 is appended only when it starts at
//! exactly the offset asked for and agrees with the size already known.

use std::str::FromStr;

/// A `Content-Range` response header, parsed strictly: `bytes a-b/total`
/// (`total` may be `*`) or `bytes */total`. No spaces, signs or other units.
///
/// ```
/// use cfsign::transfer::get::ContentRange;
///
/// assert_eq!(
///     "bytes 100-199/1000".parse(),
///     Ok(ContentRange::Bytes { first: 100, last: 199, total: Some(1000) })
/// );
/// assert_eq!("bytes */1000".parse(), Ok(ContentRange::Unsatisfied { total: 1000 }));
/// assert!("bytes 100-1000/1000".parse::<ContentRange>().is_err()); // past the end
/// assert!("bytes  100-199/1000".parse::<ContentRange>().is_err()); // no spaces
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes first-last/total`: the bytes this answer carries.
    Bytes {
        /// The offset of the first byte.
        first: u64,
        /// The offset of the last byte (inclusive).
        last: u64,
        /// The object's size; `None` for `*` (unknown).
        total: Option<u64>,
    },
    /// `bytes */total`, with a 416: nothing from the offset asked for.
    Unsatisfied {
        /// The object's size.
        total: u64,
    },
}

impl FromStr for ContentRange {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        fn number(s: &str) -> Result<u64, ()> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            s.parse().map_err(|_| ())
        }
        let spec = s.strip_prefix("bytes ").ok_or(())?;
        let (range, total) = spec.split_once('/').ok_or(())?;
        if range == "*" {
            return Ok(ContentRange::Unsatisfied {
                total: number(total)?,
            });
        }
        let (first, last) = range.split_once('-').ok_or(())?;
        let (first, last) = (number(first)?, number(last)?);
        let total = if total == "*" {
            None
        } else {
            Some(number(total)?)
        };
        if first > last || total.is_some_and(|t| last >= t) {
            return Err(());
        }
        Ok(ContentRange::Bytes { first, last, total })
    }
}

/// Checks a 206's `Content-Range` against the request `bytes=<offset>-`:
/// it must start at exactly `offset`, name the total size, and agree with the
/// total already known. Returns the total.
///
/// ```
/// use cfsign::transfer::get::check_partial;
///
/// assert_eq!(check_partial(Some("bytes 500-999/1000"), 500, None), Ok(1000));
/// assert_eq!(check_partial(Some("bytes 500-999/1000"), 500, Some(1000)), Ok(1000));
/// // Not where we asked, a size that changed, or no size: start over.
/// assert!(check_partial(Some("bytes 0-999/1000"), 500, None).is_err());
/// assert!(check_partial(Some("bytes 500-1999/2000"), 500, Some(1000)).is_err());
/// assert!(check_partial(Some("bytes 500-999/*"), 500, None).is_err());
/// assert!(check_partial(None, 500, None).is_err());
/// ```
pub fn check_partial(
    header: Option<&str>,
    offset: u64,
    known_total: Option<u64>,
) -> Result<u64, String> {
    let shown = header.map_or_else(
        || "(none)".to_string(),
        |h| crate::escape::shown(h).to_string(),
    );
    let wrong = |why: &str| format!("the server answered 206 with Content-Range {shown}, {why}");
    let Some(Ok(range)) = header.map(str::parse::<ContentRange>) else {
        return Err(wrong("which is not a valid byte range"));
    };
    match range {
        ContentRange::Bytes {
            first,
            total: Some(total),
            ..
        } => {
            if first != offset {
                Err(wrong(&format!("but bytes {offset}- were asked for")))
            } else if known_total.is_some_and(|k| k != total) {
                Err(wrong(&format!(
                    "but the object was {} bytes",
                    known_total.unwrap_or_default()
                )))
            } else {
                Ok(total)
            }
        }
        ContentRange::Bytes { total: None, .. } => Err(wrong("without the object's size")),
        ContentRange::Unsatisfied { .. } => Err(wrong("which names no bytes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_is_parsed_strictly() {
        use ContentRange::*;
        let ok = |first, last, total| Ok(Bytes { first, last, total });
        for (text, expected) in [
            ("bytes 0-9/10", ok(0, 9, Some(10))),
            ("bytes 5-9/10", ok(5, 9, Some(10))),
            ("bytes 0-0/1", ok(0, 0, Some(1))),
            ("bytes 3-4/*", ok(3, 4, None)),
            ("bytes */10", Ok(Unsatisfied { total: 10 })),
            ("bytes */0", Ok(Unsatisfied { total: 0 })),
            ("bytes 5-10/10", Err(())),
            ("bytes 9-5/10", Err(())),
            ("bytes 0-0/0", Err(())),
            ("", Err(())),
            ("bytes", Err(())),
            ("bytes ", Err(())),
            ("bytes=5-9/10", Err(())),
            ("Bytes 5-9/10", Err(())),
            ("items 5-9/10", Err(())),
            ("bytes 5-9", Err(())),
            ("bytes 5-9/", Err(())),
            ("bytes -5-9/10", Err(())),
            ("bytes +5-9/10", Err(())),
            ("bytes 5-+9/10", Err(())),
            ("bytes 5 -9/10", Err(())),
            ("bytes  5-9/10", Err(())),
            ("bytes 5-9/10 ", Err(())),
            ("bytes 5-9/1_0", Err(())),
            ("bytes */*", Err(())),
            ("bytes 5-/10", Err(())),
            ("bytes -9/10", Err(())),
            ("bytes 0x5-9/10", Err(())),
            (
                "bytes 99999999999999999999-99999999999999999999/99999999999999999999",
                Err(()),
            ),
        ] {
            assert_eq!(text.parse::<ContentRange>(), expected, "{text:?}");
        }
    }

    #[test]
    fn a_partial_answer_must_start_at_the_offset() {
        for (header, offset, known, expected) in [
            (Some("bytes 5-9/10"), 5, None, Ok(10)),
            (Some("bytes 5-9/10"), 5, Some(10), Ok(10)),
            (Some("bytes 5-6/10"), 5, Some(10), Ok(10)),
            (
                Some("bytes 4-9/10"),
                5,
                None,
                Err("bytes 5- were asked for"),
            ),
            (
                Some("bytes 6-9/10"),
                5,
                None,
                Err("bytes 5- were asked for"),
            ),
            (
                Some("bytes 5-9/11"),
                5,
                Some(10),
                Err("the object was 10 bytes"),
            ),
            (
                Some("bytes 5-9/*"),
                5,
                None,
                Err("without the object's size"),
            ),
            (Some("bytes */10"), 5, None, Err("names no bytes")),
            (
                Some("bytes 5-10/10"),
                5,
                None,
                Err("not a valid byte range"),
            ),
            (Some("garbage"), 5, None, Err("not a valid byte range")),
            (None, 5, None, Err("not a valid byte range")),
        ] {
            let got = check_partial(header, offset, known);
            match expected {
                Ok(total) => assert_eq!(got, Ok(total), "{header:?}"),
                Err(needle) => {
                    let e = got.expect_err(header.unwrap_or("none"));
                    assert!(e.contains(needle), "{header:?}: {e}");
                }
            }
        }
    }
}
