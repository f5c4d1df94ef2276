//! The time scale: how much faster than the real API the emulator runs, and what a client must
//! scale to match (its poll delays, windows and per-tier rates).

use std::time::Duration;

use crate::EmulatorError;

/// Nanoseconds in the minute that rate limits are counted in.
const NANOS_PER_MINUTE: f64 = 60e9;

/// A time scale: 0.001 makes a 2 s phase take 2 ms. Finite and > 0.
///
/// The emulator multiplies every lifecycle duration and every rate-limit emission interval by
/// it. A client talking to a scaled emulator takes its figures from here rather than scaling by
/// hand, so both sides agree on the arithmetic; [`RunningEmulator::time_scale`] gives the
/// emulator's current one.
///
/// [`RunningEmulator::time_scale`]: crate::RunningEmulator::time_scale
///
/// ```
/// use std::time::Duration;
/// use nomic_agent_emulator::TimeScale;
///
/// let scale = TimeScale::new(0.005)?;
/// // The SDK's 2 s first poll delay becomes 10 ms.
/// assert_eq!(scale.duration(Duration::from_secs(2)), Duration::from_millis(10));
/// // The Heavy tier's 30 per minute: 6,000 per (real) minute, never faster than the emulator.
/// assert_eq!(scale.per_minute(30), 6000);
/// assert!(TimeScale::new(0.0).is_err());
/// # Ok::<(), nomic_agent_emulator::EmulatorError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct TimeScale(f64);

impl TimeScale {
    /// Real time: durations and rates as documented.
    pub const REAL: TimeScale = TimeScale(1.0);

    /// A scale; refused unless finite and > 0.
    pub fn new(factor: f64) -> Result<Self, EmulatorError> {
        if factor.is_finite() && factor > 0.0 {
            Ok(Self(factor))
        } else {
            Err(EmulatorError::Config(format!(
                "time scale must be finite and > 0, got {factor}"
            )))
        }
    }

    /// The factor (0.001 for a thousand times faster).
    pub fn factor(self) -> f64 {
        self.0
    }

    /// How long `nominal` API time lasts against this emulator (a 2 s poll delay, a 60 s
    /// follow-up window): `nominal × factor`, to the nanosecond.
    pub fn duration(self, nominal: Duration) -> Duration {
        nominal.mul_f64(self.0)
    }

    /// The most requests per (real) minute a client may send on a tier the API allows
    /// `nominal_per_minute` (≥ 1): the emulator's scaled emission interval, as it computes it,
    /// turned back into a rate and rounded down, so a client paced at this rate never outruns
    /// the emulator's limit.
    pub fn per_minute(self, nominal_per_minute: u32) -> u32 {
        let interval = self.emission_interval_nanos(nominal_per_minute) as f64;
        (NANOS_PER_MINUTE / interval)
            .floor()
            .min(f64::from(u32::MAX)) as u32
    }

    /// The emulator's GCRA emission interval for a tier of `per_minute` requests, in
    /// nanoseconds of emulator time (at least 1).
    pub(crate) fn emission_interval_nanos(self, per_minute: u32) -> u64 {
        ((NANOS_PER_MINUTE / f64::from(per_minute)) * self.0).max(1.0) as u64
    }

    /// A lifecycle phase of `nominal_ms` in emulator milliseconds: 0 stays 0 (the phase is
    /// off), any other length is rounded and lasts at least 1 ms, so every transition gets its
    /// own timestamp.
    pub(crate) fn phase_ms(self, nominal_ms: u64) -> u64 {
        if nominal_ms == 0 {
            0
        } else {
            ((nominal_ms as f64) * self.0).round().max(1.0) as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finite_positive_factors() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(TimeScale::new(bad).is_err(), "{bad}");
        }
        assert_eq!(TimeScale::new(0.5).unwrap().factor(), 0.5);
    }

    #[test]
    fn a_client_at_per_minute_never_outruns_the_emulator() {
        for factor in [1.0, 0.6, 0.01, 0.005, 0.003, 0.001, 1e-7] {
            let s = TimeScale::new(factor).unwrap();
            for n in [1, 30, 60, 300, 7] {
                let client = s.per_minute(n);
                assert!(client >= 1, "{factor} {n}");
                // The client's interval between permits is at least the emulator's.
                let client_interval = NANOS_PER_MINUTE / f64::from(client);
                assert!(
                    client_interval >= s.emission_interval_nanos(n) as f64,
                    "{factor} {n}"
                );
                // And no slower than one request per minute less.
                let next = NANOS_PER_MINUTE / f64::from(client + 1);
                assert!(next < s.emission_interval_nanos(n) as f64, "{factor} {n}");
            }
        }
        assert_eq!(TimeScale::REAL.per_minute(300), 300);
    }

    #[test]
    fn phases_and_durations() {
        let s = TimeScale::new(0.005).unwrap();
        assert_eq!(s.phase_ms(0), 0);
        assert_eq!(s.phase_ms(50), 1, "a short phase still lasts 1 ms");
        assert_eq!(s.phase_ms(500), 3, "2.5 ms rounds to 3");
        assert_eq!(s.phase_ms(2000), 10);
        assert_eq!(
            s.duration(Duration::from_millis(500)),
            Duration::from_micros(2500)
        );
    }
}
