//! Exponential backoff between attempts of a failed request.

use std::time::Duration;

use super::{Curve, PolicyError};
use crate::rng::Rng;

#[cfg(test)]
use super::exponential; // the unit tests check delays against the nominal curve

/// Backoff between retries: `min(initial * factor^n, max)` scaled by a jitter factor in
/// `[1 - jitter, 1 + jitter]`, never above `max`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// Delay before the first retry. Default 200 ms.
    pub initial: Duration,
    /// Growth per retry. Default 2.0.
    pub factor: f64,
    /// Largest delay. Default 10 s.
    pub max: Duration,
    /// Jitter fraction in `[0, 1)`. Default 0.2, so that clients failing together spread out.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            factor: 2.0,
            max: Duration::from_secs(10),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// Sets [`initial`](Self::initial).
    pub fn with_initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Sets [`factor`](Self::factor).
    pub fn with_factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets [`max`](Self::max).
    pub fn with_max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Sets [`jitter`](Self::jitter).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Rejects zero durations, a factor below 1 or NaN, a jitter outside `[0, 1)` and
    /// `max < initial`.
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.curve().validate()
    }

    /// The wait before retry number `retry` (0 for the first retry). Always `<= max`; draws
    /// exactly one number from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut Rng) -> Duration {
        self.curve().delay(retry, rng)
    }

    /// The same curve `steps` retries further along: its first delay is this curve's delay
    /// number `steps` (capped at `max`).
    ///
    /// For a second retrier behind a first one, so the two together follow one curve instead of
    /// restarting it: the SDK's turn waits `advanced(max_attempts - 1)` between failed polls
    /// because the transport has already waited the first `max_attempts - 1` steps.
    ///
    /// ```
    /// use std::time::Duration;
    /// use nomic_agent_core::policy::backoff::Backoff;
    /// let b = Backoff::default().advanced(3);
    /// assert_eq!(b.initial, Duration::from_millis(1600));
    /// assert_eq!(Backoff::default().advanced(99).initial, Duration::from_secs(10));
    /// ```
    pub fn advanced(mut self, steps: u32) -> Self {
        self.initial = super::exponential(self.initial, self.factor, steps, self.max);
        self
    }

    fn curve(&self) -> Curve {
        Curve::new(self.initial, self.factor, self.max, self.jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sequence_without_jitter() {
        let b = Backoff::default().with_jitter(0.0);
        let mut rng = Rng::seed(0);
        let ms: Vec<u128> = (0..9).map(|n| b.delay(n, &mut rng).as_millis()).collect();
        assert_eq!(
            ms,
            vec![200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
        );
    }

    #[test]
    fn jitter_bounds_and_cap() {
        let b = Backoff::default();
        let mut rng = Rng::seed(11);
        for n in 0..30 {
            let nominal = exponential(b.initial, b.factor, n, b.max);
            for _ in 0..100 {
                let d = b.delay(n, &mut rng);
                assert!(d <= b.max);
                assert!(d >= nominal.mul_f64(0.8) - Duration::from_nanos(1));
                assert!(d <= nominal.mul_f64(1.2) + Duration::from_nanos(1));
            }
        }
    }

    #[test]
    fn advanced_continues_the_curve() {
        let b = Backoff::default().with_jitter(0.0);
        let mut rng = Rng::seed(0);
        let whole: Vec<Duration> = (0..10).map(|n| b.delay(n, &mut rng)).collect();
        let later = b.clone().advanced(3);
        let tail: Vec<Duration> = (0..7).map(|n| later.delay(n, &mut rng)).collect();
        assert_eq!(tail, whole[3..]);
        assert_eq!(b.clone().advanced(0), b);
        assert!(b.advanced(u32::MAX).validate().is_ok());
    }

    #[test]
    fn validate() {
        assert!(Backoff::default().validate().is_ok());
        assert!(
            Backoff::default()
                .with_initial(Duration::ZERO)
                .validate()
                .is_err()
        );
        assert!(Backoff::default().with_factor(f64::NAN).validate().is_err());
        assert!(Backoff::default().with_jitter(2.0).validate().is_err());
        assert!(
            Backoff::default()
                .with_max(Duration::from_millis(1))
                .validate()
                .is_err()
        );
    }
}
