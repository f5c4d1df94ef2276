//! Benchmark 1: `GET /agents/{id}` through the SDK vs raw hyper-util vs reqwest, against the
//! emulator on loopback, at several concurrencies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use nomic_agent::{AgentId, Client, LaunchRequest, PollSchedule};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::*;
use crate::results::overhead::{Absolute, ClientOverhead, OverheadRow, Ratios};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Sdk,
    Hyper,
    Reqwest,
}

const KINDS: [Kind; 3] = [Kind::Sdk, Kind::Hyper, Kind::Reqwest];

/// What a hand-written client decodes: the fields a poller needs.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Envelope {
    data: MiniAgent,
}

#[derive(Deserialize)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
struct MiniAgent {
    id: String,
    status: String,
    updated_at: String,
}

struct Clients {
    sdk: Client,
    hyper: RawClient,
    reqwest: reqwest::Client,
    url: Arc<str>,
    auth: Arc<str>,
    id: AgentId,
}

async fn one(c: &Clients, kind: Kind) -> BenchResult<()> {
    match kind {
        Kind::Sdk => {
            c.sdk.get_agent(c.id).await?;
        }
        Kind::Hyper => {
            let req = http::Request::get(&*c.url)
                .header(http::header::AUTHORIZATION, &*c.auth)
                .body(Full::new(Bytes::new()))?;
            let resp = c.hyper.request(req).await?;
            if !resp.status().is_success() {
                return Err(err(format!("HTTP {}", resp.status())));
            }
            let body = resp.into_body().collect().await?.to_bytes();
            let _: Envelope = serde_json::from_slice(&body)?;
        }
        Kind::Reqwest => {
            let resp = c
                .reqwest
                .get(&*c.url)
                .header(http::header::AUTHORIZATION, &*c.auth)
                .send()
                .await?;
            if !resp.status().is_success() {
                return Err(err(format!("HTTP {}", resp.status())));
            }
            let body = resp.bytes().await?;
            let _: Envelope = serde_json::from_slice(&body)?;
        }
    }
    Ok(())
}

/// The emulator (kept alive by the returned host) with one agent, and the three clients
/// aimed at `GET /agents/{id}` with the same pool settings.
async fn setup() -> BenchResult<(EmuHost, Clients)> {
    let host = EmuHost::start(emu_config(1.0, false)).await?;
    let base = host.base_url();
    let key = host.key();
    let sdk = sdk_client(&base, key, None, PollSchedule::default())?;
    let agent = sdk
        .launch(LaunchRequest::prompt("overhead [never]"))
        .await?;
    let id = agent.id();
    let clients = Clients {
        sdk,
        hyper: raw_client(),
        reqwest: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()?,
        url: format!("{base}/agents/{id}").into(),
        auth: format!("Bearer {key}").into(),
        id,
    };
    Ok((host, clients))
}

