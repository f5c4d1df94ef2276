//! Client-side pacing per tier, with paused time: exact intervals, sharing across clones and
//! separately built transports, and feedback from 429s and `X-RateLimit-Remaining`.

mod support;

use std::time::{Duration, SystemTime};

use http::{Request, StatusCode};
use nomic_agent_core::policy::gcra::{TierLimit, TierLimits};
use nomic_agent_core::policy::retry::RetryConfig;
use nomic_agent_core::request::Endpoint;
use nomic_agent_transport::{Body, Transport, TransportConfig, WallClock};
use support::mock::{Mock, with_headers};
use tokio::time::Instant;

const BASE: &str = "http://127.0.0.1:9/api/v0";

fn cfg(test: &str) -> TransportConfig {
    support::config(test, BASE).seed(1)
}

fn req(endpoint: Endpoint) -> Request<Body> {
    let mut r = Request::builder()
        .method(endpoint.method())
        .uri("/agents")
        .body(Body::empty())
        .unwrap();
    r.extensions_mut().insert(endpoint);
    r
}

async fn intervals(test: &str, endpoint: Endpoint, n: usize) -> Vec<u128> {
    let mock = Mock::default().then_always(200);
    let t = Transport::with_service(cfg(test), mock.clone()).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let t = t.clone();
        tasks.push(tokio::spawn(
            async move { t.send(req(endpoint)).await.unwrap() },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().status(), StatusCode::OK);
    }
    mock.gaps_ms()
}

#[tokio::test(start_paused = true)]
async fn standard_tier_spaces_requests_200ms_apart() {
    assert_eq!(intervals("std", Endpoint::GetAgent, 5).await, vec![200; 4]);
}

#[tokio::test(start_paused = true)]
async fn write_tier_spaces_requests_one_second_apart() {
    assert_eq!(intervals("write", Endpoint::Stop, 4).await, vec![1000; 3]);
}

#[tokio::test(start_paused = true)]
async fn heavy_tier_spaces_requests_two_seconds_apart() {
    assert_eq!(
        intervals("heavy", Endpoint::LaunchAgent, 4).await,
        vec![2000; 3]
    );
}

#[tokio::test(start_paused = true)]
async fn file_search_draws_from_the_standard_tier() {
    // docs/wire.md puts `GET /files/search` in Standard; the Search tier is the codes search,
    // which no endpoint of this API reaches.
    assert_eq!(
        intervals("search", Endpoint::SearchFiles, 3).await,
        vec![200; 2]
    );
}

#[tokio::test(start_paused = true)]
async fn custom_calls_draw_from_the_standard_tier() {
    let mock = Mock::default().then_always(200);
    let t = Transport::with_service(cfg("custom"), mock.clone()).unwrap();
    for _ in 0..3 {
        let r = Request::post("/custom").body(Body::empty()).unwrap();
        t.send(r).await.unwrap();
    }
    assert_eq!(mock.gaps_ms(), vec![200; 2]);
}

#[tokio::test(start_paused = true)]
async fn tiers_are_independent() {
    let mock = Mock::default().then_always(200);
    let t = Transport::with_service(cfg("indep"), mock.clone()).unwrap();
    let start = Instant::now();
    t.send(req(Endpoint::LaunchAgent)).await.unwrap();
    t.send(req(Endpoint::GetAgent)).await.unwrap();
    t.send(req(Endpoint::Stop)).await.unwrap();
    // A Heavy call does not delay a Standard or Write one.
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn configured_burst_and_rate() {
    let limits = TierLimits {
        standard: TierLimit::new(60, 3),
        ..TierLimits::default()
    };
    let mock = Mock::default().then_always(200);
    let t = Transport::with_service(cfg("burst").tier_limits(limits), mock.clone()).unwrap();
    for _ in 0..5 {
        t.send(req(Endpoint::GetAgent)).await.unwrap();
    }
    assert_eq!(mock.gaps_ms(), vec![0, 0, 1000, 1000]);
}

#[tokio::test(start_paused = true)]
async fn separately_built_transports_with_the_same_key_share_a_limiter() {
    let mock = Mock::default().then_always(200);
    let a = Transport::with_service(cfg("shared"), mock.clone()).unwrap();
    let b = Transport::with_service(cfg("shared"), mock.clone()).unwrap();
    let other_key = Transport::with_service(cfg("shared_other"), mock.clone()).unwrap();
    let start = Instant::now();
    a.send(req(Endpoint::LaunchAgent)).await.unwrap();
    b.send(req(Endpoint::LaunchAgent)).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    // Another key has its own server-side bucket, so its own limiter: no wait.
    other_key.send(req(Endpoint::LaunchAgent)).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_429_holds_the_tier_for_every_request() {
    let mock = Mock::new(vec![with_headers(429, &[("retry-after", "5")])]).then_always(200);
    let retry = RetryConfig::default().with_max_attempts(1);
    let t = Transport::with_service(cfg("hold429").retry(retry), mock.clone()).unwrap();
    let start = Instant::now();
    assert_eq!(
        t.send(req(Endpoint::GetAgent)).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another request of the tier waits out the server's Retry-After instead of hitting 429.
    t.send(req(Endpoint::ListAgents)).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(mock.gaps_ms(), vec![5000]);
}

#[tokio::test(start_paused = true)]
async fn remaining_zero_holds_the_tier_until_reset() {
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mock = Mock::new(vec![with_headers(
        200,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000004"),
        ],
    )])
    .then_always(200);
    let c = cfg("remaining").wall_clock(WallClock::new(move || wall));
    let t = Transport::with_service(c, mock.clone()).unwrap();
    t.send(req(Endpoint::GetAgent)).await.unwrap();
    t.send(req(Endpoint::GetAgent)).await.unwrap();
    assert_eq!(mock.gaps_ms(), vec![4000]);
}

#[tokio::test(start_paused = true)]
async fn no_permit_before_the_deadline_fails_without_sending() {
    let mock = Mock::default().then_always(200);
    let t = Transport::with_service(
        cfg("pace_deadline").deadline(Duration::from_secs(1)),
        mock.clone(),
    )
    .unwrap();
    t.send(req(Endpoint::LaunchAgent)).await.unwrap();
    let start = Instant::now();
    let err = t.send(req(Endpoint::LaunchAgent)).await.unwrap_err();
    assert!(err.is_deadline() && !err.was_sent(), "{err:?}");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(mock.calls().len(), 1);
    support::assert_no_secret(&format!("{err:?}"));
}
