//! Control endpoints, the control token and the exposure warning, request log, counters,
//! hardening, graceful shutdown and the binary.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use nomic_agent_emulator::cli::EmulatorArgs;
use nomic_agent_emulator::{
    ControlToken, ENV_CONTROL_TOKEN, Emulator, EmulatorConfig, Fault, FaultRule,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The phrase of the start-up warning about open control routes.
const EXPOSED: &str = "control routes are unauthenticated";
/// A control token that must never show up in any log line.
const TOKEN: &str = "ctl_SENTINEL_7d1e9a";

/// Everything the tracing subscriber installed by [`Captured::install`] writes, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// A TRACE subscriber for this thread (the current-thread test runtime runs every task
    /// of the test here, the emulator's included).
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().unwrap())).into_owned()
    }
}

fn listening(addr: &str, token: Option<&str>) -> EmulatorConfig {
    EmulatorConfig {
        listen: addr.parse().unwrap(),
        control_token: token.map(|t| ControlToken::new(t).unwrap()),
        ..no_limits()
    }
}

#[tokio::test]
async fn control_routes_are_open_on_loopback_without_a_token() {
    let emu = Emulator::start(listening("127.0.0.1:0", None))
        .await
        .unwrap();
    assert_eq!(emu.control_warning(), None);
    assert_eq!(control(&emu, "GET", "/counters", None).await.status, 200);
    assert_eq!(control(&emu, "POST", "/reset", None).await.status, 200);
    // Any Authorization header is ignored there, even a wrong token.
    let r = control_as(&emu, Some("whatever"), "GET", "/faults", None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_control_token_is_required_once_set_and_never_logged() {
    let log = Captured::default();
    let _guard = log.install();
    let emu = Emulator::start(listening("127.0.0.1:0", Some(TOKEN)))
        .await
        .unwrap();
    let before = emu.counters();
    api(&emu, "GET", "/workflows", None).await;

    for (presented, why) in [
        (None, "no token"),
        (Some("ctl_SENTINEL_7d1e9"), "a prefix"),
        (Some("ctl_SENTINEL_7d1e9b"), "one byte off"),
        (Some("npk_emulator_local"), "an API key"),
    ] {
        let r = control_as(&emu, presented, "POST", "/reset", None).await;
        assert_eq!(r.status, 401, "{why}");
        let body = r.json();
        assert_eq!(body["code"], "unauthorized", "{why}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("control token"),
            "{body}"
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    // Nothing was reset by the refused calls.
    assert_ne!(emu.counters(), before);
    // Another scheme is refused too.
    let r = try_send(
        &emu,
        "GET",
        "/_emulator/counters",
        &[("authorization", format!("Basic {TOKEN}"))],
        bytes::Bytes::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);

    let r = control_as(&emu, Some(TOKEN), "GET", "/counters", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        control_as(&emu, Some(TOKEN), "POST", "/reset", None)
            .await
            .status,
        200
    );
    assert_eq!(emu.counters(), before, "the authorized reset ran");
    // The API routes keep their own keys.
    assert_eq!(api(&emu, "GET", "/workflows", None).await.status, 200);
    assert_eq!(emu.control_warning(), None);

    emu.shutdown().await;
    let text = log.take();
    assert_eq!(
        text.matches("control request refused").count(),
        5,
        "every refusal is logged: {text}"
    );
    assert!(!text.contains(TOKEN), "the token was logged: {text}");
    assert!(!format!("{:?}", listening("127.0.0.1:0", Some(TOKEN))).contains(TOKEN));
}

#[tokio::test]
async fn beyond_loopback_without_a_token_warns_once_at_warn_level() {
    let log = Captured::default();
    let _guard = log.install();
    let open = Emulator::start(listening("0.0.0.0:0", None)).await.unwrap();
    let text = log.take();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains(EXPOSED)).collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("WARN"), "{}", warnings[0]);
    assert!(warnings[0].contains(ENV_CONTROL_TOKEN), "{}", warnings[0]);
    assert!(open.control_warning().is_some_and(|w| w.contains(EXPOSED)));
    // Still open: the warning does not change what the routes do.
    assert_eq!(control(&open, "GET", "/counters", None).await.status, 200);

    // With a token, or on loopback, nothing to warn about.
    let guarded = Emulator::start(listening("0.0.0.0:0", Some(TOKEN)))
        .await
        .unwrap();
    let local = Emulator::start(listening("127.0.0.1:0", None))
        .await
        .unwrap();
    assert_eq!(
        (guarded.control_warning(), local.control_warning()),
        (None, None)
    );
    assert_eq!(
        control(&guarded, "GET", "/counters", None).await.status,
        401
    );
    let text = log.take();
    assert!(!text.contains(EXPOSED), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn control_endpoints_and_introspection() {
    let (emu, clock) = manual(no_limits()).await;
    // Keys: added over HTTP, never echoed.
    let r = control(&emu, "POST", "/keys", Some(json!({"key": "npk_zed_secret", "name": "zed", "user": "zed", "scopes": ["developer:agent"]}))).await;
    assert_eq!(r.status, 200);
    assert!(!String::from_utf8_lossy(&r.body).contains("npk_zed_secret"));
    assert_eq!(
        send(&emu, "GET", "/api/v0/agents", Some("npk_zed_secret"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        control(
            &emu,
            "POST",
            "/keys",
            Some(json!({"key": "", "name": "n", "user": "u", "scopes": []}))
        )
        .await
        .status,
        400
    );

    // Workflows.
    let r = control(&emu, "POST", "/workflows", Some(json!({"name": "Takeoff", "inputs": [{"name": "drawings", "required": true, "multiple": true}]}))).await;
    assert_eq!(r.status, 201);
    let wid = r.json()["id"].as_str().unwrap().to_owned();
    let list = api(&emu, "GET", "/workflows", None).await.json();
    assert_eq!(list["data"][2]["id"], wid.as_str());
    let r = api(&emu, "POST", "/agents", Some(json!({"workflowId": wid}))).await;
    assert_eq!(r.status, 400, "its required slot is missing");

    // Clock and time scale.
    let r = control(&emu, "POST", "/clock/advance", Some(json!({"ms": 1000}))).await;
    assert_eq!(r.json()["nowMs"], START_MS + 1000);
    assert_eq!(clock.now_ms(), START_MS + 1000);
    assert_eq!(
        control(&emu, "POST", "/time-scale", Some(json!({"timeScale": 0.5})))
            .await
            .status,
        200
    );
    assert_eq!(
        control(
            &emu,
            "POST",
            "/time-scale",
            Some(json!({"timeScale": -1.0}))
        )
        .await
        .status,
        400
    );
    let id = launch(&emu, "scaled").await;
    advance(&clock, 1250); // (500 + 2000) × 0.5
    assert_eq!(
        api(&emu, "GET", &format!("/agents/{id}"), None)
            .await
            .json()["data"]["status"],
        "finished"
    );

    // Request log: route template, status, whether Authorization was present — never its value.
    let _ = send(&emu, "GET", "/api/v0/agents", None, None).await;
    let log = control(&emu, "GET", "/requests", None).await;
    let text = String::from_utf8_lossy(&log.body).into_owned();
    assert!(!text.contains("npk_"), "no key in the log");
    let entries = log.json()["data"].as_array().unwrap().clone();
    let last = entries.last().unwrap();
    assert_eq!(last["route"], "/agents");
    assert_eq!(last["status"], 401);
    assert_eq!(last["authorizationPresent"], false);
    assert_eq!(last["method"], "GET");
    assert!(
        entries
            .iter()
            .any(|e| e["authorizationPresent"] == true
                && e["path"] == format!("/api/v0/agents/{id}"))
    );
    assert!(entries.iter().all(|e| {
        e["receivedAt"]
            .as_str()
            .unwrap()
            .starts_with("2026-04-25T12:00:0")
    }));
    assert_eq!(emu.request_log().len(), entries.len());

    let counters = control(&emu, "GET", "/counters", None).await.json();
    assert_eq!(counters["agentsCreatedPerUser"]["local"], 1);
    assert_eq!(counters["requestsPerRoute"]["GET /agents"], 2);
    assert!(
        counters["requestsPerRoute"]["GET /agents/{id}"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // Reset: back to the config at start.
    assert_eq!(control(&emu, "POST", "/reset", None).await.status, 200);
    assert_eq!(
        api(&emu, "GET", &format!("/agents/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        send(&emu, "GET", "/api/v0/agents", Some("npk_zed_secret"), None)
            .await
            .status,
        401
    );
    assert_eq!(
        api(&emu, "GET", "/workflows", None).await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(emu.counters().agents_created_per_user.len(), 0);
    assert_eq!(control(&emu, "GET", "/nope", None).await.status, 404);
    assert_eq!(
        control(&emu, "POST", "/spend", Some(json!({"nope": 1})))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn json_limits_and_header_timeout() {
    let mut cfg = no_limits();
    cfg.limits.max_json_bytes = 1000;
    cfg.limits.max_json_depth = 8;
    cfg.limits.header_read_timeout_ms = 100;
    let (emu, _clock) = manual(cfg).await;
    let big = json!({"prompt": {"text": "x".repeat(2000)}});
    let r = api(&emu, "POST", "/agents", Some(big)).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let mut deep = json!("x");
    for _ in 0..10 {
        deep = json!([deep]);
    }
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"prompt": {"text": "x"}, "extra": deep})),
    )
    .await;
    assert_eq!(r.status, 400);

    // A client that never finishes its headers is disconnected.
    let mut tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    tcp.write_all(b"GET /api/v0/agents HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "closed by the header-read timeout");
    assert!(started.elapsed() >= Duration::from_millis(90));
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let cfg = EmulatorConfig {
        faults: vec![FaultRule {
            route: "/workflows".into(),
            method: None,
            fault: Fault::Latency { ms: 100 },
            probability: None,
            count: Some(1),
        }],
        ..no_limits()
    };
    let emu = Emulator::start(cfg).await.unwrap();
    let addr = emu.local_addr();
    let slow = tokio::spawn(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut s, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = http::Request::get("/api/v0/workflows")
            .header("host", "x")
            .header("authorization", format!("Bearer {KEY}"))
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        s.send_request(req).await.map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    emu.shutdown().await;
    assert_eq!(slow.await.unwrap().unwrap(), 200);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[test]
fn config_file_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emu.json");
    std::fs::write(&path, r#"{"seed": 5, "timeScale": 0.01, "lifecycle": {"staleWindowMs": 0},
        "keys": [{"key": "npk_x", "name": "x", "user": "u", "scopes": ["developer"]}],
        "faults": [{"route": "/agents", "method": "POST", "fault": {"kind": "resetAfter"}, "count": 1}]}"#).unwrap();
    let args = EmulatorArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: false,
        cert_out: None,
        time_scale: None,
        seed: Some(9),
        config: Some(path.clone()),
        faults: vec![r#"{"fault": {"kind": "latency", "ms": 5}, "probability": 0.5}"#.into()],
        control_token: None,
        legacy_shape: false,
    };
    let cfg = args.to_config().unwrap();
    assert_eq!(cfg.control_token, None);
    let with_token = EmulatorArgs {
        control_token: Some(TOKEN.parse().unwrap()),
        ..args.clone()
    };
    assert_eq!(
        with_token.to_config().unwrap().control_token,
        Some(ControlToken::new(TOKEN).unwrap())
    );
    assert!(
        !format!("{with_token:?}").contains(TOKEN),
        "redacted in Debug"
    );
    assert_eq!(
        (cfg.seed, cfg.time_scale, cfg.lifecycle.stale_window_ms),
        (9, 0.01, 0)
    );
    assert_eq!(cfg.faults.len(), 2);
    assert_eq!(cfg.faults[1].fault, Fault::Latency { ms: 5 });
    let bad_fault = EmulatorArgs {
        faults: vec!["{".into()],
        ..args.clone()
    };
    assert!(bad_fault.to_config().is_err());
    assert!(
        !format!("{:?}", cfg.keys).contains("npk_x"),
        "keys are redacted in Debug"
    );
    let round: EmulatorConfig =
        serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(round, cfg);
    let with_tls = EmulatorArgs {
        tls: true,
        ..args.clone()
    }
    .to_config()
    .unwrap();
    assert!(with_tls.tls.is_some());
    let bad = EmulatorArgs {
        time_scale: Some(0.0),
        ..args.clone()
    };
    assert!(bad.to_config().is_err());
    std::fs::write(&path, r#"{"unknownField": 1}"#).unwrap();
    assert!(args.to_config().is_err());
}

#[test]
fn binary_prints_base_url_and_default_key() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nomic-agent-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "0.01",
            "--seed",
            "3",
        ])
        .env_remove(ENV_CONTROL_TOKEN)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/api/v0"),
        "{first}"
    );
    assert_eq!(second, "default API key: npk_emulator_local");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/api/v0")
        .to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    write!(tcp, "GET /api/v0/workflows HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\nconnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The emulator binary on `listen` with `env` and `args`; returns its port, a control
/// request's status without and with `token`, and its whole stderr.
fn run_binary(
    listen: &str,
    env: Option<&str>,
    args: &[&str],
    token: Option<&str>,
) -> (u16, u16, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nomic-agent-emulator"));
    cmd.args(["--listen", listen])
        .args(args)
        .env_remove(ENV_CONTROL_TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(v) = env {
        cmd.env(ENV_CONTROL_TOKEN, v);
    }
    let mut child = cmd.spawn().unwrap();
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let port: u16 = first
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches("/api/v0").parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    let status = |bearer: Option<&str>| {
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let auth = bearer.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
        write!(
            tcp,
            "GET /_emulator/counters HTTP/1.1\r\nhost: x\r\n{auth}connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        tcp.read_to_string(&mut out).unwrap();
        out[9..12].parse::<u16>().unwrap()
    };
    let (without, with) = (status(None), status(token));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (without, with, stderr)
}

#[test]
fn binary_warns_on_stderr_once_when_the_control_routes_are_exposed() {
    let (without, _, stderr) = run_binary("0.0.0.0:0", None, &[], None);
    assert_eq!(without, 200, "open without a token");
    assert_eq!(stderr.matches(EXPOSED).count(), 1, "{stderr}");
    assert!(stderr.starts_with("warning: "), "{stderr}");

    let (_, _, quiet) = run_binary("127.0.0.1:0", None, &[], None);
    assert!(!quiet.contains(EXPOSED), "loopback: {quiet}");
}

#[test]
fn binary_takes_the_control_token_from_the_flag_or_the_environment() {
    let (without, with, stderr) = run_binary("0.0.0.0:0", Some(TOKEN), &[], Some(TOKEN));
    assert_eq!((without, with), (401, 200), "from {ENV_CONTROL_TOKEN}");
    assert!(!stderr.contains(EXPOSED), "a token: no warning: {stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");

    // The flag wins over the environment.
    let (without, with, stderr) = run_binary(
        "127.0.0.1:0",
        Some("from_env"),
        &["--control-token", TOKEN],
        Some(TOKEN),
    );
    assert_eq!((without, with), (401, 200), "from --control-token");
    assert!(!stderr.contains(TOKEN), "{stderr}");

    // A token that cannot travel in a header is a usage error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nomic-agent-emulator"))
        .args(["--listen", "127.0.0.1:0", "--control-token", "two words"])
        .env_remove(ENV_CONTROL_TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("control token"), "{err}");
}
