//! Runs core's sans-IO [`Turn`] over the transport.
//!
//! The loop: drain `poll_transmit` and send each request concurrently; drain `poll_event`;
//! wait for the first response or for `poll_timeout`, feed it back, repeat. Time is read from
//! `tokio::time::Instant`, so paused tokio time drives it in tests.
//!
//! The state lives in [`Pending`], owned by the caller, never by a background task: dropping a
//! drive future drops its in-flight requests and leaves nothing running. Requests that were in
//! flight are remembered; the next drive resends a dropped read under the same id, and reports
//! a dropped launch or follow-up as "maybe sent" (so it is never resent blindly).
//!
//! A transport failure reaches the turn as curable (`handle_failure`: connect, reset, timeout,
//! a cut body — a poll failing so is polled again until the deadline) or permanent
//! (`handle_permanent_failure`: a refused certificate or redirect, an oversized body — retrying
//! would fail the same way). Each poll the turn retries is logged at DEBUG.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use http::Request;
use nomic_agent_core::RequestKind;
use nomic_agent_core::policy::retry::SendFailure;
use nomic_agent_core::request::duplicate;
use nomic_agent_core::turn::{Event, RequestId, Turn, TurnError};
use nomic_agent_core::wire;
use nomic_agent_transport::Error as TransportError;

use tokio::sync::Notify;

use crate::error::Error;
use crate::shared::Shared;

/// A turn and the requests it has in flight.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) turn: Turn,
    inflight: Vec<InFlight>,
}

#[derive(Debug)]
struct InFlight {
    id: RequestId,
    request: Request<Bytes>,
    kind: RequestKind,
}

impl Pending {
    pub(crate) fn new(turn: Turn) -> Pending {
        Pending {
            turn,
            inflight: Vec::new(),
        }
    }
}

/// Set by `Agent::cancel`, seen by whichever task is driving the turn.
#[derive(Debug, Default)]
pub(crate) struct CancelSignal {
    flag: AtomicBool,
    notify: Notify,
}

impl CancelSignal {
    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    pub(crate) async fn notified(&self) {
        self.notify.notified().await
    }

    pub(crate) fn set(&self, v: bool) {
        self.flag.store(v, Ordering::SeqCst);
        if v {
            self.notify.notify_one();
        }
    }
}

pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Drives `p` until `on_event` breaks (its value is returned) or the turn is done (`None`).
pub(crate) async fn drive<T>(
    shared: &Shared,
    p: &mut Pending,
    mut on_event: impl FnMut(Event, &mut Option<Error>) -> ControlFlow<T>,
    cancel: Option<&CancelSignal>,
) -> Result<Option<T>, Error> {
    let transport = shared.transport.clone();
    let send = |id: RequestId, req: Request<Bytes>| {
        let t = transport.clone();
        async move { (id, t.send_buffered(req).await) }
    };
    let mut running = FuturesUnordered::new();
    // Requests a dropped drive left behind.
    let mut i = 0;
    while i < p.inflight.len() {
        if p.inflight[i].kind.is_non_idempotent() {
            let f = p.inflight.remove(i);
            p.turn.handle_failure(now(), f.id, SendFailure::MaybeSent);
        } else {
            let f = &p.inflight[i];
            running.push(send(f.id, duplicate(&f.request)));
            i += 1;
        }
    }
    // The transport error behind the latest failure fed to the turn, to explain its error.
    let mut last_failure: Option<Error> = None;
    let mut cancel_fed = false;
    loop {
        let t = now();
        if !cancel_fed && cancel.is_some_and(|c| c.is_set()) {
            cancel_fed = true;
            p.turn.cancel(t);
        }
        while let Some(tx) = p.turn.poll_transmit(t) {
            p.inflight.push(InFlight {
                id: tx.id,
                request: duplicate(&tx.request),
                kind: tx.kind,
            });
            running.push(send(tx.id, tx.request));
        }
        while let Some(ev) = p.turn.poll_event() {
            if let Event::PollRetrying {
                failed_polls,
                retry_at,
                error,
            } = &ev
            {
                log_poll_retry(
                    p.turn.agent_id(),
                    *failed_polls,
                    *retry_at,
                    error,
                    &last_failure,
                );
            }
            if let ControlFlow::Break(v) = on_event(ev, &mut last_failure) {
                return Ok(Some(v));
            }
        }
        if p.turn.is_done() {
            return Ok(None);
        }
        let timeout = p.turn.poll_timeout();
        if running.is_empty() && timeout.is_none() {
            // The turn waits for nothing and schedules nothing: a bug, reported rather than hung.
            return Err(Error::internal(
                "the turn stalled with nothing to send or wait for",
            ));
        }
        let sleep_to = timeout.map(tokio::time::Instant::from_std);
        tokio::select! {
            Some((id, res)) = running.next(), if !running.is_empty() => {
                p.inflight.retain(|f| f.id != id);
                match res {
                    Ok(resp) => p.turn.handle_response(now(), SystemTime::now(), id, resp),
                    Err(e) => {
                        // "Certainly not sent" first: a deadline that passed while waiting for a
                        // permit or a Retry-After is a timeout, but the server never saw it.
                        let f = if !e.was_sent() {
                            SendFailure::NotSent
                        } else if e.is_timeout() {
                            SendFailure::TimedOut
                        } else {
                            SendFailure::MaybeSent
                        };
                        let permanent = is_permanent(&e);
                        last_failure = Some(Error::from_transport(e, false));
                        if permanent {
                            p.turn.handle_permanent_failure(now(), id, f);
                        } else {
                            p.turn.handle_failure(now(), id, f);
                        }
                    }
                }
            }
            _ = async { tokio::time::sleep_until(sleep_to.expect("guarded")).await }, if sleep_to.is_some() => {
                p.turn.handle_timeout(now());
            }
            _ = async { cancel.expect("guarded").notified().await }, if !cancel_fed && cancel.is_some() => {
                // Loop around: the flag is checked at the top.
            }
        }
    }
}

