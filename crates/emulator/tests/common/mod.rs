//! A plain hyper HTTP/1.1 client for talking to the emulator over real sockets.
#![allow(dead_code)]

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use nomic_agent_emulator::{Clock, Emulator, EmulatorConfig, RunningEmulator};
use serde_json::Value;
use tokio::net::TcpStream;

pub const KEY: &str = "npk_emulator_local";
/// 2026-04-25T12:00:00.000Z
pub const START_MS: u64 = 1_777_118_400_000;

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An emulator on a manual clock, rate limits off unless the config turns them on.
pub async fn manual(mut cfg: EmulatorConfig) -> (RunningEmulator, Arc<Clock>) {
    cfg.start_time_ms = Some(START_MS);
    let clock = Arc::new(Clock::manual(START_MS));
    let emu = Emulator::start_with_clock(cfg, clock.clone())
        .await
        .expect("emulator starts");
    (emu, clock)
}

pub fn no_limits() -> EmulatorConfig {
    let mut cfg = EmulatorConfig::default();
    cfg.rate_limits.enabled = false;
    cfg
}

pub async fn try_send(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<Resp, Box<dyn std::error::Error + Send + Sync>> {
    let mut addr = emu.local_addr();
    if addr.ip().is_unspecified() {
        // Bound to every interface: loopback is one of them.
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let tcp = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    let resp = sender.send_request(b.body(Full::new(body))?).await?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Resp {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

pub async fn send(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut headers = Vec::new();
    if let Some(k) = key {
        headers.push(("authorization", format!("Bearer {k}")));
    }
    let bytes = match body {
        Some(v) => {
            headers.push(("content-type", "application/json".to_owned()));
            Bytes::from(serde_json::to_vec(&v).unwrap())
        }
        None => Bytes::new(),
    };
    try_send(emu, method, path, &headers, bytes)
        .await
        .expect("request completes")
}

/// Shorthand for an API call with the default key.
pub async fn api(emu: &RunningEmulator, method: &str, path: &str, body: Option<Value>) -> Resp {
    send(emu, method, &format!("/api/v0{path}"), Some(KEY), body).await
}

pub async fn control(emu: &RunningEmulator, method: &str, path: &str, body: Option<Value>) -> Resp {
    control_as(emu, None, method, path, body).await
}

/// A control request sending `token` (the emulator's control token) as a bearer token.
pub async fn control_as(
    emu: &RunningEmulator,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Resp {
    send(emu, method, &format!("/_emulator{path}"), token, body).await
}

/// Launches a simple agent and returns its id.
pub async fn launch(emu: &RunningEmulator, text: &str) -> String {
    let r = api(
        emu,
        "POST",
        "/agents",
        Some(serde_json::json!({"prompt": {"text": text}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["data"]["id"].as_str().unwrap().to_owned()
}

pub fn advance(clock: &Clock, ms: u64) {
    clock.advance(std::time::Duration::from_millis(ms));
}
