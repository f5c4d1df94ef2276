//! Client-side pacing per rate tier with the generic cell rate algorithm (GCRA).
//!
//! The server paces requests evenly (AGENT_API §7), so a client that sends in bursts just
//! collects 429s. By default each tier allows its documented rate with a burst of 1: requests go
//! out evenly spaced (e.g. one Heavy call every 2 s) and never trip the server's limiter even
//! when the server's own burst allowance is smaller than we would guess.
//!
//! A permit taken a little late (the waiter's timer fired late, or its task was scheduled late
//! on a busy machine) is credited: up to [`Gcra::late_credit`] behind the schedule, the next
//! permit stays on the original schedule instead of one interval after the late one. Without
//! this a burst-1 limiter loses every late wake-up for good (at the scaled 100 ms Heavy
//! interval of the pacing benchmark, 35 ms of lateness per permit cost a quarter of the quota
//! on a loaded machine). The credit is smaller than the interval, so it never lets more than
//! `burst` permits out at one instant; it only shortens one gap by at most the credit.

use std::time::{Duration, Instant};

use crate::Tier;

/// A GCRA limiter: `per_minute` permits per minute, at most `burst` at once.
///
/// `try_acquire` never panics, whatever instants it is fed.
#[derive(Debug, Clone)]
pub struct Gcra {
    interval: Duration,
    tolerance: Duration,
    /// How far behind the schedule a permit may be taken and still keep it.
    late_credit: Duration,
    /// Theoretical arrival time: when the bucket is next empty.
    tat: Option<Instant>,
}

impl Gcra {
    /// A limiter for `per_minute` permits per minute with `burst` back-to-back permits.
    /// Zero values are raised to 1 (a limiter that never grants would hang its caller).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let per_minute = per_minute.max(1);
        let burst = burst.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        let tolerance = interval.saturating_mul(burst - 1);
        Gcra {
            interval,
            tolerance,
            late_credit: (interval / 4).min(MAX_LATE_CREDIT),
            tat: None,
        }
    }

    /// The credit for late permits (default: a quarter of the interval, at most 100 ms). Raised
    /// values are capped below one interval, so the configured burst is never exceeded; zero
    /// gives the textbook GCRA, which restarts the schedule at every late permit.
    pub fn with_late_credit(mut self, credit: Duration) -> Self {
        self.late_credit = credit.min(self.interval.saturating_sub(Duration::from_nanos(1)));
        self
    }

    /// How far behind the schedule a permit may be taken and still keep the schedule.
    pub fn late_credit(&self) -> Duration {
        self.late_credit
    }

    /// The spacing between permits at the sustained rate.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Takes one permit at `now`, or says the earliest instant one will be available.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Instant> {
        let tat = match self.tat {
            Some(tat) if tat > now => tat,
            // A little behind the schedule: keep it (the next permit is not pushed back by the
            // lateness of this one).
            Some(tat) if now.saturating_duration_since(tat) <= self.late_credit => tat,
            _ => now,
        };
        let ahead = tat.saturating_duration_since(now);
        if ahead > self.tolerance {
            // tat - tolerance > now, so this subtraction is representable.
            return Err(tat.checked_sub(self.tolerance).unwrap_or(tat));
        }
        // An unrepresentable next TAT (absurdly far future) keeps the current one: lenient,
        // never a panic.
        self.tat = Some(tat.checked_add(self.interval).unwrap_or(tat));
        Ok(())
    }

    /// Grants nothing before `until`, then one permit, then the sustained rate (feedback from a
    /// 429's `Retry-After` or `X-RateLimit-Remaining: 0`). Never shortens an existing wait.
    pub fn penalize_until(&mut self, until: Instant) {
        let wanted = until.checked_add(self.tolerance).unwrap_or(until);
        self.tat = Some(match self.tat {
            Some(tat) if tat > wanted => tat,
            _ => wanted,
        });
    }
}

/// The largest default [`Gcra::late_credit`]: enough for timer and scheduling lateness, far
/// below a real tier's interval (200 ms Standard, 2 s Heavy).
const MAX_LATE_CREDIT: Duration = Duration::from_millis(100);

/// One tier's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimit {
    /// Sustained permits per minute.
    pub per_minute: u32,
    /// Permits that may go out back to back.
    pub burst: u32,
}

impl TierLimit {
    /// A limit of `per_minute` with a burst of `burst`.
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        TierLimit { per_minute, burst }
    }
}

/// The limit of each tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    /// Reads.
    pub standard: TierLimit,
    /// Stop, delete.
    pub write: TierLimit,
    /// Launch, follow-up, upload.
    pub heavy: TierLimit,
    /// Codes search.
    pub search: TierLimit,
}

