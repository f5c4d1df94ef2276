//! The page's title block: when, how and where the run happened.

use crate::results::RunInfo;

use super::format::{fill, num};

const HEADER: &str = include_str!("../../notes/header.md");

/// One bullet per known fact about the run, then the reproduction paragraph.
pub fn header(run: &RunInfo) -> String {
    let m = &run.machine;
    let mut lines = vec![
        format!("- **Date:** {} (UTC)", run.date),
        format!(
            "- **Command:** `{}` ({} mode, {} s in total)",
            run.command,
            run.mode,
            num(run.total_seconds)
        ),
    ];
    if let Some(c) = &run.commit {
        let dirty = if c.dirty {
            " (with uncommitted changes)"
        } else {
            ""
        };
        lines.push(format!("- **Commit:** `{}`{dirty}", c.id));
    }
    if let Some(from) = &run.transcribed_from {
        lines.push(format!("- **Figures:** transcribed from {from}"));
    }
    lines.push(format!(
        "- **Machine:** {} × {}, {} GiB RAM, {} {} kernel {}; shared with other builds and tests while it ran, so every comparison is a ratio against a baseline measured in the same run (medians of repeated, interleaved runs).",
        m.logical_cpus,
        m.cpu,
        num(m.memory_gib),
        m.os,
        m.arch,
        m.kernel
    ));
    let mut run_lines = lines.join("\n");
    run_lines.push('\n');
    fill(HEADER, &[("run_lines", run_lines)])
}
