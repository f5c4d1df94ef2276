//! Benchmark 3's figures: status polls per turn against detection lag.

use serde::{Deserialize, Serialize};

/// Simulated through core, then confirmed on the emulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollCostVsLag {
    /// Core's `Turn` in fake time.
    pub simulated: Simulated,
    /// The SDK against the time-scaled emulator.
    pub emulator: OnEmulator,
}

/// The simulation's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulated {
    /// Run lengths sampled per table cell (spread ±20 % around the nominal length).
    pub samples_per_point: u32,
    /// One row per nominal run length.
    pub table: Vec<StrategyRow>,
    /// One set of trade-off curves per nominal run length.
    pub curves: Vec<TradeOffCurves>,
}

/// The emulator's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnEmulator {
    /// The emulator's time scale (the SDK's schedule is scaled by the same factor).
    pub time_scale: f64,
    /// Agents launched per cell.
    pub agents_per_point: u32,
    /// One row per nominal run length (no SKILL.md column: the SDK runs its own schedule).
    pub table: Vec<StrategyRow>,
}

/// One run length, one cell per poll strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyRow {
    /// The nominal run length's name (`1s`, `30s`, `10min`).
    pub run: String,
    /// The SDK's default schedule.
    pub sdk: PollFigures,
    /// The SKILL.md loop as written (simulation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_default: Option<PollFigures>,
    /// A fixed 1 s interval.
    pub fixed_1s: PollFigures,
    /// A fixed 5 s interval.
    pub fixed_5s: PollFigures,
}

/// One strategy at one run length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollFigures {
    /// Mean status polls per turn.
    pub polls_per_turn: f64,
    /// Median detection lag, simulated seconds.
    pub lag_p50_s: f64,
    /// 90th-percentile detection lag, simulated seconds.
    pub lag_p90_s: f64,
}

/// The trade-off curves of one run length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeOffCurves {
    /// The nominal run length's name.
    pub run: String,
    /// Fixed intervals; `param_s` is the interval.
    pub fixed: Vec<CurvePoint>,
    /// The SDK's doubling schedule; `param_s` is its cap.
    pub exponential_cap: Vec<CurvePoint>,
}

/// One setting on a curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// The setting, seconds.
    pub param_s: f64,
    /// Mean status polls per turn.
    pub polls_per_turn: f64,
    /// Median detection lag, simulated seconds.
    pub lag_p50_s: f64,
}
