//! Rate limits (GCRA per user and tier, headers, 429s) and spend caps.

mod common;

use common::*;
use nomic_agent_emulator::KeyConfig;
use serde_json::json;

fn key(k: &str, user: &str) -> KeyConfig {
    KeyConfig {
        key: k.into(),
        name: k.into(),
        user: user.into(),
        scopes: vec!["developer".into()],
    }
}

#[tokio::test]
async fn heavy_tier_burst_headers_and_retry_after() {
    let (emu, clock) = manual(nomic_agent_emulator::EmulatorConfig::default()).await;
    emu.add_key(key("npk_same_user", "local")).unwrap();
    emu.add_key(key("npk_bob", "bob")).unwrap();
    for i in 0..30 {
        let r = api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"prompt": {"text": format!("{i}")}})),
        )
        .await;
        assert_eq!(r.status, 201);
        assert_eq!(r.header("x-ratelimit-limit"), Some("30"));
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((29 - i).to_string().as_str())
        );
        assert!(
            r.header("x-ratelimit-reset")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                >= START_MS / 1000
        );
        assert!(r.header("retry-after").is_none());
    }
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"prompt": {"text": "one too many"}})),
    )
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["code"], "rate_limited");
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    // Keys of one user share the bucket; other users and tiers do not.
    let same = send(
        &emu,
        "POST",
        "/api/v0/agents",
        Some("npk_same_user"),
        Some(json!({"prompt": {"text": "x"}})),
    )
    .await;
    assert_eq!(same.status, 429);
    let bob = send(
        &emu,
        "POST",
        "/api/v0/agents",
        Some("npk_bob"),
        Some(json!({"prompt": {"text": "x"}})),
    )
    .await;
    assert_eq!(bob.status, 201);
    let read = api(&emu, "GET", "/agents?limit=1", None).await;
    assert_eq!(
        (read.status, read.header("x-ratelimit-limit")),
        (200, Some("300"))
    );
    // Errors of a rate-limited endpoint carry the headers too.
    let bad = api(&emu, "GET", "/agents?limit=0", None).await;
    assert_eq!(
        (bad.status, bad.header("x-ratelimit-limit")),
        (400, Some("300"))
    );
    let del = api(
        &emu,
        "DELETE",
        "/agents/019a0000-0000-7000-8000-0000000000aa",
        None,
    )
    .await;
    assert_eq!(
        (del.status, del.header("x-ratelimit-limit")),
        (404, Some("60"))
    );
    // Emission interval 2 s: one more after 2 s, not before.
    advance(&clock, 1999);
    assert_eq!(
        api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"prompt": {"text": "x"}}))
        )
        .await
        .status,
        429
    );
    advance(&clock, 1);
    assert_eq!(
        api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"prompt": {"text": "x"}}))
        )
        .await
        .status,
        201
    );
    // The request log and counters saw the 429s.
    assert!(emu.counters().too_many_requests_sent >= 3);
}

#[tokio::test]
async fn burst_scale_and_disable_are_configurable() {
    let mut cfg = nomic_agent_emulator::EmulatorConfig::default();
    cfg.rate_limits.burst = Some(2);
    cfg.rate_limits.standard_per_minute = 60;
    let (emu, clock) = manual(cfg).await;
    assert_eq!(api(&emu, "GET", "/workflows", None).await.status, 200);
    assert_eq!(api(&emu, "GET", "/workflows", None).await.status, 200);
    let r = api(&emu, "GET", "/workflows", None).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
    emu.set_time_scale(0.001).unwrap();
    advance(&clock, 2);
    assert_eq!(
        api(&emu, "GET", "/workflows", None).await.status,
        200,
        "1 s interval scaled to 1 ms"
    );

    let (emu, _clock) = manual(no_limits()).await;
    for _ in 0..40 {
        let r = api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"prompt": {"text": "x"}})),
        )
        .await;
        assert_eq!(r.status, 201);
        assert!(r.header("x-ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn serves_ten_times_the_standard_rate() {
    // Standard 300/min becomes 3000/min = 50/s.
    let mut cfg = nomic_agent_emulator::EmulatorConfig {
        time_scale: 0.1,
        ..Default::default()
    };
    cfg.rate_limits.burst = Some(3000);
    let emu = nomic_agent_emulator::Emulator::start(cfg).await.unwrap();
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let addr = emu.local_addr();
        tasks.push(tokio::spawn(async move {
            use http_body_util::{BodyExt, Empty};
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut s, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            for _ in 0..125 {
                let req = http::Request::get("/api/v0/workflows")
                    .header("host", "x")
                    .header("authorization", format!("Bearer {KEY}"))
                    .body(Empty::<bytes::Bytes>::new())
                    .unwrap();
                let r = s.send_request(req).await.unwrap();
                assert_eq!(r.status(), 200);
                r.into_body().collect().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Every one answered 200 (above) is the promise: the scaled limit admits the burst. The
    // emulator refuses, it never delays, so the whole burst takes less than the 10 s it models
    // at 50/s; that is the only bound asserted here (a hang guard, not a speed figure).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn spend_caps_block_new_runs_without_retry_after() {
    let mut cfg = no_limits();
    cfg.spend.default_max_runs = Some(2);
    let (emu, clock) = manual(cfg).await;
    let id = launch(&emu, "one").await;
    advance(&clock, 3000);
    let r = api(
        &emu,
        "POST",
        &format!("/agents/{id}/followup"),
        Some(json!({"prompt": {"text": "two"}})),
    )
    .await;
    assert_eq!(r.status, 202);
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"prompt": {"text": "three"}})),
    )
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["code"], "spend_limit_reached");
    assert!(r.header("retry-after").is_none());
    // Reads still work; raising the cap unblocks.
    assert_eq!(
        api(&emu, "GET", &format!("/agents/{id}"), None)
            .await
            .status,
        200
    );
    let s = control(
        &emu,
        "POST",
        "/spend",
        Some(json!({"user": "local", "maxRuns": 5})),
    )
    .await;
    assert_eq!(s.json(), json!({"maxRuns": 5, "runs": 2, "reached": false}));
    assert_eq!(
        api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"prompt": {"text": "x"}}))
        )
        .await
        .status,
        201
    );
    // Forced reached state, through the Rust API.
    emu.set_spend_cap("local", None, true);
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"prompt": {"text": "x"}})),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (429, Some("spend_limit_reached"))
    );
    emu.set_spend_cap("local", None, false);
    assert_eq!(
        api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"prompt": {"text": "x"}}))
        )
        .await
        .status,
        201
    );
    // Validation errors are not hidden by the cap.
    emu.set_spend_cap("local", Some(0), false);
    assert_eq!(
        api(&emu, "POST", "/agents", Some(json!({}))).await.status,
        400
    );
    assert_eq!(emu.counters().too_many_requests_sent, 2);
}
