use http::Response;
use nomic_agent_core::Tier;
use nomic_agent_core::policy::retry_after::RetryAfterPolicy;
use tokio::time::Instant;

use super::policy::{hold_for, may_hold};
use super::registry::SharedLimiter;
use crate::body::Body;
use crate::config::WallClock;

/// The limiter shared by every transport of one (origin, key), and what a response can say
/// about it.
#[derive(Debug)]
pub(crate) struct Pacer {
    limiter: SharedLimiter,
    wall_clock: WallClock,
    retry_after: RetryAfterPolicy,
}

impl Pacer {
    pub(crate) fn new(
        limiter: SharedLimiter,
        wall_clock: WallClock,
        retry_after: RetryAfterPolicy,
    ) -> Pacer {
        Pacer {
            limiter,
            wall_clock,
            retry_after,
        }
    }

    /// Takes a permit of `tier` now, or says when one will be free.
    pub(crate) fn try_acquire(&self, tier: Tier, now: Instant) -> Result<(), Instant> {
        self.limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .try_acquire(tier, now.into_std())
            .map_err(Instant::from_std)
    }

    /// Holds the whole tier after a 429's `Retry-After` or `X-RateLimit-Remaining: 0`. An
    /// ordinary response costs one header lookup and no clock read.
    pub(crate) fn observe(&self, tier: Tier, resp: &Response<Body>) {
        if !may_hold(resp.status(), resp.headers()) {
            return;
        }
        let Some(hold) = hold_for(
            resp.status(),
            resp.headers(),
            self.wall_clock.now(),
            &self.retry_after,
        ) else {
            return;
        };
        let until = Instant::now() + hold;
        tracing::debug!(
            tier = tier.as_str(),
            hold_ms = hold.as_millis() as u64,
            "server says the tier is exhausted; holding it"
        );
        self.limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .penalize(tier, until.into_std());
    }
}
