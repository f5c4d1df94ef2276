//! The page rendered from synthetic results: figures and verdicts come from the JSON, absent
//! sections say so, and the committed page is the rendering of the committed results.

use std::path::PathBuf;

use super::render;
use crate::results::{Outcome, Results, small};

/// The summary row of benchmark `n`.
fn summary_row(md: &str, n: usize) -> &str {
    md.lines()
        .find(|l| l.starts_with(&format!("| {n} | ")))
        .unwrap_or_else(|| panic!("no summary row {n}"))
}

/// Section `n` (from its heading to the next one).
fn section(md: &str, n: usize) -> &str {
    let start = md
        .find(&format!("\n## {n}. "))
        .unwrap_or_else(|| panic!("no section {n}"));
    let rest = &md[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 4);
    &rest[..end]
}

fn measured<T>(o: &mut Outcome<T>) -> &mut T {
    match o {
        Outcome::Measured(t) => t,
        _ => panic!("the sample measures every benchmark"),
    }
}

#[test]
fn the_summary_shows_the_figures_and_verdicts_of_the_results() {
    let md = render(&small()).markdown;
    assert_eq!(
        summary_row(&md, 1),
        "| 1 | client overhead | SDK ≥ 0.90× raw hyper throughput, p50 ≤ 1.15×, ≥ 1× reqwest throughput | worst throughput 0.91×, worst p50 1.12× | **met** |"
    );
    assert!(summary_row(&md, 2).ends_with("| 150 B per agent (worst) | **met** |"));
    assert!(summary_row(&md, 3).ends_with("| see the tables and plots | n/a |"));
    assert!(summary_row(&md, 4).ends_with(
        "| Fleet ≥ 10000 (largest tried that passed); per-agent polling 100 | **met** |"
    ));
    assert!(summary_row(&md, 5).ends_with("| lowest 98.9 % of quota, 0 429s | **met** |"));
    assert!(summary_row(&md, 6).ends_with("| 1.23×, peak RSS 9.50 MiB | **met** |"));
    assert!(
        summary_row(&md, 7)
            .ends_with("| launch needs 1.01× the body on top of the caller's images | n/a |")
    );
}

#[test]
fn the_sections_show_the_tables_of_the_results() {
    let r = small();
    let md = render(&r).markdown;
    assert!(md.contains("- **Date:** 2030-01-02 (UTC)"));
    assert!(md.contains("`cargo xtask bench --quick` (quick mode, 171 s in total)"));
    assert!(md.contains("- **Commit:** `0123456789ab` (with uncommitted changes)"));
    assert!(md.contains("4 × Test CPU, 16 GiB RAM, linux x86_64 kernel 6.1.0-test"));
    let s1 = section(&md, 1);
    assert!(s1.contains("median over 5 interleaved repetitions of 0.40 s"));
    assert!(
        s1.contains("| 1 | 0.95 | 1.02 | 1.10 | 0.81 | 1.21 | 1.17 | 10021 req/s, p50 91 µs |")
    );
    assert!(s1.contains("— **met**."));
    // Ratios the report computes come from the two figures of the same row.
    let s2 = section(&md, 2);
    assert!(s2.contains("| 1000 | 150 | 1500 | 0.10 |"), "{s2}");
    assert!(s2.contains("| 50000 | 75.5 | 1200 | 0.06 |"), "{s2}");
    let s3 = section(&md, 3);
    assert!(s3.contains("spread ±20 % over 100 samples per point"));
    assert!(s3.contains(
        "| 30s | 4.25 polls, lag p50 5.50 s / p90 20.3 s | 4.75 polls, lag p50 6.50 s / p90 21.5 s |"
    ));
    assert!(s3.contains("time scale 0.004 (the SDK's schedule scaled by the same factor, so 10 simulated minutes take 2.40 s)"));
    assert!(s3.contains(
        "fixed interval 2–20 s, or the SDK's doubling schedule with its cap varied 5–50 s"
    ));
    let s4 = section(&md, 4);
    assert!(
        s4.contains("| per_agent | 200 | 321 | 14.5 | 27.5 | 1/60 | 900 | 0 / 5000 / 0 | fail |"),
        "{s4}"
    );
    assert!(s4.contains("| fleet | 10000 | 0 | 22.5 | 31.5 | 0/60 | 250 | 600 / 60 / 60 | pass |"));
    assert!(s4.contains("after a 90 s warm-up"));
    let s5 = section(&md, 5);
    assert!(s5.contains("| standard_read | sdk | 40 | 198 | 200 | 99.0 % | 0 |"));
    assert!(s5.contains("| heavy_launch | sdk | 180 | 89 | 90 | 98.9 % | 0 |"));
    assert!(s5.contains("Eight workers"));
    assert!(
        s5.contains("(Heavy ×0.05, Standard ×0.2: the scaled permit intervals, 100 ms and 40 ms,")
    );
    let s6 = section(&md, 6);
    assert!(s6.contains("| throughput (MiB/s) | 1500 | 1200 | 1.23× (≥ 0.9×) |"));
    assert!(s6.contains("| peak RSS (MiB) | 9.50 | 7.25 | ≤ 64 MiB |"));
    let s7 = section(&md, 7);
    assert!(
        s7.contains("| 102 MiB | 121 MiB | 103 MiB | 1.01× | 2.20× |"),
        "{s7}"
    );
}

