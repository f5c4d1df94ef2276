//! Section 1: client overhead, and its target.

use crate::results::overhead::{ClientOverhead, OverheadRow};

use super::format::{Verdict, fill, num, setting, spelled, table};
use super::page::{Body, Section};

/// The SDK's throughput, as a fraction of raw hyper's, at every concurrency.
pub const MIN_THROUGHPUT_VS_HYPER: f64 = 0.90;
/// The SDK's median latency, as a multiple of raw hyper's, at every concurrency.
pub const MAX_P50_VS_HYPER: f64 = 1.15;
/// The SDK's throughput, as a multiple of reqwest's, at every concurrency.
pub const MIN_THROUGHPUT_VS_REQWEST: f64 = 1.0;

const INTRO: &str = include_str!("../../notes/overhead.md");
const GAPS: &str = include_str!("../../notes/overhead-gaps.md");

fn meets(r: &OverheadRow) -> bool {
    r.sdk_vs_hyper.throughput >= MIN_THROUGHPUT_VS_HYPER
        && r.sdk_vs_hyper.p50 <= MAX_P50_VS_HYPER
        && r.sdk_vs_reqwest_throughput >= MIN_THROUGHPUT_VS_REQWEST
}

/// The row with the lowest SDK/hyper throughput ratio.
fn lowest(rows: &[OverheadRow]) -> Option<&OverheadRow> {
    rows.iter().min_by(|a, b| {
        a.sdk_vs_hyper
            .throughput
            .total_cmp(&b.sdk_vs_hyper.throughput)
    })
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), num)
}

impl Section for ClientOverhead {
    const NAME: &'static str = "client overhead";
    const HEADING: &'static str = "Client overhead: `GET /agents/{id}`";
    const NOTE_LABEL: &'static str = "Client overhead";

    fn target() -> String {
        format!(
            "SDK ≥ {MIN_THROUGHPUT_VS_HYPER:.2}× raw hyper throughput, p50 ≤ {MAX_P50_VS_HYPER:.2}×, ≥ {}× reqwest throughput",
            setting(MIN_THROUGHPUT_VS_REQWEST)
        )
    }

    fn verdict(&self) -> Verdict {
        Verdict::from_bool(!self.rows.is_empty() && self.rows.iter().all(meets))
    }

    fn measured(&self) -> String {
        let worst_p50 = self
            .rows
            .iter()
            .map(|r| r.sdk_vs_hyper.p50)
            .fold(f64::NAN, f64::max);
        format!(
            "worst throughput {:.2}×, worst p50 {worst_p50:.2}×",
            lowest(&self.rows).map_or(f64::NAN, |r| r.sdk_vs_hyper.throughput)
        )
    }

    fn body(&self) -> Body {
        let mut md = fill(
            INTRO,
            &[
                ("reps", self.reps.to_string()),
                ("seconds_per_run", num(self.seconds_per_run)),
            ],
        );
        md.push('\n');
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.concurrency.to_string(),
                    num(r.sdk_vs_hyper.throughput),
                    num(r.sdk_vs_hyper.p50),
                    opt(r.sdk_vs_hyper.p99),
                    num(r.reqwest_vs_hyper.throughput),
                    num(r.reqwest_vs_hyper.p50),
                    num(r.sdk_vs_reqwest_throughput),
                    format!("{} req/s, p50 {} µs", num(r.hyper.rps), num(r.hyper.p50_us)),
                ]
            })
            .collect();
        md += &table(
            &[
                "concurrency",
                "SDK/hyper throughput",
                "SDK/hyper p50",
                "SDK/hyper p99",
                "reqwest/hyper throughput",
                "reqwest/hyper p50",
                "SDK/reqwest throughput",
                "hyper (context only)",
            ],
            &rows,
        );
        md += &format!("Target: {} — {}.\n\n", Self::target(), self.verdict());
        Body {
            markdown: md,
            plots: Vec::new(),
        }
    }

    // Always shown: the margin is thin on a shared machine, and the profile says where the
    // rest goes.
    fn gap_note(&self) -> Option<String> {
        let verdict = match self.verdict() {
            Verdict::Met => "This run meets the target.",
            _ => "This run does not meet the target at every concurrency (see the table).",
        };
        let lowest = lowest(&self.rows).map_or_else(String::new, |r| {
            format!(
                " The lowest throughput ratio of the {} concurrencies is at concurrency {} ({}×, with p50 {}× and p99 {}×).",
                spelled(self.rows.len() as u64),
                r.concurrency,
                num(r.sdk_vs_hyper.throughput),
                num(r.sdk_vs_hyper.p50),
                opt(r.sdk_vs_hyper.p99),
            )
        });
        Some(fill(
            GAPS,
            &[
                ("verdict", verdict.into()),
                ("decode_us_sdk_agent", num(self.decode_us_sdk_agent)),
                ("body_bytes", self.body_bytes.to_string()),
                ("decode_us_three_fields", num(self.decode_us_three_fields)),
                ("lowest_row", lowest),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Outcome, small};

    fn sample() -> ClientOverhead {
        match small().benchmarks.client_overhead {
            Outcome::Measured(o) => o,
            _ => unreachable!("the sample measures overhead"),
        }
    }

    #[test]
    fn the_target_holds_at_its_bounds_and_fails_past_each() {
        let mut o = sample();
        for r in &mut o.rows {
            r.sdk_vs_hyper.throughput = MIN_THROUGHPUT_VS_HYPER;
            r.sdk_vs_hyper.p50 = MAX_P50_VS_HYPER;
            r.sdk_vs_reqwest_throughput = MIN_THROUGHPUT_VS_REQWEST;
        }
        assert_eq!(o.verdict(), Verdict::Met);
        let past: [fn(&mut OverheadRow); 3] = [
            |r| r.sdk_vs_hyper.throughput = 0.89,
            |r| r.sdk_vs_hyper.p50 = 1.16,
            |r| r.sdk_vs_reqwest_throughput = 0.99,
        ];
        for f in past {
            let mut one = o.clone();
            f(&mut one.rows[0]);
            assert_eq!(one.verdict(), Verdict::NotMet);
        }
        o.rows.clear();
        assert_eq!(
            o.verdict(),
            Verdict::NotMet,
            "nothing measured meets nothing"
        );
    }
}
