//! `cargo xtask ci`: what CI runs, in the order that fails fastest.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::{check_deps, cmd};

/// Where the e2e suite's TRACE capture goes (`NOMIC_TRACE_CAPTURE_DIR`, see
/// `tests/src/trace_capture.rs`), relative to the workspace root.
const TRACE_CAPTURE_DIR: &str = "target/trace-capture";

/// What must never appear in the capture. Every sentinel key of the e2e suite has the form
/// `npk_SENTINEL_…` (the harness's `SENTINEL_KEY`, the keys of `tests/tests/secrets.rs`); the
/// part after `npk_` is searched so a key with its prefix stripped is still found. The
/// emulator's default key (`npk_emulator_local`) likewise.
pub const NEEDLES: &[&str] = &["SENTINEL_", "emulator_local"];

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
    let capture = cmd::root().join(TRACE_CAPTURE_DIR);
    match std::fs::remove_dir_all(&capture) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot clear {}: {e}", capture.display()));
        }
        _ => {}
    }
    let tally = run_tests(
        cmd::cargo()
            .args(["test", "--workspace", "--locked"])
            .env("NOMIC_TRACE_CAPTURE_DIR", &capture),
    )?;
    report_scan(&capture)?;
    // One plain closing line for whoever reads the log last: the whole run's counts.
    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

/// The counts of every `test result:` line of a `cargo test` run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    /// Adds the counts of one `test result: ok. 3 passed; 0 failed; …` line (others are ignored).
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                _ => {}
            }
        }
    }
}

/// Runs `cargo test`, echoing its standard output line by line while counting the results.
fn run_tests(command: &mut std::process::Command) -> Result<Tally, String> {
    eprintln!("==> test: {command:?}");
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("test: could not start: {e}"))?;
    let mut tally = Tally::default();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.map_err(|e| format!("test: reading its output: {e}"))?;
            println!("{line}");
            tally.add_line(&line);
        }
    }
    let status = child.wait().map_err(|e| format!("test: {e}"))?;
    if status.success() {
        Ok(tally)
    } else {
        println!("{} passed, {} failed", tally.passed, tally.failed.max(1));
        Err(format!("test failed ({status})"))
    }
}

/// `cargo xtask scan-secrets [DIR]`: the scan alone, over an existing capture.
pub fn scan_command(args: &[String]) -> Result<(), String> {
    match args {
        [] => report_scan(&cmd::root().join(TRACE_CAPTURE_DIR)),
        [dir] => report_scan(Path::new(dir)),
        _ => Err("usage: cargo xtask scan-secrets [DIR]".into()),
    }
}

fn report_scan(capture: &Path) -> Result<(), String> {
    let scan = scan_dir(capture, NEEDLES)?;
    eprintln!(
        "==> secrets scan: {} files, {} lines, {} bytes of TRACE capture in {}: no key found",
        scan.files,
        scan.lines,
        scan.bytes,
        capture.display()
    );
    Ok(())
}

/// What [`scan_dir`] read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    pub files: usize,
    pub lines: u64,
    pub bytes: u64,
}

/// Searches every `*.log` file in `dir` for `needles`. Fails naming the file, line and needle
/// of the first hit (never echoing the line itself), or when there is no capture file at all:
/// a check that read nothing would pass for nothing.
pub fn scan_dir(dir: &Path, needles: &[&str]) -> Result<Scanned, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "secrets scan: no TRACE capture in {} ({e}); was NOMIC_TRACE_CAPTURE_DIR honoured?",
            dir.display()
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "secrets scan: no capture file (*.log) in {}; the scan would test nothing",
            dir.display()
        ));
    }
    let mut total = Scanned::default();
    for path in &files {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("secrets scan: cannot open {}: {e}", path.display()))?;
        let (lines, bytes) = scan(BufReader::new(file), needles).map_err(|hit| match hit {
            Hit::Found { line, needle } => format!(
                "secrets scan: a key ({needle:?}…) appears in {}:{line}",
                path.display()
            ),
            Hit::Io(e) => format!("secrets scan: cannot read {}: {e}", path.display()),
        })?;
        total.files += 1;
        total.lines += lines;
        total.bytes += bytes;
    }
    Ok(total)
}