#[test]
fn a_figure_changed_in_the_results_changes_the_page() {
    let mut r = small();
    let b = &mut r.benchmarks;
    measured(&mut b.client_overhead).rows[1]
        .sdk_vs_hyper
        .throughput = 0.85;
    measured(&mut b.memory_per_agent).rows[0].fleet_bytes_per_agent = 2100.0;
    measured(&mut b.fleet_capacity).rows[3].lag_p50_s = 30.5;
    measured(&mut b.pacing).rows[2].accepted_in_window = 180;
    measured(&mut b.upload).sdk_peak_rss_mib = 65.0;
    let md = render(&r).markdown;
    assert!(
        summary_row(&md, 1).ends_with("| worst throughput 0.85×, worst p50 1.12× | **not met** |")
    );
    assert!(section(&md, 1).contains("| 8 | 0.85 |"));
    assert!(summary_row(&md, 2).ends_with("| 2100 B per agent (worst) | **not met** |"));
    assert!(summary_row(&md, 4).ends_with(
        "| Fleet ≥ 1000 (largest tried that passed); per-agent polling 100 | **not met** |"
    ));
    assert!(
        section(&md, 4)
            .contains("| fleet | 10000 | 0 | 30.5 | 31.5 | 0/60 | 250 | 600 / 60 / 60 | fail |")
    );
    assert!(summary_row(&md, 5).ends_with("| lowest 90.0 % of quota, 0 429s | **not met** |"));
    assert!(summary_row(&md, 6).ends_with("| 1.23×, peak RSS 65 MiB | **not met** |"));
    // Missed targets bring their explanations, with the run's own facts.
    assert!(md.contains("**1. Client overhead.**"));
    assert!(md.contains("This run does not meet the target at every concurrency"));
    assert!(md.contains("is at concurrency 8 (0.85×, with p50 1.12× and p99 1.25×)"));
    assert!(md.contains("**4. Fleet capacity.** Zero 429s hold at every size."));
    assert!(md.contains("**5. Pacing.** Zero 429s; the shortfall is quota left unused."));
    assert!(md.contains("what remains is run-to-run noise"));
}

