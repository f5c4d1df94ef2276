use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{Request, Response};
use nomic_agent_core::RequestKind;
use nomic_agent_core::policy::budget::RetryBudget;
use nomic_agent_core::policy::classify::Classification;
use nomic_agent_core::policy::classify::ClassifyConfig;
use nomic_agent_core::policy::retry::{
    AttemptOutcome, RetryConfig, RetryDecision, SendFailure, decide,
};
use nomic_agent_core::rng::Rng;
use tokio::time::{Instant, sleep};
use tower::ServiceExt;

use super::policy::{classify_response, send_failure};
use crate::body::Body;
use crate::config::WallClock;
use crate::error::{Error, Sent};
use crate::layers::BoxFuture;
use crate::meta::{Attempt, BufferResponse, Deadline, InFlight, OutcomeUnknown, RequestMeta};

/// Owns every retry the transport makes except hyper-util's resend of a request that never
/// left a dead pooled connection (see docs/ARCHITECTURE.md).
#[derive(Clone, Debug)]
pub(crate) struct RetryLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    cfg: RetryConfig,
    classify: ClassifyConfig,
    error_body_limit: u64,
    budget: Mutex<RetryBudget>,
    rng: Mutex<Rng>,
    wall_clock: WallClock,
}

impl RetryLayer {
    pub(crate) fn new(
        cfg: RetryConfig,
        budget: RetryBudget,
        seed: u64,
        error_body_limit: u64,
        wall_clock: WallClock,
    ) -> RetryLayer {
        let mut classify = ClassifyConfig::default();
        classify.retry_after = cfg.retry_after.clone();
        RetryLayer {
            shared: Arc::new(Shared {
                cfg,
                classify,
                error_body_limit,
                budget: Mutex::new(budget),
                rng: Mutex::new(Rng::seed(seed)),
                wall_clock,
            }),
        }
    }
}

