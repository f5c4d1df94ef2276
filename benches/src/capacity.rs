//! Benchmark 4: how many concurrent agents can be tracked under the Standard tier (300/min)
//! with zero 429s and a median detection lag of at most 30 s: the SDK's `Fleet` vs a task per
//! agent polling on its own timer (2 s doubling to a 30 s cap, retry after `Retry-After`).
//!
//! The emulator runs time-scaled with its real rate limits (scaled with it). Agents are
//! launched up front (`[never]`: they run until completed), then completed at 30 per simulated
//! minute, the turnover the Heavy tier allows in steady state; lag = the client noticing the
//! terminal status minus the moment the emulator completed the agent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nomic_agent::{AgentId, Fleet};
use nomic_agent_emulator::TimeScale;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::common::*;
use crate::results::capacity::{CapacityRow, FleetCapacity, Tracker};

struct Params {
    scale: f64,
    warmup_s: f64,
    window_s: f64,
    tail_s: f64,
    per_minute_done: f64,
}

async fn point(p: &Params, n: usize, fleet_mode: bool) -> BenchResult<CapacityRow> {
    let ts = TimeScale::new(p.scale)?;
    let mut cfg = emu_config(p.scale, true);
    // Setting up N running agents is not what is measured: lift the Heavy tier for launches.
    cfg.rate_limits.heavy_per_minute = 10_000_000;
    let host = Arc::new(EmuHost::start(cfg).await?);
    let base = host.base_url();
    let key = host.key();
    let ids = raw_launch_many(&base, key, "capacity [never]", n, 32, p.scale).await?;
    let t429 = host.too_many();
    let reads0 = (
        host.route_count("GET /agents"),
        host.route_count("GET /agents/{id}"),
        host.route_count("GET /agents/{id}/conversation"),
    );
    let (tx, mut rx) = mpsc::unbounded_channel::<(uuid::Uuid, Instant)>();
    let started = Instant::now();
    let tracker = if fleet_mode {
        let client = sdk_client(&base, key, Some(p.scale), scaled_schedule(ts))?;
        let mut fleet = Fleet::new(&client);
        for id in &ids {
            fleet.track(id.to_string().parse::<AgentId>()?);
        }
        tokio::spawn(async move {
            while let Some(o) = fleet.next().await {
                if o.result.is_ok() {
                    let id = o.agent_id.to_string().parse().expect("uuid");
                    let _ = tx.send((id, Instant::now()));
                }
            }
        })
    } else {
        let client = raw_client();
        let mut handles = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let (client, tx, key) = (client.clone(), tx.clone(), key.to_owned());
            let url = format!("{base}/agents/{id}");
            let id = *id;
            handles.push(tokio::spawn(async move {
                let mut delay = 2.0;
                // Small per-agent phase offset, as independent launches would have.
                let jitter = 1.0 + 0.1 * ((i % 21) as f64 / 10.0 - 1.0);
                loop {
                    tokio::time::sleep(ts.duration(Duration::from_secs_f64(delay * jitter))).await;
                    delay = (delay * 2.0).min(30.0);
                    loop {
                        match raw_send(&client, http::Method::GET, &url, &key, None).await {
                            Ok((429, ra, _)) => {
                                let wait = ts.duration(Duration::from_secs(ra.unwrap_or(1)));
                                tokio::time::sleep(wait).await;
                            }
                            Ok((200, _, body)) => {
                                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                                let st = v["data"]["status"].as_str().unwrap_or("");
                                if matches!(st, "finished" | "failed" | "stopped") {
                                    let _ = tx.send((id, Instant::now()));
                                    return;
                                }
                                break;
                            }
                            _ => break,
                        }
                    }
                }
            }));
        }
        drop(tx);
        tokio::spawn(async move {
            for h in handles {
                let _ = h.await;
            }
        })
    };
    let sim = |s: f64| ts.duration(Duration::from_secs_f64(s));
    tokio::time::sleep(sim(p.warmup_s)).await;
    // Complete agents evenly, spread over the id list.
    let to_complete = ((p.window_s / 60.0) * p.per_minute_done).round().max(1.0) as usize;
    let step = (n / to_complete).max(1);
    let mut completed: HashMap<uuid::Uuid, Instant> = HashMap::new();
    let every = sim(60.0 / p.per_minute_done);
    let mut next_at = Instant::now();
    for j in 0..to_complete.min(n) {
        tokio::time::sleep_until(next_at.into()).await;
        let id = ids[(j * step) % n];
        host.emu
            .complete_agent(id)
            .map_err(|e| err(format!("complete: {e:?}")))?;
        completed.insert(id, Instant::now());
        next_at += every;
    }
    tokio::time::sleep(sim(p.tail_s)).await;
    tracker.abort();
    let elapsed_sim_min = started.elapsed().as_secs_f64() / p.scale / 60.0;
    let mut noticed = HashMap::new();
    while let Ok((id, at)) = rx.try_recv() {
        noticed.entry(id).or_insert(at);
    }
    let mut lags = Vec::new();
    let mut missed = 0;
    for (id, done_at) in &completed {
        match noticed.get(id) {
            Some(at) => lags.push(at.saturating_duration_since(*done_at).as_secs_f64() / p.scale),
            None => {
                missed += 1;
                lags.push(f64::INFINITY);
            }
        }
    }
    let too_many = host.too_many() - t429;
    let reads = (
        host.route_count("GET /agents") - reads0.0,
        host.route_count("GET /agents/{id}") - reads0.1,
        host.route_count("GET /agents/{id}/conversation") - reads0.2,
    );
    let total_reads = (reads.0 + reads.1 + reads.2) as f64;
    let row = CapacityRow {
        client: if fleet_mode {
            Tracker::Fleet
        } else {
            Tracker::PerAgent
        },
        agents: n as u64,
        responses_429: too_many,
        // A missed agent's lag is infinite; JSON has no infinity.
        lag_p50_s: round(median(&lags).min(1e9), 1),
        lag_p90_s: round(quantile(&lags, 0.9).min(1e9), 1),
        completed: completed.len() as u64,
        missed,
        standard_reads_per_min: round(total_reads / elapsed_sim_min, 1),
        scan_pages: reads.0,
        agent_polls: reads.1,
        conversations: reads.2,
    };
    eprintln!("capacity: {row:?}");
    Ok(row)
}

pub async fn bench(quick: bool) -> BenchResult<FleetCapacity> {
    // 0.05: a loopback request (~2-5 ms real) reads as 0.1-0.25 s simulated, well under the
    // 200 ms Standard permit interval, so scans are paced as they would be for real.
    let p = if quick {
        Params {
            scale: 0.05,
            warmup_s: 90.0,
            window_s: 120.0,
            tail_s: 45.0,
            per_minute_done: 30.0,
        }
    } else {
        Params {
            scale: 0.05,
            warmup_s: 120.0,
            window_s: 600.0,
            tail_s: 90.0,
            per_minute_done: 30.0,
        }
    };
    let (fleet_ns, agent_ns): (&[usize], &[usize]) = if quick {
        (&[1_000, 10_000], &[100, 200])
    } else {
        (&[1_000, 5_000, 10_000, 15_000], &[50, 100, 150, 200])
    };
    let mut rows = Vec::new();
    for &n in agent_ns {
        rows.push(point(&p, n, false).await?);
    }
    for &n in fleet_ns {
        rows.push(point(&p, n, true).await?);
    }
    Ok(FleetCapacity {
        time_scale: p.scale,
        warmup_s: p.warmup_s,
        window_s: p.window_s,
        tail_s: p.tail_s,
        completions_per_min: p.per_minute_done,
        rows,
    })
}
