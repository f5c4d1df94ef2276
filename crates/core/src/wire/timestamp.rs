//! Server timestamps, kept as sent and parsed on demand.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An RFC 3339 timestamp exactly as the server sent it (`2026-04-25T12:00:00.000Z`).
///
/// The raw string is kept so nothing is lost when re-serialized; [`Timestamp::unix_millis`]
/// parses it. Equality (`==`) compares the raw strings; [`Timestamp::differs_from`] is the
/// comparison the follow-up race uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// Wraps a raw timestamp string (not validated).
    pub fn new(raw: impl Into<String>) -> Self {
        Timestamp(raw.into())
    }

    /// Formats unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the server's own format.
    /// Returns `None` outside the years 0000–9999.
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        let days = millis.div_euclid(86_400_000);
        let rem = millis.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let (h, min, s, ms) = (
            rem / 3_600_000,
            rem / 60_000 % 60,
            rem / 1000 % 60,
            rem % 1000,
        );
        Some(Timestamp(format!(
            "{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z"
        )))
    }

    /// The raw string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Milliseconds since the Unix epoch, or `None` when the string is not RFC 3339.
    /// Fractions beyond milliseconds are truncated; offsets are applied.
    pub fn unix_millis(&self) -> Option<i64> {
        parse_rfc3339_millis(&self.0)
    }

    /// True when `self` and `other` denote different moments: identical raw strings never
    /// differ; when both parse, the parsed instants decide (so `…00.000Z` and `…00Z` are the
    /// same moment); when either does not parse, differing raw strings count as a change.
    pub fn differs_from(&self, other: &Timestamp) -> bool {
        if self.0 == other.0 {
            return false;
        }
        match (self.unix_millis(), other.unix_millis()) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Timestamp {
    fn from(raw: &str) -> Self {
        Timestamp(raw.to_owned())
    }
}

/// A small cursor over ASCII digits.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let slice = self.bytes.get(self.pos..self.pos + n)?;
        let mut value = 0i64;
        for b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(b - b'0');
        }
        self.pos += n;
        Some(value)
    }

    fn expect(&mut self, accept: &[u8]) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        if accept.contains(&b) {
            self.pos += 1;
            Some(b)
        } else {
            None
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
}

fn parse_rfc3339_millis(s: &str) -> Option<i64> {
    let mut c = Cursor {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4)?;
    c.expect(b"-")?;
    let month = c.digits(2)?;
    c.expect(b"-")?;
    let day = c.digits(2)?;
    c.expect(b"Tt ")?;
    let hour = c.digits(2)?;
    c.expect(b":")?;
    let minute = c.digits(2)?;
    c.expect(b":")?;
    let second = c.digits(2)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        // 60 is a leap second; it is counted as the next second's start.
        || second > 60
    {
        return None;
    }
    let mut millis = 0i64;
    if c.peek() == Some(b'.') {
        c.pos += 1;
        let mut count = 0usize;
        while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
            if count < 3 {
                millis = millis * 10 + i64::from(b - b'0');
            }
            count += 1;
            c.pos += 1;
        }
        if count == 0 {
            return None;
        }
        for _ in count..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match c.expect(b"Zz+-")? {
        b'Z' | b'z' => 0,
        sign => {
            let oh = c.digits(2)?;
            c.expect(b":")?;
            let om = c.digits(2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let total = oh * 60 + om;
            if sign == b'-' { -total } else { total }
        }
    };
    if c.pos != c.bytes.len() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Option<i64> {
        Timestamp::from(s).unix_millis()
    }

    #[test]
    fn parses_known_instants() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(ms("1970-01-01T00:00:00.001Z"), Some(1));
        // 2026-04-25T12:00:00Z = 1777118400 seconds.
        assert_eq!(ms("2026-04-25T12:00:00.000Z"), Some(1_777_118_400_000));
        assert_eq!(ms("2026-04-25T14:00:00.000+02:00"), Some(1_777_118_400_000));
        assert_eq!(ms("2026-04-25t11:30:00.5-00:30"), Some(1_777_118_400_500));
        assert_eq!(
            ms("2026-04-25T12:00:00.123456789Z"),
            Some(1_777_118_400_123)
        );
        assert_eq!(ms("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2026-04-25",
            "2026-04-25T12:00:00",
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-04-25T24:00:00Z",
            "2026-04-25T12:60:00Z",
            "2026-04-25T12:00:00.Z",
            "2026-04-25T12:00:00Zjunk",
            "2026-04-25T12:00:00+0200",
            "2026-04-25T12:00:00+24:00",
            "２026-04-25T12:00:00Z",
        ] {
            assert_eq!(ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_and_round_trips() {
        for millis in [0, 1, -1, 1_777_118_400_123, 253_402_300_799_999] {
            let t = Timestamp::from_unix_millis(millis).unwrap();
            assert_eq!(t.unix_millis(), Some(millis), "{t}");
        }
        assert_eq!(
            Timestamp::from_unix_millis(1_777_118_400_000)
                .unwrap()
                .as_str(),
            "2026-04-25T12:00:00.000Z"
        );
        assert_eq!(Timestamp::from_unix_millis(253_402_300_800_000), None);
    }

    #[test]
    fn differs_from_uses_raw_and_parsed() {
        let a = Timestamp::from("2026-04-25T12:00:00.000Z");
        let same_instant = Timestamp::from("2026-04-25T12:00:00Z");
        let later = Timestamp::from("2026-04-25T12:00:00.001Z");
        let junk = Timestamp::from("yesterday");
        assert!(!a.differs_from(&a.clone()));
        assert!(!a.differs_from(&same_instant));
        assert_ne!(a, same_instant);
        assert!(a.differs_from(&later));
        assert!(a.differs_from(&junk));
        assert!(!junk.differs_from(&Timestamp::from("yesterday")));
    }
}
