//! `cargo xtask ci --stress N [--burners K]`: the README's test command N times in a row while
//! K processes (two by default) burn a CPU each, as on a shared 2-core machine. Each run is a
//! child `cargo xtask ci` whose output goes to `target/stress/run-<i>.log`; the summary says
//! how many passed and how long they took. A test that needs an idle machine fails here.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd;

/// How `--stress` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stress {
    pub runs: u32,
    pub burners: u32,
}

/// Parses `ci`'s arguments: none, or `--stress N [--burners K]`.
pub fn parse(args: &[String]) -> Result<Option<Stress>, String> {
    let usage = || "usage: cargo xtask ci [--stress N [--burners K]]".to_string();
    let mut stress: Option<Stress> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |what: &str| -> Result<u32, String> {
            it.next()
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(|| format!("{what} needs a whole number; {}", usage()))
        };
        match a.as_str() {
            "--stress" => {
                let runs = number("--stress")?;
                if runs == 0 {
                    return Err(format!("--stress needs at least one run; {}", usage()));
                }
                let burners = stress.map_or(2, |s| s.burners);
                stress = Some(Stress { runs, burners });
            }
            "--burners" => {
                let burners = number("--burners")?;
                let runs = stress.map_or(0, |s| s.runs);
                stress = Some(Stress { runs, burners });
            }
            other => return Err(format!("unknown argument `{other}`; {}", usage())),
        }
    }
    match stress {
        Some(s) if s.runs == 0 => Err(format!("--burners needs --stress; {}", usage())),
        s => Ok(s),
    }
}

/// Runs the whole CI `s.runs` times beside `s.burners` busy processes.
pub fn run(s: Stress) -> Result<(), String> {
    let dir = cmd::root().join("target/stress");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let burners = Burners::start(s.burners)?;
    let mut results: Vec<(bool, Duration)> = Vec::new();
    for i in 1..=s.runs {
        let log = dir.join(format!("run-{i}.log"));
        let started = Instant::now();
        let ok = run_once(&log)?;
        let took = started.elapsed();
        eprintln!(
            "==> stress run {i}/{}: {} in {:.0} s ({})",
            s.runs,
            if ok { "passed" } else { "FAILED" },
            took.as_secs_f64(),
            log.display()
        );
        results.push((ok, took));
    }
    drop(burners);
    let passed = results.iter().filter(|(ok, _)| *ok).count();
    let mut secs: Vec<f64> = results.iter().map(|(_, d)| d.as_secs_f64()).collect();
    secs.sort_by(f64::total_cmp);
    println!(
        "stress: {passed}/{} runs of `cargo xtask ci` passed with {} busy processes alongside \
         (per run: min {:.0} s, median {:.0} s, max {:.0} s)",
        s.runs,
        s.burners,
        secs[0],
        secs[secs.len() / 2],
        secs[secs.len() - 1]
    );
    if passed == results.len() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} stress runs failed; see {}",
            results.len() - passed,
            s.runs,
            dir.display()
        ))
    }
}

fn run_once(log: &Path) -> Result<bool, String> {
    let file =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let status = cmd::cargo()
        .args(["xtask", "ci"])
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .status()
        .map_err(|e| format!("cannot start `cargo xtask ci`: {e}"))?;
    Ok(status.success())
}

/// The busy processes; killed when dropped (and each exits on its own when we are gone).
struct Burners(Vec<Child>);

impl Burners {
    fn start(n: u32) -> Result<Burners, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find xtask: {e}"))?;
        let mut children = Vec::new();
        for _ in 0..n {
            let child = Command::new(&exe)
                .arg("burn")
                .arg(std::process::id().to_string())
                .stdin(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start a busy process: {e}"))?;
            children.push(child);
        }
        Ok(Burners(children))
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `xtask burn PARENT_PID`: spins one CPU until the parent is gone (so a killed stress run
/// leaves nothing spinning).
pub fn burn(args: &[String]) -> Result<(), String> {
    let parent: u32 = args
        .first()
        .and_then(|p| p.parse().ok())
        .ok_or("usage: xtask burn PARENT_PID")?;
    let mut x: u64 = 1;
    loop {
        for _ in 0..50_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        if std::os::unix::process::parent_id() != parent {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn parses_stress_and_burners() {
        assert_eq!(parse(&args(&[])), Ok(None));
        assert_eq!(
            parse(&args(&["--stress", "10"])),
            Ok(Some(Stress {
                runs: 10,
                burners: 2
            }))
        );
        assert_eq!(
            parse(&args(&["--stress", "3", "--burners", "1"])),
            Ok(Some(Stress {
                runs: 3,
                burners: 1
            }))
        );
        assert_eq!(
            parse(&args(&["--burners", "4", "--stress", "2"])),
            Ok(Some(Stress {
                runs: 2,
                burners: 4
            }))
        );
        for bad in [
            &["--stress"][..],
            &["--stress", "0"],
            &["--stress", "x"],
            &["--burners", "2"],
            &["--fast"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
