//! Every injected fault, seeded decisions, and the fault control endpoint.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::*;
use nomic_agent_emulator::{EmulatorConfig, Fault, FaultRule};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rule(route: &str, method: Option<&str>, fault: Fault, count: Option<u32>) -> FaultRule {
    FaultRule {
        route: route.into(),
        method: method.map(Into::into),
        fault,
        probability: None,
        count,
    }
}

fn launch_body() -> bytes::Bytes {
    serde_json::to_vec(&json!({"prompt": {"text": "x"}}))
        .unwrap()
        .into()
}

async fn try_launch(
    emu: &nomic_agent_emulator::RunningEmulator,
) -> Result<Resp, Box<dyn std::error::Error + Send + Sync>> {
    try_send(
        emu,
        "POST",
        "/api/v0/agents",
        &[("authorization", format!("Bearer {KEY}"))],
        launch_body(),
    )
    .await
}

#[tokio::test]
async fn status_faults_and_counts() {
    let (emu, _clock) = manual(no_limits()).await;
    emu.set_faults(vec![
        rule(
            "/agents",
            Some("POST"),
            Fault::RateLimit {
                retry_after_secs: 3,
                http_date: false,
            },
            Some(1),
        ),
        rule(
            "/agents",
            Some("POST"),
            Fault::RateLimit {
                retry_after_secs: 7,
                http_date: true,
            },
            Some(1),
        ),
        rule(
            "/agents",
            Some("POST"),
            Fault::ServerError { status: 502 },
            Some(1),
        ),
        rule(
            "/agents",
            Some("POST"),
            Fault::ServerError { status: 503 },
            Some(1),
        ),
        rule(
            "/agents",
            Some("POST"),
            Fault::Redirect {
                location: "http://127.0.0.1:9".into(),
            },
            Some(1),
        ),
    ])
    .unwrap();
    // Other routes are untouched.
    assert_eq!(api(&emu, "GET", "/agents", None).await.status, 200);
    let r = try_launch(&emu).await.unwrap();
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3")));
    assert_eq!(r.json()["code"], "rate_limited");
    let r = try_launch(&emu).await.unwrap();
    assert_eq!(r.status, 429);
    let date = httpdate::parse_http_date(r.header("retry-after").unwrap()).unwrap();
    let expect = SystemTime::UNIX_EPOCH + Duration::from_millis(START_MS) + Duration::from_secs(7);
    assert_eq!(date, expect);
    let r = try_launch(&emu).await.unwrap();
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (502, Some("bad_gateway"))
    );
    let r = try_launch(&emu).await.unwrap();
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (503, Some("service_unavailable"))
    );
    let r = try_launch(&emu).await.unwrap();
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("location"),
        Some("http://127.0.0.1:9/api/v0/agents")
    );
    assert_eq!(
        emu.counters().agents_created_per_user.len(),
        0,
        "no fault reached the handler"
    );
    assert_eq!(
        try_launch(&emu).await.unwrap().status,
        201,
        "counts are used up"
    );
    let c = emu.counters();
    assert_eq!(c.faults_injected, 5);
    assert_eq!(c.too_many_requests_sent, 2);
    assert_eq!(c.requests_per_route.get("POST /agents"), Some(&6));
}

#[tokio::test]
async fn resets_before_and_after_the_handler() {
    let (emu, _clock) = manual(no_limits()).await;
    emu.set_faults(vec![rule(
        "/agents",
        Some("POST"),
        Fault::ResetBefore,
        Some(1),
    )])
    .unwrap();
    assert!(
        try_launch(&emu).await.is_err(),
        "connection closed without a response"
    );
    assert_eq!(
        emu.counters().agents_created_per_user.len(),
        0,
        "nothing was created"
    );

    emu.set_faults(vec![rule(
        "/agents",
        Some("POST"),
        Fault::ResetAfter,
        Some(1),
    )])
    .unwrap();
    assert!(try_launch(&emu).await.is_err());
    assert_eq!(
        emu.counters().agents_created_per_user.get("local"),
        Some(&1),
        "the launch committed"
    );
    let list = api(&emu, "GET", "/agents", None).await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let log = emu.request_log();
    let dropped: Vec<_> = log.iter().filter(|e| e.status.is_none()).collect();
    assert_eq!(dropped.len(), 2);
    assert_eq!(dropped[0].fault.as_deref(), Some("resetBefore"));
    assert_eq!(dropped[1].fault.as_deref(), Some("resetAfter"));
    assert_eq!(dropped[1].route.as_deref(), Some("/agents"));
}

