//! Benchmark 2's figures: RSS growth per tracked agent.

use serde::{Deserialize, Serialize};

/// Memory per tracked agent at several fleet sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryPerAgent {
    /// One row per number of agents.
    pub rows: Vec<MemoryRow>,
}

/// One number of agents; each figure is the median over child processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRow {
    /// Agents tracked.
    pub agents: u64,
    /// RSS growth per agent with one `Fleet`, bytes.
    pub fleet_bytes_per_agent: f64,
    /// RSS growth per agent with a polling task per agent, bytes.
    pub tasks_bytes_per_agent: f64,
}
