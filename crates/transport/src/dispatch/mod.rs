//! The request pipeline: every stage of [`crate::stages`], in order, as one future.
//!
//! Outermost first: the **deadline** bounds everything; **retry** loops over attempts; each
//! attempt waits for a **pacing** permit, then races the **per-attempt timeout**; the response
//! gets its **body limit**; the attempt runs in its **trace** span; **auth** resolved the URI
//! and added the key once, before the first attempt; redirects are refused or followed per
//! attempt; the **lower** service (hyper-util's pool) sends it.
//!
//! Why one future and not a tower layer per stage: a layered stack clones the services below
//! each layer on every call (hyper-util's client among them), passes what the layers share
//! through request extensions (a map with one allocation per entry, cloned for every
//! attempt), boxes the async layers' futures and runs one timer per layer. Measured in
//! `docs/benchmarks.md` (client overhead), that was most of the SDK's cost over raw hyper.
//! Here the shared facts are locals, one timer serves every wait, and nothing below is cloned.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http::{Request, Response};
use http_body_util::BodyExt;
use nomic_agent_core::policy::retry::{AttemptOutcome, SendFailure};
use tokio::time::{Instant, Sleep};
use tracing::Instrument;

use crate::body::Body;
use crate::config::WallClock;
use crate::error::{Error, Sent};
use crate::lower::{Lower, LowerFuture};
use crate::meta::{Deadline, OutcomeUnknown, RequestMeta, ResponseBodyLimit};
use crate::stages::auth::{Credentials, RedirectMode, follow, refuse_redirect};
use crate::stages::deadline::{DeadlineBody, expired};
use crate::stages::limit::{check_declared, limit_body};
use crate::stages::pacing::Pacer;
use crate::stages::retry::{
    AttemptReport, FailureVerdict, Next, Retrier, RetryPolicy, StopReason, body_needed,
    classify_head, classify_with_body, on_failure,
};
use crate::stages::trace::{Traced, request_span};
use crate::timer::Timer;

/// Everything a request needs, shared by every clone of a transport.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    pub(crate) deadline: Duration,
    pub(crate) attempt_timeout: Duration,
    pub(crate) json_body_limit: u64,
    pub(crate) wall_clock: WallClock,
    pub(crate) retrier: Retrier,
    pub(crate) pacer: Pacer,
    pub(crate) credentials: Credentials,
    pub(crate) lower: Lower,
}

/// How the caller takes the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// The body streams to the caller, bounded by the deadline (and a limit if one was set).
    Streamed,
    /// The body is read inside the retry loop under the JSON limit: a body cut mid-way is one
    /// more maybe-sent failure under the same policy, deadline and budget.
    Buffered,
}

/// What a request carries from stage to stage.
struct Plan {
    meta: RequestMeta,
    deadline: Instant,
    limit: Option<u64>,
    take: Take,
}

