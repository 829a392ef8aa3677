//! Times and durations as users type them, and the guard against signing a URL
//! that is already expired — the AWS CLI's most common silent failure
//! (`--date-less-than 1h` is parsed there as an hour of *today*).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Seconds since the Unix epoch, UTC: the unit of `AWS:EpochTime`.
pub type Epoch = i64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    #[error(
        "cannot read the time `{0}`: use YYYY-MM-DD, YYYY-MM-DDThh:mm:ss[Z|±hh:mm] (UTC when no offset) or Unix seconds"
    )]
    Unparseable(String),
    #[error(
        "cannot read the duration `{0}`: use a number with a unit, such as 90s, 15m, 1h, 7d or 1h30m"
    )]
    BadDuration(String),
    #[error(
        "the duration `{0}` has the unit M, which reads as months: write m or min for minutes, or months if months are meant"
    )]
    MonthsOrMinutes(String),
    #[error(
        "`{0}` looks like a Unix time in milliseconds (13 digits): CloudFront wants seconds, so drop the last three digits (or pass --allow-past)"
    )]
    Milliseconds(String),
    #[error(
        "`{0}` looks like a date written YYYYMMDD, but reads as Unix seconds in 1970: write it as YYYY-MM-DD (or pass --allow-past)"
    )]
    CompactDate(String),
    #[error(
        "the expiry {0} is already in the past ({1} ago), so the URL would never work: use --expires-in or a later --date-less-than (or pass --allow-past)"
    )]
    Past(String, String),
    #[error(
        "`{0}` is a duration, but --date-less-than takes a time (the AWS CLI reads `1h` as 01:00 today): use --expires-in {0}"
    )]
    Duration(String),
    #[error(
        "the time {0} is before 1970-01-01, and CloudFront's AWS:EpochTime cannot be negative: give a later time (--allow-past does not lift this)"
    )]
    BeforeEpoch(String),
    #[error(
        "the start time {0} (--date-greater-than, when the URL becomes active) must be before the expiration {1} (--date-less-than or --expires-in)"
    )]
    StartNotBeforeExpiry(String, String),
}

/// Parses a time as the AWS CLI's `--date-less-than` reads it (botocore's
/// `parse_to_aware_datetime`: Unix seconds, else dateutil with UTC as the
/// default zone), limited to the forms its help names and their everyday
/// variants:
///
/// - Unix seconds, with an optional fraction (dropped, as botocore's `int()`
///   drops it);
/// - `YYYY-M-D` (00:00 UTC), optionally followed by `T`, `t` or spaces and
///   `h:m[:s[.fraction]]` (one or two digits each), then optionally a zone:
///   `Z`, `UTC`, `GMT` or an offset `±hh:mm`, `±hhmm` or `±hh`. No zone means
///   UTC, never the local zone.
///
/// dateutil's free-form rest is refused on purpose: month names and slashed
/// dates (`01/02/2030` is 2 January to dateutil, 1 February to many readers),
/// zone names it does not know and silently reads as UTC (`EST`), and a
/// bare `1h`, which it reads as 01:00 today. Times before 1970 are refused:
/// a policy's epoch times are unsigned, and a negative `Expires` would be
/// signed but never accepted.
///
/// ```
/// use cfsign::time::parse_time;
/// assert_eq!(parse_time("2030-01-01").unwrap(), 1893456000);
/// assert_eq!(parse_time("2030-01-01T01:00:00+01:00").unwrap(), 1893456000);
/// assert_eq!(parse_time("2030-01-01T01:00:00+0100").unwrap(), 1893456000);
/// assert_eq!(parse_time("2030-1-1 00:00:00.5Z").unwrap(), 1893456000);
/// assert_eq!(parse_time("1893456000").unwrap(), 1893456000);
/// ```
pub fn parse_time(text: &str) -> Result<Epoch, TimeError> {
    let t = parse_any_time(text)?;
    if t < 0 {
        return Err(TimeError::BeforeEpoch(text.chars().take(60).collect()));
    }
    Ok(t)
}