#[test]
fn notes_follow_the_verdicts_and_leave_no_placeholder() {
    let met = render(&small()).markdown;
    assert!(met.contains("This run meets the target."));
    assert!(
        !met.contains("**4. Fleet capacity.**"),
        "only shown when missed"
    );
    assert!(!met.contains("**5. Pacing.**"), "only shown when missed");
    assert!(met.contains("so it costs less than the writes it saves"));
    let mut r = small();
    measured(&mut r.benchmarks.fleet_capacity).rows[3].responses_429 = 7;
    measured(&mut r.benchmarks.pacing).rows[0].responses_429 = 3;
    let missed = render(&r).markdown;
    assert!(missed.contains("The `Fleet` received 429s at 1 of the sizes tried."));
    assert!(missed.contains("**5. Pacing.** The SDK received 3 429s."));
    for md in [&met, &missed] {
        assert!(!md.contains("{{"), "unfilled placeholder");
    }
}

#[test]
fn sections_not_run_or_failed_say_so() {
    let mut r = small();
    r.benchmarks.poll_cost_vs_lag = Outcome::NotRun;
    r.benchmarks.fleet_capacity = Outcome::NotRun;
    r.benchmarks.upload = Outcome::Failed {
        error: "child [\"upload\"] failed:\n exit status: 1".into(),
    };
    let report = render(&r);
    let md = &report.markdown;
    assert!(summary_row(md, 3).ends_with("| not run | not run |"));
    assert!(summary_row(md, 4).ends_with("| not run | not run |"));
    assert!(summary_row(md, 6).ends_with("| failed | failed |"));
    assert!(section(md, 3).contains("_Not run._"));
    assert!(section(md, 6).contains("_Failed: `child [\"upload\"] failed: exit status: 1`_"));
    assert!(!md.contains("**6. Upload.**"));
    // No plot for a section that did not run.
    assert!(
        report.plots.is_empty(),
        "{:?}",
        report.plots.iter().map(|p| &p.file).collect::<Vec<_>>()
    );

    // Nothing run at all still renders a page.
    let mut empty = small();
    empty.benchmarks = Default::default();
    let md = render(&empty).markdown;
    for n in 1..=7 {
        assert!(summary_row(&md, n).ends_with("| not run | not run |"));
    }
    assert!(!md.contains("## Where the gaps come from"));
}

#[test]
fn plots_are_drawn_from_the_results() {
    let report = render(&small());
    let files: Vec<&str> = report.plots.iter().map(|p| p.file.as_str()).collect();
    assert_eq!(files, ["poll-tradeoff-30s.svg", "capacity.svg"]);
    assert!(
        report
            .markdown
            .contains("![poll trade-off, 30s](benchmarks/poll-tradeoff-30s.svg)")
    );
    let mut r = small();
    match &mut r.benchmarks.poll_cost_vs_lag {
        Outcome::Measured(p) => p.simulated.curves[0].fixed[0].lag_p50_s = 4.0,
        _ => unreachable!(),
    }
    let moved = render(&r);
    assert_ne!(moved.plots[0].svg, report.plots[0].svg);
    assert_eq!(moved.plots[1].svg, report.plots[1].svg);
}

/// The committed page and plots are exactly what the committed results render to: edit the
/// renderers or the notes, then re-render with `cargo xtask bench --report-only
/// docs/benchmarks/results.json`.
#[test]
fn the_committed_page_is_the_rendering_of_the_committed_results() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let json = docs.join("benchmarks/results.json");
    let results = Results::read(&json).expect("docs/benchmarks/results.json");
    let text = std::fs::read_to_string(&json).expect("read");
    assert_eq!(
        results.to_json(),
        text,
        "results.json is in its written form"
    );
    let report = render(&results);
    let page = std::fs::read_to_string(docs.join("benchmarks.md")).expect("read the page");
    assert!(
        report.markdown == page,
        "docs/benchmarks.md differs from its rendering"
    );
    for p in &report.plots {
        let on_disk = std::fs::read_to_string(docs.join("benchmarks").join(&p.file))
            .unwrap_or_else(|e| panic!("{}: {e}", p.file));
        assert!(
            p.svg == on_disk,
            "docs/benchmarks/{} differs from its rendering",
            p.file
        );
    }
}
