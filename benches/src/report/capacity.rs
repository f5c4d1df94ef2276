//! Section 4: fleet capacity under the Standard tier, its point rule and its target.

use crate::results::capacity::{CapacityRow, FleetCapacity, Tracker};
use crate::results::pacing::Tier;
use crate::svg::{Chart, Series};

use super::format::{Verdict, at_most_429s, fill, num, setting, table, thousands};
use super::page::{Body, Plot, Section};

/// Agents a `Fleet` must track with every point up to them passing.
pub const TARGET_FLEET_AGENTS: u64 = 10_000;
/// A point passes with at most this many 429s …
pub const POINT_MAX_429S: u64 = 0;
/// … and at most this median detection lag, simulated seconds.
pub const POINT_MAX_LAG_P50_S: f64 = 30.0;
/// The plot caps lags here so a failing point does not flatten the others.
const PLOT_LAG_CAP_S: f64 = 120.0;

const INTRO: &str = include_str!("../../notes/capacity.md");
const GAPS: &str = include_str!("../../notes/capacity-gaps.md");

/// Whether one point passes.
#[expect(
    clippy::absurd_extreme_comparisons,
    reason = "the 429 limit is a named target that happens to be zero"
)]
pub fn passes(r: &CapacityRow) -> bool {
    r.responses_429 <= POINT_MAX_429S && r.lag_p50_s <= POINT_MAX_LAG_P50_S
}

fn point_rule() -> String {
    format!(
        "{} and a median lag ≤ {} s",
        at_most_429s(POINT_MAX_429S),
        num(POINT_MAX_LAG_P50_S)
    )
}

impl FleetCapacity {
    /// The largest number of agents `tracker` passed with (0 when none passed).
    pub fn capacity(&self, tracker: Tracker) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.client == tracker && passes(r))
            .map(|r| r.agents)
            .max()
            .unwrap_or(0)
    }

    fn plot(&self) -> Plot {
        let series = |tracker: Tracker, color: &'static str| Series {
            name: tracker.as_str().replace('_', "-"),
            color,
            points: self
                .rows
                .iter()
                .filter(|r| r.client == tracker)
                .map(|r| (r.agents as f64, r.lag_p50_s.min(PLOT_LAG_CAP_S)))
                .collect(),
            markers_only: false,
        };
        let chart = Chart {
            title: "Median detection lag vs tracked agents (Standard tier)".into(),
            x_label: "concurrently tracked agents (log)".into(),
            y_label: format!("median lag (s, capped at {})", num(PLOT_LAG_CAP_S)),
            log_x: true,
            series: vec![
                series(Tracker::Fleet, "#2ca02c"),
                series(Tracker::PerAgent, "#d62728"),
            ],
        };
        Plot {
            file: "capacity.svg".into(),
            svg: chart.render(),
        }
    }
}

impl Section for FleetCapacity {
    const NAME: &'static str = "fleet capacity (Standard tier)";
    const HEADING: &'static str = "Fleet capacity under the Standard tier";
    const NOTE_LABEL: &'static str = "Fleet capacity";

    fn target() -> String {
        format!(
            "Fleet tracks ≥ {} agents with {}",
            thousands(TARGET_FLEET_AGENTS),
            point_rule()
        )
    }

    fn verdict(&self) -> Verdict {
        Verdict::from_bool(self.capacity(Tracker::Fleet) >= TARGET_FLEET_AGENTS)
    }

    fn measured(&self) -> String {
        format!(
            "Fleet ≥ {} (largest tried that passed); per-agent polling {}",
            self.capacity(Tracker::Fleet),
            self.capacity(Tracker::PerAgent)
        )
    }

    fn body(&self) -> Body {
        let mut md = fill(
            INTRO,
            &[
                ("standard_per_min", num(Tier::StandardRead.per_minute())),
                ("heavy_per_min", num(Tier::HeavyLaunch.per_minute())),
                ("time_scale", setting(self.time_scale)),
                ("warmup_s", num(self.warmup_s)),
                ("completions_per_min", num(self.completions_per_min)),
                ("window_s", num(self.window_s)),
                ("point_rule", point_rule()),
            ],
        );
        md.push('\n');
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.client.as_str().into(),
                    r.agents.to_string(),
                    r.responses_429.to_string(),
                    num(r.lag_p50_s),
                    num(r.lag_p90_s),
                    format!("{}/{}", r.missed, r.completed),
                    num(r.standard_reads_per_min),
                    format!("{} / {} / {}", r.scan_pages, r.agent_polls, r.conversations),
                    if passes(r) { "pass" } else { "fail" }.into(),
                ]
            })
            .collect();
        md += &table(
            &[
                "client",
                "agents",
                "429s",
                "lag p50 (s)",
                "lag p90 (s)",
                "missed/completed",
                "Standard reads/min",
                "scan pages / polls / conversations",
                "result",
            ],
            &rows,
        );
        md += &format!(
            "Largest passing: Fleet {}, per-agent polling {}. Target: {} — {}.\n\n",
            self.capacity(Tracker::Fleet),
            self.capacity(Tracker::PerAgent),
            Self::target(),
            self.verdict()
        );
        let mut plots = Vec::new();
        if !self.rows.is_empty() {
            let plot = self.plot();
            md += &format!("![capacity](benchmarks/{})\n\n", plot.file);
            plots.push(plot);
        }
        Body {
            markdown: md,
            plots,
        }
    }

    // Only when the target is missed: it explains where the lag comes from.
    fn gap_note(&self) -> Option<String> {
        if self.verdict() != Verdict::NotMet {
            return None;
        }
        let with_429s = self
            .rows
            .iter()
            .filter(|r| r.client == Tracker::Fleet && r.responses_429 > 0)
            .count();
        let fleet_429s = match with_429s {
            0 => "Zero 429s hold at every size.".to_owned(),
            n => format!("The `Fleet` received 429s at {n} of the sizes tried."),
        };
        Some(fill(GAPS, &[("fleet_429s", fleet_429s)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Outcome, small};

    fn sample() -> FleetCapacity {
        match small().benchmarks.fleet_capacity {
            Outcome::Measured(c) => c,
            _ => unreachable!("the sample measures capacity"),
        }
    }

    #[test]
    fn a_point_passes_at_its_bounds_and_fails_past_either() {
        let mut r = sample().rows[3].clone();
        r.responses_429 = POINT_MAX_429S;
        r.lag_p50_s = POINT_MAX_LAG_P50_S;
        assert!(passes(&r));
        r.lag_p50_s = POINT_MAX_LAG_P50_S + 0.1;
        assert!(!passes(&r));
        r.lag_p50_s = POINT_MAX_LAG_P50_S;
        r.responses_429 = POINT_MAX_429S + 1;
        assert!(!passes(&r));
    }

    #[test]
    fn capacity_is_the_largest_passing_point_of_each_tracker() {
        let mut c = sample();
        assert_eq!(c.capacity(Tracker::Fleet), 10_000);
        assert_eq!(c.capacity(Tracker::PerAgent), 100);
        assert_eq!(c.verdict(), Verdict::Met);
        c.rows[3].responses_429 = 1;
        assert_eq!(c.capacity(Tracker::Fleet), 1_000);
        assert_eq!(c.verdict(), Verdict::NotMet);
        c.rows.retain(|r| r.client == Tracker::PerAgent);
        assert_eq!(c.capacity(Tracker::Fleet), 0);
    }
}