/// [`parse_time`] without the 1970 floor.
fn parse_any_time(text: &str) -> Result<Epoch, TimeError> {
    let s = text.trim();
    let bad = || TimeError::Unparseable(text.chars().take(60).collect());
    // Unix seconds as Python's float() reads them: a sign, a fraction.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if all_digits(whole) && all_digits(fraction) {
        let mut seconds: Epoch = whole.parse().map_err(|_| bad())?;
        if whole.len() <= 15 && fraction.bytes().any(|b| b != b'0') {
            seconds += python_rounds_up(unsigned);
        }
        return Ok(if s.starts_with('-') {
            -seconds
        } else {
            seconds
        });
    }
    let mut c = Cursor { rest: s.as_bytes() };
    date_time(&mut c)
        .filter(|_| c.rest.is_empty())
        .ok_or_else(bad)
}

/// 1 when botocore's reading of Unix seconds with a fraction lands on the
/// next second, else 0. It takes `float(text)` (the nearest double), and
/// `datetime.fromtimestamp` rounds that to microseconds, half to even,
/// before `int()` drops the fraction: `1893456000.9999995` (and, through
/// the double, `1893456000.99999949`) is `1893456001` there.
fn python_rounds_up(unsigned: &str) -> Epoch {
    let Ok(value) = unsigned.parse::<f64>() else {
        return 0;
    };
    let micros = ((value - value.trunc()) * 1e6).round_ties_even();
    Epoch::from(micros >= 1e6) + Epoch::from(value.trunc() as Epoch > whole_part(unsigned))
}

