//! GCRA request-rate limiting per (user, tier), on the emulator clock and scaled by the time
//! scale.

use std::collections::HashMap;

use crate::config::RateLimitConfig;
use crate::time_scale::TimeScale;

/// Rate tiers of the Nomic API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Reads: 300/min.
    Standard,
    /// Launch, follow-up, upload: 30/min.
    Heavy,
    /// Stop, delete: 60/min.
    Write,
}

impl Tier {
    /// Per-minute limit from config.
    pub fn limit(self, cfg: &RateLimitConfig) -> u32 {
        match self {
            Tier::Standard => cfg.standard_per_minute,
            Tier::Heavy => cfg.heavy_per_minute,
            Tier::Write => cfg.write_per_minute,
        }
    }
}

/// The outcome of one check, with the header values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// `X-RateLimit-Limit` (per minute).
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset` (unix seconds).
    pub reset_unix: u64,
    /// `Retry-After` seconds when refused (≥ 1).
    pub retry_after_secs: Option<u64>,
}

/// Theoretical arrival times by (user, tier), in unix nanoseconds.
#[derive(Debug, Default)]
pub struct RateLimiter {
    tat: HashMap<(String, Tier), u64>,
}

const NANOS: u64 = 1_000_000_000;

impl RateLimiter {
    /// Checks (and on success records) one request.
    pub fn check(
        &mut self,
        user: &str,
        tier: Tier,
        now: u64,
        cfg: &RateLimitConfig,
        scale: TimeScale,
    ) -> Decision {
        let limit = tier.limit(cfg);
        let burst = u64::from(cfg.burst.unwrap_or(limit));
        let interval = scale.emission_interval_nanos(limit);
        let window = burst * interval;
        let key = (user.to_owned(), tier);
        let tat = self.tat.get(&key).copied().unwrap_or(now).max(now);
        let next = tat + interval;
        if next - now <= window {
            self.tat.insert(key, next);
            Decision {
                allowed: true,
                limit,
                remaining: ((window - (next - now)) / interval) as u32,
                reset_unix: next.div_ceil(NANOS),
                retry_after_secs: None,
            }
        } else {
            let wait = next - now - window;
            Decision {
                allowed: false,
                limit,
                remaining: 0,
                reset_unix: tat.div_ceil(NANOS),
                retry_after_secs: Some(wait.div_ceil(NANOS).max(1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(burst: Option<u32>) -> RateLimitConfig {
        RateLimitConfig {
            burst,
            ..RateLimitConfig::default()
        }
    }

    #[test]
    fn burst_then_refusal_then_recovery() {
        let mut r = RateLimiter::default();
        let c = cfg(None);
        let t0 = 1_000 * NANOS;
        for i in 0..30 {
            let d = r.check("u", Tier::Heavy, t0, &c, TimeScale::REAL);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 29 - i);
            assert_eq!(d.limit, 30);
        }
        let d = r.check("u", Tier::Heavy, t0, &c, TimeScale::REAL);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, Some(2));
        assert_eq!(d.reset_unix, 1_060);
        // Another user and another tier are independent.
        assert!(r.check("v", Tier::Heavy, t0, &c, TimeScale::REAL).allowed);
        assert!(r.check("u", Tier::Write, t0, &c, TimeScale::REAL).allowed);
        // One emission interval later one more fits.
        assert!(
            r.check("u", Tier::Heavy, t0 + 2 * NANOS, &c, TimeScale::REAL)
                .allowed
        );
        assert!(
            !r.check("u", Tier::Heavy, t0 + 2 * NANOS, &c, TimeScale::REAL)
                .allowed
        );
    }

    #[test]
    fn burst_and_scale_are_configurable() {
        let mut r = RateLimiter::default();
        let c = cfg(Some(2));
        let t0 = 5 * NANOS;
        let fast = TimeScale::new(0.001).unwrap();
        assert!(r.check("u", Tier::Standard, t0, &c, fast).allowed);
        assert!(r.check("u", Tier::Standard, t0, &c, fast).allowed);
        let d = r.check("u", Tier::Standard, t0, &c, fast);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, Some(1), "never below one second");
        // Scaled: 200 ms × 0.001 = 200 µs per request.
        assert!(r.check("u", Tier::Standard, t0 + 200_000, &c, fast).allowed);
    }
}
