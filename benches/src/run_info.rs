//! The metadata a run records about itself: date, machine and commit.

use std::process::Command;

use nomic_agent_core::wire::Timestamp;

use crate::results::{Commit, Machine};

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`: the date is the first ten characters. `None` only after
    // the year 9999.
    Timestamp::from_unix_millis(millis)
        .map_or_else(|| "9999-12-31".to_owned(), |t| t.as_str()[..10].to_owned())
}

/// CPU model, logical CPUs, memory and kernel of this machine.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    Machine {
        cpu,
        logical_cpus: std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1),
        memory_gib: (mem_kib as f64 / 1048576.0).round(),
        kernel: kernel.trim().to_owned(),
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
    }
}

/// The checked-out commit and whether tracked files differ from it; `None` outside a git
/// checkout or without git.
pub fn commit() -> Option<Commit> {
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let id = git(&["rev-parse", "--short=12", "HEAD"])?;
    let status = git(&["status", "--porcelain", "--untracked-files=no"])?;
    Some(Commit {
        id,
        dirty: !status.is_empty(),
    })
}