/// The whole seconds as written (before the double rounds them).
fn whole_part(unsigned: &str) -> Epoch {
    unsigned
        .split('.')
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

/// The text still to read.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    /// Takes `b` if it comes next.
    fn eat(&mut self, b: u8) -> bool {
        self.eat_if(|c| c == b)
    }

    fn eat_if(&mut self, wanted: impl Fn(u8) -> bool) -> bool {
        match self.rest.split_first() {
            Some((&c, rest)) if wanted(c) => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    /// Takes `word` (ASCII, any case) if it comes next.
    fn eat_word(&mut self, word: &str) -> bool {
        let n = word.len();
        if self.rest.len() >= n && self.rest[..n].eq_ignore_ascii_case(word.as_bytes()) {
            self.rest = &self.rest[n..];
            return true;
        }
        false
    }

    /// Takes a run of `min..=max` digits; `None` (and nothing taken) otherwise.
    fn number(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let n = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n < min || n > max {
            return None;
        }
        let digits = std::str::from_utf8(&self.rest[..n]).ok()?;
        self.rest = &self.rest[n..];
        Some((digits.parse().ok()?, n))
    }
}

/// `YYYY-M-D[(T|t|spaces)h:m[:s[.fraction]][zone]]`.
fn date_time(c: &mut Cursor) -> Option<Epoch> {
    let (year, _) = c.number(4, 4)?;
    c.eat(b'-').then_some(())?;
    let (month, _) = c.number(1, 2)?;
    c.eat(b'-').then_some(())?;
    let (day, _) = c.number(1, 2)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    if c.rest.is_empty() {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
    }
    if !(c.eat(b'T') || c.eat(b't')) {
        c.eat(b' ').then_some(())?;
        while c.eat(b' ') {}
    }
    let (hour, _) = c.number(1, 2)?;
    c.eat(b':').then_some(())?;
    let (minute, _) = c.number(1, 2)?;
    let mut second = 0;
    if c.eat(b':') {
        second = c.number(1, 2)?.0;
        if c.eat(b'.') {
            // Dropped: the policy holds whole seconds, and botocore truncates.
            c.number(1, usize::MAX)?;
        }
    }
    let local = date
        .and_hms_opt(hour, minute, second)?
        .and_utc()
        .timestamp();
    Some(local - zone_offset(c)?)
}

/// The zone after a time, in seconds east of UTC; none is UTC.
fn zone_offset(c: &mut Cursor) -> Option<Epoch> {
    while c.eat(b' ') {}
    if c.rest.is_empty() || c.eat_word("Z") || c.eat_word("UTC") || c.eat_word("GMT") {
        return Some(0);
    }
    let sign = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return None;
    };
    let (hours, minutes) = match c.number(1, 4)? {
        (hhmm, 4) => (hhmm / 100, hhmm % 100),
        (hh, 1 | 2) if c.eat(b':') => (hh, c.number(2, 2)?.0),
        (hh, 1 | 2) => (hh, 0),
        _ => return None,
    };
    (hours < 24 && minutes < 60)
        .then_some(sign * (Epoch::from(hours) * 3600 + Epoch::from(minutes) * 60))
}

/// Formats an epoch as `2030-01-01T00:00:00Z`.
pub fn format_time(t: Epoch) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// The last second an HTTP date can name (9999-12-31T23:59:59Z): its
/// four-digit year ends there.
const LAST_HTTP_DATE: Epoch = 253_402_300_799;

/// An epoch as an IMF-fixdate (`Tue, 01 Jan 2030 00:00:00 GMT`), for
/// `Expires` and `Last-Modified`. Times before 1970 (which a file system
/// may report) are shown as 1970, times past year 9999 as its last second:
/// an HTTP date cannot say more.
pub fn format_http_date(t: Epoch) -> String {
    let secs = t.clamp(0, LAST_HTTP_DATE) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Now, in Unix seconds.
pub fn now() -> Epoch {
    Utc::now().timestamp()
}

/// A span of time such as `90s`, `15m`, `1h30m`, `1h 30m`, `90min` or `7d`.
///
/// ```
/// let d: cfsign::time::HumanDuration = "1h 30m".parse().unwrap();
/// assert_eq!(d.seconds(), 5400);
/// assert_eq!(d.to_string(), "1h30m");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(u64);

impl HumanDuration {
    pub fn from_seconds(seconds: u64) -> Self {
        HumanDuration(seconds)
    }

    pub fn seconds(&self) -> u64 {
        self.0
    }

    /// The two largest units, for messages: `3d4h`, `2h5m`, `41s`.
    pub fn rough(&self) -> String {
        let mut parts = Vec::new();
        let mut rest = self.0;
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size || (parts.is_empty() && size == 1) {
                parts.push(format!("{}{unit}", rest / size));
                rest %= size;
            }
            if parts.len() == 2 {
                break;
            }
        }
        parts.concat()
    }
}

/// The longest duration taken: a signature valid for longer is a mistake.
const MAX_DURATION_SECS: u64 = 100 * 365 * 86_400;

impl FromStr for HumanDuration {
    type Err = TimeError;

    /// humantime's grammar (numbers with units, optionally spaced: `90s`,
    /// `15m`, `1h30m`, `1h 30m`, `90min`, `1day`, `2w`), in whole seconds:
    /// policies count seconds, so a bare number, zero, a fraction of a second
    /// and more than a hundred years are refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown = || -> String {
            if crate::escape::may_be_key(s) {
                crate::escape::KEY_NOT_SHOWN.to_string()
            } else {
                s.chars().take(60).collect()
            }
        };
        let bad = || TimeError::BadDuration(shown());
        // humantime reads `M` as months and `m` as minutes: `15M` would sign
        // for fifteen months where fifteen minutes were almost surely meant
        // (the parser before it refused `M`). Months are spelled out.
        if s.split(|c: char| !c.is_ascii_alphabetic())
            .any(|unit| unit == "M")
        {
            return Err(TimeError::MonthsOrMinutes(shown()));
        }
        let d = humantime::parse_duration(s.trim()).map_err(|_| bad())?;
        if d.subsec_nanos() != 0 || d.as_secs() == 0 || d.as_secs() > MAX_DURATION_SECS {
            return Err(bad());
        }
        Ok(HumanDuration(d.as_secs()))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

/// When a signed URL stops working, as the user asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// `--expires-in`: relative to the moment of signing.
    In(HumanDuration),
    /// `--date-less-than`: the text as given, parsed when resolved.
    At(String),
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry::In(HumanDuration(3600))
    }
}

