//! Benchmark 2: RSS growth per tracked agent, `Fleet` vs a task (with its own timer and
//! polling future) per agent. Each measurement runs in its own child process.

use std::time::Duration;

use nomic_agent::{AgentId, Fleet, PollSchedule};
use serde_json::{Value, json};

use crate::common::*;
use crate::results::memory::{MemoryPerAgent, MemoryRow};

fn ids(n: usize) -> Vec<AgentId> {
    (0..n)
        .map(|i| {
            format!("019abc12-3456-7890-abcd-{:012x}", i)
                .parse()
                .expect("valid id")
        })
        .collect()
}

/// Child: track `n` agents with `mode` (`fleet` or `tasks`) and report the RSS growth.
pub async fn child(n: usize, mode: &str) -> BenchResult<Value> {
    // Nothing listens there: the first poll is 2 s away and the measurement is done before.
    let client = sdk_client(
        "http://127.0.0.1:9/api/v0",
        "npk_bench",
        None,
        PollSchedule::default()
            .with_initial(Duration::from_secs(3600))
            .with_max(Duration::from_secs(3600)),
    )?;
    let ids = ids(n);
    // Let the runtime and allocator settle, then take the baseline.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (before, _) = rss_kib();
    let keep: Box<dyn std::any::Any> = match mode {
        "fleet" => {
            let mut fleet = Fleet::new(&client);
            for id in &ids {
                fleet.track(*id);
            }
            // Let the fleet compute its schedule once (it then sleeps until the first poll).
            let _ = tokio::time::timeout(Duration::from_millis(20), fleet.next()).await;
            Box::new(fleet)
        }
        "tasks" => {
            let mut handles = Vec::with_capacity(n);
            for id in &ids {
                let (client, id) = (client.clone(), *id);
                handles.push(tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        if let Ok(a) = client.get_agent(id).await
                            && a.status.is_terminal()
                        {
                            return a;
                        }
                    }
                }));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            Box::new(handles)
        }
        other => return Err(err(format!("unknown mode {other}"))),
    };
    let (after, _) = rss_kib();
    drop(keep);
    let grown = after.saturating_sub(before) as f64 * 1024.0;
    Ok(
        json!({"mode": mode, "agents": n, "rss_growth_bytes": grown, "bytes_per_agent": round(grown / n as f64, 1)}),
    )
}

pub fn bench(_quick: bool) -> BenchResult<MemoryPerAgent> {
    let mut rows = Vec::new();
    for n in [10_000usize, 100_000] {
        // Median of three child processes per cell.
        let cell = |mode: &str| -> BenchResult<f64> {
            let mut per = Vec::new();
            for _ in 0..3 {
                let v = run_child(&["memory-child".into(), n.to_string(), mode.into()])?;
                per.push(
                    v["bytes_per_agent"]
                        .as_f64()
                        .ok_or_else(|| err("memory-child: no bytes_per_agent"))?,
                );
            }
            Ok(round(median(&per), 1))
        };
        let row = MemoryRow {
            agents: n as u64,
            fleet_bytes_per_agent: cell("fleet")?,
            tasks_bytes_per_agent: cell("tasks")?,
        };
        eprintln!("memory: {row:?}");
        rows.push(row);
    }
    Ok(MemoryPerAgent { rows })
}
