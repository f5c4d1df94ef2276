//! Benchmark 3: status polls per turn vs detection lag, for several poll strategies and run
//! lengths. First simulated through core's `Turn` in fake time (zero network latency), then
//! confirmed on the time-scaled emulator with the SDK's `Agent::wait`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use nomic_agent::{LaunchRequest, PollSchedule};
use nomic_agent_core::request::ApiBase;
use nomic_agent_core::turn::{Event, Turn, TurnConfig};
use nomic_agent_core::wire::Timestamp;
use nomic_agent_emulator::TimeScale;
use serde_json::{Value, json};

use crate::common::*;
use crate::results::polllag::{
    CurvePoint, OnEmulator, PollCostVsLag, PollFigures, Simulated, StrategyRow, TradeOffCurves,
};

const AGENT: &str = "019abc12-3456-7890-abcd-0000000000aa";
const EPOCH_MS: i64 = 1_777_118_400_000;

fn fixed(secs: f64) -> PollSchedule {
    let d = Duration::from_secs_f64(secs);
    PollSchedule::default()
        .with_initial(d)
        .with_max(d)
        .with_factor(1.0)
        .with_jitter(0.0)
}

fn capped(cap: f64) -> PollSchedule {
    let d = PollSchedule::default();
    d.clone()
        .with_max(Duration::from_secs_f64(cap).max(d.initial))
}

fn agent_json(status: &str, updated_ms: i64) -> Value {
    let ts = |ms: i64| {
        Timestamp::from_unix_millis(EPOCH_MS + ms)
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default()
    };
    json!({"id": AGENT, "status": status, "workflowId": null, "projectId": null, "artifacts": [],
           "files": [], "createdAt": ts(0), "updatedAt": ts(updated_ms), "url": null,
           "summary": null, "error": null})
}

fn response(status: u16, v: Value) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(v.to_string()))
        .expect("static response")
}

/// One launched turn through core in fake time; the server finishes at `run`. Returns
/// (status polls, detection lag).
fn simulate(schedule: &PollSchedule, run: Duration, seed: u64) -> (u32, Duration) {
    let base = ApiBase::parse("https://sim.invalid/api/v0").expect("valid base");
    let cfg = Arc::new(
        TurnConfig::new(base)
            .with_poll(schedule.clone())
            .with_seed(seed),
    );
    let t0 = Instant::now();
    let mut turn = Turn::launch(LaunchRequest::prompt("simulated"), cfg, t0).expect("valid launch");
    let mut now = t0;
    let mut polls = 0u32;
    let mut seen: Option<Instant> = None;
    loop {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_millis(EPOCH_MS as u64) + (now - t0);
        while let Some(tx) = turn.poll_transmit(now) {
            let path = tx.request.uri().path().to_owned();
            let done = now - t0 >= run;
            let resp = if tx.request.method() == http::Method::POST {
                response(201, json!({"data": agent_json("waiting", 0)}))
            } else if path.ends_with("/conversation") {
                let ts = agent_json("x", 0)["createdAt"].clone();
                response(
                    200,
                    json!({"data": {"messages": [
                        {"id": "m1", "type": "user", "text": "simulated", "createdAt": ts},
                        {"id": "m2", "type": "assistant", "text": "done", "createdAt": ts}]}}),
                )
            } else {
                polls += 1;
                if done && seen.is_none() {
                    seen = Some(now);
                }
                let (s, u) = if done {
                    ("finished", run.as_millis() as i64)
                } else {
                    ("running", 1)
                };
                response(200, json!({"data": agent_json(s, u)}))
            };
            turn.handle_response(now, wall, tx.id, resp);
        }
        let mut finished = false;
        while let Some(ev) = turn.poll_event() {
            finished |= ev.is_terminal();
            if let Event::Error(e) = ev {
                panic!("simulated turn failed: {e}");
            }
        }
        if finished || turn.is_done() {
            break;
        }
        let Some(next) = turn.poll_timeout() else {
            break;
        };
        now = next.max(now);
        turn.handle_timeout(now);
    }
    let lag = seen.map(|s| (s - t0).saturating_sub(run)).unwrap_or(run);
    (polls, lag)
}

/// The SKILL.md loop as written: sleep 2 s, 4 s, … capped at 30 s (no jitter), then poll.
fn simulate_skill(run: Duration) -> (u32, Duration) {
    let (mut t, mut d, mut polls) = (Duration::ZERO, Duration::from_secs(2), 0);
    loop {
        t += d;
        polls += 1;
        if t >= run {
            return (polls, t - run);
        }
        d = (d * 2).min(Duration::from_secs(30));
    }
}

/// Mean polls, median and p90 lag (s) over run lengths spread ±20 % around `nominal`.
fn sweep(
    nominal: f64,
    samples: usize,
    f: impl Fn(Duration, u64) -> (u32, Duration),
) -> PollFigures {
    let mut polls = Vec::new();
    let mut lags = Vec::new();
    for i in 0..samples {
        let x = 0.8 + 0.4 * i as f64 / (samples.max(2) - 1) as f64;
        let (p, l) = f(Duration::from_secs_f64(nominal * x), i as u64 + 1);
        polls.push(p as f64);
        lags.push(l.as_secs_f64());
    }
    PollFigures {
        polls_per_turn: round(polls.iter().sum::<f64>() / polls.len() as f64, 2),
        lag_p50_s: round(median(&lags), 2),
        lag_p90_s: round(quantile(&lags, 0.9), 2),
    }
}

