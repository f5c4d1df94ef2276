//! Property tests for the pure policies: no input makes them panic, and their documented bounds
//! hold for any settings.

use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, HeaderValue, StatusCode};
use nomic_agent_core::RequestKind;
use nomic_agent_core::policy::backoff::Backoff;
use nomic_agent_core::policy::budget::RetryBudget;
use nomic_agent_core::policy::classify::{Classification, ClassifyConfig, ErrorKind, classify};
use nomic_agent_core::policy::gcra::Gcra;
use nomic_agent_core::policy::poll::{PollClock, PollSchedule};
use nomic_agent_core::policy::retry::{
    AttemptOutcome, RetryConfig, RetryDecision, SendFailure, decide,
};
use nomic_agent_core::policy::retry_after::parse_retry_after;
use nomic_agent_core::rng::Rng;
use proptest::prelude::*;

#[allow(clippy::disallowed_methods)] // one base instant; only offsets matter
fn base() -> Instant {
    Instant::now() + Duration::from_secs(1_000_000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn retry_after_accepts_exactly_digit_strings(s in "\\PC{0,40}", wall in 0u64..4_000_000_000) {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(wall);
        let got = parse_retry_after(&s, wall);
        let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            let want = t.parse::<u64>().unwrap_or(u64::MAX);
            prop_assert_eq!(got, Some(Duration::from_secs(want)));
        } else if httpdate::parse_http_date(t).is_err() {
            prop_assert_eq!(got, None);
        }
    }

    #[test]
    fn poll_delay_stays_in_bounds(
        initial_ms in 1u64..100_000,
        extra_ms in 0u64..1_000_000,
        factor in 1.0f64..16.0,
        jitter in 0.0f64..0.99,
        attempt in any::<u32>(),
        seed in any::<u64>(),
    ) {
        let s = PollSchedule::default()
            .with_initial(Duration::from_millis(initial_ms))
            .with_max(Duration::from_millis(initial_ms + extra_ms))
            .with_factor(factor)
            .with_jitter(jitter);
        prop_assert!(s.validate().is_ok());
        let d = s.delay(attempt, &mut Rng::seed(seed));
        prop_assert!(d >= s.floor() && d <= s.max, "{:?} not in [{:?}, {:?}]", d, s.floor(), s.max);
        let b = Backoff::default()
            .with_initial(Duration::from_millis(initial_ms))
            .with_max(Duration::from_millis(initial_ms + extra_ms))
            .with_factor(factor)
            .with_jitter(jitter);
        prop_assert!(b.delay(attempt, &mut Rng::seed(seed)) <= b.max);
    }

    #[test]
    fn poll_clock_never_passes_its_deadline(
        deadline_ms in 1u64..600_000,
        gaps in proptest::collection::vec(0u64..100_000, 1..60),
        seed in any::<u64>(),
    ) {
        let t0 = base();
        let s = PollSchedule::default().with_deadline(Some(Duration::from_millis(deadline_ms)));
        let deadline = t0 + Duration::from_millis(deadline_ms);
        let mut clock = PollClock::new(s, t0);
        let mut rng = Rng::seed(seed);
        let mut now = t0;
        let mut at_deadline = 0;
        for (n, gap) in gaps.iter().enumerate() {
            match clock.next_poll(now, n as u32, &mut rng) {
                Some(at) => {
                    prop_assert!(at >= now);
                    prop_assert!(at <= deadline.max(now));
                    if at >= deadline { at_deadline += 1; }
                    now = at + Duration::from_millis(*gap);
                }
                None => prop_assert!(clock.is_exhausted()),
            }
        }
        prop_assert!(at_deadline <= 1);
    }

    #[test]
    fn gcra_never_panics_and_never_exceeds_its_rate(
        per_minute in 0u32..100_000,
        burst in 0u32..1_000,
        offsets in proptest::collection::vec(0u64..10_000_000, 1..200),
        penalty in proptest::option::of(0u64..u64::MAX / 4),
    ) {
        let t0 = base();
        let mut g = Gcra::new(per_minute, burst);
        if let Some(p) = penalty {
            g.penalize_until(t0.checked_add(Duration::from_millis(p)).unwrap_or(t0));
        }
        let mut sorted = offsets.clone();
        sorted.sort_unstable();
        let mut granted = 0u64;
        for off in &sorted {
            let now = t0 + Duration::from_millis(*off);
            match g.try_acquire(now) {
                Ok(()) => granted += 1,
                Err(at) => prop_assert!(at > now),
            }
        }
        // Over the span, at most burst + span / interval permits.
        let span = Duration::from_millis(*sorted.last().unwrap() - sorted[0]);
        let bound = u64::from(burst.max(1)) + (span.as_nanos() / g.interval().as_nanos()) as u64;
        prop_assert!(granted <= bound, "{} > {}", granted, bound);
        // Unordered instants must not panic either.
        for off in &offsets {
            let _ = g.try_acquire(t0 + Duration::from_millis(*off));
        }
    }

    #[test]
    fn classify_never_panics_and_429_splits_cleanly(
        status in 100u16..1000,
        body in proptest::collection::vec(any::<u8>(), 0..200),
        retry_after in proptest::option::of("[ -~]{0,30}"),
    ) {
        let mut headers = HeaderMap::new();
        if let Some(ra) = &retry_after && let Ok(v) = HeaderValue::from_str(ra) {
            headers.insert(http::header::RETRY_AFTER, v);
        }
        let status = StatusCode::from_u16(status).unwrap();
        let c = classify(status, &headers, &body, SystemTime::UNIX_EPOCH, &ClassifyConfig::default());
        if status.as_u16() == 429 {
            let is_429_kind = matches!(
                c.kind(),
                Some(ErrorKind::RateLimited | ErrorKind::SpendLimited)
            );
            prop_assert!(is_429_kind);
        }
        prop_assert_eq!(c == Classification::Success, status.is_success());
        if let Some(e) = c.error() {
            prop_assert_eq!(e.status(), status.as_u16());
            if let Some(d) = e.retry_after() {
                prop_assert!(d <= Duration::from_secs(120));
                prop_assert!(matches!(e.kind(), ErrorKind::RateLimited | ErrorKind::ServerError));
            }
        }
    }

    #[test]
    fn non_idempotent_requests_are_only_resent_when_certainly_not_acted_on(
        failure in prop_oneof![Just(SendFailure::NotSent), Just(SendFailure::MaybeSent), Just(SendFailure::TimedOut)],
        status in prop_oneof![Just(429u16), Just(500), Just(502), Just(503), Just(504), Just(400), Just(409)],
        use_status in any::<bool>(),
        attempt in 0u32..10,
        seed in any::<u64>(),
    ) {
        let outcome = if use_status {
            let c = classify(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), b"{}", SystemTime::UNIX_EPOCH, &ClassifyConfig::default());
            AttemptOutcome::Response(c)
        } else {
            AttemptOutcome::Failed(failure)
        };
        let cfg = RetryConfig::default();
        for kind in [RequestKind::Launch, RequestKind::FollowUp, RequestKind::Upload] {
            let d = decide(kind, &outcome, attempt, &cfg, &mut Rng::seed(seed));
            if let RetryDecision::Retry { after } = d {
                let safe = match &outcome {
                    AttemptOutcome::Failed(f) => *f == SendFailure::NotSent,
                    AttemptOutcome::Response(c) => c.kind() == Some(ErrorKind::RateLimited),
                };
                prop_assert!(safe, "{:?} retried after {:?}", kind, outcome);
                prop_assert!(after <= Duration::from_secs(120));
                prop_assert!(attempt < cfg.max_attempts);
            }
        }
    }

    #[test]
    fn budget_never_grants_more_than_floor_plus_ratio(
        firsts in 0u32..500,
        asks in 0u32..500,
    ) {
        let t0 = base();
        let mut b = RetryBudget::default();
        for _ in 0..firsts { b.deposit(t0); }
        let granted = (0..asks).filter(|_| b.try_withdraw(t0)).count() as u32;
        // The floor plus the ratio of the window's first attempts: no fixed cap on top.
        let cap = 10 + firsts / 5;
        prop_assert_eq!(granted, asks.min(cap));
    }
}
