//! Benchmark 4's figures: agents tracked under the Standard tier.

use serde::{Deserialize, Serialize};

/// Fleet capacity: one row per (tracker, number of agents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetCapacity {
    /// The emulator's time scale.
    pub time_scale: f64,
    /// Simulated seconds between launching and the first completion.
    pub warmup_s: f64,
    /// Simulated seconds over which agents are completed.
    pub window_s: f64,
    /// Simulated seconds waited after the last completion.
    pub tail_s: f64,
    /// Agents completed per simulated minute.
    pub completions_per_min: f64,
    /// One row per tried point.
    pub rows: Vec<CapacityRow>,
}

/// Who tracks the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracker {
    /// The SDK's `Fleet`.
    Fleet,
    /// A raw task per agent, polling on its own timer.
    PerAgent,
}

impl Tracker {
    /// Its name in tables (the JSON name).
    pub fn as_str(self) -> &'static str {
        match self {
            Tracker::Fleet => "fleet",
            Tracker::PerAgent => "per_agent",
        }
    }
}

/// One point: a tracker with a number of agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityRow {
    /// Who tracked.
    pub client: Tracker,
    /// Agents tracked.
    pub agents: u64,
    /// 429 responses during the measurement.
    pub responses_429: u64,
    /// Median detection lag, simulated seconds (missed agents count as 1e9).
    pub lag_p50_s: f64,
    /// 90th-percentile detection lag, simulated seconds.
    pub lag_p90_s: f64,
    /// Agents completed.
    pub completed: u64,
    /// Completed agents the tracker never reported.
    pub missed: u64,
    /// Standard-tier requests per simulated minute.
    pub standard_reads_per_min: f64,
    /// `GET /agents` list pages.
    pub scan_pages: u64,
    /// `GET /agents/{id}` polls.
    pub agent_polls: u64,
    /// `GET /agents/{id}/conversation` reads.
    pub conversations: u64,
}
