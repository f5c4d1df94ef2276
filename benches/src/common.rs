//! Shared helpers: statistics, RSS readings, an emulator on its own runtime, a raw hyper
//! client, a tiny raw hyper sink server, and SDK clients tuned for time-scaled runs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use nomic_agent::{Client, PollSchedule, TierLimit, TierLimits};
use nomic_agent_emulator::{Emulator, EmulatorConfig, RunningEmulator, TimeScale};
use serde_json::{Value, json};

/// The result type of every benchmark.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Makes an error from a message.
pub fn err(msg: impl Into<String>) -> Box<dyn std::error::Error + Send + Sync> {
    msg.into().into()
}

// ---- statistics ---------------------------------------------------------------------------

/// The `q`-quantile (0..=1) of `v` by nearest rank; 0 for an empty slice.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

/// The median of `v`.
pub fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// Rounds to `d` decimals (for readable JSON).
pub fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

// ---- memory -------------------------------------------------------------------------------

/// `(VmRSS, VmHWM)` of this process in KiB, from `/proc/self/status`.
pub fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat`
/// (clock ticks, assumed 100 per second as on every Linux x86_64 build).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

// ---- the emulator on its own runtime --------------------------------------------------------

/// An emulator running on a dedicated one-worker runtime, so its work is not scheduled
/// between the client's tasks.
pub struct EmuHost {
    pub emu: RunningEmulator,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for EmuHost {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl EmuHost {
    pub async fn start(cfg: EmulatorConfig) -> BenchResult<EmuHost> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("emulator")
            .enable_all()
            .build()?;
        let emu = rt.spawn(Emulator::start(cfg)).await??;
        Ok(EmuHost { emu, rt: Some(rt) })
    }

    pub fn base_url(&self) -> String {
        self.emu.base_url()
    }

    pub fn key(&self) -> &'static str {
        self.emu.default_key().unwrap_or("npk_emulator_local")
    }

    /// 429 responses the emulator sent so far.
    pub fn too_many(&self) -> u64 {
        self.emu.counters().too_many_requests_sent
    }

    /// Requests the emulator counted for `route` (`"GET /agents/{id}"`).
    pub fn route_count(&self, route: &str) -> u64 {
        self.emu
            .counters()
            .requests_per_route
            .get(route)
            .copied()
            .unwrap_or(0)
    }
}

/// An emulator config with the given time scale and rate limits on or off.
pub fn emu_config(time_scale: f64, rate_limits: bool) -> EmulatorConfig {
    let mut cfg = EmulatorConfig {
        time_scale,
        ..EmulatorConfig::default()
    };
    cfg.rate_limits.enabled = rate_limits;
    cfg.limits.request_log_capacity = 16;
    cfg
}

// ---- SDK clients ----------------------------------------------------------------------------

/// Tier limits the SDK paces to: the documented rates on the emulator's time scale (so one
/// simulated minute allows the documented count), burst 1. `None` scale: no pacing at all.
pub fn tier_limits(time_scale: Option<TimeScale>) -> TierLimits {
    let mut t = TierLimits::default();
    match time_scale {
        Some(s) => {
            let scale = |l: TierLimit| TierLimit::new(s.per_minute(l.per_minute), 1);
            t.standard = scale(t.standard);
            t.heavy = scale(t.heavy);
            t.write = scale(t.write);
            t.search = scale(t.search);
        }
        None => {
            let open = TierLimit::new(u32::MAX, u32::MAX);
            t.standard = open;
            t.heavy = open;
            t.write = open;
            t.search = open;
        }
    }
    t
}

/// The default poll schedule (2 s ×2 → 30 s, 10 % jitter) with every duration scaled.
pub fn scaled_schedule(time_scale: TimeScale) -> PollSchedule {
    let d = PollSchedule::default();
    PollSchedule::default()
        .with_initial(time_scale.duration(d.initial))
        .with_max(time_scale.duration(d.max))
}

/// An SDK client for the emulator. `time_scale`: pace to the scaled documented rates; `None`:
/// no client-side pacing.
pub fn sdk_client(
    base: &str,
    key: &str,
    time_scale: Option<f64>,
    poll: PollSchedule,
) -> BenchResult<Client> {
    let time_scale = time_scale.map(TimeScale::new).transpose()?;
    let mut b = Client::builder()
        .api_key(key)
        .base_url(base)
        .tier_limits(tier_limits(time_scale))
        .poll_schedule(poll)
        .seed(7)
        .request_deadline(Duration::from_secs(600));
    if let Some(s) = time_scale {
        b = b.followup_window(
            s.duration(Duration::from_secs(60)),
            s.duration(Duration::from_millis(500))
                .max(Duration::from_micros(100)),
        );
    }
    Ok(b.build()?)
}

// ---- a raw hyper client -----------------------------------------------------------------------

pub type RawClient = HyperClient<HttpConnector, Full<Bytes>>;

/// hyper-util's pooled client with the SDK's pool settings (idle timeout 90 s, Tokio timers,
/// `TCP_NODELAY`), HTTP/1.1 on cleartext.
pub fn raw_client() -> RawClient {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(http)
}

/// Sends one request; returns the status, the `Retry-After` seconds (if any) and the body.
pub async fn raw_send(
    client: &RawClient,
    method: http::Method,
    url: &str,
    key: &str,
    body: Option<Bytes>,
) -> BenchResult<(u16, Option<u64>, Bytes)> {
    let mut req = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::AUTHORIZATION, format!("Bearer {key}"));
    if body.is_some() {
        req = req.header(http::header::CONTENT_TYPE, "application/json");
    }
    let req = req.body(Full::new(body.unwrap_or_default()))?;
    let resp = client.request(req).await?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, retry_after, body))
}

/// Launches `n` agents with `prompt` through raw hyper (`concurrency` at once), retrying 429s
/// after their `Retry-After` times `time_scale`. Returns the ids in launch order.
pub async fn raw_launch_many(
    base: &str,
    key: &str,
    prompt: &str,
    n: usize,
    concurrency: usize,
    time_scale: f64,
) -> BenchResult<Vec<uuid::Uuid>> {
    let time_scale = TimeScale::new(time_scale)?;
    let client = raw_client();
    let url = format!("{base}/agents");
    let body = Bytes::from(serde_json::to_vec(&json!({"prompt": {"text": prompt}}))?);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, key, body, next) = (
            client.clone(),
            url.clone(),
            key.to_owned(),
            body.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < n as u64 {
                loop {
                    let (status, ra, body) =
                        raw_send(&client, http::Method::POST, &url, &key, Some(body.clone()))
                            .await?;
                    if status == 429 {
                        let wait = time_scale.duration(Duration::from_secs(ra.unwrap_or(1)));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status != 201 {
                        return Err(err(format!("launch: HTTP {status}")));
                    }
                    let v: Value = serde_json::from_slice(&body)?;
                    let id = v["data"]["id"]
                        .as_str()
                        .and_then(|s| s.parse::<uuid::Uuid>().ok())
                        .ok_or_else(|| err("launch: no id"))?;
                    ids.push(id);
                    break;
                }
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(ids)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

// ---- a raw hyper sink server ------------------------------------------------------------------

/// Bytes received by a [`Sink`] in request bodies.
#[derive(Debug, Default)]
pub struct SinkStats {
    pub body_bytes: AtomicU64,
    pub requests: AtomicU64,
}

/// A minimal HTTP/1.1 server that drains every request body and answers like the API would
/// (`POST /files/upload` → an `UploadedFile`, `POST /agents` → a new agent), so memory
/// benchmarks measure the client alone.
pub struct Sink {
    pub addr: SocketAddr,
    pub stats: Arc<SinkStats>,
}

impl Sink {
    pub async fn start() -> BenchResult<Sink> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(SinkStats::default());
        let st = stats.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| sink_handle(req, st.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(Sink { addr, stats })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/api/v0", self.addr)
    }
}

async fn sink_handle(
    req: http::Request<Incoming>,
    stats: Arc<SinkStats>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let mut body = req.into_body();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(d) = f.data_ref() {
                    n += d.len() as u64;
                }
            }
            Err(_) => break,
        }
    }
    stats.body_bytes.fetch_add(n, Ordering::Relaxed);
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let ts = "2026-01-01T00:00:00.000Z";
    let (status, v) = if path.ends_with("/files/upload") {
        (
            201,
            json!({"id": uuid::Uuid::new_v4(), "name": "upload.bin", "mimeType": "application/octet-stream",
                   "size": n, "fileType": "DOCUMENT", "parentId": null,
                   "fileVersionId": uuid::Uuid::new_v4(), "createdAt": ts}),
        )
    } else if path.ends_with("/agents") {
        let id = uuid::Uuid::new_v4();
        (
            201,
            json!({"data": {"id": id, "status": "waiting", "workflowId": null, "projectId": null,
                   "artifacts": [], "files": [], "createdAt": ts, "updatedAt": ts,
                   "url": format!("http://localhost/assistant/{id}"), "summary": null, "error": null}}),
        )
    } else {
        (404, json!({"error": "not found", "code": "not_found"}))
    };
    let resp = http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .expect("static response");
    Ok(resp)
}

// ---- child processes ----------------------------------------------------------------------------

/// Runs this binary with `args` and parses the last stdout line as JSON.
pub fn run_child(args: &[String]) -> BenchResult<Value> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(err(format!("child {args:?} failed: {}", out.status)));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| err(format!("child {args:?} printed no JSON")))?;
    Ok(serde_json::from_str(line)?)
}
