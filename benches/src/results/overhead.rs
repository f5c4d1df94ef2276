//! Benchmark 1's figures: `GET /agents/{id}` through the SDK, raw hyper-util and reqwest.

use serde::{Deserialize, Serialize};

/// Client overhead at several concurrencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientOverhead {
    /// Interleaved repetitions per concurrency.
    pub reps: u32,
    /// Seconds each client runs per repetition.
    pub seconds_per_run: f64,
    /// Size of the `GET /agents/{id}` response body.
    pub body_bytes: u64,
    /// Microseconds core takes to decode that body into the SDK's `Agent`.
    pub decode_us_sdk_agent: f64,
    /// Microseconds serde takes to decode the three fields the raw clients read.
    pub decode_us_three_fields: f64,
    /// One row per concurrency.
    pub rows: Vec<OverheadRow>,
}

/// One concurrency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverheadRow {
    /// Request loops running at once.
    pub concurrency: u32,
    /// SDK against raw hyper.
    pub sdk_vs_hyper: Ratios,
    /// reqwest against raw hyper.
    pub reqwest_vs_hyper: Ratios,
    /// Median over repetitions of the SDK's throughput over reqwest's.
    pub sdk_vs_reqwest_throughput: f64,
    /// Raw hyper's own figures (medians over repetitions), for context.
    pub hyper: Absolute,
}

/// Medians over repetitions of per-repetition ratios (client / raw hyper, same repetition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    /// Requests per second.
    pub throughput: f64,
    /// Median latency.
    pub p50: f64,
    /// 99th-percentile latency; absent where transcribed from a report that did not show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

/// Absolute figures of one client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Absolute {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th-percentile latency, µs; absent where transcribed from a report that did not show
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_us: Option<f64>,
}
