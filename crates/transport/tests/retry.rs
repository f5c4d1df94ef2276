//! Retry, backoff, budget, per-attempt timeout and deadline, with paused time and an in-memory
//! inner service: every sleep is asserted exactly.

mod support;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use nomic_agent_core::policy::backoff::Backoff;
use nomic_agent_core::policy::budget::RetryBudget;
use nomic_agent_core::policy::gcra::{TierLimit, TierLimits};
use nomic_agent_core::policy::retry::RetryConfig;
use nomic_agent_core::policy::retry_after::RetryAfterPolicy;
use nomic_agent_core::request::Endpoint;
use nomic_agent_core::rng::Rng;
use nomic_agent_transport::{
    Body, Deadline, OutcomeUnknown, Transport, TransportConfig, WallClock,
};
use support::mock::{Mock, Reply, status, with_headers};
use tokio::time::Instant;

const BASE: &str = "http://127.0.0.1:9/api/v0";

fn cfg(test: &str) -> TransportConfig {
    support::config(test, BASE).seed(7)
}

fn get() -> Request<Body> {
    Request::get("/agents").body(Body::empty()).unwrap()
}

fn launch() -> Request<Body> {
    let mut req = Request::post("/agents")
        .body(Body::from(r#"{"prompt":{"text":"hi"}}"#))
        .unwrap();
    req.extensions_mut().insert(Endpoint::LaunchAgent);
    req
}

fn no_jitter(initial_ms: u64) -> Backoff {
    Backoff::default()
        .with_initial(Duration::from_millis(initial_ms))
        .with_jitter(0.0)
}

#[tokio::test(start_paused = true)]
async fn retry_after_delta_is_honoured_exactly() {
    let mock = Mock::new(vec![
        with_headers(429, &[("retry-after", "3")]),
        status(200),
    ]);
    let t = Transport::with_service(cfg("ra_delta"), mock.clone()).unwrap();
    let resp = t.send(get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(mock.gaps_ms(), vec![3000]);
    support::assert_no_secret(&format!("{resp:?}"));
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_uses_the_injected_wall_clock() {
    // 1_700_000_000 s is Tue, 14 Nov 2023 22:13:20 GMT; the header says 7 s later.
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mock = Mock::new(vec![
        with_headers(429, &[("retry-after", "Tue, 14 Nov 2023 22:13:27 GMT")]),
        status(200),
    ]);
    let c = cfg("ra_date").wall_clock(WallClock::new(move || wall));
    let t = Transport::with_service(c, mock.clone()).unwrap();
    assert_eq!(t.send(get()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(mock.gaps_ms(), vec![7000]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_capped() {
    let mock = Mock::new(vec![
        with_headers(503, &[("retry-after", "3600")]),
        status(200),
    ]);
    let retry = RetryConfig::default()
        .with_retry_after(RetryAfterPolicy::with_cap(Duration::from_secs(10)));
    let t = Transport::with_service(cfg("ra_cap").retry(retry), mock.clone()).unwrap();
    assert_eq!(t.send(get()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(mock.gaps_ms(), vec![10_000]);
}

#[tokio::test(start_paused = true)]
async fn backoff_follows_core_with_jitter_in_bounds() {
    let backoff = Backoff::default()
        .with_initial(Duration::from_secs(1))
        .with_factor(2.0)
        .with_max(Duration::from_secs(10))
        .with_jitter(0.5);
    let mock = Mock::new(vec![status(503), status(502), status(500), status(200)]);
    let retry = RetryConfig::default()
        .with_max_attempts(5)
        .with_backoff(backoff.clone());
    let t = Transport::with_service(cfg("jitter").retry(retry).seed(42), mock.clone()).unwrap();
    assert_eq!(t.send(get()).await.unwrap().status(), StatusCode::OK);
    let gaps = mock.gaps_ms();
    let mut rng = Rng::seed(42);
    let expected: Vec<u128> = (0..3)
        .map(|n| backoff.delay(n, &mut rng).as_millis())
        .collect();
    assert_eq!(gaps.len(), 3);
    for (i, (got, want)) in gaps.iter().zip(&expected).enumerate() {
        // Timers have millisecond resolution: a sub-millisecond remainder rounds up.
        assert!(
            got.abs_diff(*want) <= 1,
            "retry {i}: slept {got} ms, core said {want} ms"
        );
        let base = 1000u128 << i;
        assert!(
            *got >= base / 2 && *got <= base * 3 / 2 + 1,
            "retry {i}: {got} ms out of bounds"
        );
    }
    // Jitter actually moved something: not all three equal their un-jittered base.
    assert_ne!(gaps, vec![1000, 2000, 4000]);
}

#[tokio::test(start_paused = true)]
async fn retry_budget_exhaustion_stops_retries() {
    let retry = RetryConfig::default()
        .with_max_attempts(10)
        .with_backoff(no_jitter(100));
    // No earned tokens, a floor of two retries per minute.
    let budget = RetryBudget::new(0.0, 2, Duration::from_secs(60));
    let mock = Mock::default().then_always(503);
    let t = Transport::with_service(
        cfg("budget").retry(retry).retry_budget(budget),
        mock.clone(),
    )
    .unwrap();
    assert_eq!(
        t.send(get()).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        mock.calls().len(),
        3,
        "one attempt plus the two retries the floor allows"
    );
    // A clone shares the budget: no retry left in this window.
    assert_eq!(
        t.clone().send(get()).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(mock.calls().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn max_attempts_bounds_retries() {
    let retry = RetryConfig::default()
        .with_max_attempts(3)
        .with_backoff(no_jitter(500));
    let mock = Mock::default().then_always(500);
    let t = Transport::with_service(cfg("max_attempts").retry(retry), mock.clone()).unwrap();
    assert_eq!(
        t.send(get()).await.unwrap().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(mock.gaps_ms(), vec![500, 1000]);
}

#[tokio::test(start_paused = true)]
async fn launch_that_may_have_been_received_is_not_resent() {
    let mock = Mock::new(vec![Reply::MaybeSent]).then_always(201);
    let t = Transport::with_service(cfg("launch_maybe"), mock.clone()).unwrap();
    let err = t.send(launch()).await.unwrap_err();
    assert!(err.outcome_unknown() && err.was_sent(), "{err:?}");
    assert_eq!(mock.calls().len(), 1);
    support::assert_no_secret(&format!("{err:?} {err}"));
}

#[tokio::test(start_paused = true)]
async fn launch_not_sent_is_resent() {
    let mock = Mock::new(vec![Reply::NotSent, status(201)]);
    let retry = RetryConfig::default().with_backoff(no_jitter(100));
    let t = Transport::with_service(cfg("launch_notsent").retry(retry), mock.clone()).unwrap();
    assert_eq!(
        t.send(launch()).await.unwrap().status(),
        StatusCode::CREATED
    );
    // Heavy tier: 30/min, so the resend waits for the next 2 s slot, not just the 100 ms backoff.
    assert_eq!(mock.gaps_ms(), vec![2000]);
    assert_eq!(mock.calls()[1].method, Method::POST);
}

#[tokio::test(start_paused = true)]
async fn launch_429_is_resent_but_5xx_is_outcome_unknown() {
    let mock = Mock::new(vec![
        with_headers(429, &[("retry-after", "5")]),
        status(503),
    ]);
    let t = Transport::with_service(cfg("launch_429"), mock.clone()).unwrap();
    let resp = t.send(launch()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.extensions().get::<OutcomeUnknown>().is_some());
    assert_eq!(mock.gaps_ms(), vec![5000]);
}

#[tokio::test(start_paused = true)]
async fn spend_limit_429_is_not_retried() {
    let mock = Mock::new(vec![Reply::Status(
        StatusCode::TOO_MANY_REQUESTS,
        vec![],
        r#"{"error":"Spend limit reached","code":"spend_limit_reached"}"#,
    )])
    .then_always(200);
    let t = Transport::with_service(cfg("spend"), mock.clone()).unwrap();
    let resp = t
        .send_buffered(Request::get("/agents").body(Default::default()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // The body read for classification is handed on intact.
    assert!(
        std::str::from_utf8(resp.body())
            .unwrap()
            .contains("spend_limit_reached")
    );
    assert_eq!(mock.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn reads_are_resent_after_a_reset() {
    let mock = Mock::new(vec![Reply::MaybeSent, status(200)]);
    let retry = RetryConfig::default().with_backoff(no_jitter(300));
    let t = Transport::with_service(cfg("read_reset").retry(retry), mock.clone()).unwrap();
    assert_eq!(t.send(get()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(mock.gaps_ms(), vec![300]);
}

#[tokio::test(start_paused = true)]
async fn streamed_body_is_sent_at_most_once() {
    let mock = Mock::new(vec![Reply::NotSent]).then_always(201);
    let t = Transport::with_service(cfg("stream_once"), mock.clone()).unwrap();
    let body = Body::from_reader(&b"file bytes"[..]);
    let err = t
        .send(Request::post("/files/upload").body(body).unwrap())
        .await
        .unwrap_err();
    assert!(err.is_connect() && !err.was_sent());
    assert_eq!(mock.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_wait_past_the_deadline_returns_at_once() {
    let mock = Mock::new(vec![with_headers(429, &[("retry-after", "30")])]);
    let t = Transport::with_service(
        cfg("ra_deadline").deadline(Duration::from_secs(5)),
        mock.clone(),
    )
    .unwrap();
    let start = Instant::now();
    let resp = t.send(get()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(mock.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn per_attempt_timeout_then_retry() {
    let retry = RetryConfig::default()
        .with_max_attempts(2)
        .with_backoff(no_jitter(100));
    let mock = Mock::new(vec![Reply::Hang, Reply::Hang]);
    let c = cfg("attempt_timeout")
        .retry(retry)
        .attempt_timeout(Duration::from_secs(1));
    let t = Transport::with_service(c, mock.clone()).unwrap();
    let start = Instant::now();
    let err = t.send(get()).await.unwrap_err();
    assert!(err.is_timeout() && !err.is_deadline(), "{err:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(2100));
    assert_eq!(mock.gaps_ms(), vec![1100]);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_holds_across_attempts() {
    let mock = Mock::new(vec![Reply::Hang]);
    let c = cfg("deadline")
        .attempt_timeout(Duration::from_secs(10))
        .deadline(Duration::from_secs(3));
    let t = Transport::with_service(c, mock.clone()).unwrap();
    let start = Instant::now();
    let err = t.send(get()).await.unwrap_err();
    assert!(err.is_deadline() && err.is_timeout(), "{err:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert!(!err.outcome_unknown());
}

#[tokio::test(start_paused = true)]
async fn a_launch_cut_by_the_deadline_is_outcome_unknown() {
    let mock = Mock::new(vec![Reply::Hang]);
    let c = cfg("deadline_launch").deadline(Duration::from_secs(2));
    let t = Transport::with_service(c, mock.clone()).unwrap();
    let err = t.send(launch()).await.unwrap_err();
    assert!(
        err.is_deadline() && err.outcome_unknown() && err.was_sent(),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn per_request_deadline_overrides_the_default() {
    let mock = Mock::new(vec![Reply::Hang]);
    let t = Transport::with_service(cfg("deadline_ext"), mock.clone()).unwrap();
    let start = Instant::now();
    let mut req = get();
    req.extensions_mut()
        .insert(Deadline(start + Duration::from_millis(750)));
    let err = t.send(req).await.unwrap_err();
    assert!(err.is_deadline());
    assert_eq!(start.elapsed(), Duration::from_millis(750));
}

#[tokio::test(start_paused = true)]
async fn the_key_is_sent_sensitive_and_never_shown() {
    let mock = Mock::new(vec![status(200)]);
    let c = cfg("sensitive");
    let shown = format!("{c:?}");
    let t = Transport::with_service(c, mock.clone()).unwrap();
    t.send(get()).await.unwrap();
    let call = &mock.calls()[0];
    let auth = call.headers.get(http::header::AUTHORIZATION).unwrap();
    assert!(auth.is_sensitive());
    assert!(auth.to_str().unwrap().starts_with("Bearer npk_"));
    assert_eq!(call.uri, "http://127.0.0.1:9/api/v0/agents");
    support::assert_no_secret(&format!("{shown} {t:?} {:?}", call.headers));
}

#[tokio::test(start_paused = true)]
async fn another_origin_is_refused_before_sending() {
    let mock = Mock::new(vec![status(200)]);
    let t = Transport::with_service(cfg("origin"), mock.clone()).unwrap();
    let req = Request::get("https://evil.example/api/v0/agents")
        .body(Body::empty())
        .unwrap();
    let err = t.send(req).await.unwrap_err();
    assert!(err.is_invalid_request() && !err.was_sent());
    assert!(mock.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn traces_name_the_route_the_attempt_and_why_it_slept() {
    let mock = Mock::new(vec![
        with_headers(429, &[("retry-after", "2")]),
        status(200),
    ]);
    let t = Transport::with_service(cfg("traced"), mock.clone()).unwrap();
    let mut req = Request::get("/agents/0190b3c2-7d4e-7a1b-8c3d-4e5f6a7b8c9d")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(Endpoint::GetAgent);
    req.extensions_mut().insert(
        "0190b3c2-7d4e-7a1b-8c3d-4e5f6a7b8c9d"
            .parse::<nomic_agent_core::wire::AgentId>()
            .unwrap(),
    );
    t.send(req).await.unwrap();
    let traced = support::captured();
    let line = traced
        .lines()
        // Other tests share the capture: pick this request's line by its agent id.
        .find(|l| {
            l.contains("retrying after a wait")
                && l.contains("agents/{id}")
                && l.contains("0190b3c2-7d4e")
        })
        .expect("a retry event inside the request span");
    assert!(
        line.contains(r#"reason="retry""#) && line.contains("sleep_ms=2000"),
        "{line}"
    );
    assert!(
        line.contains("agent_id=0190b3c2-7d4e-7a1b-8c3d-4e5f6a7b8c9d"),
        "{line}"
    );
    assert!(
        traced
            .lines()
            .any(|l| l.contains("attempt{attempt=2") && l.contains("response head"))
    );
    support::assert_no_secret("");
}

fn buffered(endpoint: Endpoint, uri: &str, body: &'static str) -> Request<Bytes> {
    let mut req = Request::builder()
        .method(endpoint.method())
        .uri(uri)
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap();
    req.extensions_mut().insert(endpoint);
    req
}

const AGENT: &str = r#"{"data":{"id":"019abc12-3456-7890-abcd-ef1234567890","status":"running"}}"#;

#[tokio::test(start_paused = true)]
async fn a_read_whose_body_is_cut_is_retried_with_backoff_and_budget() {
    let retry = RetryConfig::default().with_backoff(no_jitter(1000));
    let mock = Mock::new(vec![
        Reply::Truncated(StatusCode::OK, AGENT),
        Reply::Truncated(StatusCode::OK, AGENT),
        Reply::Status(StatusCode::OK, vec![], AGENT),
    ]);
    let t = Transport::with_service(cfg("cut_read").retry(retry), mock.clone()).unwrap();
    let resp = t
        .send_buffered(buffered(Endpoint::GetAgent, "/agents/x", ""))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.body().as_ref(), AGENT.as_bytes());
    // Core's backoff between the attempts, exactly as for any other maybe-sent failure.
    assert_eq!(mock.gaps_ms(), vec![1000, 2000]);

    // The budget bounds them too: with nothing to spend, the cut body is the answer.
    let mock = Mock::new(vec![Reply::Truncated(StatusCode::OK, AGENT)]).then_always(200);
    let none = RetryBudget::new(0.0, 0, Duration::from_secs(60));
    let t =
        Transport::with_service(cfg("cut_read_budget").retry_budget(none), mock.clone()).unwrap();
    let err = t
        .send_buffered(buffered(Endpoint::GetAgent, "/agents/x", ""))
        .await
        .unwrap_err();
    assert!(err.was_sent() && !err.outcome_unknown(), "{err:?}");
    assert_eq!(mock.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_cut_reads_is_funded_by_the_burst_of_first_attempts() {
    // The soak's `truncated_bodies` at 1,000 sessions: over a thousand first attempts in the
    // first second, then ~140 cut reads at once. The default budget (20 % of the window's
    // first attempts, plus 10) funds a retry for each; the old fixed cap of 100 saved tokens
    // did not, and conversation reads ended in `Error::Transport`.
    let mut script: Vec<Reply> = (0..1_000)
        .map(|_| Reply::Status(StatusCode::OK, vec![], AGENT))
        .collect();
    script.extend((0..150).map(|_| Reply::Truncated(StatusCode::OK, AGENT)));
    let mock = Mock::new(script).then_always(200);
    let c = cfg("cut_burst").tier_limits(TierLimits {
        standard: TierLimit::new(600_000, 2_000),
        ..TierLimits::default()
    });
    let t = Transport::with_service(c, mock.clone()).unwrap();
    let burst = |n: usize| {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let t = t.clone();
            set.spawn(async move {
                t.send_buffered(buffered(Endpoint::GetAgent, "/agents/x", ""))
                    .await
            });
        }
        set.join_all()
    };
    let start = Instant::now();
    assert!(burst(1_000).await.iter().all(Result::is_ok));
    let cut = burst(150).await;
    let failed: Vec<_> = cut.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} cut reads not retried: {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(mock.calls().len(), 1_300, "one retry per cut read");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_launch_whose_body_is_cut_is_outcome_unknown_and_never_resent() {
    for (endpoint, code) in [
        (Endpoint::LaunchAgent, StatusCode::CREATED),
        (Endpoint::FollowUp, StatusCode::ACCEPTED),
    ] {
        let mock = Mock::new(vec![Reply::Truncated(code, AGENT)]).then_always(code.as_u16());
        let t = Transport::with_service(cfg(&format!("cut_{code}")), mock.clone()).unwrap();
        let err = t
            .send_buffered(buffered(endpoint, "/agents", r#"{"prompt":{"text":"hi"}}"#))
            .await
            .unwrap_err();
        assert!(err.outcome_unknown() && err.was_sent(), "{err:?}");
        assert_eq!(mock.calls().len(), 1, "{endpoint:?} was resent");
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_retry_that_cannot_leave_before_the_deadline_returns_the_429() {
    // Heavy at 10/min: the retry's permit is 6 s after the first, past the 3 s deadline.
    let limits = TierLimits {
        heavy: TierLimit::new(10, 1),
        ..TierLimits::default()
    };
    let mock = Mock::new(vec![with_headers(429, &[("retry-after", "1")])]).then_always(201);
    let c = cfg("ra_cut_launch")
        .tier_limits(limits)
        .deadline(Duration::from_secs(3));
    let t = Transport::with_service(c, mock.clone()).unwrap();
    let start = Instant::now();
    let resp = t.send(launch()).await.unwrap();
    // The server refused it and nothing else was sent: a known "not created", not unknown.
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.extensions().get::<OutcomeUnknown>().is_none());
    assert_eq!(mock.calls().len(), 1);
    assert_eq!(start.elapsed(), Duration::from_secs(1));

    // A Retry-After that ends exactly at the deadline is not waited for either.
    let mock = Mock::new(vec![with_headers(429, &[("retry-after", "2")])]).then_always(201);
    let c = cfg("ra_at_deadline").deadline(Duration::from_secs(2));
    let t = Transport::with_service(c, mock.clone()).unwrap();
    let resp = t.send(launch()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(mock.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn honouring_retry_after_does_not_draw_from_the_budget() {
    let none = RetryBudget::new(0.0, 0, Duration::from_secs(60));
    let mock = Mock::new(vec![
        with_headers(429, &[("retry-after", "1")]),
        with_headers(429, &[("retry-after", "1")]),
        status(200),
        status(503),
        status(429),
    ])
    .then_always(200);
    let t = Transport::with_service(cfg("ra_budget").retry_budget(none), mock.clone()).unwrap();
    assert_eq!(t.send(get()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(mock.gaps_ms(), vec![1000, 1000]);
    // Failures the server did not schedule still need the budget: not retried.
    assert_eq!(
        t.send(get()).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        t.send(get()).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(mock.calls().len(), 5);
}