/// Why [`scan`] stopped.
#[derive(Debug)]
pub enum Hit {
    /// `needle` is on 1-based line `line`.
    Found {
        line: u64,
        needle: String,
    },
    Io(std::io::Error),
}

/// Searches `text` line by line (as bytes, so invalid UTF-8 cannot hide a key) for `needles`;
/// returns the lines and bytes read.
pub fn scan(mut text: impl BufRead, needles: &[&str]) -> Result<(u64, u64), Hit> {
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = text.read_until(b'\n', &mut buf).map_err(Hit::Io)?;
        if n == 0 {
            return Ok((lines, bytes));
        }
        lines += 1;
        bytes += n as u64;
        // Lossy: invalid bytes become U+FFFD and everything else, the needles too, is kept.
        let line = String::from_utf8_lossy(&buf);
        if let Some(needle) = needles.iter().find(|n| line.contains(**n)) {
            return Err(Hit::Found {
                line: lines,
                needle: (*needle).to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tallies_test_result_lines() {
        let mut t = Tally::default();
        t.add_line("test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s");
        t.add_line("running 4 tests");
        t.add_line(
            "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        assert_eq!(
            t,
            Tally {
                passed: 5,
                failed: 1
            }
        );
    }

    use super::*;

    const CLEAN: &str = "2026-01-01T00:00:00Z TRACE attempt{attempt=1}: nomic_agent_transport: \
                         sending authorization=<redacted>\nDEBUG hyper: connected\n";

    #[test]
    fn passes_on_clean_text_and_counts_it() {
        assert_eq!(
            scan(CLEAN.as_bytes(), NEEDLES).unwrap(),
            (2, CLEAN.len() as u64)
        );
    }

    #[test]
    fn finds_a_planted_key_and_names_the_line() {
        for key in [
            "npk_SENTINEL_e2e_3f9a1c7b5d2e40688a1b2c3d4e5f6071",
            "SENTINEL_e2e_3f9a", // prefix stripped
            "npk_emulator_local",
        ] {
            let text = format!("{CLEAN}TRACE header value=\"Bearer {key}\"\nlast\n");
            match scan(text.as_bytes(), NEEDLES) {
                Err(Hit::Found { line, .. }) => assert_eq!(line, 3, "{key}"),
                other => panic!("{key}: {other:?}"),
            }
        }
        // Invalid UTF-8 around the key does not hide it.
        let mut bytes = b"\xff\xfe ".to_vec();
        bytes.extend_from_slice(b"npk_SENTINEL_x\xff\n");
        assert!(matches!(
            scan(&bytes[..], NEEDLES),
            Err(Hit::Found { line: 1, .. })
        ));
    }

    #[test]
    fn a_directory_scan_names_the_file_and_fails_without_files() {
        let dir = std::env::temp_dir().join(format!("xtask-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let err = scan_dir(&dir, NEEDLES).unwrap_err();
        assert!(err.contains("no capture file"), "{err}");
        std::fs::write(dir.join("a-1.log"), CLEAN).unwrap();
        std::fs::write(dir.join("ignored.txt"), "npk_SENTINEL_x").unwrap();
        let ok = scan_dir(&dir, NEEDLES).unwrap();
        assert_eq!((ok.files, ok.lines), (1, 2));
        std::fs::write(dir.join("b-2.log"), format!("{CLEAN}x npk_SENTINEL_y\n")).unwrap();
        let err = scan_dir(&dir, NEEDLES).unwrap_err();
        assert!(err.contains("b-2.log:3"), "{err}");
        assert!(
            !err.contains("SENTINEL_y"),
            "the message must not echo the key: {err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            scan_dir(&dir, NEEDLES)
                .unwrap_err()
                .contains("no TRACE capture")
        );
    }

    #[test]
    fn the_needles_match_the_e2e_harness_sentinel() {
        // Guards against drift: the harness's key must contain a needle.
        let lib = std::fs::read_to_string(cmd::root().join("tests/src/lib.rs")).unwrap();
        let line = lib
            .lines()
            .find(|l| l.starts_with("pub const SENTINEL_KEY: &str = \"npk_"))
            .expect("tests/src/lib.rs defines SENTINEL_KEY");
        assert!(line.contains("npk_SENTINEL_"), "{line}");
        assert!(scan(line.as_bytes(), NEEDLES).is_err());
    }
}
