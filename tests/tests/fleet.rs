//! A fleet of 2,000 agents on a fast time scale: one scheduler, scans instead of per-agent
//! polls, zero 429s.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt, stream};
use nomic_agent::{AgentStatus, Fleet, LaunchRequest, TierLimit, TierLimits};
use nomic_agent_emulator::{LifecycleConfig, RateLimitConfig};
use nomic_agent_tests::{Wire, builder, config, start};

const N: usize = 2_000;
const SCALE: f64 = 0.001;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_agents_without_a_429() {
    let mut cfg = config(Wire::Tcp, SCALE);
    // A minute-long turn (60 ms here), so the agents are polled many times over.
    cfg.lifecycle = LifecycleConfig {
        waiting_ms: 1_000,
        running_ms: 60_000,
        ..LifecycleConfig::default()
    };
    // Launching is not what this test is about: lift the Heavy tier so setup is quick.
    cfg.rate_limits = RateLimitConfig {
        heavy_per_minute: 60_000,
        ..RateLimitConfig::default()
    };
    let emu = start(cfg).await;
    let per_min = |n: u32| TierLimit::new(emu.time_scale().per_minute(n), 1);
    let c = builder(&emu, SCALE)
        .tier_limits(TierLimits {
            standard: per_min(300),
            write: per_min(60),
            heavy: per_min(60_000),
            search: per_min(60),
        })
        .build()
        .unwrap();

    let ids: Vec<_> = stream::iter(0..N)
        .map(|i| {
            let c = c.clone();
            async move {
                c.launch(LaunchRequest::prompt(format!("task {i}")))
                    .await
                    .map(|a| a.id())
            }
        })
        .buffer_unordered(16)
        .try_collect()
        .await
        .unwrap();
    let mut fleet = Fleet::new(&c);
    for id in &ids {
        fleet.track(*id);
    }
    assert_eq!(fleet.pending(), N);

    let outcomes: Vec<_> =
        tokio::time::timeout(Duration::from_secs(60), fleet.into_stream().collect())
            .await
            .expect("the fleet finishes");
    assert_eq!(outcomes.len(), N);
    let mut seen = HashSet::new();
    for o in outcomes {
        let out = o.result.unwrap();
        assert_eq!(out.status, AgentStatus::Finished);
        assert!(out.answer.unwrap().contains("task "));
        assert!(seen.insert(o.agent_id), "reported once");
    }
    assert_eq!(seen, ids.into_iter().collect());

    let counters = emu.counters();
    assert_eq!(
        counters.too_many_requests_sent, 0,
        "{:?}",
        counters.requests_per_route
    );
    let route = |r: &str| counters.requests_per_route.get(r).copied().unwrap_or(0);
    let scans = route("GET /agents");
    let polls = route("GET /agents/{id}");
    assert!(scans > 0, "scans were used");
    // Per-agent polling alone would poll every agent several times over the minute; the
    // fleet polls each about once (to confirm it left the active list).
    assert!(polls < (N as u64) * 3 / 2, "{polls} per-agent polls");
    emu.shutdown().await;
}
