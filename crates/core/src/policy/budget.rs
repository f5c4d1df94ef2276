//! A retry budget: retries may be at most a fraction of first attempts, plus a small floor.
//!
//! Stops retry storms: when most requests fail, each client adds at most `ratio` extra load.

use std::time::{Duration, Instant};

const MILLI: u64 = 1000;

/// `x` in thousandths, rounded; NaN, negative and zero give 0, huge values saturate.
fn to_milli(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else {
        (x * MILLI as f64).round() as u64
    }
}

/// A token bucket for retries. Each first attempt deposits `ratio` tokens (capped at
/// `max_tokens`); each retry withdraws one. Independently, `min_per_window` retries per `window`
/// are always allowed, so a quiet client can still retry.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    // Thousandths of a token, so that five deposits of 0.2 make exactly one token.
    ratio_milli: u64,
    max_milli: u64,
    min_per_window: u32,
    window: Duration,
    tokens_milli: u64,
    window_start: Option<Instant>,
    used_in_window: u32,
}

impl Default for RetryBudget {
    /// `ratio` 0.2, 10 retries per 10 s floor, at most 100 saved tokens.
    fn default() -> Self {
        RetryBudget::new(0.2, 10, Duration::from_secs(10))
    }
}

impl RetryBudget {
    /// A budget with the given ratio (NaN or negative counts as 0; kept to 1/1000), floor and
    /// window. Saved
    /// tokens are capped at 100 so a long healthy period cannot fund a later storm.
    pub fn new(ratio: f64, min_per_window: u32, window: Duration) -> Self {
        RetryBudget {
            ratio_milli: to_milli(ratio),
            max_milli: 100 * MILLI,
            min_per_window,
            window,
            tokens_milli: 0,
            window_start: None,
            used_in_window: 0,
        }
    }

    /// Changes the cap on saved tokens (NaN or negative counts as 0).
    pub fn with_max_tokens(mut self, max_tokens: f64) -> Self {
        self.max_milli = to_milli(max_tokens);
        self.tokens_milli = self.tokens_milli.min(self.max_milli);
        self
    }

    /// Tokens currently saved.
    pub fn tokens(&self) -> f64 {
        self.tokens_milli as f64 / MILLI as f64
    }

    /// Records a first attempt.
    pub fn deposit(&mut self, now: Instant) {
        self.roll(now);
        self.tokens_milli = self
            .tokens_milli
            .saturating_add(self.ratio_milli)
            .min(self.max_milli);
    }

    /// Takes permission for one retry; `false` means the budget is spent and the caller should
    /// give up instead of retrying.
    pub fn try_withdraw(&mut self, now: Instant) -> bool {
        self.roll(now);
        if self.used_in_window < self.min_per_window {
            self.used_in_window += 1;
            true
        } else if self.tokens_milli >= MILLI {
            self.tokens_milli -= MILLI;
            true
        } else {
            false
        }
    }

    fn roll(&mut self, now: Instant) {
        match self.window_start {
            // Time that runs backwards counts as the same window.
            Some(start) if now.saturating_duration_since(start) < self.window => {}
            _ => {
                self.window_start = Some(now);
                self.used_in_window = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // tests need one base instant; only offsets matter
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn floor_then_exhaustion_then_refill_by_window() {
        let t = t0();
        let mut b = RetryBudget::default();
        for i in 0..10 {
            assert!(
                b.try_withdraw(t + Duration::from_secs(1)),
                "floor retry {i}"
            );
        }
        assert!(!b.try_withdraw(t + Duration::from_secs(2)));
        // The window (started at t+1 s) has not yet passed at t+10.9 s.
        assert!(!b.try_withdraw(t + Duration::from_millis(10_900)));
        assert!(b.try_withdraw(t + Duration::from_secs(11)));
    }

    #[test]
    fn deposits_fund_retries_beyond_the_floor() {
        let t = t0();
        let mut b = RetryBudget::new(0.2, 0, Duration::from_secs(10));
        assert!(!b.try_withdraw(t));
        for _ in 0..4 {
            b.deposit(t);
        }
        assert!(!b.try_withdraw(t), "0.8 tokens is not enough");
        b.deposit(t);
        assert!(b.try_withdraw(t));
        assert!(!b.try_withdraw(t));
        // 100 first attempts at ratio 0.2 allow exactly 20 retries.
        for _ in 0..100 {
            b.deposit(t);
        }
        let granted = (0..50).filter(|_| b.try_withdraw(t)).count();
        assert_eq!(granted, 20);
    }

    #[test]
    fn tokens_are_capped_and_bad_ratios_are_zero() {
        let t = t0();
        let mut b = RetryBudget::new(1.0, 0, Duration::from_secs(1)).with_max_tokens(3.0);
        for _ in 0..100 {
            b.deposit(t);
        }
        assert_eq!(b.tokens(), 3.0);
        let mut z = RetryBudget::new(f64::NAN, 0, Duration::from_secs(1));
        z.deposit(t);
        assert_eq!(z.tokens(), 0.0);
        assert!(!z.try_withdraw(t));
    }

    #[test]
    fn backwards_time_does_not_reset_the_window() {
        let t = t0() + Duration::from_secs(100);
        let mut b = RetryBudget::new(0.0, 1, Duration::from_secs(10));
        assert!(b.try_withdraw(t));
        assert!(!b.try_withdraw(t - Duration::from_secs(50)));
    }
}
