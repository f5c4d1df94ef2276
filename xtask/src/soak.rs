//! `cargo xtask soak [--sessions N]`: the fault matrix's long form. Runs the same test binary
//! as CI (`tests/tests/fault_matrix.rs`) in release mode with `NOMIC_SOAK_SESSIONS=N`
//! (default 1,000) concurrent sessions per scenario; the figures land in
//! `target/reliability/fault_matrix.json`.

use crate::cmd;

const DEFAULT_SESSIONS: u32 = 1_000;

/// Runs the soak.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut sessions = DEFAULT_SESSIONS;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sessions" => {
                let v = it.next().ok_or("--sessions needs a value")?;
                sessions = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--sessions: not a positive number: {v}"))?;
            }
            other => return Err(format!("soak: unknown argument `{other}`")),
        }
    }
    cmd::run(
        "soak",
        cmd::cargo()
            .args([
                "test",
                "-p",
                "nomic-agent-tests",
                "--release",
                "--test",
                "fault_matrix",
                "--",
                "--nocapture",
            ])
            .env("NOMIC_SOAK_SESSIONS", sessions.to_string()),
    )
}
