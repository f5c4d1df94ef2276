use http::Response;
use nomic_agent_core::Tier;
use nomic_agent_core::policy::retry_after::RetryAfterPolicy;
use tokio::time::Instant;

use super::policy::{hold_for, may_hold};
use super::registry::SharedLimiter;
use crate::body::Body;
use crate::config::WallClock;
use crate::dispatch::Timer;
use crate::error::{Error, Sent};
use crate::sync::lock;

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
    fn try_acquire(&self, tier: Tier, now: Instant) -> Result<(), Instant> {
        lock(&self.limiter)
            .try_acquire(tier, now.into_std())
            .map_err(Instant::from_std)
    }

    /// Waits (on the request's timer) for a permit of `tier`; fails at once, not sent, when
    /// none would come before the deadline.
    pub(crate) async fn wait_for_permit(
        &self,
        tier: Tier,
        deadline: Instant,
        timer: &mut Timer<'_>,
    ) -> Result<(), Error> {
        loop {
            let now = Instant::now();
            let Err(at) = self.try_acquire(tier, now) else {
                return Ok(());
            };
            if at > deadline {
                // Waiting would only end in the deadline error; say so now.
                tracing::debug!(tier = tier.as_str(), "no permit before the deadline");
                return Err(Error::deadline(Sent::No));
            }
            tracing::debug!(
                reason = "pacing",
                tier = tier.as_str(),
                sleep_ms = at.saturating_duration_since(now).as_millis() as u64,
                "waiting for a rate permit"
            );
            timer.wait_until(at).await;
        }
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
        lock(&self.limiter).penalize(tier, until.into_std());
    }
}
