//! The architecture's dependency boundaries, checked from `cargo tree`.
//!
//! - `nomic-agent-core` is sans-IO: its normal dependency tree holds no async runtime, HTTP stack,
//!   TLS or socket crate.
//! - `nomic-agent-emulator` is an independent model of the server: it does not depend on core in
//!   any way (normal, build or dev).

use crate::cmd;

/// Crates that mean IO or a runtime; none may appear under core.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "tower",
    "tower-service",
    "rustls",
    "mio",
    "reqwest",
    "socket2",
];

pub fn run() -> Result<(), String> {
    let core_tree = tree("nomic-agent-core", "normal")?;
    let bad: Vec<&str> = FORBIDDEN_IN_CORE
        .iter()
        .copied()
        .filter(|name| core_tree.iter().any(|c| c == name))
        .collect();
    if !bad.is_empty() {
        return Err(format!(
            "nomic-agent-core must stay sans-IO, but its dependency tree holds: {}",
            bad.join(", ")
        ));
    }
    eprintln!(
        "check-deps: core is free of IO crates ({} crates in its tree)",
        core_tree.len()
    );

    let emulator_tree = tree("nomic-agent-emulator", "normal,build,dev")?;
    if emulator_tree.iter().any(|c| c == "nomic-agent-core") {
        return Err("nomic-agent-emulator depends on nomic-agent-core; it must model the wire format on its own".into());
    }
    eprintln!("check-deps: the emulator does not depend on core");
    Ok(())
}

/// The crate names in `package`'s dependency tree for the given edge kinds.
fn tree(package: &str, edges: &str) -> Result<Vec<String>, String> {
    let text = cmd::output(
        "cargo tree",
        cmd::cargo().args([
            "tree",
            "-p",
            package,
            "-e",
            edges,
            "--prefix",
            "none",
            "--no-dedupe",
        ]),
    )?;
    Ok(crate_names(&text))
}

/// Parses `cargo tree --prefix none` lines (`name vX.Y.Z (...)`) into crate names.
fn crate_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tree_lines() {
        let text = "nomic-agent-core v0.1.0 (/x)\nserde v1.0.0\nserde v1.0.0\ntokio v1.0.0 (*)\n";
        assert_eq!(
            crate_names(text),
            vec!["nomic-agent-core", "serde", "tokio"]
        );
    }
}
