//! `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, garbage ignored, capped.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::RETRY_AFTER;

/// Parses one `Retry-After` value.
///
/// - delta-seconds: ASCII digits only after trimming white space; a huge number saturates
///   rather than overflowing;
/// - HTTP-date: any form `httpdate` accepts (IMF-fixdate, RFC 850, asctime); a date at or before
///   `wall_now` gives `Duration::ZERO`.
///
/// Anything else (`120junk`, `-3`, `1.5`, `1e999`, empty) is `None`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use nomic_agent_core::policy::retry_after::parse_retry_after;
/// assert_eq!(parse_retry_after(" 120 ", SystemTime::UNIX_EPOCH), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("soon", SystemTime::UNIX_EPOCH), None);
/// ```
pub fn parse_retry_after(value: &str, wall_now: SystemTime) -> Option<Duration> {
    let v = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        let secs = v.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(wall_now).unwrap_or(Duration::ZERO))
}

/// How much of a server's `Retry-After` we are willing to honour.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryAfterPolicy {
    /// Longest wait taken from a `Retry-After`. Default 120 s, so a broken or hostile header
    /// cannot park a client for hours.
    pub cap: Duration,
}

impl Default for RetryAfterPolicy {
    fn default() -> Self {
        RetryAfterPolicy {
            cap: Duration::from_secs(120),
        }
    }
}

impl RetryAfterPolicy {
    /// A policy with the given cap.
    pub fn with_cap(cap: Duration) -> Self {
        RetryAfterPolicy { cap }
    }

    /// The capped `Retry-After` of a response, or `None` when it is absent, not text or garbage.
    /// With several headers, the first one counts.
    pub fn resolve(&self, headers: &HeaderMap, wall_now: SystemTime) -> Option<Duration> {
        let raw = headers.get(RETRY_AFTER)?.to_str().ok()?;
        parse_retry_after(raw, wall_now).map(|d| d.min(self.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn wall(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn delta_seconds() {
        let now = wall(0);
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after("  120\t", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("007", now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn huge_numbers_saturate() {
        let d = parse_retry_after(&"9".repeat(400), wall(0)).unwrap();
        assert_eq!(d, Duration::from_secs(u64::MAX));
        assert_eq!(
            parse_retry_after("18446744073709551616", wall(0)),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn garbage_is_none() {
        for g in [
            "",
            " ",
            "\t \t",
            "120junk",
            "-3",
            "+3",
            "1e999",
            "1.5",
            "soon",
            "1 2",
            "１２",
            "Mon, 32 Foo 2026 00:00:00 GMT",
            "0x10",
        ] {
            assert_eq!(parse_retry_after(g, wall(0)), None, "{g:?}");
        }
    }

    #[test]
    fn http_dates_use_the_injected_wall_clock() {
        // 1994-11-06T08:49:37Z == 784111777 (RFC 9110's example date).
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            parse_retry_after(date, wall(784_111_777 - 30)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after(date, wall(784_111_777)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(date, wall(784_111_777 + 500)),
            Some(Duration::ZERO)
        );
        // The obsolete forms httpdate also accepts.
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", wall(784_111_770)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:37 1994", wall(784_111_770)),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn resolve_caps_and_ignores_garbage() {
        let p = RetryAfterPolicy::default();
        assert_eq!(p.cap, Duration::from_secs(120));
        let mut h = HeaderMap::new();
        assert_eq!(p.resolve(&h, wall(0)), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        assert_eq!(p.resolve(&h, wall(0)), Some(Duration::from_secs(5)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(p.resolve(&h, wall(0)), Some(Duration::from_secs(120)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("later"));
        assert_eq!(p.resolve(&h, wall(0)), None);
        h.insert(RETRY_AFTER, HeaderValue::from_bytes(b"\xff1").unwrap());
        assert_eq!(p.resolve(&h, wall(0)), None);
        let small = RetryAfterPolicy::with_cap(Duration::from_secs(3));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            small.resolve(&h, wall(784_111_700)),
            Some(Duration::from_secs(3))
        );
    }
}
