use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use nomic_agent_core::policy::retry_after::RetryAfterPolicy;
use tokio::time::{Instant, sleep_until};
use tower::ServiceExt;

use super::policy::{hold_for, may_hold};
use super::registry::SharedLimiter;
use crate::body::Body;
use crate::config::WallClock;
use crate::error::{Error, Sent};
use crate::layers::BoxFuture;
use crate::meta::{Deadline, RequestMeta};

/// Waits for a permit of the request's tier before each attempt.
#[derive(Clone, Debug)]
pub(crate) struct PacingLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    limiter: SharedLimiter,
    wall_clock: WallClock,
    retry_after: RetryAfterPolicy,
}

impl PacingLayer {
    pub(crate) fn new(
        limiter: SharedLimiter,
        wall_clock: WallClock,
        retry_after: RetryAfterPolicy,
    ) -> PacingLayer {
        PacingLayer {
            shared: Arc::new(Shared {
                limiter,
                wall_clock,
                retry_after,
            }),
        }
    }
}

impl<S> tower::Layer<S> for PacingLayer {
    type Service = PacingService<S>;
    fn layer(&self, inner: S) -> PacingService<S> {
        PacingService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct PacingService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> tower::Service<Request<Body>> for PacingService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // Readiness of the inner service is awaited after the permit, inside the future.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> BoxFuture {
        let shared = self.shared.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let tier = req
                .extensions()
                .get::<RequestMeta>()
                .map_or(nomic_agent_core::Tier::Standard, |m| m.tier);
            let deadline = req.extensions().get::<Deadline>().map(|d| d.0);
            loop {
                let now = Instant::now();
                let verdict = shared
                    .limiter
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .try_acquire(tier, now.into_std());
                let Err(at) = verdict else { break };
                let at = Instant::from_std(at);
                if deadline.is_some_and(|d| at > d) {
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
                sleep_until(at).await;
            }
            let resp = inner.oneshot(req).await?;
            if may_hold(resp.status(), resp.headers())
                && let Some(hold) = hold_for(
                    resp.status(),
                    resp.headers(),
                    shared.wall_clock.now(),
                    &shared.retry_after,
                )
            {
                let until = Instant::now() + hold;
                tracing::debug!(
                    tier = tier.as_str(),
                    hold_ms = hold.as_millis() as u64,
                    "server says the tier is exhausted; holding it"
                );
                shared
                    .limiter
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .penalize(tier, until.into_std());
            }
            Ok(resp)
        })
    }
}
