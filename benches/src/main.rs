//! `nomic-agent-bench`: the SDK's benchmarks (see `docs/benchmarks.md`).
//!
//! ```text
//! nomic-agent-bench all [--quick] [--only a,b] [--out target/bench] [--doc docs/benchmarks.md]
//! nomic-agent-bench overhead|memory|poll-lag|capacity|pacing|upload|images [--quick]
//! nomic-agent-bench report [--json target/bench/results.json] [--doc docs/benchmarks.md]
//! nomic-agent-bench overhead-profile sdk|hyper|reqwest N [C]  # fixed work for callgrind/perf
//! ```
//!
//! `all` runs every benchmark in its own child process (this binary re-executed), writes the
//! figures to `results.json` (the schema is `results`) and renders the markdown page with its
//! SVG plots from that file alone (`report`); `report` re-renders a page from an existing
//! file. Memory benchmarks run their measured client in a further child process so RSS
//! readings are isolated.

mod capacity;
mod common;
mod memory;
mod overhead;
mod pacing;
mod polllag;
mod report;
mod results;
mod run_info;
mod svg;
mod upload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common::{BenchResult, err, run_child};
use crate::results::{Benchmarks, Mode, Outcome, Results, RunInfo, SCHEMA_VERSION};

/// Every benchmark's subcommand, in page order.
const BENCHES: [&str; 7] = [
    "overhead", "memory", "poll-lag", "capacity", "pacing", "upload", "images",
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

/// Prints one benchmark's figures as the one JSON line `all` reads from its child.
fn print_json(v: &impl Serialize) -> BenchResult<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

fn dispatch(args: &[String]) -> BenchResult<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or_else(|| err(format!("{cmd}: missing argument {i}")))
    };
    match cmd {
        "all" => all(args, quick),
        "report" => {
            let json = flag_value(args, "--json").unwrap_or("target/bench/results.json".into());
            let doc = flag_value(args, "--doc").unwrap_or("docs/benchmarks.md".into());
            let results = Results::read(Path::new(&json))?;
            publish(&results, Path::new(&doc))
        }
        "overhead" => print_json(&runtime()?.block_on(overhead::bench(quick))?),
        "memory" => print_json(&memory::bench(quick)?),
        "poll-lag" => print_json(&runtime()?.block_on(polllag::bench(quick))?),
        "capacity" => print_json(&runtime()?.block_on(capacity::bench(quick))?),
        "pacing" => print_json(&runtime()?.block_on(pacing::bench(quick))?),
        "upload" => print_json(&runtime()?.block_on(upload::bench_upload(quick))?),
        "images" => print_json(&runtime()?.block_on(upload::bench_images(quick))?),
        "overhead-profile" => {
            let n: usize = arg(2)?.parse()?;
            let conc: usize = args.get(3).map_or(Ok(1), |c| c.parse())?;
            print_json(&runtime()?.block_on(overhead::profile(&arg(1)?, n, conc))?)
        }
        "memory-child" => {
            let n: usize = arg(1)?.parse()?;
            print_json(&runtime()?.block_on(memory::child(n, &arg(2)?))?)
        }
        "upload-child" => {
            let path = PathBuf::from(arg(3)?);
            print_json(&runtime()?.block_on(upload::upload_child(&arg(1)?, &arg(2)?, &path))?)
        }
        "images-child" => print_json(&runtime()?.block_on(upload::images_child(&arg(1)?))?),
        _ => {
            println!(
                "nomic-agent-bench all [--quick] [--only a,b] [--out DIR] [--doc FILE]\n\
                 nomic-agent-bench {{{}}} [--quick]\n\
                 nomic-agent-bench report [--json FILE] [--doc FILE]",
                BENCHES.join("|")
            );
            Ok(())
        }
    }
}

/// Renders `results` to `doc` (with its plots) and puts a copy of the results next to it, in
/// `benchmarks/results.json`, so the page can always be re-rendered from what it shows.
fn publish(results: &Results, doc: &Path) -> BenchResult<()> {
    report::write(&report::render(results), doc)?;
    let copy = doc
        .parent()
        .unwrap_or(Path::new("."))
        .join("benchmarks")
        .join("results.json");
    results.write(&copy)?;
    eprintln!("wrote {} and {}", doc.display(), copy.display());
    Ok(())
}

/// Runs the benchmarks `only` selects (all when `None`) and collects their figures.
struct Runner<'a> {
    quick: bool,
    only: Option<&'a str>,
    seconds: BTreeMap<String, f64>,
}

impl Runner<'_> {
    /// Runs subcommand `cmd` in a child process, recording its time under `key`.
    fn run<T: DeserializeOwned>(&mut self, cmd: &str, key: &str) -> Outcome<T> {
        if self.only.is_some_and(|o| !o.split(',').any(|x| x == cmd)) {
            return Outcome::NotRun;
        }
        eprintln!("== {cmd}");
        let t = Instant::now();
        let mut args = vec![cmd.to_owned()];
        if self.quick {
            args.push("--quick".into());
        }
        let outcome = run_child(&args)
            .and_then(|v| Ok(serde_json::from_value::<T>(v)?))
            .map_or_else(
                |e| Outcome::Failed {
                    error: e.to_string(),
                },
                Outcome::Measured,
            );
        self.seconds
            .insert(key.into(), common::round(t.elapsed().as_secs_f64(), 1));
        outcome
    }
}

fn all(args: &[String], quick: bool) -> BenchResult<()> {
    let out = PathBuf::from(flag_value(args, "--out").unwrap_or("target/bench".into()));
    let doc = PathBuf::from(flag_value(args, "--doc").unwrap_or("docs/benchmarks.md".into()));
    let only = flag_value(args, "--only");
    if let Some(unknown) = only
        .iter()
        .flat_map(|o| o.split(','))
        .find(|x| !BENCHES.contains(x))
    {
        return Err(err(format!(
            "--only: unknown benchmark `{unknown}` (one of {})",
            BENCHES.join(", ")
        )));
    }
    let started = Instant::now();
    let mut runner = Runner {
        quick,
        only: only.as_deref(),
        seconds: BTreeMap::new(),
    };
    let benchmarks = Benchmarks {
        client_overhead: runner.run("overhead", "client_overhead"),
        memory_per_agent: runner.run("memory", "memory_per_agent"),
        poll_cost_vs_lag: runner.run("poll-lag", "poll_cost_vs_lag"),
        fleet_capacity: runner.run("capacity", "fleet_capacity"),
        pacing: runner.run("pacing", "pacing"),
        upload: runner.run("upload", "upload"),
        images: runner.run("images", "images"),
    };
    let mut command = "cargo xtask bench".to_owned();
    if quick {
        command += " --quick";
    }
    if let Some(o) = &only {
        command += &format!(" --only {o}");
    }
    let results = Results {
        schema_version: SCHEMA_VERSION,
        run: RunInfo {
            date: run_info::today_utc(),
            mode: if quick { Mode::Quick } else { Mode::Full },
            command,
            machine: run_info::machine(),
            commit: run_info::commit(),
            total_seconds: common::round(started.elapsed().as_secs_f64(), 1),
            seconds_per_benchmark: runner.seconds,
            transcribed_from: None,
        },
        benchmarks,
    };
    let path = out.join("results.json");
    results.write(&path)?;
    eprintln!("wrote {}", path.display());
    publish(&results, &doc)
}