impl Dispatcher {
    /// Sends `req` through every stage. A final HTTP response (4xx and 5xx included) is `Ok`.
    ///
    /// The work that needs no waiting happens here, before the one allocation: the retry loop
    /// is boxed, so the futures of the callers (the SDK's, several levels deep) stay a few
    /// words and moving them costs nothing.
    pub(crate) fn run(&self, req: Request<Body>, take: Take) -> Running<'_> {
        let start = Instant::now();
        let (mut parts, body) = req.into_parts();
        // What the stages need is taken out of the extensions once; whatever else the caller
        // put there still reaches the lower service.
        let meta = RequestMeta::take(&parts.method, &mut parts.extensions);
        let deadline = parts
            .extensions
            .remove::<Deadline>()
            .map_or(start + self.deadline, |d| d.0);
        let limit = match parts.extensions.remove::<ResponseBodyLimit>() {
            Some(l) => Some(l.0),
            None => (take == Take::Buffered).then_some(self.json_body_limit),
        };
        let span = request_span(&parts.method, &meta);
        if let Err(e) = self.credentials.apply(&mut parts) {
            span.in_scope(|| tracing::debug!(error = %e, "request failed"));
            return Running::failed(e);
        }
        self.retrier.on_request(start);
        let plan = Plan {
            meta,
            deadline,
            limit,
            take,
        };
        let inner: BoxFuture<'_> = if span.is_disabled() {
            Box::pin(self.attempts(Some(parts), Some(body), plan))
        } else {
            Box::pin(
                self.attempts(Some(parts), Some(body), plan)
                    .instrument(span.clone()),
            )
        };
        Running::new(inner, span)
    }

    /// The retry loop; each pass is pacing, then one attempt under its timeout.
    /// `parts` is kept (and copied per attempt) while a retry may follow; `body` while it can
    /// be replayed.
    async fn attempts(
        &self,
        mut parts: Option<Parts>,
        mut body: Option<Body>,
        plan: Plan,
    ) -> Result<Response<Body>, Error> {
        let kind = plan.meta.kind;
        let non_idempotent = kind.is_non_idempotent();
        let sleep = pin!(None::<Sleep>);
        let mut timer = Timer::new(sleep);
        let mut attempt = 1u32;
        // The final result of the previous attempt, kept while waiting to retry: if the retry
        // cannot even be sent before the deadline, that answer (a 429, say) is the truthful one.
        let mut previous: Option<Result<Response<Body>, Error>> = None;
        loop {
            // Keep a replayable copy for the next attempt; a streamed body is sent at most once.
            let this_body = body.take().unwrap_or_default();
            body = this_body.try_clone();
            let req = match (&body, self.retrier.may_follow(attempt)) {
                (Some(_), true) => copy(
                    parts.as_ref().expect("kept while a retry may follow"),
                    this_body,
                ),
                _ => Request::from_parts(
                    parts.take().expect("kept while a retry may follow"),
                    this_body,
                ),
            };
            // The permit is the last step before the request goes to the connection: it is
            // taken at the end of any wait, under the lock that records 429 holds, so a hold
            // read while this request waited is always seen.
            let paced = self
                .pacer
                .wait_for_permit(plan.meta.tier, plan.deadline, &mut timer)
                .await;
            if let Err(e) = paced {
                return previous_or(previous, e, attempt);
            }
            let attempt_at = Instant::now();
            timer.arm(plan.deadline.min(attempt_at + self.attempt_timeout));
            let sending = pin!(Traced::new(attempt, self.send_once(req)));
            let result = match timer.race(sending).await {
                Some(r) => r,
                None if Instant::now() >= plan.deadline => {
                    return Err(expired(true, non_idempotent));
                }
                None => Err(Error::timeout()),
            };
            let result = result.and_then(|resp| {
                if let Some(limit) = plan.limit {
                    check_declared(&resp, limit)?;
                    if plan.take == Take::Streamed {
                        return Ok(resp.map(|b| limit_body(b, limit)));
                    }
                }
                Ok(resp)
            });
            let (mut result, mut outcome) = match result {
                Ok(mut resp) => {
                    self.pacer.observe(&plan.meta, &resp);
                    let wall_now = self.wall_clock.now();
                    if body_needed(resp.status()) {
                        // A 429's or 400's body is read for the classifier: bounded by the
                        // deadline (the head has arrived, so the attempt's timeout is over).
                        let classifying = pin!(classify_with_body(
                            resp,
                            self.retrier.error_body_limit,
                            wall_now,
                            &self.retrier.classify,
                        ));
                        let Some(classified) =
                            timer.race_deadline(classifying, plan.deadline).await
                        else {
                            return Err(expired(false, non_idempotent));
                        };
                        let (resp, outcome) = classified?;
                        (Ok(resp), outcome)
                    } else {
                        let outcome = classify_head(&mut resp, wall_now, &self.retrier.classify);
                        (Ok(resp), outcome)
                    }
                }
                Err(e) => match on_failure(&e) {
                    FailureVerdict::KeepPrevious => return previous_or(previous, e, attempt),
                    FailureVerdict::Final => return Err(e),
                    FailureVerdict::Attempt(f) => (Err(e), AttemptOutcome::Failed(f)),
                },
            };
            let replayable = body.is_some();
            let report = |outcome: &AttemptOutcome| {
                self.retrier.next(&AttemptReport {
                    kind,
                    attempt,
                    outcome,
                    replayable,
                    now: Instant::now(),
                    deadline: plan.deadline,
                })
            };
            let mut next = report(&outcome);
            if plan.take == Take::Buffered
                && matches!(next, Next::Stop(_))
                && let Ok(resp) = result
            {
                // The answer is final: read its body here, inside the policy, deadline and budget.
                let (head, resp_body) = resp.into_parts();
                match read_body(resp_body, plan.limit, plan.deadline, &mut timer).await {
                    Ok(bytes) => result = Ok(Response::from_parts(head, Body::from(bytes))),
                    Err(e) if e.is_deadline() => return Err(expired(true, non_idempotent)),
                    Err(e) if e.is_body_cut() => {
                        outcome = AttemptOutcome::Failed(SendFailure::MaybeSent);
                        next = report(&outcome);
                        result = Err(e);
                    }
                    Err(e) if non_idempotent && e.was_sent() => {
                        return Err(e.with_outcome_unknown());
                    }
                    Err(e) => return Err(e),
                }
            }
            let why = || match &outcome {
                AttemptOutcome::Response(c) => format!("{c:?}"),
                AttemptOutcome::Failed(f) => format!("{f:?}"),
            };
            let at = match next {
                Next::Stop(reason) => {
                    if reason != StopReason::Final {
                        tracing::debug!(attempt, why = why(), "not retrying: {}", reason.as_str());
                    }
                    return finish(result, reason.outcome_unknown(), &plan);
                }
                Next::RetryAt(at) => at,
            };
            tracing::debug!(
                reason = "retry",
                attempt,
                why = why(),
                sleep_ms = at.saturating_duration_since(Instant::now()).as_millis() as u64,
                "retrying after a wait"
            );
            previous = Some(result);
            timer.wait_until(at).await;
            attempt += 1;
        }
    }

    /// One attempt through the lower service, with redirects refused or followed.
    fn send_once(&self, req: Request<Body>) -> SendOnce<'_> {
        match self.credentials.redirect {
            // Boxed: the redirect loop is rare and large.
            RedirectMode::FollowSameOrigin => SendOnce::Follow {
                inner: Box::pin(follow(&self.lower, &self.credentials.base, req)),
            },
            _ => SendOnce::Direct {
                inner: self.lower.call(req),
            },
        }
    }
}