impl<S> tower::Layer<S> for RetryLayer {
    type Service = RetryService<S>;
    fn layer(&self, inner: S) -> RetryService<S> {
        RetryService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct RetryService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> tower::Service<Request<Body>> for RetryService<S>
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
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> BoxFuture {
        let shared = self.shared.clone();
        let inner = self.inner.clone();
        Box::pin(run(shared, inner, req))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn run<S>(shared: Arc<Shared>, inner: S, req: Request<Body>) -> Result<Response<Body>, Error>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error> + Clone,
{
    let kind = req
        .extensions()
        .get::<RequestMeta>()
        .map_or(RequestKind::Read, |m| m.kind);
    let deadline = req.extensions().get::<Deadline>().map(|d| d.0);
    let buffered = req.extensions().get::<BufferResponse>().is_some();
    let in_flight = req.extensions().get::<InFlight>().cloned();
    lock(&shared.budget).deposit(Instant::now().into_std());
    let (parts, body) = req.into_parts();
    let mut body = Some(body);
    let mut attempt = 1u32;
    // The final result of the previous attempt, kept while waiting to retry: if the retry
    // cannot even be sent before the deadline, that answer (a 429, say) is the truthful one.
    let mut previous: Option<Result<Response<Body>, Error>> = None;
    loop {
        // Keep a replayable copy for the next attempt; a streamed body is sent at most once.
        let this_body = body.take().unwrap_or_default();
        body = this_body.try_clone();
        let mut req = Request::from_parts(parts.clone(), this_body);
        req.extensions_mut().insert(Attempt(attempt));
        let result = inner.clone().oneshot(req).await;
        let wall_now = shared.wall_clock.now();
        let (mut result, mut outcome) = match result {
            Ok(resp) => {
                let (resp, outcome) =
                    classify_response(resp, shared.error_body_limit, wall_now, &shared.classify)
                        .await?;
                (Ok(resp), outcome)
            }
            // Refused before anything was sent (no permit before the deadline): the previous
            // attempt's answer stands, so a 429'd launch stays "rate limited", never "unknown".
            Err(e) if e.sent() == Sent::No && !e.is_retryable_failure() => {
                return match previous {
                    Some(prev) => {
                        tracing::debug!(attempt, error = %e, "retry not sent; returning the previous answer");
                        prev
                    }
                    None => Err(e),
                };
            }
            // Only transport failures are worth another attempt; a refused redirect, an
            // oversized body, a TLS rejection or the deadline would fail the same way again.
            Err(e) if !e.is_retryable_failure() => return Err(e),
            Err(e) => {
                let f = send_failure(&e);
                (Err(e), AttemptOutcome::Failed(f))
            }
        };
        let mut decision = decide(kind, &outcome, attempt, &shared.cfg, &mut lock(&shared.rng));
        if buffered
            && matches!(decision, RetryDecision::GiveUp { .. })
            && let Ok(resp) = result
        {
            // The answer is final: read its body here, inside the policy, deadline and budget.
            match read_body(resp, in_flight.as_ref()).await {
                Ok(resp) => result = Ok(resp),
                Err(e) if e.is_body_cut() => {
                    outcome = AttemptOutcome::Failed(SendFailure::MaybeSent);
                    decision = decide(kind, &outcome, attempt, &shared.cfg, &mut lock(&shared.rng));
                    result = Err(e);
                }
                Err(e) if kind.is_non_idempotent() && e.was_sent() => {
                    return Err(e.with_outcome_unknown());
                }
                Err(e) => return Err(e),
            }
        }
        let after = match decision {
            RetryDecision::GiveUp { outcome_unknown } => {
                return match result {
                    Ok(mut resp) => {
                        if outcome_unknown {
                            resp.extensions_mut().insert(OutcomeUnknown);
                        }
                        Ok(resp)
                    }
                    Err(e) if outcome_unknown => Err(e.with_outcome_unknown()),
                    Err(e) => Err(e),
                };
            }
            RetryDecision::Retry { after } => after,
        };
        let why = match &outcome {
            AttemptOutcome::Response(c) => format!("{c:?}"),
            AttemptOutcome::Failed(f) => format!("{f:?}"),
        };
        if body.is_none() {
            tracing::debug!(attempt, why, "not retrying: the body was streamed");
            return result;
        }
        let now = Instant::now();
        // An attempt that would start at (or after) the deadline could only end in the
        // deadline error, and a launch caught by it would look "maybe sent"; keep the answer.
        if deadline.is_some_and(|d| now + after >= d) {
            tracing::debug!(
                attempt,
                why,
                sleep_ms = after.as_millis() as u64,
                "not retrying: the wait would reach the deadline"
            );
            return result;
        }
        // A 429 that says when to come back is the server scheduling us, not a failure storm:
        // the pacing layer already holds the whole tier until then, and `max_attempts` bounds
        // the repeats, so honouring it does not draw from the retry budget.
        let scheduled = matches!(
            outcome,
            AttemptOutcome::Response(Classification::RateLimited {
                retry_after: Some(_)
            })
        );
        if !scheduled && !lock(&shared.budget).try_withdraw(now.into_std()) {
            tracing::debug!(attempt, why, "not retrying: retry budget exhausted");
            return result;
        }
        tracing::debug!(
            reason = "retry",
            attempt,
            why,
            sleep_ms = after.as_millis() as u64,
            "retrying after a wait"
        );
        previous = Some(result);
        sleep(after).await;
        attempt += 1;
    }
}

/// Reads a final response's body into memory. The request counts as in flight meanwhile, so a
/// deadline that cuts the body says "maybe sent" (and outcome-unknown for a launch).
async fn read_body(
    resp: Response<Body>,
    in_flight: Option<&InFlight>,
) -> Result<Response<Body>, Error> {
    if let Some(f) = in_flight {
        f.set(true);
    }
    let (parts, body) = resp.into_parts();
    let bytes = body.bytes().await?;
    if let Some(f) = in_flight {
        f.set(false);
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}