impl Expiry {
    /// The expiry as an epoch, refusing the values that are almost certainly
    /// mistakes (past, milliseconds, `YYYYMMDD`) unless `allow_past` is set.
    pub fn resolve(&self, now: Epoch, allow_past: bool) -> Result<Epoch, TimeError> {
        match self {
            Expiry::In(d) => Ok(now.saturating_add(d.0 as i64)),
            Expiry::At(text) => {
                let t = parse_time(text).map_err(|e| match e {
                    TimeError::Unparseable(_) if text.parse::<HumanDuration>().is_ok() => {
                        TimeError::Duration(text.trim().to_string())
                    }
                    e => e,
                })?;
                let digits = text.trim();
                if !allow_past && digits.bytes().all(|b| b.is_ascii_digit()) {
                    if digits.len() == 13 {
                        return Err(TimeError::Milliseconds(digits.to_string()));
                    }
                    if digits.len() == 8 && looks_like_yyyymmdd(digits) {
                        return Err(TimeError::CompactDate(digits.to_string()));
                    }
                }
                if !allow_past && t <= now {
                    return Err(TimeError::Past(
                        format_time(t),
                        HumanDuration((now - t) as u64).rough(),
                    ));
                }
                Ok(t)
            }
        }
    }
}

fn looks_like_yyyymmdd(s: &str) -> bool {
    NaiveDate::parse_from_str(s, "%Y%m%d").is_ok_and(|d| (1990..=2200).contains(&d.year_ce().1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_stay_within_what_an_http_date_can_say() {
        assert_eq!(
            format_http_date(1_893_456_000),
            "Tue, 01 Jan 2030 00:00:00 GMT"
        );
        assert_eq!(format_http_date(-5), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            format_http_date(1_893_456_000_000),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    const NOW: Epoch = 1_800_000_000; // 2027-01-15

    #[test]
    fn time_formats() {
        for (input, expected) in [
            ("2030-01-01", Some(1893456000)),
            ("2030-01-01T00:00:00", Some(1893456000)),
            ("2030-01-01T00:00:00Z", Some(1893456000)),
            ("2030-01-01 00:00:00Z", Some(1893456000)),
            ("2030-01-01T02:00:00+02:00", Some(1893456000)),
            ("2029-12-31T19:00:00-05:00", Some(1893456000)),
            ("2030-01-01T00:00", Some(1893456000)),
            ("1893456000", Some(1893456000)),
            ("0", Some(0)),
            ("2030-13-01", None),
            ("tomorrow", None),
            ("1h", None),
            ("", None),
            ("-5", None),
            ("1776-07-04", None),
            ("1969-12-31T23:59:59Z", None),
            ("1970-01-01T01:00:00+02:00", None),
            ("1970-01-01T00:00:00Z", Some(0)),
            // The AWS CLI's dateutil forms (tests/fixtures/dateutil-times.json
            // holds dateutil's own answers; tests/cli/compat.rs checks them).
            ("2030-01-01T01:00:00+0100", Some(1893456000)),
            ("2030-01-01T01:00:00+01", Some(1893456000)),
            ("2030-01-01T01:00:00 +01:00", Some(1893456000)),
            ("2029-12-31T23:00:00-0100", Some(1893456000)),
            ("2030-1-1", Some(1893456000)),
            ("2030-1-1T0:0:0", Some(1893456000)),
            ("2030-01-01t00:00:00z", Some(1893456000)),
            ("2030-01-01T00:00:00 UTC", Some(1893456000)),
            ("2030-01-01T00:00:00.999999Z", Some(1893456000)),
            ("2030-01-01T00:00:00.5", Some(1893456000)),
            ("2030-01-01  00:00:00", Some(1893456000)),
            ("1893456000.9", Some(1893456000)),
            ("+1893456000", Some(1893456000)),
            ("2030-01-01T00:00:00+24:00", None),
            ("2030-01-01T00:00:00+01:60", None),
            ("2030-01-01T00:00:00+100", None),
            ("2030-01-01T00:00:00EST", None),
            ("2030-01-01T24:00:00", None),
            ("2030-01-01T00:00:60", None),
            ("2030-01-01T00:00:00.", None),
            ("2030-01-01T", None),
            ("2030-02-30", None),
            ("02030-01-01", None),
            ("Jan 1 2030", None),
            ("01/02/2030", None),
            ("1893456000.", None),
            ("-1", None),
        ] {
            assert_eq!(parse_time(input).ok(), expected, "{input}");
        }
    }

    #[test]
    fn times_before_1970_are_refused_even_with_allow_past() {
        let err = Expiry::At("1776-07-04".into())
            .resolve(NOW, true)
            .unwrap_err();
        assert_eq!(err, TimeError::BeforeEpoch("1776-07-04".into()));
        assert!(err.to_string().contains("cannot be negative"), "{err}");
    }

    #[test]
    fn a_duration_given_as_the_expiry_time_points_to_expires_in() {
        for text in ["1h", "15m", "7d", "1h30m"] {
            let err = Expiry::At(text.into()).resolve(NOW, true).unwrap_err();
            assert_eq!(err, TimeError::Duration(text.into()));
            assert!(
                err.to_string()
                    .contains(&format!("use --expires-in {text}")),
                "{err}"
            );
        }
        assert!(matches!(
            Expiry::At("1x".into()).resolve(NOW, true),
            Err(TimeError::Unparseable(_))
        ));
    }

    #[test]
    fn negative_unix_seconds_are_before_1970() {
        let err = Expiry::At("-5".into()).resolve(NOW, true).unwrap_err();
        assert_eq!(err, TimeError::BeforeEpoch("-5".into()));
    }

    #[test]
    fn durations() {
        for (input, expected) in [
            ("90s", Some(90)),
            ("15m", Some(900)),
            ("1h", Some(3600)),
            ("7d", Some(604800)),
            ("1h30m", Some(5400)),
            ("2w", Some(1209600)),
            ("1h 30m", Some(5400)),
            ("90min", Some(5400)),
            ("1day", Some(86400)),
            ("2 hours", Some(7200)),
            (" 30s ", Some(30)),
            ("0s", None),
            ("1500ms", None),
            ("101y", None),
            ("", None),
            ("10", None),
            ("h", None),
            ("1x", None),
            ("-1h", None),
            ("99999999999999999999d", None),
        ] {
            assert_eq!(
                input.parse::<HumanDuration>().ok().map(|d| d.0),
                expected,
                "{input}"
            );
        }
        assert_eq!(HumanDuration(90061).to_string(), "1d1h1m1s");
        assert_eq!(HumanDuration(90061).rough(), "1d1h");
        assert_eq!(HumanDuration(3661).rough(), "1h1m");
        assert_eq!(HumanDuration(0).rough(), "0s");
        assert_eq!(HumanDuration(86400).rough(), "1d");
    }

    #[test]
    fn expiry_refusals() {
        let at = |s: &str| Expiry::At(s.to_string());
        assert_eq!(Expiry::default().resolve(NOW, false), Ok(NOW + 3600));
        assert_eq!(at("2030-01-01").resolve(NOW, false), Ok(1893456000));
        assert!(matches!(
            at("2020-01-01").resolve(NOW, false),
            Err(TimeError::Past(..))
        ));
        assert_eq!(at("2020-01-01").resolve(NOW, true), Ok(1577836800));
        assert!(matches!(
            at("1893456000000").resolve(NOW, false),
            Err(TimeError::Milliseconds(_))
        ));
        assert!(matches!(
            at("20300101").resolve(NOW, false),
            Err(TimeError::CompactDate(_))
        ));
        assert!(matches!(
            at("12345678").resolve(NOW, false),
            Err(TimeError::Past(..))
        ));
        let err = at("1799996400")
            .resolve(NOW, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1h ago"), "{err}");
    }
}
