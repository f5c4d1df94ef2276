//! `nomic-agent-bench`: the SDK's benchmarks (see `docs/benchmarks.md`).
//!
//! ```text
//! nomic-agent-bench all [--quick] [--out target/bench] [--doc docs/benchmarks.md]
//! nomic-agent-bench overhead|memory|poll-lag|capacity|pacing|upload|images [--quick]
//! nomic-agent-bench overhead-profile sdk|hyper|reqwest N [C]  # fixed work for callgrind/perf
//! ```
//!
//! `all` runs every benchmark in its own child process (this binary re-executed), writes
//! `results.json` and regenerates the markdown page with its SVG plots. Memory benchmarks run
//! their measured client in a further child process so RSS readings are isolated.

mod capacity;
mod common;
mod memory;
mod overhead;
mod pacing;
mod polllag;
mod report;
mod report_notes;
mod svg;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Value, json};

use crate::common::{BenchResult, err, run_child};

/// Every benchmark: (subcommand, key in results.json).
const BENCHES: [(&str, &str); 7] = [
    ("overhead", "client_overhead"),
    ("memory", "memory_per_agent"),
    ("poll-lag", "poll_cost_vs_lag"),
    ("capacity", "fleet_capacity"),
    ("pacing", "pacing"),
    ("upload", "upload"),
    ("images", "images"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nomic-agent-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> BenchResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn flag_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn dispatch(args: &[String]) -> BenchResult<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or_else(|| err(format!("{cmd}: missing argument {i}")))
    };
    let v: Value = match cmd {
        "all" => return all(args, quick),
        "overhead" => runtime()?.block_on(overhead::bench(quick))?,
        "overhead-profile" => {
            let n: usize = arg(2)?.parse()?;
            let conc: usize = args.get(3).map_or(Ok(1), |c| c.parse())?;
            runtime()?.block_on(overhead::profile(&arg(1)?, n, conc))?
        }
        "memory" => memory::bench(quick)?,
        "poll-lag" => runtime()?.block_on(polllag::bench(quick))?,
        "capacity" => runtime()?.block_on(capacity::bench(quick))?,
        "pacing" => runtime()?.block_on(pacing::bench(quick))?,
        "upload" => runtime()?.block_on(upload::bench_upload(quick))?,
        "images" => runtime()?.block_on(upload::bench_images(quick))?,
        "memory-child" => {
            let n: usize = arg(1)?.parse()?;
            runtime()?.block_on(memory::child(n, &arg(2)?))?
        }
        "upload-child" => {
            let path = PathBuf::from(arg(3)?);
            runtime()?.block_on(upload::upload_child(&arg(1)?, &arg(2)?, &path))?
        }
        "images-child" => runtime()?.block_on(upload::images_child(&arg(1)?))?,
        "report" => {
            // Regenerate the page from an existing results.json.
            let json = flag_value(args, "--json").unwrap_or("target/bench/results.json".into());
            let doc = flag_value(args, "--doc").unwrap_or("docs/benchmarks.md".into());
            let results: Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
            return report::write(&results, &PathBuf::from(doc));
        }
        _ => {
            println!(
                "nomic-agent-bench all [--quick] [--out DIR] [--doc FILE]\n\
                 nomic-agent-bench {{{}}} [--quick]\n\
                 nomic-agent-bench report [--json FILE] [--doc FILE]",
                BENCHES.map(|b| b.0).join("|")
            );
            return Ok(());
        }
    };
    println!("{v}");
    Ok(())
}

fn all(args: &[String], quick: bool) -> BenchResult<()> {
    let out = PathBuf::from(flag_value(args, "--out").unwrap_or("target/bench".into()));
    let doc = PathBuf::from(flag_value(args, "--doc").unwrap_or("docs/benchmarks.md".into()));
    let only = flag_value(args, "--only");
    std::fs::create_dir_all(&out)?;
    let started = Instant::now();
    let mut benches = serde_json::Map::new();
    let mut seconds = serde_json::Map::new();
    for (cmd, key) in BENCHES {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|x| x == cmd))
        {
            continue;
        }
        eprintln!("== {cmd}");
        let t = Instant::now();
        let mut child_args = vec![cmd.to_owned()];
        if quick {
            child_args.push("--quick".into());
        }
        let v = match run_child(&child_args) {
            Ok(v) => v,
            Err(e) => json!({"error": e.to_string()}),
        };
        seconds.insert(
            key.into(),
            json!(common::round(t.elapsed().as_secs_f64(), 1)),
        );
        benches.insert(key.into(), v);
    }
    let command = if quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    };
    let results = json!({
        "date": report::today_utc(),
        "mode": if quick { "quick" } else { "full" },
        "command": command,
        "machine": report::machine(),
        "total_seconds": common::round(started.elapsed().as_secs_f64(), 1),
        "seconds_per_benchmark": seconds,
        "benchmarks": benches,
    });
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n")?;
    eprintln!("wrote {}", path.display());
    report::write(&results, &doc)?;
    eprintln!("wrote {}", doc.display());
    Ok(())
}
