//! Benchmark 7's figures: four 20 MB images in one launch.

use serde::{Deserialize, Serialize};

/// Memory around one launch carrying four images (medians over child processes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Images {
    /// Child processes measured.
    pub runs: u32,
    /// The launch's request body, MiB.
    pub request_body_mib: f64,
    /// RSS growth from building the images, MiB.
    pub images_in_memory_mib: f64,
    /// Peak RSS during the launch above the RSS with the images built, MiB.
    pub launch_extra_mib: f64,
}
