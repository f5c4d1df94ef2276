//! `cargo xtask bench [--quick]`: builds `nomic-agent-bench` in release and runs every
//! benchmark; it writes `target/bench/results.json` and regenerates `docs/benchmarks.md`
//! (with its SVG plots in `docs/benchmarks/`).

use std::path::PathBuf;
use std::process::Command;

pub fn run(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .ok_or("cannot find the workspace root")?;
    let status = Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "-p", "nomic-agent-bench"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building nomic-agent-bench failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let exe = target.join("release").join("nomic-agent-bench");
    let out = target.join("bench");
    let status = Command::new(&exe)
        .current_dir(&root)
        .arg("all")
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("--doc")
        .arg(root.join("docs").join("benchmarks.md"))
        .status()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err("the benchmarks failed".into())
    }
}
