//! Section 7: four 20 MB images in one launch. No target: the section reports peak memory
//! against the body.

use crate::results::images::Images;

use super::format::{Verdict, fill, num, ratio, spelled, table};
use super::page::{Body, Section};

const INTRO: &str = include_str!("../../notes/images.md");
const GAPS: &str = include_str!("../../notes/images-gaps.md");

impl Images {
    fn extra_vs_body(&self) -> f64 {
        ratio(self.launch_extra_mib, self.request_body_mib)
    }
}

impl Section for Images {
    const NAME: &'static str = "four 20 MB images";
    const HEADING: &'static str = "Four 20 MB images in one launch";
    const NOTE_LABEL: &'static str = "Images";

    fn target() -> String {
        "(report peak RSS vs body)".into()
    }

    fn verdict(&self) -> Verdict {
        Verdict::NoTarget
    }

    fn measured(&self) -> String {
        format!(
            "launch needs {}× the body on top of the caller's images",
            num(self.extra_vs_body())
        )
    }

    fn body(&self) -> Body {
        let mut md = fill(INTRO, &[("runs", spelled(self.runs.into()))]);
        md.push('\n');
        // Peak growth over the RSS before the images were built: the images plus the launch.
        let total = self.images_in_memory_mib + self.launch_extra_mib;
        md += &table(
            &[
                "request body",
                "images held by the caller",
                "extra peak during launch",
                "extra / body",
                "total peak growth / body",
            ],
            &[vec![
                format!("{} MiB", num(self.request_body_mib)),
                format!("{} MiB", num(self.images_in_memory_mib)),
                format!("{} MiB", num(self.launch_extra_mib)),
                format!("{}×", num(self.extra_vs_body())),
                format!("{}×", num(ratio(total, self.request_body_mib))),
            ]],
        );
        Body {
            markdown: md,
            plots: Vec::new(),
        }
    }

    fn gap_note(&self) -> Option<String> {
        Some(GAPS.to_owned())
    }
}
