//! `cargo xtask bench [--quick] [--only a,b]`: builds `nomic-agent-bench` in release and runs
//! the benchmarks; it writes `target/bench/results.json` and renders `docs/benchmarks.md` (with
//! its SVG plots and a copy of the results in `docs/benchmarks/`) from that file.
//!
//! `cargo xtask bench --report-only [PATH]`: re-renders the page from a results file without
//! running anything (default `target/bench/results.json`; the committed page's own figures are
//! `docs/benchmarks/results.json`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The run's results, relative to the target directory.
const RESULTS: &str = "bench/results.json";

/// What `cargo xtask bench` was asked to do.
#[derive(Debug, PartialEq)]
enum Action {
    /// Run benchmarks; the arguments go to `nomic-agent-bench all`.
    Run(Vec<String>),
    /// Render the page from this results file (default: the last run's).
    ReportOnly(Option<PathBuf>),
}

fn parse(args: &[String]) -> Result<Action, String> {
    let Some(i) = args.iter().position(|a| a == "--report-only") else {
        for a in args.iter().filter(|a| a.starts_with("--")) {
            if !matches!(a.as_str(), "--quick" | "--only") {
                return Err(format!(
                    "bench: unknown option `{a}` (--quick, --only a,b, --report-only [PATH])"
                ));
            }
        }
        return Ok(Action::Run(args.to_vec()));
    };
    let rest: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, a)| a)
        .collect();
    match rest.as_slice() {
        [] => Ok(Action::ReportOnly(None)),
        [path] if !path.starts_with("--") && i + 1 < args.len() => {
            Ok(Action::ReportOnly(Some(PathBuf::from(path))))
        }
        _ => Err("bench: --report-only takes one optional PATH and nothing else".into()),
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let action = parse(args)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .ok_or("cannot find the workspace root")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let doc = root.join("docs").join("benchmarks.md");
    let mut bench_args: Vec<String> = Vec::new();
    match action {
        Action::Run(args) => {
            bench_args.push("all".into());
            bench_args.extend(args);
            bench_args.push("--out".into());
            bench_args.push(path_arg(&target.join("bench")));
        }
        Action::ReportOnly(path) => {
            // A relative PATH is the caller's, not the workspace root's (where the bench runs).
            let json = match path {
                Some(p) => std::env::current_dir()
                    .map_err(|e| format!("cannot read the current directory: {e}"))?
                    .join(p),
                None => target.join(RESULTS),
            };
            if !json.is_file() {
                return Err(format!(
                    "no results file at {} (run `cargo xtask bench` first, or pass docs/benchmarks/results.json)",
                    json.display()
                ));
            }
            bench_args.push("report".into());
            bench_args.push("--json".into());
            bench_args.push(path_arg(&json));
        }
    }
    bench_args.push("--doc".into());
    bench_args.push(path_arg(&doc));

    let status = Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "-p", "nomic-agent-bench"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building nomic-agent-bench failed".into());
    }
    let exe = target.join("release").join("nomic-agent-bench");
    let status = Command::new(&exe)
        .current_dir(&root)
        .args(&bench_args)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err("the benchmarks failed".into())
    }
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn runs_pass_their_options_through() {
        assert_eq!(parse(&[]), Ok(Action::Run(vec![])));
        let a = args(&["--quick", "--only", "memory,pacing"]);
        assert_eq!(parse(&a), Ok(Action::Run(a.clone())));
    }

    #[test]
    fn report_only_takes_an_optional_path() {
        assert_eq!(
            parse(&args(&["--report-only"])),
            Ok(Action::ReportOnly(None))
        );
        assert_eq!(
            parse(&args(&["--report-only", "docs/benchmarks/results.json"])),
            Ok(Action::ReportOnly(Some(PathBuf::from(
                "docs/benchmarks/results.json"
            ))))
        );
    }

    #[test]
    fn bad_combinations_are_refused() {
        assert!(parse(&args(&["--report-only", "--quick"])).is_err());
        assert!(parse(&args(&["a.json", "--report-only"])).is_err());
        assert!(parse(&args(&["--report-only", "a.json", "b.json"])).is_err());
        assert!(parse(&args(&["--fast"])).is_err());
    }
}
