//! `policy::retry_after::parse_retry_after` and `RetryAfterPolicy::resolve`: the result never
//! exceeds what the input says, and garbage is `None`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::{HeaderValue, RETRY_AFTER};
use nomic_agent_core::policy::retry_after::{RetryAfterPolicy, parse_retry_after};

/// Wall clocks every input is parsed against, earliest first.
const WALLS: [u64; 4] = [0, 784_111_767, 1_777_118_400, 253_402_300_799];

/// `data` is one header value.
pub fn check(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return check_header(data);
    };
    let trimmed = value.trim_matches(|c: char| c.is_ascii_whitespace());
    let date = httpdate::parse_http_date(trimmed).ok();
    let mut previous: Option<(SystemTime, Duration)> = None;
    for secs in WALLS {
        let wall = UNIX_EPOCH + Duration::from_secs(secs);
        let got = parse_retry_after(value, wall);
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            // Oracle: delta-seconds, saturating at u64::MAX.
            let expected = trimmed.parse::<u64>().unwrap_or(u64::MAX);
            assert_eq!(got, Some(Duration::from_secs(expected)), "delta-seconds");
            assert_eq!(parse_retry_after(&expected.to_string(), wall), got);
        } else if let Some(at) = date {
            let got = got.expect("an HTTP-date is accepted");
            // Never more than the time left until the date, and zero once it has passed.
            let left = at.duration_since(wall).unwrap_or(Duration::ZERO);
            assert_eq!(got, left, "HTTP-date wait");
            if let Some((earlier, was)) = previous {
                let elapsed = wall.duration_since(earlier).expect("walls ascend");
                assert!(got <= was && was - got <= elapsed, "waits shrink with time");
            }
            previous = Some((wall, got));
        } else {
            assert_eq!(got, None, "garbage accepted: {value:?}");
        }
    }
    check_header(data);
}

/// The policy's cap always holds, for any header bytes.
fn check_header(data: &[u8]) {
    let Ok(header) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, header);
    for cap in [0, 3, 120] {
        let policy = RetryAfterPolicy::with_cap(Duration::from_secs(cap));
        let got = policy.resolve(&headers, UNIX_EPOCH + Duration::from_secs(WALLS[1]));
        if let Some(d) = got {
            assert!(d <= Duration::from_secs(cap), "cap exceeded");
        }
        match std::str::from_utf8(data) {
            Ok(s) => {
                let raw = parse_retry_after(s, UNIX_EPOCH + Duration::from_secs(WALLS[1]));
                assert_eq!(got, raw.map(|d| d.min(Duration::from_secs(cap))));
            }
            Err(_) => assert_eq!(got, None, "non-text header used"),
        }
    }
}
