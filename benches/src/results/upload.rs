//! Benchmark 6's figures: a 1 GiB upload, SDK against raw hyper.

use serde::{Deserialize, Serialize};

/// Throughput and peak RSS of one file streamed by each client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    /// Size of the uploaded file.
    pub file_bytes: u64,
    /// Interleaved runs per client.
    pub reps: u32,
    /// Median over runs of the SDK's throughput over raw hyper's in the same repetition.
    pub throughput_ratio_sdk_vs_raw: f64,
    /// The SDK's median throughput, MiB/s.
    pub sdk_mib_per_s: f64,
    /// Raw hyper's median throughput, MiB/s.
    pub raw_mib_per_s: f64,
    /// The SDK's median peak RSS during the upload, MiB.
    pub sdk_peak_rss_mib: f64,
    /// Raw hyper's median peak RSS during the upload, MiB.
    pub raw_peak_rss_mib: f64,
    /// Each repetition's throughput ratio (empty where transcribed from a report).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ratios_per_rep: Vec<f64>,
    /// The SDK's median CPU seconds per upload (absent where transcribed from a report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_s_per_gib_sdk: Option<f64>,
    /// Raw hyper's median CPU seconds per upload (absent where transcribed from a report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_s_per_gib_raw: Option<f64>,
    /// Body bytes the sink received over all runs (absent where transcribed from a report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sink_bytes_received: Option<u64>,
}
