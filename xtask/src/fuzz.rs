//! `cargo xtask fuzz`: runs the cargo-fuzz targets in `fuzz/` (a project outside the
//! workspace) on the nightly toolchain, or replays their committed corpus on stable.
//!
//! - `cargo xtask fuzz [--seconds N] [--target NAME]`: every target (or one) for N seconds
//!   each (default 30), starting from a temporary copy of `fuzz/corpus/<target>/` so the
//!   committed corpus stays small; one summary line per target; fails when any target crashed.
//! - `cargo xtask fuzz --replay`: `cargo test` inside `fuzz/` on the pinned stable toolchain,
//!   which runs every committed corpus and regression file through its check function.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd;

/// Parsed command-line options.
#[derive(Debug)]
struct Options {
    seconds: u64,
    target: Option<String>,
    replay: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        seconds: 30,
        target: None,
        replay: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = it.next().ok_or("--seconds needs a value")?;
                opts.seconds = value
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("--seconds: not a positive number: {value}"))?;
            }
            "--target" => {
                opts.target = Some(it.next().ok_or("--target needs a name")?.clone());
            }
            "--replay" => opts.replay = true,
            other => return Err(format!("fuzz: unknown argument `{other}`")),
        }
    }
    Ok(opts)
}

/// Entry point; `args` are the arguments after `fuzz`.
pub fn run(args: &[String]) -> Result<(), String> {
    let opts = parse_args(args)?;
    let dir = cmd::root().join("fuzz");
    if opts.replay {
        return cmd::run(
            "fuzz corpus replay (stable)",
            cmd::cargo()
                .current_dir(&dir)
                .args(["test", "--no-default-features", "--locked"]),
        );
    }
    let mut targets = list_targets(&dir)?;
    if let Some(name) = &opts.target {
        if !targets.contains(name) {
            return Err(format!(
                "no fuzz target `{name}`; targets: {}",
                targets.join(", ")
            ));
        }
        targets = vec![name.clone()];
    }
    ensure_nightly()?;
    ensure_cargo_fuzz()?;
    cmd::run(
        "build fuzz targets (nightly)",
        nightly_cargo(&dir).args(["fuzz", "build", "--debug-assertions"]),
    )?;

    let work = std::env::temp_dir().join(format!("nomic-agent-fuzz-{}", std::process::id()));
    let mut crashed = Vec::new();
    let mut summaries = Vec::new();
    for target in &targets {
        let corpus = work.join(target).join("corpus");
        let artifacts = work.join(target).join("artifacts");
        fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
        let seeds = copy_dir(&dir.join("corpus").join(target), &corpus)?;
        eprintln!(
            "==> fuzz {target} for {}s ({seeds} seed files)",
            opts.seconds
        );
        let out = nightly_cargo(&dir)
            .args(["fuzz", "run", "--debug-assertions", target])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", opts.seconds))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1")
            .output()
            .map_err(|e| format!("fuzz {target}: could not start: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let crashes = count_files(&artifacts);
        let stats = Stats::from_log(&log);
        let line = format!(
            "{target:<14} {:>10} runs  cov {} -> {} (+{})  corpus {} -> {}  {crashes} crash(es){}",
            stats.runs,
            stats.cov_start,
            stats.cov_end,
            stats.cov_end.saturating_sub(stats.cov_start),
            seeds,
            count_files(&corpus),
            if out.status.success() || crashes > 0 {
                String::new()
            } else {
                format!("  (exit {})", out.status)
            }
        );
        eprintln!("{line}");
        summaries.push(line);
        if crashes > 0 || !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of the {target} log ---");
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
            crashed.push(format!("{target} (artifacts in {})", artifacts.display()));
        }
    }
    println!("fuzz summary ({}s per target):", opts.seconds);
    for line in &summaries {
        println!("  {line}");
    }
    if crashed.is_empty() {
        let _ = fs::remove_dir_all(&work);
        Ok(())
    } else {
        Err(format!(
            "fuzzing found failures: {}; save reproducers under fuzz/regressions/<target>/",
            crashed.join(", ")
        ))
    }
}