impl Default for TierLimits {
    /// The documented rates (300/60/30/60 per minute) with burst 1, so the client spaces calls
    /// evenly instead of discovering the server's burst allowance by hitting 429s.
    fn default() -> Self {
        let l = |t: Tier| TierLimit::new(t.documented_per_minute(), 1);
        TierLimits {
            standard: l(Tier::Standard),
            write: l(Tier::Write),
            heavy: l(Tier::Heavy),
            search: l(Tier::Search),
        }
    }
}

impl TierLimits {
    /// The limit for `tier`.
    pub fn get(&self, tier: Tier) -> TierLimit {
        match tier {
            Tier::Standard => self.standard,
            Tier::Write => self.write,
            Tier::Heavy => self.heavy,
            Tier::Search => self.search,
        }
    }
}

/// One [`Gcra`] per tier, and how many holds each tier has seen.
#[derive(Debug, Clone)]
pub struct TierLimiter {
    limiters: [Gcra; 4],
    /// Holds recorded per tier: a permit taken while this read `n` was granted after the
    /// first `n` holds and before the next one, which orders permits and holds exactly
    /// (the 429 promise in docs/reliability.md is judged by it).
    holds: [u64; 4],
}

fn index(tier: Tier) -> usize {
    match tier {
        Tier::Standard => 0,
        Tier::Write => 1,
        Tier::Heavy => 2,
        Tier::Search => 3,
    }
}

impl TierLimiter {
    /// Limiters for the given limits.
    pub fn new(limits: TierLimits) -> Self {
        let g = |t: Tier| {
            let l = limits.get(t);
            Gcra::new(l.per_minute, l.burst)
        };
        TierLimiter {
            limiters: [
                g(Tier::Standard),
                g(Tier::Write),
                g(Tier::Heavy),
                g(Tier::Search),
            ],
            holds: [0; 4],
        }
    }

    /// Takes a permit for `tier` at `now`, or the earliest instant one is available.
    pub fn try_acquire(&mut self, tier: Tier, now: Instant) -> Result<(), Instant> {
        self.limiters[index(tier)].try_acquire(now)
    }

    /// Holds `tier` until `until` (see [`Gcra::penalize_until`]).
    pub fn penalize(&mut self, tier: Tier, until: Instant) {
        self.limiters[index(tier)].penalize_until(until);
        self.holds[index(tier)] += 1;
    }

