//! Section 3: poll cost against detection lag, with its trade-off plots. No target: the
//! section reports the curve.

use crate::results::polllag::{
    CurvePoint, PollCostVsLag, PollFigures, StrategyRow, TradeOffCurves,
};
use crate::svg::{Chart, Series};

use super::format::{Verdict, fill, num, setting, table};
use super::page::{Body, Plot, Section};

const SIMULATED: &str = include_str!("../../notes/polllag-simulated.md");
const EMULATOR: &str = include_str!("../../notes/polllag-emulator.md");
const CURVES: &str = include_str!("../../notes/polllag-curves.md");

/// The run length the emulator paragraph converts to real seconds, simulated minutes.
const EXAMPLE_RUN_MIN: f64 = 10.0;
/// The real latency the emulator paragraph converts to simulated seconds, ms.
const EXAMPLE_LATENCY_MS: f64 = 1.0;

fn cell(p: &PollFigures) -> String {
    format!(
        "{} polls, lag p50 {} s / p90 {} s",
        num(p.polls_per_turn),
        num(p.lag_p50_s),
        num(p.lag_p90_s)
    )
}

fn rows(table: &[StrategyRow], with_skill: bool) -> Vec<Vec<String>> {
    table
        .iter()
        .map(|r| {
            let mut v = vec![r.run.clone(), cell(&r.sdk)];
            if with_skill {
                v.push(r.skill_default.as_ref().map_or_else(|| "–".into(), cell));
            }
            v.push(cell(&r.fixed_1s));
            v.push(cell(&r.fixed_5s));
            v
        })
        .collect()
}

fn points(curve: &[CurvePoint]) -> Vec<(f64, f64)> {
    curve
        .iter()
        .map(|p| (p.polls_per_turn, p.lag_p50_s))
        .collect()
}

/// `low–high` of the settings on a curve, seconds.
fn range(curve: &[CurvePoint]) -> String {
    let low = curve.iter().map(|p| p.param_s).fold(f64::NAN, f64::min);
    let high = curve.iter().map(|p| p.param_s).fold(f64::NAN, f64::max);
    format!("{}–{}", num(low), num(high))
}

/// The trade-off plot of one run length; the SDK's default from the simulated table.
fn plot(r: &PollCostVsLag, c: &TradeOffCurves) -> Plot {
    let run = &c.run;
    let sdk = r
        .simulated
        .table
        .iter()
        .find(|row| row.run == *run)
        .map(|row| vec![(row.sdk.polls_per_turn, row.sdk.lag_p50_s)])
        .unwrap_or_default();
    let chart = Chart {
        title: format!("Polls per turn vs median detection lag, run length {run}"),
        x_label: "status polls per turn (log)".into(),
        y_label: "median detection lag (s)".into(),
        log_x: true,
        series: vec![
            Series {
                name: "fixed interval".into(),
                color: "#d62728",
                points: points(&c.fixed),
                markers_only: false,
            },
            Series {
                name: "doubling, cap varied".into(),
                color: "#1f77b4",
                points: points(&c.exponential_cap),
                markers_only: false,
            },
            Series {
                name: "SDK default".into(),
                color: "#2ca02c",
                points: sdk,
                markers_only: true,
            },
        ],
    };
    Plot {
        file: format!("poll-tradeoff-{run}.svg"),
        svg: chart.render(),
    }
}

impl Section for PollCostVsLag {
    const NAME: &'static str = "poll cost vs detection lag";
    const HEADING: &'static str = "Poll cost vs detection lag";
    const NOTE_LABEL: &'static str = "Poll cost";

    fn target() -> String {
        "(trade-off curve)".into()
    }

    fn verdict(&self) -> Verdict {
        Verdict::NoTarget
    }

    fn measured(&self) -> String {
        "see the tables and plots".into()
    }

    fn body(&self) -> Body {
        let sim = &self.simulated;
        let emu = &self.emulator;
        let mut md = fill(
            SIMULATED,
            &[("samples_per_point", sim.samples_per_point.to_string())],
        );
        md.push('\n');
        md += &table(
            &[
                "run length",
                "SDK schedule",
                "SKILL.md default",
                "fixed 1 s",
                "fixed 5 s",
            ],
            &rows(&sim.table, true),
        );
        md += &fill(
            EMULATOR,
            &[
                ("agents_per_point", emu.agents_per_point.to_string()),
                ("time_scale", setting(emu.time_scale)),
                ("example_run_min", num(EXAMPLE_RUN_MIN)),
                (
                    "example_run_s",
                    num(EXAMPLE_RUN_MIN * 60.0 * emu.time_scale),
                ),
                ("example_latency_ms", num(EXAMPLE_LATENCY_MS)),
                (
                    "example_latency_s",
                    num(EXAMPLE_LATENCY_MS / 1000.0 / emu.time_scale),
                ),
            ],
        );
        md.push('\n');
        md += &table(
            &["run length", "SDK schedule", "fixed 1 s", "fixed 5 s"],
            &rows(&emu.table, false),
        );
        let plots: Vec<Plot> = sim.curves.iter().map(|c| plot(self, c)).collect();
        if let Some(first) = sim.curves.first() {
            md += &fill(
                CURVES,
                &[
                    ("fixed_range", range(&first.fixed)),
                    ("cap_range", range(&first.exponential_cap)),
                ],
            );
            md.push('\n');
            for (c, p) in sim.curves.iter().zip(&plots) {
                md += &format!("![poll trade-off, {}](benchmarks/{})\n\n", c.run, p.file);
            }
        }
        Body {
            markdown: md,
            plots,
        }
    }
}