/// Counters read from libFuzzer's output.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    runs: u64,
    cov_start: u64,
    cov_end: u64,
}

impl Stats {
    fn from_log(log: &str) -> Stats {
        let mut stats = Stats::default();
        for line in log.lines() {
            let cov = field(line, "cov:");
            if line.contains("INITED")
                && let Some(c) = cov
            {
                stats.cov_start = c;
            }
            if let Some(c) = cov {
                stats.cov_end = stats.cov_end.max(c);
            }
            if let Some(runs) = line
                .strip_prefix("stat::number_of_executed_units:")
                .and_then(|v| v.trim().parse().ok())
            {
                stats.runs = runs;
            } else if let Some(n) = line
                .strip_prefix('#')
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
            {
                stats.runs = stats.runs.max(n);
            }
        }
        stats
    }
}

/// The number after `key` in a libFuzzer status line (`cov: 812 ft: 2048 …`).
fn field(line: &str, key: &str) -> Option<u64> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == key)?;
    words.next()?.parse().ok()
}

/// The fuzz targets: `fuzz/fuzz_targets/*.rs`, sorted.
fn list_targets(dir: &Path) -> Result<Vec<String>, String> {
    let targets_dir = dir.join("fuzz_targets");
    let entries =
        fs::read_dir(&targets_dir).map_err(|e| format!("{}: {e}", targets_dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// `rustup run nightly cargo` in `dir`, without the variables of the stable cargo running us.
fn nightly_cargo(dir: &Path) -> Command {
    let mut command = Command::new("rustup");
    command
        .args(["run", "nightly", "cargo"])
        .current_dir(dir)
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    command
}

fn ensure_nightly() -> Result<(), String> {
    let ok = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(())
    } else {
        Err(
            "fuzzing needs a nightly toolchain and none is installed; run \
             `rustup toolchain install nightly` (or use `cargo xtask fuzz --replay` on stable)"
                .to_owned(),
        )
    }
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = nightly_cargo(&cmd::root())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    cmd::run(
        "install cargo-fuzz",
        cmd::cargo().args(["install", "cargo-fuzz", "--locked"]),
    )
}

/// Copies the files of `from` (not hidden ones) into `to`; returns how many.
fn copy_dir(from: &Path, to: &Path) -> Result<usize, String> {
    let Ok(entries) = fs::read_dir(from) else {
        return Ok(0);
    };
    let mut copied = 0;
    for entry in entries.filter_map(Result::ok) {
        let path: PathBuf = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_file() && !hidden {
            fs::copy(&path, to.join(entry.file_name()))
                .map_err(|e| format!("copy {}: {e}", path.display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_stats() {
        let log = "INFO: seed corpus: files: 9\n\
                   #10\tINITED cov: 812 ft: 900 corp: 9/1Kb exec/s: 0 rss: 40Mb\n\
                   #512\tNEW    cov: 830 ft: 960 corp: 10/1Kb\n\
                   #90000\tDONE   cov: 845 ft: 1000 corp: 14/2Kb\n\
                   stat::number_of_executed_units: 90001\n";
        assert_eq!(
            Stats::from_log(log),
            Stats {
                runs: 90_001,
                cov_start: 812,
                cov_end: 845
            }
        );
        assert_eq!(Stats::from_log(""), Stats::default());
    }

    #[test]
    fn parses_arguments() {
        let args: Vec<String> = ["--seconds", "5", "--target", "agent"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let opts = parse_args(&args).unwrap();
        assert_eq!((opts.seconds, opts.target.as_deref()), (5, Some("agent")));
        assert!(parse_args(&["--seconds".to_owned(), "0".to_owned()]).is_err());
        assert!(parse_args(&["--bogus".to_owned()]).is_err());
        assert!(parse_args(&["--replay".to_owned()]).unwrap().replay);
    }

    #[test]
    fn every_fuzz_target_has_a_committed_corpus() {
        let dir = cmd::root().join("fuzz");
        let targets = list_targets(&dir).unwrap();
        assert!(!targets.is_empty());
        for t in targets {
            assert!(count_files(&dir.join("corpus").join(&t)) > 0, "corpus/{t}");
        }
    }
}
