//! What a benchmark's renderer contributes to the page, and the trait every renderer
//! implements.

use super::format::Verdict;

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The benchmark's name.
    pub benchmark: &'static str,
    /// Its target.
    pub target: String,
    /// What was measured, in a few words.
    pub measured: String,
    /// The verdict, or why there is none.
    pub status: String,
}

/// An SVG plot, written next to the page under `benchmarks/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File name (no folder).
    pub file: String,
    /// The SVG document.
    pub svg: String,
}

/// The body of a section (below its heading) with the plots it links.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Body {
    /// Markdown, ending with a blank line.
    pub markdown: String,
    /// Plots the markdown links to.
    pub plots: Vec<Plot>,
}

/// A benchmark's renderer, implemented on its figures.
pub trait Section {
    /// Its name in the summary table.
    const NAME: &'static str;
    /// Its section heading (after the number).
    const HEADING: &'static str;
    /// Its label in "Where the gaps come from".
    const NOTE_LABEL: &'static str;

    /// The target, from the section's constants (or what it reports when it has none).
    fn target() -> String;
    /// Whether these figures meet the target.
    fn verdict(&self) -> Verdict;
    /// The summary table's "measured" cell.
    fn measured(&self) -> String;
    /// The section below its heading.
    fn body(&self) -> Body;
    /// Its paragraph under "Where the gaps come from", if it has one for these figures.
    fn gap_note(&self) -> Option<String> {
        None
    }
}
