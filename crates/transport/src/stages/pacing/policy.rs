use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, StatusCode};
use nomic_agent_core::policy::retry_after::RetryAfterPolicy;

static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Whether [`hold_for`] could say anything: a 429 or a rate-limit header. Checked first so an
/// ordinary response costs one lookup and no wall-clock read.
pub(super) fn may_hold(status: StatusCode, headers: &HeaderMap) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || headers.contains_key(&REMAINING)
}

/// How long the tier should stay closed after this response, if at all: a 429's capped
/// `Retry-After`, or the time to `X-RateLimit-Reset` when `X-RateLimit-Remaining` is 0.
pub(super) fn hold_for(
    status: StatusCode,
    headers: &HeaderMap,
    wall_now: SystemTime,
    retry_after: &RetryAfterPolicy,
) -> Option<Duration> {
    if status == StatusCode::TOO_MANY_REQUESTS
        && let Some(d) = retry_after.resolve(headers, wall_now)
    {
        return Some(d);
    }
    // Pre-built names: no per-response parsing of the name, and most responses carry neither.
    let header_u64 = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if header_u64(&REMAINING) == Some(0) {
        let reset = header_u64(&RESET)?;
        let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset))?;
        let wait = at.duration_since(wall_now).unwrap_or(Duration::ZERO);
        // The same cap as Retry-After: a bogus reset must not park the client.
        return Some(wait.min(retry_after.cap));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_on_429_and_remaining_zero() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let p = RetryAfterPolicy::default();
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            hold_for(StatusCode::TOO_MANY_REQUESTS, &h, wall, &p),
            Some(Duration::from_secs(7))
        );
        assert_eq!(hold_for(StatusCode::OK, &h, wall, &p), None);
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1012"),
        ]);
        assert_eq!(
            hold_for(StatusCode::OK, &h, wall, &p),
            Some(Duration::from_secs(12))
        );
        let h = headers(&[
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", "1012"),
        ]);
        assert_eq!(hold_for(StatusCode::OK, &h, wall, &p), None);
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "99999999"),
        ]);
        assert_eq!(hold_for(StatusCode::OK, &h, wall, &p), Some(p.cap));
    }
}