async fn raw_exchange(emu: &nomic_agent_emulator::RunningEmulator, request: &str) -> Vec<u8> {
    let mut tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out)).await;
    out
}

#[tokio::test]
async fn truncated_bodies_promise_more_than_they_send() {
    let (emu, _clock) = manual(no_limits()).await;
    let id = launch(&emu, "hello").await;
    emu.set_faults(vec![rule(
        "/agents/{id}",
        Some("GET"),
        Fault::Truncate,
        Some(1),
    )])
    .unwrap();
    let req = format!(
        "GET /api/v0/agents/{id} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n\r\n"
    );
    let raw = raw_exchange(&emu, &req).await;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let declared: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length sent");
    assert!(head.starts_with("HTTP/1.1 200"));
    assert!(body.len() < declared, "{} < {declared}", body.len());
    assert!(!body.is_empty());
    // The hyper client reports the short body as an error.
    emu.set_faults(vec![rule("*", None, Fault::Truncate, Some(1))])
        .unwrap();
    assert!(
        try_send(
            &emu,
            "GET",
            "/api/v0/workflows",
            &[("authorization", format!("Bearer {KEY}"))],
            bytes::Bytes::new()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn latency_and_slow_bodies() {
    let (emu, _clock) = manual(no_limits()).await;
    emu.set_faults(vec![rule(
        "/workflows",
        None,
        Fault::Latency { ms: 60 },
        Some(1),
    )])
    .unwrap();
    let t = Instant::now();
    assert_eq!(api(&emu, "GET", "/workflows", None).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(60));
    let plain = api(&emu, "GET", "/workflows", None).await.body;
    emu.set_faults(vec![rule(
        "/workflows",
        None,
        Fault::SlowBody {
            chunk_bytes: 100,
            interval_ms: 5,
        },
        Some(1),
    )])
    .unwrap();
    let t = Instant::now();
    let slow = api(&emu, "GET", "/workflows", None).await;
    assert_eq!(slow.body, plain, "the same bytes, only slower");
    let chunks = plain.len().div_ceil(100) as u32;
    assert!(t.elapsed() >= Duration::from_millis(5) * (chunks - 1));
}

#[tokio::test]
async fn probabilities_are_deterministic_per_seed() {
    let outcome = |seed: u64| async move {
        let cfg = EmulatorConfig {
            seed,
            faults: vec![FaultRule {
                route: "*".into(),
                method: None,
                fault: Fault::ServerError { status: 500 },
                probability: Some(0.5),
                count: None,
            }],
            ..no_limits()
        };
        let (emu, _clock) = manual(cfg).await;
        let mut v = Vec::new();
        for _ in 0..32 {
            v.push(api(&emu, "GET", "/workflows", None).await.status);
        }
        v
    };
    let a = outcome(1).await;
    assert_eq!(a, outcome(1).await);
    assert_ne!(a, outcome(2).await);
    assert!(a.contains(&500) && a.contains(&200));
}

#[tokio::test]
async fn fault_control_endpoint() {
    let (emu, _clock) = manual(no_limits()).await;
    let r = control(&emu, "POST", "/faults", Some(json!({"route": "/workflows", "method": "GET", "fault": {"kind": "serverError", "status": 500}, "count": 2}))).await;
    assert_eq!(r.status, 200);
    let r = control(
        &emu,
        "POST",
        "/faults",
        Some(json!([{"fault": {"kind": "latency", "ms": 1}, "probability": 0.0}])),
    )
    .await;
    assert_eq!(r.json()["rules"].as_array().unwrap().len(), 2);
    assert_eq!(api(&emu, "GET", "/workflows", None).await.status, 500);
    let rules = control(&emu, "GET", "/faults", None).await.json();
    assert_eq!(rules["rules"][0]["count"], 1, "remaining count is visible");
    for bad in [
        json!({"fault": {"kind": "serverError", "status": 404}}),
        json!({"fault": {"kind": "nope"}}),
        json!({"route": "x", "fault": {"kind": "resetBefore"}}),
    ] {
        assert_eq!(
            control(&emu, "POST", "/faults", Some(bad.clone()))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    assert_eq!(control(&emu, "DELETE", "/faults", None).await.status, 200);
    assert_eq!(api(&emu, "GET", "/workflows", None).await.status, 200);
    assert!(
        emu.set_faults(vec![FaultRule {
            probability: Some(2.0),
            ..rule("*", None, Fault::ResetBefore, None)
        }])
        .is_err()
    );
}
