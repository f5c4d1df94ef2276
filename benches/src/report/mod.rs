//! `docs/benchmarks.md` and its SVG plots, rendered from a [`Results`] alone.
//!
//! One renderer per benchmark (a [`page::Section`] implemented on its figures, in a file of
//! its own with its target's constants); this module puts their parts in page order. The
//! prose around the figures is in `benches/notes/` (templates with `{{placeholders}}`).

mod capacity;
mod format;
mod header;
mod images;
mod memory;
mod overhead;
mod pacing;
mod page;
mod polllag;
#[cfg(test)]
mod tests;
mod upload;

use std::path::Path;

use crate::results::{Outcome, Results};

use format::table;
use page::{Body, Section, SummaryRow};

pub use page::Plot;

const TIME_SCALING: &str = include_str!("../../notes/time-scaling.md");

/// A rendered page.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The markdown page.
    pub markdown: String,
    /// The plots it links to (`benchmarks/<file>` next to the page).
    pub plots: Vec<Plot>,
}

/// Renders the page for `results`.
pub fn render(results: &Results) -> Report {
    let b = &results.benchmarks;
    let mut page = Page::default();
    page.add(&b.client_overhead);
    page.add(&b.memory_per_agent);
    page.add(&b.poll_cost_vs_lag);
    page.add(&b.fleet_capacity);
    page.add(&b.pacing);
    page.add(&b.upload);
    page.add(&b.images);
    let mut md = header::header(&results.run);
    md += "\n## Summary\n\n";
    let rows: Vec<Vec<String>> = page
        .summary
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.benchmark.into(),
                r.target.clone(),
                r.measured.clone(),
                r.status.clone(),
            ]
        })
        .collect();
    md += &table(&["#", "benchmark", "target", "measured", "status"], &rows);
    md += &page.sections;
    md += "## Time scaling\n\n";
    md += TIME_SCALING;
    md.push('\n');
    if !page.notes.is_empty() {
        md += "## Where the gaps come from\n\n";
        md += &page.notes;
    }
    Report {
        markdown: md,
        plots: page.plots,
    }
}

/// Writes the page to `doc` and its plots to the `benchmarks/` folder next to it.
pub fn write(report: &Report, doc: &Path) -> std::io::Result<()> {
    let dir = doc.parent().unwrap_or(Path::new(".")).join("benchmarks");
    std::fs::create_dir_all(&dir)?;
    for p in &report.plots {
        std::fs::write(dir.join(&p.file), &p.svg)?;
    }
    std::fs::write(doc, &report.markdown)
}

/// The page's parts, collected section by section.
#[derive(Default)]
struct Page {
    summary: Vec<SummaryRow>,
    sections: String,
    notes: String,
    plots: Vec<Plot>,
}

impl Page {
    /// Adds the next section (numbered in order of addition).
    fn add<S: Section>(&mut self, outcome: &Outcome<S>) {
        let n = self.summary.len() + 1;
        let (row, body, note) = match outcome {
            Outcome::Measured(r) => (
                SummaryRow {
                    benchmark: S::NAME,
                    target: S::target(),
                    measured: r.measured(),
                    status: r.verdict().to_string(),
                },
                r.body(),
                r.gap_note(),
            ),
            Outcome::NotRun => (absent_row::<S>("not run"), absent_body("Not run."), None),
            Outcome::Failed { error } => (
                absent_row::<S>("failed"),
                // One line, whatever the error printed.
                absent_body(&format!(
                    "Failed: `{}`",
                    error
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace('`', "'")
                )),
                None,
            ),
        };
        self.summary.push(row);
        self.sections += &format!("## {n}. {}\n\n{}", S::HEADING, body.markdown);
        self.plots.extend(body.plots);
        if let Some(note) = note {
            self.notes += &format!("**{n}. {}.** {note}\n", S::NOTE_LABEL);
        }
    }
}

fn absent_row<S: Section>(what: &str) -> SummaryRow {
    SummaryRow {
        benchmark: S::NAME,
        target: S::target(),
        measured: what.into(),
        status: what.into(),
    }
}

fn absent_body(text: &str) -> Body {
    Body {
        markdown: format!("_{text}_\n\n"),
        plots: Vec::new(),
    }
}
