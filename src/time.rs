//! Times and durations as users type them, and the guard against signing a URL
//! that is already expired — the AWS CLI's most common silent failure
//! (`--date-less-than 1h` is parsed there as an hour of *today*).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

mod parse;

pub use parse::parse_time;

/// Seconds since the Unix epoch, UTC: the unit of `AWS:EpochTime`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use cfsign::time::{Epoch, When};
/// let new_year: Epoch = When::At(UNIX_EPOCH + Duration::from_secs(1_893_456_000)).epoch_from(UNIX_EPOCH);
/// assert_eq!(new_year, 1_893_456_000); // 2030-01-01T00:00:00Z
/// assert_eq!(When::At(UNIX_EPOCH).epoch_from(UNIX_EPOCH), 0);
/// ```
pub type Epoch = i64;

/// Why a time or duration typed by a user is refused. The messages name the
/// command line's flags: this is the reading of what people type.
///
/// ```
/// use cfsign::time::{Expiry, TimeError};
/// let err = Expiry::At("1h".into()).resolve(1_800_000_000, false).unwrap_err();
/// assert_eq!(err, TimeError::Duration("1h".into()));
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeError {
    /// Not a time in any form taken.
    #[error(
        "cannot read the time `{0}`: use YYYY-MM-DD, YYYY-MM-DDThh:mm:ss[Z|±hh:mm] (UTC when no offset) or Unix seconds"
    )]
    Unparseable(String),
    /// Not a duration.
    #[error(
        "cannot read the duration `{0}`: use a number with a unit, such as 90s, 15m, 1h, 7d or 1h30m"
    )]
    BadDuration(String),
    /// A duration in `M`, which humantime reads as months.
    #[error(
        "the duration `{0}` has the unit M, which reads as months: write m or min for minutes, or months if months are meant"
    )]
    MonthsOrMinutes(String),
    /// 13 digits: milliseconds, not seconds.
    #[error(
        "`{0}` looks like a Unix time in milliseconds (13 digits): CloudFront wants seconds, so drop the last three digits (or pass --allow-past)"
    )]
    Milliseconds(String),
    /// 8 digits that read as a date `YYYYMMDD`.
    #[error(
        "`{0}` looks like a date written YYYYMMDD, but reads as Unix seconds in 1970: write it as YYYY-MM-DD (or pass --allow-past)"
    )]
    CompactDate(String),
    /// An expiry in the past: the time, and how long ago.
    #[error(
        "the expiry {0} is already in the past ({1} ago), so the URL would never work: use --expires-in or a later --date-less-than (or pass --allow-past)"
    )]
    Past(String, String),
    /// A duration where a time goes.
    #[error(
        "`{0}` is a duration, but --date-less-than takes a time (the AWS CLI reads `1h` as 01:00 today): use --expires-in {0}"
    )]
    Duration(String),
    /// A time before 1970.
    #[error(
        "the time {0} is before 1970-01-01, and CloudFront's AWS:EpochTime cannot be negative: give a later time (--allow-past does not lift this)"
    )]
    BeforeEpoch(String),
    /// A start time that is not before the expiry: both formatted.
    #[error(
        "the start time {0} (--date-greater-than, when the URL becomes active) must be before the expiration {1} (--date-less-than or --expires-in)"
    )]
    StartNotBeforeExpiry(String, String),
}

/// Formats an epoch as `2030-01-01T00:00:00Z`.
///
/// ```
/// assert_eq!(cfsign::time::format_time(1893456000), "2030-01-01T00:00:00Z");
/// ```
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
///
/// ```
/// assert_eq!(cfsign::time::format_http_date(1893456000), "Tue, 01 Jan 2030 00:00:00 GMT");
/// ```
pub fn format_http_date(t: Epoch) -> String {
    let secs = t.clamp(0, LAST_HTTP_DATE) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// An HTTP date as Unix seconds: the IMF-fixdate `Sun, 06 Nov 1994 08:49:37
/// GMT` and the two obsolete forms (RFC 850, asctime) that RFC 9110 §5.6.7
/// says a recipient must still accept.
///
/// ```
/// assert_eq!(cfsign::time::parse_http_date("Tue, 01 Jan 2030 00:00:00 GMT"), Some(1893456000));
/// assert_eq!(cfsign::time::parse_http_date("soon"), None);
/// ```
pub fn parse_http_date(value: &str) -> Option<Epoch> {
    let t = httpdate::parse_http_date(value.trim()).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Epoch::try_from(secs).ok()
}

/// Now, in Unix seconds.
///
/// ```
/// assert!(cfsign::time::now() > 1_767_225_600); // after 2026-01-01
/// ```
pub fn now() -> Epoch {
    Utc::now().timestamp()
}

/// A moment for a policy, as a program names it: a span from now or a
/// system time. [`Signer::sign_url`](crate::sign::Signer::sign_url) and
/// [`CustomPolicy::builder`](crate::sign::CustomPolicy::builder) take
/// either, through `From`.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use cfsign::time::When;
/// let now = UNIX_EPOCH + Duration::from_millis(1_893_456_000_700);
/// assert_eq!(When::from(Duration::from_secs(60)).epoch_from(now), 1_893_456_060);
/// assert_eq!(When::from(now).epoch_from(SystemTime::now()), 1_893_456_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// This long after the moment of signing.
    In(Duration),
    /// At this time.
    At(SystemTime),
}

