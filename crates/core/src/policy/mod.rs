//! Pure policies: poll schedule, backoff, `Retry-After`, response classification, retry
//! decisions, retry budget and per-tier pacing.
//!
//! Every function here is a pure function of its arguments: time arrives as `now: Instant`, the
//! wall clock as `SystemTime`, randomness as a seeded [`Rng`](crate::rng::Rng). The transport and
//! the [`Turn`](crate::turn::Turn) machine both call these, so retry rules live in one place.

pub mod backoff;
pub mod budget;
pub mod classify;
mod error;
pub mod gcra;
pub mod poll;
pub mod retry;
pub mod retry_after;

pub use error::PolicyError;

use std::time::Duration;

use crate::rng::Rng;

/// The capped exponential-with-jitter curve that [`Backoff`](backoff::Backoff) and
/// [`PollSchedule`](poll::PollSchedule) share: `min(initial * factor^n, max)` scaled by a
/// jitter factor in `[1 - jitter, 1 + jitter]`, never above `max`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Curve {
    initial: Duration,
    factor: f64,
    max: Duration,
    jitter: f64,
}

impl Curve {
    pub(crate) fn new(initial: Duration, factor: f64, max: Duration, jitter: f64) -> Self {
        Curve {
            initial,
            factor,
            max,
            jitter,
        }
    }

    /// Rejects zero durations, a factor below 1 or NaN, a jitter outside `[0, 1)` and
    /// `max < initial`.
    pub(crate) fn validate(&self) -> Result<(), PolicyError> {
        positive("initial", self.initial)?;
        positive("max", self.max)?;
        growth_factor("factor", self.factor)?;
        jitter_fraction("jitter", self.jitter)?;
        if self.max < self.initial {
            return Err(PolicyError::new(
                "max",
                "must not be smaller than `initial`",
            ));
        }
        Ok(())
    }

    /// The delay for `attempt` (0-based): always `<= max`; draws exactly one number from `rng`.
    pub(crate) fn delay(&self, attempt: u32, rng: &mut Rng) -> Duration {
        let base = exponential(self.initial, self.factor, attempt, self.max);
        rng.jitter(base, self.jitter).min(self.max)
    }
}

/// `base * factor^attempt`, capped at `max`, computed without overflow for any attempt.
pub(crate) fn exponential(base: Duration, factor: f64, attempt: u32, max: Duration) -> Duration {
    let growth = factor.powi(attempt.min(i32::MAX as u32) as i32);
    let raw = crate::rng::scale_duration(base, growth);
    raw.min(max)
}

/// Checks that a duration is strictly positive.
pub(crate) fn positive(field: &'static str, d: Duration) -> Result<(), PolicyError> {
    if d.is_zero() {
        Err(PolicyError::new(field, "must be greater than zero"))
    } else {
        Ok(())
    }
}

/// Checks a jitter fraction: finite and in `[0, 1)`.
pub(crate) fn jitter_fraction(field: &'static str, j: f64) -> Result<(), PolicyError> {
    if j.is_finite() && (0.0..1.0).contains(&j) {
        Ok(())
    } else {
        Err(PolicyError::new(
            field,
            "must be a finite fraction in [0, 1)",
        ))
    }
}

/// Checks a growth factor: finite and at least 1.
pub(crate) fn growth_factor(field: &'static str, f: f64) -> Result<(), PolicyError> {
    if f.is_finite() && f >= 1.0 {
        Ok(())
    } else {
        Err(PolicyError::new(
            field,
            "must be a finite number of at least 1",
        ))
    }
}
