//! Section 5: pacing at saturation, and its target.

use crate::results::pacing::{Pacing, PacingClient, PacingRow, Tier};

use super::format::{
    Verdict, and_list, at_most_429s, capitalized, fill, num, percent, ratio, setting, spelled,
    table,
};
use super::page::{Body, Section};

/// The share of the quota the SDK must use in the window, on every tier.
pub const MIN_QUOTA_USED: f64 = 0.95;
/// The 429s the SDK may receive, on every tier.
pub const MAX_SDK_429S: u64 = 0;

const INTRO: &str = include_str!("../../notes/pacing.md");
const GAPS: &str = include_str!("../../notes/pacing-gaps.md");

fn quota_used(r: &PacingRow) -> f64 {
    ratio(r.accepted_in_window as f64, r.quota_in_window)
}

impl Pacing {
    fn sdk_rows(&self) -> impl Iterator<Item = &PacingRow> {
        self.rows.iter().filter(|r| r.client == PacingClient::Sdk)
    }

    fn sdk_429s(&self) -> u64 {
        self.sdk_rows().map(|r| r.responses_429).sum()
    }

    /// Each tier once, in row order, with its time scale.
    fn tiers(&self) -> Vec<(Tier, f64)> {
        let mut seen: Vec<(Tier, f64)> = Vec::new();
        for r in &self.rows {
            if !seen.iter().any(|(t, _)| *t == r.tier) {
                seen.push((r.tier, r.time_scale));
            }
        }
        seen
    }
}

impl Section for Pacing {
    const NAME: &'static str = "pacing at saturation";
    const HEADING: &'static str = "Pacing at saturation";
    const NOTE_LABEL: &'static str = "Pacing";

    fn target() -> String {
        // To 0.1 %, without a trailing `.0`.
        let share = num((MIN_QUOTA_USED * 1000.0).round() / 10.0);
        format!(
            "SDK uses ≥ {share} % of the quota with {}",
            at_most_429s(MAX_SDK_429S)
        )
    }

    #[expect(
        clippy::absurd_extreme_comparisons,
        reason = "the 429 limit is a named target that happens to be zero"
    )]
    fn verdict(&self) -> Verdict {
        let mut sdk = self.sdk_rows().peekable();
        let any = sdk.peek().is_some();
        Verdict::from_bool(
            any && sdk.all(|r| quota_used(r) >= MIN_QUOTA_USED && r.responses_429 <= MAX_SDK_429S),
        )
    }

    fn measured(&self) -> String {
        let lowest = self.sdk_rows().map(quota_used).fold(f64::NAN, f64::min);
        format!(
            "lowest {} of quota, {} 429s",
            percent(lowest),
            self.sdk_429s()
        )
    }

    fn body(&self) -> Body {
        let tiers = self.tiers();
        let scales: Vec<String> = tiers
            .iter()
            .map(|(t, s)| format!("{} ×{}", t.tier_name(), setting(*s)))
            .collect();
        // The real permit interval scaled, to 0.1 ms.
        let intervals: Vec<String> = tiers
            .iter()
            .map(|(t, s)| {
                let ms = 60_000.0 / t.per_minute() * s;
                format!("{} ms", num((ms * 10.0).round() / 10.0))
            })
            .collect();
        let mut md = fill(
            INTRO,
            &[
                ("workers", capitalized(&spelled(self.workers.into()))),
                ("scales", scales.join(", ")),
                ("intervals", and_list(&intervals)),
                ("warmup_s", num(self.warmup_s)),
            ],
        );
        md.push('\n');
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.tier.as_str().into(),
                    r.client.as_str().into(),
                    num(r.window_s),
                    r.accepted_in_window.to_string(),
                    num(r.quota_in_window),
                    percent(quota_used(r)),
                    r.responses_429.to_string(),
                ]
            })
            .collect();
        md += &table(
            &[
                "tier",
                "client",
                "window (s)",
                "accepted in window",
                "quota",
                "quota used",
                "429s",
            ],
            &rows,
        );
        md += &format!("Target: {} — {}.\n\n", Self::target(), self.verdict());
        Body {
            markdown: md,
            plots: Vec::new(),
        }
    }

    // Only when the target is missed: it explains where unused quota goes.
    fn gap_note(&self) -> Option<String> {
        if self.verdict() != Verdict::NotMet {
            return None;
        }
        let sdk_429s = match self.sdk_429s() {
            0 => "Zero 429s; the shortfall is quota left unused.".to_owned(),
            n => format!("The SDK received {n} 429s."),
        };
        Some(fill(GAPS, &[("sdk_429s", sdk_429s)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Outcome, small};

    fn sample() -> Pacing {
        match small().benchmarks.pacing {
            Outcome::Measured(p) => p,
            _ => unreachable!("the sample measures pacing"),
        }
    }

    #[test]
    fn the_sdk_rows_decide_at_their_bounds() {
        let mut p = sample();
        // 190 of 200: exactly the share the target asks for.
        p.rows[2].accepted_in_window = 190;
        assert_eq!(p.verdict(), Verdict::Met);
        p.rows[2].accepted_in_window = 189;
        assert_eq!(p.verdict(), Verdict::NotMet);
        p.rows[2].accepted_in_window = 190;
        p.rows[0].responses_429 = MAX_SDK_429S + 1;
        assert_eq!(p.verdict(), Verdict::NotMet);
    }

    #[test]
    fn the_naive_client_does_not_count_and_no_sdk_row_is_not_met() {
        let mut p = sample();
        p.rows[1].accepted_in_window = 1;
        p.rows[1].responses_429 = 99_999;
        assert_eq!(p.verdict(), Verdict::Met);
        p.rows.retain(|r| r.client != PacingClient::Sdk);
        assert_eq!(p.verdict(), Verdict::NotMet);
    }
}
