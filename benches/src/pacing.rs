//! Benchmark 5: pacing at saturation. Launches (Heavy tier, 30/min) and reads (Standard tier,
//! 300/min) sent as fast as the client allows: the fraction of the quota used and the 429s
//! received, SDK vs a naive client that retries after `Retry-After` on 429.
//!
//! Time-scaled emulator with its real limits. The emulator's bucket allows a burst of one
//! minute's quota; the window is measured after a warm-up that drains that burst, so "quota"
//! is the sustained rate × the window.

use std::time::{Duration, Instant};

use nomic_agent::{LaunchRequest, PollSchedule};
use nomic_agent_emulator::TimeScale;

use crate::common::*;
use crate::results::pacing::{Pacing, PacingClient, PacingRow, Tier};

/// Concurrent senders per client.
const WORKERS: usize = 8;

async fn point(
    tier: Tier,
    sdk: bool,
    scale: f64,
    warmup_s: f64,
    window_s: f64,
) -> BenchResult<PacingRow> {
    let host = EmuHost::start(emu_config(scale, true)).await?;
    let base = host.base_url();
    let key = host.key().to_owned();
    // One agent to read (launched before the clock starts; its 429s are not counted).
    let target = raw_launch_many(&base, &key, "pacing [never]", 1, 1, scale).await?[0];
    let t429 = host.too_many();
    let start = Instant::now();
    let ts = TimeScale::new(scale)?;
    let window_start = start + ts.duration(Duration::from_secs_f64(warmup_s));
    let end = window_start + ts.duration(Duration::from_secs_f64(window_s));
    let client = sdk_client(&base, &key, Some(scale), PollSchedule::default())?;
    let raw = raw_client();
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (client, raw, base, key) = (client.clone(), raw.clone(), base.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok_in_window = 0u64;
            let agent_url = format!("{base}/agents/{target}");
            let launch_url = format!("{base}/agents");
            let body = bytes::Bytes::from_static(br#"{"prompt":{"text":"pacing"}}"#);
            while Instant::now() < end {
                let ok = if sdk {
                    match tier {
                        Tier::HeavyLaunch => {
                            client.launch(LaunchRequest::prompt("pacing")).await.is_ok()
                        }
                        Tier::StandardRead => client
                            .get_agent(target.to_string().parse().expect("uuid"))
                            .await
                            .is_ok(),
                    }
                } else {
                    let (m, url, b) = match tier {
                        Tier::HeavyLaunch => (http::Method::POST, &launch_url, Some(body.clone())),
                        Tier::StandardRead => (http::Method::GET, &agent_url, None),
                    };
                    match raw_send(&raw, m, url, &key, b).await {
                        Ok((429, ra, _)) => {
                            let wait = ts.duration(Duration::from_secs(ra.unwrap_or(1)));
                            tokio::time::sleep(wait).await;
                            false
                        }
                        Ok((s, _, _)) => s < 300,
                        Err(_) => false,
                    }
                };
                let now = Instant::now();
                if ok && now >= window_start && now <= end {
                    ok_in_window += 1;
                }
            }
            ok_in_window
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await?;
    }
    let quota = tier.per_minute() * window_s / 60.0;
    let too_many = host.too_many() - t429;
    let row = PacingRow {
        tier,
        client: if sdk {
            PacingClient::Sdk
        } else {
            PacingClient::NaiveRetryOn429
        },
        time_scale: scale,
        window_s,
        accepted_in_window: ok,
        quota_in_window: quota,
        responses_429: too_many,
    };
    eprintln!("pacing: {row:?}");
    Ok(row)
}

pub async fn bench(quick: bool) -> BenchResult<Pacing> {
    // Scales keep the permit interval (2 s Heavy, 200 ms Standard, real) at 100 ms and 40 ms:
    // far above the ~1 ms timer granularity, which a burst-1 limiter cannot catch up on.
    let warmup = 10.0;
    let plan = [
        (Tier::HeavyLaunch, 0.05, if quick { 180.0 } else { 600.0 }),
        (Tier::StandardRead, 0.2, if quick { 40.0 } else { 150.0 }),
    ];
    let mut rows = Vec::new();
    for (tier, scale, window) in plan {
        for sdk in [true, false] {
            rows.push(point(tier, sdk, scale, warmup, window).await?);
        }
    }
    Ok(Pacing {
        warmup_s: warmup,
        workers: WORKERS as u32,
        rows,
    })
}
