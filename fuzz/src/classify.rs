//! `policy::classify::classify` with arbitrary status, headers and body.
//!
//! Input layout (HTTP-like, so seeds are readable): a first line `STATUS [WALL_SECS]`, header
//! lines `name: value`, an empty line, then the body. Unparsable header lines are skipped; a
//! status outside 100–999 is folded into it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{HeaderName, HeaderValue, LOCATION, RETRY_AFTER};
use http::{HeaderMap, StatusCode};
use nomic_agent_core::policy::classify::{Classification, ClassifyConfig, ErrorKind, classify};
use nomic_agent_core::policy::retry_after::{RetryAfterPolicy, parse_retry_after};
use nomic_agent_core::wire::decode_error_body;

/// A parsed input.
struct Input<'a> {
    status: StatusCode,
    wall: SystemTime,
    headers: HeaderMap,
    body: &'a [u8],
}

fn parse(data: &[u8]) -> Input<'_> {
    let mut lines = data.split_inclusive(|b| *b == b'\n');
    let mut consumed = 0;
    let first = lines.next().unwrap_or_default();
    consumed += first.len();
    let first = String::from_utf8_lossy(first);
    let mut words = first.split_ascii_whitespace();
    let code = words
        .next()
        .and_then(|w| w.parse::<u64>().ok())
        .unwrap_or(200);
    let code = u16::try_from(100 + code % 900).expect("below 1000");
    let status = StatusCode::from_u16(code).expect("100-999 is a valid status");
    let wall_secs = words
        .next()
        .and_then(|w| w.parse::<u64>().ok())
        .unwrap_or(784_111_767);
    let wall = UNIX_EPOCH + Duration::from_secs(wall_secs % 253_402_300_800);
    let mut headers = HeaderMap::new();
    for line in lines {
        consumed += line.len();
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii_start());
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    Input {
        status,
        wall,
        headers,
        body: &data[consumed.min(data.len())..],
    }
}

/// Classifies the response in `data` under two caps.
pub fn check(data: &[u8]) {
    let input = parse(data);
    for cap in [0u64, 120] {
        let cfg = ClassifyConfig::new(RetryAfterPolicy::with_cap(Duration::from_secs(cap)));
        let got = classify(input.status, &input.headers, input.body, input.wall, &cfg);
        check_one(&input, &got, Duration::from_secs(cap));
    }
}

fn check_one(input: &Input<'_>, got: &Classification, cap: Duration) {
    use ErrorKind as K;
    let code = input.status.as_u16();
    // The Retry-After the first header says, before the cap.
    let said = input
        .headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, input.wall));
    let check_wait = |wait: Option<Duration>| match (wait, said) {
        (Some(w), Some(s)) => {
            assert!(w <= cap, "Retry-After over the cap");
            assert!(w <= s, "Retry-After longer than the header says");
            assert_eq!(w, s.min(cap));
        }
        (Some(_), None) => panic!("a Retry-After the header does not give"),
        (None, Some(_)) => panic!("a usable Retry-After was dropped"),
        (None, None) => {}
    };
    let e = match got {
        Classification::Success => {
            assert!((200..300).contains(&code), "Success for {code}");
            return;
        }
        Classification::Error(e) => e,
    };
    assert!(!(200..300).contains(&code), "an error for {code}");
    assert_eq!(e.status(), code);
    // The body's words come from the one decoder, or not at all.
    let body = decode_error_body(input.body);
    assert_eq!(e.code(), body.as_ref().and_then(|b| b.code.as_deref()));
    assert_eq!(
        e.issues(),
        body.as_ref().map_or(&[][..], |b| b.issues.as_slice())
    );
    match e.kind() {
        K::Redirect => {
            assert!((300..400).contains(&code));
            let header = input.headers.get(LOCATION).and_then(|v| v.to_str().ok());
            assert_eq!(e.location(), header);
        }
        K::RateLimited => {
            assert_eq!(code, 429);
            check_wait(e.retry_after());
        }
        K::SpendLimited => {
            assert_eq!(code, 429);
            assert_eq!(e.retry_after(), None, "a spend cap is not waited out");
        }
        K::ServerError => {
            assert!(matches!(code, 500 | 502 | 503 | 504));
            check_wait(e.retry_after());
        }
        K::NotFound => assert_eq!(code, 404),
        K::Unauthorized => assert_eq!(code, 401),
        K::Forbidden => assert_eq!(code, 403),
        K::Invalid => assert!(matches!(code, 400 | 422)),
        K::Conflict => assert_eq!(code, 409),
        K::PayloadTooLarge => assert_eq!(code, 413),
        K::Other => {
            assert!(
                !matches!(
                    code,
                    200..=399 | 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429
                ) && !matches!(code, 500 | 502 | 503 | 504),
                "{code} classified as Other"
            );
        }
        other => panic!("unexpected kind {other:?}"),
    }
    if !matches!(e.kind(), K::RateLimited | K::ServerError) {
        assert_eq!(e.retry_after(), None, "a Retry-After where waiting does not help");
    }
}