/// Runs `concurrency` loops of requests for `dur`; returns (requests/s, latencies in µs).
async fn run(
    c: &Arc<Clients>,
    kind: Kind,
    concurrency: usize,
    dur: Duration,
) -> BenchResult<(f64, Vec<f64>)> {
    let start = Instant::now();
    let end = start + dur;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < end {
                let t = Instant::now();
                one(&c, kind).await?;
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok((all.len() as f64 / elapsed, all))
}

/// Profile aid (`overhead-profile sdk|hyper|reqwest N [CONCURRENCY]`): warms the pool, then
/// sends `N` requests with one client from `concurrency` loops (default 1), so
/// `valgrind --tool=callgrind` or `perf stat` sees a fixed amount of work. Run it with `N` and
/// with `0`; the difference divided by `N` is the per-request cost (client and emulator; the
/// emulator's share is the same for every client).
pub async fn profile(client: &str, n: usize, concurrency: usize) -> BenchResult<Value> {
    let kind = match client {
        "sdk" => Kind::Sdk,
        "hyper" => Kind::Hyper,
        "reqwest" => Kind::Reqwest,
        other => return Err(err(format!("overhead-profile: unknown client {other}"))),
    };
    let (_host, c) = setup().await?;
    for _ in 0..20 {
        one(&c, kind).await?;
    }
    let c = Arc::new(c);
    let concurrency = concurrency.max(1);
    let mut tasks = Vec::new();
    for i in 0..concurrency {
        let c = c.clone();
        // Split `n` exactly: the first `n % concurrency` loops take one more.
        let share = n / concurrency + usize::from(i < n % concurrency);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                one(&c, kind).await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(json!({"client": client, "requests": n, "concurrency": concurrency}))
}

pub async fn bench(quick: bool) -> BenchResult<ClientOverhead> {
    let (_host, clients) = setup().await?;
    let clients = Arc::new(clients);
    // Many short, interleaved windows rather than a few long ones: a burst of load from a
    // neighbour on this shared machine then spoils one window of one client, and the median
    // of the per-window ratios shrugs it off.
    let (reps, dur) = if quick {
        (5, Duration::from_millis(400))
    } else {
        (15, Duration::from_millis(800))
    };
    // Warm every pool.
    for k in KINDS {
        run(&clients, k, 64, Duration::from_millis(200)).await?;
    }
    // Profile aid: what decoding alone costs, the SDK's full `Agent` vs the 3-field struct.
    let body = {
        let req = http::Request::get(&*clients.url)
            .header(http::header::AUTHORIZATION, &*clients.auth)
            .body(Full::new(Bytes::new()))?;
        clients
            .hyper
            .request(req)
            .await?
            .into_body()
            .collect()
            .await?
            .to_bytes()
    };
    let time_us = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..20_000 {
            f();
        }
        t.elapsed().as_secs_f64() * 1e6 / 20_000.0
    };
    let full_decode = time_us(&|| {
        std::hint::black_box(nomic_agent_core::wire::decode_agent(&body).ok());
    });
    let mini_decode = time_us(&|| {
        std::hint::black_box(serde_json::from_slice::<Envelope>(&body).ok());
    });
    let mut rows = Vec::new();
    for conc in [1usize, 16, 64] {
        // Per repetition: one measurement of each client, order rotated; ratios within a rep.
        let mut per: Vec<[(f64, f64, f64); 3]> = Vec::new();
        for rep in 0..reps {
            let mut m = [(0.0, 0.0, 0.0); 3];
            for i in 0..3 {
                let k = (rep + i) % 3;
                let (rps, lat) = run(&clients, KINDS[k], conc, dur).await?;
                m[k] = (rps, quantile(&lat, 0.5), quantile(&lat, 0.99));
            }
            per.push(m);
        }
        let ratio = |k: usize, f: fn(&(f64, f64, f64)) -> f64| {
            median(&per.iter().map(|m| f(&m[k]) / f(&m[1])).collect::<Vec<_>>())
        };
        let abs = |k: usize, f: fn(&(f64, f64, f64)) -> f64| {
            median(&per.iter().map(|m| f(&m[k])).collect::<Vec<_>>())
        };
        let tput = |m: &(f64, f64, f64)| m.0;
        let p50 = |m: &(f64, f64, f64)| m.1;
        let p99 = |m: &(f64, f64, f64)| m.2;
        let ratios = |k: usize| Ratios {
            throughput: round(ratio(k, tput), 3),
            p50: round(ratio(k, p50), 3),
            p99: Some(round(ratio(k, p99), 3)),
        };
        let row = OverheadRow {
            concurrency: conc as u32,
            sdk_vs_hyper: ratios(0),
            reqwest_vs_hyper: ratios(2),
            sdk_vs_reqwest_throughput: round(
                median(&per.iter().map(|m| m[0].0 / m[2].0).collect::<Vec<_>>()),
                3,
            ),
            hyper: Absolute {
                rps: round(abs(1, tput), 0),
                p50_us: round(abs(1, p50), 0),
                p99_us: Some(round(abs(1, p99), 0)),
            },
        };
        eprintln!("overhead c={conc}: {row:?}");
        rows.push(row);
    }
    Ok(ClientOverhead {
        reps: reps as u32,
        seconds_per_run: dur.as_secs_f64(),
        body_bytes: body.len() as u64,
        decode_us_sdk_agent: round(full_decode, 2),
        decode_us_three_fields: round(mini_decode, 2),
        rows,
    })
}
