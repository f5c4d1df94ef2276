use http::Response;
use nomic_agent_core::Tier;
use nomic_agent_core::policy::retry_after::RetryAfterPolicy;
use tokio::time::Instant;

use super::policy::{hold_for, may_hold};
use super::registry::SharedLimiter;
use crate::body::Body;
use crate::config::WallClock;
use crate::error::{Error, Sent};
use crate::meta::RequestMeta;
use crate::sync::lock;
use crate::timer::Timer;

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

    /// Takes a permit of `tier` now, or says when one will be free. A held tier has no
    /// permit before its hold ends, and the permit and any hold are ordered by one lock, so a
    /// permit is either taken before a 429 was read (in flight, not ours to stop) or after its
    /// hold. The caller hands the request to the connection right after this, with no wait
    /// in between (the 429 promise, docs/reliability.md).
    fn try_acquire(&self, tier: Tier, now: Instant) -> Result<(), Instant> {
        if !tracing::enabled!(target: RECORD_TARGET, tracing::Level::DEBUG) {
            return lock(&self.limiter)
                .try_acquire(tier, now.into_std())
                .map_err(Instant::from_std);
        }
        // Only for a subscriber that records the order: the wall clock read with `now`, and
        // the holds this permit came after.
        let wall_ms = unix_ms(std::time::SystemTime::now());
        let (result, holds) = {
            let mut l = lock(&self.limiter);
            (l.try_acquire(tier, now.into_std()), l.holds(tier))
        };
        if result.is_ok() {
            tracing::debug!(
                name: "permit",
                target: RECORD_TARGET,
                tier = tier.as_str(),
                holds,
                wall_ms,
                "rate permit taken"
            );
        }
        result.map_err(Instant::from_std)
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
    pub(crate) fn observe(&self, meta: &RequestMeta, resp: &Response<Body>) {
        let tier = meta.tier;
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
        let holds = {
            let mut l = lock(&self.limiter);
            l.penalize(tier, until.into_std());
            l.holds(tier)
        };
        tracing::debug!(
            name: "hold",
            target: RECORD_TARGET,
            tier = tier.as_str(),
            holds,
            route = meta.route,
            agent_id = meta.agent_id.map(tracing::field::display),
            hold_ms = hold.as_millis() as u64,
            "tier held"
        );
    }
}

/// The target of the two events that let a test check the 429 promise: `permit` (tier, the
/// holds it came after, the wall clock) and `hold` (tier, the holds counted with it, the
/// request's route and agent id). Off unless a subscriber enables this target at DEBUG.
pub(crate) const RECORD_TARGET: &str = "nomic_agent_transport::pacing_order";

fn unix_ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
