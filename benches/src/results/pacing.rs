//! Benchmark 5's figures: quota used and 429s at saturation.

use serde::{Deserialize, Serialize};

/// Pacing at saturation: one row per (tier, client).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pacing {
    /// Simulated seconds before the counted window (drains the emulator's burst).
    pub warmup_s: f64,
    /// Concurrent workers per client.
    pub workers: u32,
    /// One row per point.
    pub rows: Vec<PacingRow>,
}

/// The rate-limit tier a point saturates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// `POST /agents`, Heavy tier.
    HeavyLaunch,
    /// `GET /agents/{id}`, Standard tier.
    StandardRead,
}

impl Tier {
    /// Its name in tables (the JSON name).
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::HeavyLaunch => "heavy_launch",
            Tier::StandardRead => "standard_read",
        }
    }

    /// The tier's name in prose.
    pub fn tier_name(self) -> &'static str {
        match self {
            Tier::HeavyLaunch => "Heavy",
            Tier::StandardRead => "Standard",
        }
    }

    /// The API's documented limit for the tier, requests per minute.
    pub fn per_minute(self) -> f64 {
        match self {
            Tier::HeavyLaunch => 30.0,
            Tier::StandardRead => 300.0,
        }
    }
}

/// The client sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PacingClient {
    /// The SDK, pacing itself.
    #[serde(rename = "sdk")]
    Sdk,
    /// Raw hyper, retrying after `Retry-After` on 429.
    #[serde(rename = "naive_retry_on_429")]
    NaiveRetryOn429,
}

impl PacingClient {
    /// Its name in tables (the JSON name).
    pub fn as_str(self) -> &'static str {
        match self {
            PacingClient::Sdk => "sdk",
            PacingClient::NaiveRetryOn429 => "naive_retry_on_429",
        }
    }
}

/// One client saturating one tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PacingRow {
    /// The tier.
    pub tier: Tier,
    /// The client.
    pub client: PacingClient,
    /// The emulator's time scale for this point.
    pub time_scale: f64,
    /// Simulated seconds counted.
    pub window_s: f64,
    /// Requests accepted within the window.
    pub accepted_in_window: u64,
    /// The tier's sustained quota over the window.
    pub quota_in_window: f64,
    /// 429 responses (whole run, after the target agent's launch).
    pub responses_429: u64,
}