    /// How many holds [`penalize`](Self::penalize) has recorded for `tier` so far.
    pub fn holds(&self, tier: Tier) -> u64 {
        self.holds[index(tier)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // tests need one base instant; only offsets matter
    fn t0() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    #[test]
    fn default_tiers_space_evenly() {
        let t = t0();
        let mut lim = TierLimiter::new(TierLimits::default());
        for (tier, gap_ms) in [
            (Tier::Standard, 200),
            (Tier::Write, 1000),
            (Tier::Heavy, 2000),
            (Tier::Search, 1000),
        ] {
            let gap = Duration::from_millis(gap_ms);
            assert_eq!(lim.try_acquire(tier, t), Ok(()));
            assert_eq!(lim.try_acquire(tier, t), Err(t + gap), "{tier:?}");
            assert_eq!(
                lim.try_acquire(tier, t + gap - Duration::from_millis(1)),
                Err(t + gap)
            );
            assert_eq!(lim.try_acquire(tier, t + gap), Ok(()));
            assert_eq!(lim.try_acquire(tier, t + gap), Err(t + gap * 2));
        }
    }

    #[test]
    fn burst_allows_back_to_back_then_paces() {
        let t = t0();
        let mut g = Gcra::new(60, 3);
        assert_eq!(g.interval(), Duration::from_secs(1));
        assert_eq!(g.try_acquire(t), Ok(()));
        assert_eq!(g.try_acquire(t), Ok(()));
        assert_eq!(g.try_acquire(t), Ok(()));
        assert_eq!(g.try_acquire(t), Err(t + Duration::from_secs(1)));
        assert_eq!(g.try_acquire(t + Duration::from_secs(1)), Ok(()));
        // After a long idle the full burst is back, and no more.
        let later = t + Duration::from_secs(100);
        let granted = (0..10).filter(|_| g.try_acquire(later).is_ok()).count();
        assert_eq!(granted, 3);
    }

    #[test]
    fn sustained_rate_over_a_minute() {
        let t = t0();
        let mut g = Gcra::new(30, 1);
        let mut now = t;
        let mut granted = 0;
        while now < t + Duration::from_secs(60) {
            match g.try_acquire(now) {
                Ok(()) => granted += 1,
                Err(at) => {
                    assert!(at > now);
                    now = at;
                }
            }
        }
        assert_eq!(granted, 30);
    }

    #[test]
    fn penalty_holds_then_releases_one() {
        let t = t0();
        let mut g = Gcra::new(300, 5);
        g.penalize_until(t + Duration::from_secs(7));
        assert_eq!(g.try_acquire(t), Err(t + Duration::from_secs(7)));
        assert_eq!(g.try_acquire(t + Duration::from_secs(7)), Ok(()));
        assert_eq!(
            g.try_acquire(t + Duration::from_secs(7)),
            Err(t + Duration::from_millis(7200))
        );
        // A shorter penalty does not shorten the wait.
        g.penalize_until(t);
        assert!(g.try_acquire(t + Duration::from_secs(7)).is_err());
        let mut lim = TierLimiter::new(TierLimits::default());
        lim.penalize(Tier::Heavy, t + Duration::from_secs(3));
        assert_eq!(
            lim.try_acquire(Tier::Heavy, t),
            Err(t + Duration::from_secs(3))
        );
        assert_eq!(lim.try_acquire(Tier::Standard, t), Ok(()));
        // Every hold is counted, per tier, even one that does not lengthen the wait.
        assert_eq!(lim.holds(Tier::Heavy), 1);
        lim.penalize(Tier::Heavy, t);
        assert_eq!(lim.holds(Tier::Heavy), 2);
        assert_eq!(lim.holds(Tier::Standard), 0);
    }

    #[test]
    fn never_panics_on_extreme_inputs() {
        let base = t0();
        let far = base
            .checked_add(Duration::from_secs(u64::MAX / 4))
            .unwrap_or(base);
        let mut g = Gcra::new(0, 0);
        assert_eq!(g.interval(), Duration::from_secs(60));
        assert!(g.try_acquire(far).is_ok());
        assert!(g.try_acquire(base).is_err());
        g.penalize_until(far);
        let _ = g.try_acquire(base);
        let _ = g.try_acquire(far);
        let mut big = Gcra::new(1, u32::MAX);
        assert!(big.try_acquire(base).is_ok());
        big.penalize_until(far);
        let _ = big.try_acquire(far);
        let mut fast = Gcra::new(u32::MAX, u32::MAX);
        for _ in 0..1000 {
            assert!(fast.try_acquire(base).is_ok());
        }
    }

    #[test]
    fn a_late_permit_keeps_the_schedule() {
        let t = t0();
        let s = Duration::from_secs(1);
        let ms = Duration::from_millis;
        let mut g = Gcra::new(60, 1);
        assert_eq!(g.late_credit(), ms(100));
        assert_eq!(g.try_acquire(t), Ok(()));
        // Woken 50 ms late: granted, and the next permit is still at t + 2 s.
        assert_eq!(g.try_acquire(t + s + ms(50)), Ok(()));
        assert_eq!(
            g.try_acquire(t + s + ms(50)),
            Err(t + 2 * s),
            "never two at once"
        );
        assert_eq!(g.try_acquire(t + 2 * s), Ok(()));
        // 500 ms late is beyond the credit: the schedule restarts there, with no catch-up.
        assert_eq!(g.try_acquire(t + 3 * s + ms(500)), Ok(()));
        assert_eq!(g.try_acquire(t + 3 * s + ms(500)), Err(t + 4 * s + ms(500)));
        // The textbook GCRA loses the lateness.
        let mut strict = Gcra::new(60, 1).with_late_credit(Duration::ZERO);
        assert_eq!(strict.try_acquire(t), Ok(()));
        assert_eq!(strict.try_acquire(t + s + ms(50)), Ok(()));
        assert_eq!(strict.try_acquire(t + s + ms(50)), Err(t + 2 * s + ms(50)));
        // The credit is always below one interval.
        let capped = Gcra::new(60, 1).with_late_credit(Duration::from_secs(5));
        assert!(capped.late_credit() < s);
    }

    #[test]
    fn late_wakeups_still_get_the_full_quota_and_no_burst() {
        let t = t0();
        for burst in [1u32, 3] {
            let mut g = Gcra::new(600, burst); // 100 ms interval, 25 ms credit
            let credit = g.late_credit();
            let mut rng = crate::rng::Rng::seed(burst.into());
            let mut now = t;
            let mut grants: Vec<Instant> = Vec::new();
            while now < t + Duration::from_secs(60) {
                match g.try_acquire(now) {
                    Ok(()) => grants.push(now),
                    // A waiter wakes late, by up to the credit.
                    Err(at) => {
                        let late = credit.mul_f64(rng.next_f64());
                        now = at + late;
                    }
                }
            }
            // The full quota (the initial burst included), however late each wake-up was.
            assert_eq!(grants.len() as u32, 600 + burst - 1, "burst {burst}");
            // Never more than `burst` permits within less than one interval.
            let b = burst as usize;
            for w in grants.windows(b + 1) {
                let span = w[b].duration_since(w[0]);
                assert!(span >= Duration::from_millis(100) - credit, "{span:?}");
            }
        }
    }
}