/// A failure that sending the request again would meet again: the certificate, a redirect, the
/// size of the body or the request itself. Everything else (connect, reset, timeout, deadline,
/// a cut body) may pass, so a poll rides it out.
fn is_permanent(e: &TransportError) -> bool {
    e.is_tls() || e.is_redirect() || e.is_body_too_large() || e.is_invalid_request()
}

/// One DEBUG line per poll the turn retries; the error is the transport's own explanation when
/// the poll got no response. Never the key: neither errors nor requests carry it.
fn log_poll_retry(
    agent: Option<wire::AgentId>,
    failed_polls: u32,
    retry_at: std::time::Instant,
    error: &TurnError,
    transport: &Option<Error>,
) {
    let retry_in = retry_at.saturating_duration_since(now());
    let error = match (error, transport) {
        (TurnError::Transport(_), Some(t)) => t.to_string(),
        _ => Error::from_turn(error.clone(), agent).to_string(),
    };
    tracing::debug!(
        agent = %agent.map(|a| a.to_string()).unwrap_or_default(),
        attempt = failed_polls,
        retry_in_ms = retry_in.as_millis() as u64,
        %error,
        "poll failed; polling again before the wait deadline"
    );
}

/// Maps a turn's error event, preferring the transport's own explanation of a failed send.
pub(crate) fn turn_error(
    e: TurnError,
    agent: Option<wire::AgentId>,
    transport: &mut Option<Error>,
) -> Error {
    match e {
        TurnError::Transport(_) => match transport.take() {
            Some(t) => t,
            None => Error::from_turn(e, agent),
        },
        TurnError::PollsFailedUntilDeadline {
            deadline,
            failed_polls,
            last,
        } => {
            let last = turn_error(*last, agent, transport);
            Error::poll_outage_timeout(agent, deadline, failed_polls, &last)
        }
        e => {
            transport.take();
            Error::from_turn(e, agent)
        }
    }
}

/// Drives a launch or follow-up turn until the server accepted it; returns the agent as the
/// acceptance showed it.
pub(crate) async fn drive_until_started(
    shared: &Shared,
    p: &mut Pending,
) -> Result<wire::Agent, Error> {
    let agent_id = p.turn.agent_id();
    let r = drive(
        shared,
        p,
        |ev, last| match ev {
            Event::Launched { agent } | Event::FollowUpAccepted { agent } => {
                ControlFlow::Break(Ok(agent))
            }
            Event::Error(e) => ControlFlow::Break(Err(turn_error(e, agent_id, last))),
            _ => ControlFlow::Continue(()),
        },
        None,
    )
    .await?;
    r.unwrap_or_else(|| Err(Error::internal("the turn ended before it was accepted")))
}
