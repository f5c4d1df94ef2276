//! Section 6: a 1 GiB upload, and its target.

use crate::results::upload::Upload;

use super::format::{Verdict, binary_size, fill, num, setting, table};
use super::page::{Body, Section};

/// The SDK's throughput as a fraction of raw hyper's (median of per-run ratios).
pub const MIN_THROUGHPUT_VS_RAW: f64 = 0.9;
/// The SDK's peak RSS during the upload, MiB.
pub const MAX_PEAK_RSS_MIB: f64 = 64.0;

const INTRO: &str = include_str!("../../notes/upload.md");
const GAPS: &str = include_str!("../../notes/upload-gaps.md");
const GAPS_MET: &str = include_str!("../../notes/upload-gaps-met.md");
const GAPS_NOT_MET: &str = include_str!("../../notes/upload-gaps-not-met.md");

impl Section for Upload {
    const NAME: &'static str = "1 GiB upload";
    const HEADING: &'static str = "1 GiB upload";
    const NOTE_LABEL: &'static str = "Upload";

    fn target() -> String {
        format!(
            "SDK ≥ {}× raw hyper throughput, peak RSS ≤ {} MiB",
            setting(MIN_THROUGHPUT_VS_RAW),
            num(MAX_PEAK_RSS_MIB)
        )
    }

    fn verdict(&self) -> Verdict {
        Verdict::from_bool(
            self.throughput_ratio_sdk_vs_raw >= MIN_THROUGHPUT_VS_RAW
                && self.sdk_peak_rss_mib <= MAX_PEAK_RSS_MIB,
        )
    }

    fn measured(&self) -> String {
        format!(
            "{}×, peak RSS {} MiB",
            num(self.throughput_ratio_sdk_vs_raw),
            num(self.sdk_peak_rss_mib)
        )
    }

    fn body(&self) -> Body {
        let mut md = fill(
            INTRO,
            &[
                ("file_size", binary_size(self.file_bytes)),
                ("reps", self.reps.to_string()),
            ],
        );
        md.push('\n');
        md += &table(
            &["", "SDK", "raw hyper", "ratio / target"],
            &[
                vec![
                    "throughput (MiB/s)".into(),
                    num(self.sdk_mib_per_s),
                    num(self.raw_mib_per_s),
                    format!(
                        "{}× (≥ {}×)",
                        num(self.throughput_ratio_sdk_vs_raw),
                        setting(MIN_THROUGHPUT_VS_RAW)
                    ),
                ],
                vec![
                    "peak RSS (MiB)".into(),
                    num(self.sdk_peak_rss_mib),
                    num(self.raw_peak_rss_mib),
                    format!("≤ {} MiB", num(MAX_PEAK_RSS_MIB)),
                ],
            ],
        );
        md += &format!("Target: {} — {}.\n\n", Self::target(), self.verdict());
        Body {
            markdown: md,
            plots: Vec::new(),
        }
    }

    fn gap_note(&self) -> Option<String> {
        let scan = match self.verdict() {
            Verdict::Met => GAPS_MET,
            _ => GAPS_NOT_MET,
        };
        Some(fill(GAPS, &[("scan", scan.trim_end().to_owned())]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Outcome, small};

    #[test]
    fn throughput_and_memory_both_decide_at_their_bounds() {
        let Outcome::Measured(mut u) = small().benchmarks.upload else {
            unreachable!("the sample measures the upload")
        };
        u.throughput_ratio_sdk_vs_raw = MIN_THROUGHPUT_VS_RAW;
        u.sdk_peak_rss_mib = MAX_PEAK_RSS_MIB;
        assert_eq!(u.verdict(), Verdict::Met);
        u.throughput_ratio_sdk_vs_raw = MIN_THROUGHPUT_VS_RAW - 0.01;
        assert_eq!(u.verdict(), Verdict::NotMet);
        u.throughput_ratio_sdk_vs_raw = MIN_THROUGHPUT_VS_RAW;
        u.sdk_peak_rss_mib = MAX_PEAK_RSS_MIB + 0.1;
        assert_eq!(u.verdict(), Verdict::NotMet);
    }
}