impl From<Duration> for When {
    fn from(d: Duration) -> Self {
        When::In(d)
    }
}

impl From<SystemTime> for When {
    fn from(t: SystemTime) -> Self {
        When::At(t)
    }
}

impl When {
    /// The Unix second this moment falls in, counting a span from `now`.
    /// Fractions are dropped (an expiry comes a fraction early, never
    /// late); times before 1970 are negative, which policies refuse; times
    /// beyond what an [`Epoch`] holds saturate.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use cfsign::time::When;
    /// let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// assert_eq!(When::In(Duration::from_millis(1_500)).epoch_from(now), 1_800_000_001);
    /// assert_eq!(When::At(UNIX_EPOCH - Duration::from_millis(500)).epoch_from(now), -1);
    /// assert_eq!(When::In(Duration::MAX).epoch_from(now), i64::MAX);
    /// ```
    pub fn epoch_from(&self, now: SystemTime) -> Epoch {
        let t = match self {
            When::In(d) => now.checked_add(*d),
            When::At(t) => Some(*t),
        };
        match t.map(|t| t.duration_since(UNIX_EPOCH)) {
            None => Epoch::MAX,
            Some(Ok(after)) => Epoch::try_from(after.as_secs()).unwrap_or(Epoch::MAX),
            // Before 1970: the second it falls in, rounded down.
            Some(Err(e)) => {
                let before = e.duration();
                let secs = Epoch::try_from(before.as_secs()).unwrap_or(Epoch::MAX);
                -secs - Epoch::from(before.subsec_nanos() > 0)
            }
        }
    }
}

/// A span of time as a user types it, such as `90s`, `15m`, `1h30m`, `1h 30m`, `90min` or `7d`.
///
/// ```
/// let d: cfsign::time::HumanDuration = "1h 30m".parse().unwrap();
/// assert_eq!(d.seconds(), 5400);
/// assert_eq!(d.to_string(), "1h30m");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(u64);

impl HumanDuration {
    /// A duration of `seconds` (not checked: for durations the program
    /// computed, such as how long ago something expired).
    ///
    /// ```
    /// let d = cfsign::time::HumanDuration::from_seconds(5400);
    /// assert_eq!(d.to_string(), "1h30m");
    /// ```
    pub fn from_seconds(seconds: u64) -> Self {
        HumanDuration(seconds)
    }

    /// The duration in seconds.
    ///
    /// ```
    /// let d: cfsign::time::HumanDuration = "2d".parse().unwrap();
    /// assert_eq!(d.seconds(), 2 * 86_400);
    /// ```
    pub fn seconds(&self) -> u64 {
        self.0
    }

    /// The two largest units, for messages: `3d4h`, `2h5m`, `41s`.
    ///
    /// ```
    /// assert_eq!(cfsign::time::HumanDuration::from_seconds(90061).rough(), "1d1h");
    /// ```
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

/// When a signed URL stops working, as the user asked for it (the command
/// line's `--expires-in` or `--date-less-than`).
///
/// ```
/// use cfsign::time::Expiry;
/// let now = 1_800_000_000;
/// assert_eq!(Expiry::default().resolve(now, false), Ok(now + 3600));
/// assert_eq!(Expiry::At("2030-01-01".into()).resolve(now, false), Ok(1_893_456_000));
/// assert!(Expiry::At("2020-01-01".into()).resolve(now, false).is_err());
/// assert!(Expiry::At("2020-01-01".into()).resolve(now, true).is_ok());
/// ```
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
    ///
    /// ```
    /// use cfsign::time::{Expiry, TimeError};
    /// let now = 1_800_000_000;
    /// let in_an_hour = Expiry::In("1h".parse().unwrap());
    /// assert_eq!(in_an_hour.resolve(now, false), Ok(now + 3600));
    /// assert_eq!(Expiry::At("2030-01-01".into()).resolve(now, false), Ok(1_893_456_000));
    /// // Milliseconds are a mistake unless the caller says otherwise.
    /// let millis = Expiry::At("1893456000000".into());
    /// assert!(matches!(millis.resolve(now, false), Err(TimeError::Milliseconds(_))));
    /// ```
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
