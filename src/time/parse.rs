//! Reading a time as the AWS CLI's `--date-less-than` does, without the
//! guesses that sign for the wrong moment.

use chrono::NaiveDate;

use super::{Epoch, TimeError};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