type BoxFuture<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send + 'a>>;

pin_project_lite::pin_project! {
    /// One attempt: straight to the lower service with any 3xx refused (the default), or the
    /// redirect-following loop.
    #[project = SendOnceProj]
    enum SendOnce<'a> {
        Direct { #[pin] inner: LowerFuture },
        Follow { inner: BoxFuture<'a> },
    }
}

impl Future for SendOnce<'_> {
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            SendOnceProj::Direct { inner } => inner.poll(cx).map(|r| refuse_redirect(r?)),
            SendOnceProj::Follow { inner } => inner.as_mut().poll(cx),
        }
    }
}

/// [`Dispatcher::run`]'s future: the boxed retry loop, with the outcome recorded on the
/// request span (when enabled).
pub(crate) struct Running<'a> {
    inner: Option<BoxFuture<'a>>,
    failed: Option<Error>,
    span: tracing::Span,
}

impl<'a> Running<'a> {
    fn new(inner: BoxFuture<'a>, span: tracing::Span) -> Running<'a> {
        Running {
            inner: Some(inner),
            failed: None,
            span,
        }
    }

    /// A request refused before any stage ran (a URI of another origin).
    fn failed(e: Error) -> Running<'a> {
        Running {
            inner: None,
            failed: Some(e),
            span: tracing::Span::none(),
        }
    }
}

impl Future for Running<'_> {
    type Output = Result<Response<Body>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            let e = this
                .failed
                .take()
                .unwrap_or_else(|| Error::invalid_request("polled after completion"));
            return Poll::Ready(Err(e));
        };
        let Poll::Ready(result) = inner.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        this.inner = None;
        match &result {
            Ok(resp) => {
                if !this.span.is_disabled() {
                    this.span.record("status", resp.status().as_u16());
                }
            }
            Err(e) => this
                .span
                .in_scope(|| tracing::debug!(error = %e, "request failed")),
        }
        Poll::Ready(result)
    }
}

/// A retry refused before anything was sent (no permit before the deadline, a TLS rejection):
/// the previous attempt's answer stands, so a 429'd launch stays "rate limited", never
/// "unknown".
fn previous_or(
    previous: Option<Result<Response<Body>, Error>>,
    e: Error,
    attempt: u32,
) -> Result<Response<Body>, Error> {
    match previous {
        Some(prev) => {
            tracing::debug!(attempt, error = %e, "retry not sent; returning the previous answer");
            prev
        }
        None => Err(e),
    }
}

/// The request for one attempt, leaving `parts` for the next one.
fn copy(parts: &Parts, body: Body) -> Request<Body> {
    let mut req = Request::new(body);
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    *req.version_mut() = parts.version;
    *req.headers_mut() = parts.headers.clone();
    // An empty map costs nothing to leave out; core's metadata was already taken out of it.
    if !parts.extensions.is_empty() {
        *req.extensions_mut() = parts.extensions.clone();
    }
    req
}

/// The final answer: outcome-unknown marked, a streamed body bound to the deadline.
fn finish(
    result: Result<Response<Body>, Error>,
    outcome_unknown: bool,
    plan: &Plan,
) -> Result<Response<Body>, Error> {
    match result {
        Ok(mut resp) => {
            if outcome_unknown {
                resp.extensions_mut().insert(OutcomeUnknown);
            }
            // The body is part of the budget: a server that drips it cannot hold us past it.
            // One already in memory cannot drip, so it needs no timer and no wrapper.
            if resp.body().is_in_memory() {
                return Ok(resp);
            }
            let deadline = plan.deadline;
            Ok(resp.map(|body| Body::wrap(DeadlineBody::new(body, deadline))))
        }
        Err(e) if outcome_unknown => Err(e.with_outcome_unknown()),
        Err(e) => Err(e),
    }
}

/// Reads a final response's body into memory under `limit`, bounded by the deadline.
async fn read_body(
    mut body: Body,
    limit: Option<u64>,
    deadline: Instant,
    timer: &mut Timer<'_>,
) -> Result<Bytes, Error> {
    let limit = limit.unwrap_or(u64::MAX);
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut len = 0u64;
    loop {
        let next = pin!(body.frame());
        let Some(frame) = timer.race_deadline(next, deadline).await else {
            return Err(Error::deadline(Sent::Maybe));
        };
        let Some(frame) = frame else { break };
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        len += data.len() as u64;
        if len > limit {
            return Err(Error::body_too_large(limit));
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(f), None) => {
                let mut buf = BytesMut::with_capacity(f.len() + data.len());
                buf.extend_from_slice(f);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}
