//! `cargo xtask ci`: what CI runs, in the order that fails fastest.

use crate::{check_deps, cmd};

pub fn run() -> Result<(), String> {
    cmd::run("fmt", cmd::cargo().args(["fmt", "--all", "--", "--check"]))?;
    check_deps::run()?;
    cmd::run(
        "clippy",
        cmd::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    cmd::run(
        "test",
        cmd::cargo().args(["test", "--workspace", "--locked"]),
    )?;
    Ok(())
}
