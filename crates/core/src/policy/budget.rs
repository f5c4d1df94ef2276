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

/// Slots the window is cut into: deposits expire one slot (`window / SLOTS`) at a time.
const SLOTS: u64 = 10;

/// A sliding-window retry budget. Each first attempt deposits `ratio` tokens, each retry
/// withdraws one, and both expire once they are older than `window`: retries within any window
/// are at most `ratio` × the first attempts of that window. Independently, `min_per_window`
/// retries per `window` are always allowed, so a quiet client can still retry.
///
/// Expiry (rather than a fixed cap on saved tokens) is what stops a long healthy period from
/// funding a later storm, while a burst of many concurrent first attempts still funds its
/// `ratio` of retries: 1,000 concurrent requests may retry 200 of them, not a fixed 100.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    // Thousandths of a token, so that five deposits of 0.2 make exactly one token.
    ratio_milli: u64,
    max_milli: u64,
    min_per_window: u32,
    window: Duration,
    /// The instant slot 0 starts at (the first call).
    origin: Option<Instant>,
    /// The newest slot seen; never moves back, so time that runs backwards counts as now.
    current: u64,
    slots: [Slot; SLOTS as usize],
    window_start: Option<Instant>,
    used_in_window: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    index: u64,
    deposited_milli: u64,
    withdrawn_milli: u64,
}

impl Default for RetryBudget {
    /// `ratio` 0.2 of the last 10 s of first attempts, plus a floor of 10 retries per 10 s.
    fn default() -> Self {
        RetryBudget::new(0.2, 10, Duration::from_secs(10))
    }
}

impl RetryBudget {
    /// A budget with the given ratio (NaN or negative counts as 0; kept to 1/1000), floor and
    /// window. Tokens expire after `window`, so a long healthy period cannot fund a later storm.
    pub fn new(ratio: f64, min_per_window: u32, window: Duration) -> Self {
        RetryBudget {
            ratio_milli: to_milli(ratio),
            max_milli: u64::MAX,
            min_per_window,
            window,
            origin: None,
            current: 0,
            slots: [Slot::default(); SLOTS as usize],
            window_start: None,
            used_in_window: 0,
        }
    }

    /// Caps the tokens available at once (NaN or negative counts as 0): deposits beyond the cap
    /// are lost. No cap by default; expiry already bounds what is saved.
    pub fn with_max_tokens(mut self, max_tokens: f64) -> Self {
        self.max_milli = to_milli(max_tokens);
        self
    }

    /// Tokens available as of the latest deposit or withdrawal.
    pub fn tokens(&self) -> f64 {
        self.balance_milli() as f64 / MILLI as f64
    }

    /// Records a first attempt.
    pub fn deposit(&mut self, now: Instant) {
        self.roll(now);
        let add = self
            .ratio_milli
            .min(self.max_milli.saturating_sub(self.balance_milli()));
        let slot = self.slot();
        slot.deposited_milli = slot.deposited_milli.saturating_add(add);
    }

    /// Takes permission for one retry; `false` means the budget is spent and the caller should
    /// give up instead of retrying.
    pub fn try_withdraw(&mut self, now: Instant) -> bool {
        self.roll(now);
        if self.used_in_window < self.min_per_window {
            self.used_in_window += 1;
            true
        } else if self.balance_milli() >= MILLI {
            let slot = self.slot();
            slot.withdrawn_milli = slot.withdrawn_milli.saturating_add(MILLI);
            true
        } else {
            false
        }
    }

    /// Deposits minus withdrawals of the slots still inside the window, capped.
    fn balance_milli(&self) -> u64 {
        let (mut deposited, mut withdrawn) = (0u64, 0u64);
        for s in &self.slots {
            if s.index <= self.current && s.index.saturating_add(SLOTS) > self.current {
                deposited = deposited.saturating_add(s.deposited_milli);
                withdrawn = withdrawn.saturating_add(s.withdrawn_milli);
            }
        }
        deposited.saturating_sub(withdrawn).min(self.max_milli)
    }

    /// The current slot, emptied first when it last held an expired one.
    fn slot(&mut self) -> &mut Slot {
        let current = self.current;
        let slot = &mut self.slots[(current % SLOTS) as usize];
        if slot.index != current {
            *slot = Slot {
                index: current,
                ..Slot::default()
            };
        }
        slot
    }

    fn roll(&mut self, now: Instant) {
        let origin = *self.origin.get_or_insert(now);
        let slot_nanos = (self.window.as_nanos() / u128::from(SLOTS)).max(1);
        let index = now.saturating_duration_since(origin).as_nanos() / slot_nanos;
        self.current = self.current.max(u64::try_from(index).unwrap_or(u64::MAX));
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
    fn a_burst_funds_its_ratio_of_retries_without_a_fixed_cap() {
        // 1,000 concurrent first attempts (a soak's launches) fund 200 retries, not 100: the
        // budget is a ratio of the traffic, however large the burst.
        let t = t0();
        let mut b = RetryBudget::new(0.2, 0, Duration::from_secs(10));
        for _ in 0..1_000 {
            b.deposit(t);
        }
        assert_eq!(b.tokens(), 200.0);
        let later = t + Duration::from_millis(300);
        let granted = (0..300).filter(|_| b.try_withdraw(later)).count();
        assert_eq!(granted, 200);
    }

    #[test]
    fn deposits_expire_after_the_window() {
        // A long healthy period cannot fund a later storm: deposits leave the window slot by
        // slot (1 s each here), and so do the withdrawals they paid for.
        let t = t0();
        let mut b = RetryBudget::new(0.2, 0, Duration::from_secs(10));
        for _ in 0..500 {
            b.deposit(t);
        }
        for _ in 0..50 {
            b.deposit(t + Duration::from_secs(5));
        }
        assert!(b.try_withdraw(t + Duration::from_secs(9)));
        assert_eq!(b.tokens(), 109.0);
        // At 10 s the first 500 deposits are gone; the 50 of t+5 s still count (10 tokens),
        // less the one retry taken at t+9 s.
        let granted = (0..50)
            .filter(|_| b.try_withdraw(t + Duration::from_millis(10_500)))
            .count();
        assert_eq!(granted, 9);
        // At 20 s every deposit and withdrawal has expired: one new deposit is all there is.
        b.deposit(t + Duration::from_secs(20));
        assert_eq!(b.tokens(), 0.2);
        assert!(!b.try_withdraw(t + Duration::from_secs(20)));
    }

    #[test]
    fn tokens_are_capped_and_bad_ratios_are_zero() {
        let t = t0();
        let mut b = RetryBudget::new(1.0, 0, Duration::from_secs(1)).with_max_tokens(3.0);
        for _ in 0..100 {
            b.deposit(t);
        }
        assert_eq!(b.tokens(), 3.0);
        // Deposits beyond the cap were lost, not deferred.
        assert_eq!((0..10).filter(|_| b.try_withdraw(t)).count(), 3);
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
