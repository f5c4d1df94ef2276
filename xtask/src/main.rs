//! Project automation, run as `cargo xtask <command>`.
//!
//! Commands:
//! - `ci`: format check, clippy with `-D warnings`, dependency boundaries, every test;
//!   `ci --stress N [--burners K]` runs all of it N times beside K busy processes.
//! - `check-deps`: the architecture's dependency boundaries only: crate dependencies, import
//!   circles between files, paths named in `docs/ARCHITECTURE.md`.
//! - `scan-secrets [DIR]`: the key scan `ci` runs after the tests, over an existing TRACE
//!   capture (default `target/trace-capture`).
//! - `fuzz`: the cargo-fuzz targets in `fuzz/` (nightly), or `fuzz --replay` of their corpus
//!   (stable).

mod bench;
mod check_deps;
mod ci;
mod cmd;
mod doc_paths;
mod fuzz;
mod import_cycles;
mod soak;
mod stress;
mod workspace;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => match stress::parse(&args[1..]) {
            Ok(None) => ci::run(),
            Ok(Some(s)) => stress::run(s),
            Err(e) => Err(e),
        },
        // The busy process of `ci --stress` (not listed in the help).
        Some("burn") => stress::burn(&args[1..]),
        Some("check-deps") => check_deps::run(),
        Some("scan-secrets") => ci::scan_command(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <command>\n\n\
         commands:\n  \
         ci           fmt check, clippy -D warnings, check-deps, all tests\n  \
         ci --stress N [--burners K]  the whole ci N times beside K (2) busy processes\n  \
         check-deps   fail if core depends on IO crates, the emulator depends on core,\n               \
         files of a crate import each other in a circle, or docs/ARCHITECTURE.md\n               \
         names a path that does not exist\n  \
         scan-secrets [DIR] search a TRACE capture (default target/trace-capture) for the keys\n  \
         fuzz         [--seconds N] [--target NAME] run the fuzz targets (nightly);\n               \
         --replay replays the committed fuzz corpus on stable"
    );
}