pub const RUNS: [(&str, f64); 3] = [("1s", 1.0), ("30s", 30.0), ("10min", 600.0)];

/// A curve: one sweep per setting.
fn curve(
    secs: f64,
    samples: usize,
    params: &[f64],
    schedule: impl Fn(f64) -> PollSchedule,
) -> Vec<CurvePoint> {
    params
        .iter()
        .map(|&param| {
            let sched = schedule(param);
            let v = sweep(secs, samples, |r, s| simulate(&sched, r, s));
            CurvePoint {
                param_s: param,
                polls_per_turn: v.polls_per_turn,
                lag_p50_s: v.lag_p50_s,
            }
        })
        .collect()
}

fn sim(quick: bool) -> Simulated {
    let samples = if quick { 100 } else { 400 };
    let mut table = Vec::new();
    let mut curves = Vec::new();
    for (name, secs) in RUNS {
        table.push(StrategyRow {
            run: name.into(),
            sdk: sweep(secs, samples, |r, s| {
                simulate(&PollSchedule::default(), r, s)
            }),
            skill_default: Some(sweep(secs, samples, |r, _| simulate_skill(r))),
            fixed_1s: sweep(secs, samples, |r, s| simulate(&fixed(1.0), r, s)),
            fixed_5s: sweep(secs, samples, |r, s| simulate(&fixed(5.0), r, s)),
        });
        curves.push(TradeOffCurves {
            run: name.into(),
            fixed: curve(
                secs,
                samples / 2,
                &[1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0],
                fixed,
            ),
            exponential_cap: curve(
                secs,
                samples / 2,
                &[4.0, 8.0, 15.0, 30.0, 60.0, 120.0],
                capped,
            ),
        });
    }
    Simulated {
        samples_per_point: samples as u32,
        table,
        curves,
    }
}

/// The same strategies through the SDK on the emulator, time-scaled.
async fn on_emulator(quick: bool) -> BenchResult<OnEmulator> {
    let scale = 0.005;
    let ts = TimeScale::new(scale)?;
    let k = if quick { 8 } else { 24 };
    let mut table = Vec::new();
    for (name, secs) in RUNS {
        let mut cfg = emu_config(scale, false);
        let total_ms = (secs * 1000.0) as u64;
        cfg.lifecycle.waiting_ms = (total_ms / 2).min(500);
        cfg.lifecycle.running_ms = total_ms - cfg.lifecycle.waiting_ms;
        let host = EmuHost::start(cfg).await?;
        let base = host.base_url();
        let mut cells = Vec::new();
        let strategies = [
            ("sdk", scaled_schedule(ts)),
            ("fixed_1s", scale_schedule(&fixed(1.0), ts)),
            ("fixed_5s", scale_schedule(&fixed(5.0), ts)),
        ];
        for (_, sched) in strategies {
            let client = sdk_client(&base, host.key(), None, sched)?;
            let polls0 = host.route_count("GET /agents/{id}");
            let mut tasks = Vec::new();
            for i in 0..k {
                let client = client.clone();
                tasks.push(tokio::spawn(async move {
                    // Stagger the launches so the run phases are spread like real traffic.
                    tokio::time::sleep(
                        ts.duration(Duration::from_secs_f64(2.0 * i as f64 / k as f64)),
                    )
                    .await;
                    let agent = client
                        .launch(LaunchRequest::prompt(format!("lag probe {i}")))
                        .await?;
                    let out = agent.wait().await?;
                    let noticed = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)?
                        .as_millis() as i64;
                    let terminal = out
                        .agent
                        .updated_at
                        .unix_millis()
                        .ok_or_else(|| err("no updatedAt"))?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                        (noticed - terminal).max(0) as f64 / 1000.0 / scale,
                    )
                }));
            }
            let mut lags = Vec::new();
            for t in tasks {
                lags.push(t.await??);
            }
            let polls = (host.route_count("GET /agents/{id}") - polls0) as f64 / k as f64;
            cells.push(PollFigures {
                polls_per_turn: round(polls, 2),
                lag_p50_s: round(median(&lags), 2),
                lag_p90_s: round(quantile(&lags, 0.9), 2),
            });
        }
        let [sdk, fixed_1s, fixed_5s]: [PollFigures; 3] = cells
            .try_into()
            .map_err(|_| err("poll-lag: one cell per strategy"))?;
        let row = StrategyRow {
            run: name.into(),
            sdk,
            skill_default: None,
            fixed_1s,
            fixed_5s,
        };
        eprintln!("poll-lag emulator: {row:?}");
        table.push(row);
    }
    Ok(OnEmulator {
        time_scale: scale,
        agents_per_point: k as u32,
        table,
    })
}

fn scale_schedule(s: &PollSchedule, scale: TimeScale) -> PollSchedule {
    s.clone()
        .with_initial(scale.duration(s.initial))
        .with_max(scale.duration(s.max))
}

pub async fn bench(quick: bool) -> BenchResult<PollCostVsLag> {
    let simulated = sim(quick);
    eprintln!("poll-lag sim: {:?}", simulated.table);
    let emulator = on_emulator(quick).await?;
    Ok(PollCostVsLag {
        simulated,
        emulator,
    })
}
