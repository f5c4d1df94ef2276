//! Every transition of a [`Turn`]. `docs/lifecycle.md` describes this file.
//!
//! A turn has at most two requests alive at once: the main one (launch, follow-up, status poll
//! or conversation read) and a stop. Each is a [`Slot`] that is either scheduled for an instant
//! or in flight under a [`RequestId`].

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use super::outage::{Cause, Limits, Next};
use super::{Event, Origin, RequestId, Snapshot, Transmit, Turn, TurnError};
use crate::answer::AnswerCheck;
use crate::policy::classify::{Classification, ClassifyConfig, classify};
use crate::policy::retry::{AttemptOutcome, RetryDecision, SendFailure, decide};
use crate::wire::{Agent, AgentStatus, Conversation, Role};
use crate::{RequestKind, Tier};

/// Where a turn is, for callers and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TurnPhase {
    /// Sending `POST /agents`.
    Launching,
    /// Sending `POST /agents/{id}/followup`.
    SendingFollowUp,
    /// After the follow-up's 202, polling every `followup_poll_interval` until the agent leaves
    /// the previous turn's state or the window closes.
    AwaitingNewTurn,
    /// Polling `GET /agents/{id}` on the poll schedule while the agent is active.
    Polling,
    /// The stale window closed: reading the conversation to see whether this turn's prompt was
    /// answered.
    Confirming,
    /// The agent is terminal: reading the conversation for the answer.
    Concluding,
    /// The terminal event has been queued.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Launching,
    SendingFollowUp,
    /// `deadline_bound`: the window was cut short by the overall deadline.
    AwaitingNewTurn {
        window_end: Instant,
        deadline_bound: bool,
    },
    Polling,
    Confirming {
        deadline_bound: bool,
    },
    Concluding,
    Done,
}

impl Phase {
    pub(super) fn public(self) -> TurnPhase {
        match self {
            Phase::Launching => TurnPhase::Launching,
            Phase::SendingFollowUp => TurnPhase::SendingFollowUp,
            Phase::AwaitingNewTurn { .. } => TurnPhase::AwaitingNewTurn,
            Phase::Polling => TurnPhase::Polling,
            Phase::Confirming { .. } => TurnPhase::Confirming,
            Phase::Concluding => TurnPhase::Concluding,
            Phase::Done => TurnPhase::Done,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Launch,
    FollowUp,
    GetAgent,
    Conversation,
    Stop,
}

impl Op {
    fn kind(self) -> RequestKind {
        match self {
            Op::Launch => RequestKind::Launch,
            Op::FollowUp => RequestKind::FollowUp,
            Op::GetAgent | Op::Conversation => RequestKind::Read,
            Op::Stop => RequestKind::IdempotentWrite,
        }
    }

    /// A read the turn makes while it waits: rides out curable errors (`outage.rs`).
    fn is_poll(self) -> bool {
        matches!(self, Op::GetAgent | Op::Conversation)
    }

    fn tier(self) -> Tier {
        match self {
            Op::Launch | Op::FollowUp => Tier::Heavy,
            Op::GetAgent | Op::Conversation => Tier::Standard,
            Op::Stop => Tier::Write,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    At(Instant),
    /// Sent at the instant, under the id.
    InFlight(RequestId, Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    op: Op,
    /// 1 for the first attempt of this request.
    attempt: u32,
    when: When,
}

impl Slot {
    pub(super) fn at(op: Op, at: Instant) -> Slot {
        Slot {
            op,
            attempt: 1,
            when: When::At(at),
        }
    }

    fn due(&self) -> Option<Instant> {
        match self.when {
            When::At(at) => Some(at),
            When::InFlight(..) => None,
        }
    }

    fn in_flight(&self, id: RequestId) -> bool {
        matches!(self.when, When::InFlight(sent, _) if sent == id)
    }
}

/// Which slot a response belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Main,
    Stop,
}

/// The answer to `prompt`, only if it is the last user row and an answer follows it.
fn answered(conv: &Conversation, prompt: &str) -> Option<String> {
    match crate::answer::answer_after_prompt(conv, prompt) {
        AnswerCheck::Answered(answer) => Some(answer),
        _ => None,
    }
}

/// Text of the last `error` row, the fallback context of a failed turn.
fn last_error_row(conv: &Conversation) -> Option<String> {
    conv.messages
        .iter()
        .rev()
        .find(|m| m.role == Role::Error)
        .map(|m| m.text.clone())
}

impl Turn {
    // ---- outputs -------------------------------------------------------------------------

    pub(super) fn next_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if self.is_done() {
            return None;
        }
        for which in [Which::Stop, Which::Main] {
            let slot = match which {
                Which::Stop => self.stop,
                Which::Main => self.main,
            };
            let Some(slot) = slot else { continue };
            let Some(at) = slot.due() else { continue };
            if at > now {
                continue;
            }
            let Some(request) = self.build(slot.op) else {
                // No agent id for an op that needs one: cannot happen by construction; drop it
                // rather than send a wrong request.
                self.set_slot(which, None);
                continue;
            };
            let id = RequestId(self.next_id);
            self.next_id += 1;
            self.set_slot(
                which,
                Some(Slot {
                    when: When::InFlight(id, now),
                    ..slot
                }),
            );
            return Some(Transmit {
                id,
                request,
                tier: slot.op.tier(),
                kind: slot.op.kind(),
            });
        }
        None
    }

    pub(super) fn next_due(&self) -> Option<Instant> {
        if self.is_done() {
            return None;
        }
        [self.main, self.stop]
            .iter()
            .flatten()
            .filter_map(Slot::due)
            .chain(self.abandon_at())
            .min()
    }

    /// When the status poll in flight is abandoned: at the deadline, if it was sent before it.
    /// A poll sent at the deadline (the last one) is left to finish. Conversation reads are
    /// never abandoned: the agent is already terminal, or the window is being confirmed.
    fn abandon_at(&self) -> Option<Instant> {
        let deadline = self.deadline_at?;
        match self.main? {
            Slot {
                op: Op::GetAgent,
                when: When::InFlight(_, sent),
                ..
            } if sent < deadline => Some(deadline),
            _ => None,
        }
    }

    fn build(&self, op: Op) -> Option<http::Request<Bytes>> {
        let base = &self.cfg.api_base;
        match (op, &self.origin) {
            (Op::Launch, Origin::Launch { request }) => Some(crate::request::duplicate(request)),
            (Op::FollowUp, Origin::FollowUp { request, .. }) => {
                Some(crate::request::duplicate(request))
            }
            (Op::GetAgent, _) => self.agent_id.map(|id| crate::request::get_agent(base, &id)),
            (Op::Conversation, _) => self
                .agent_id
                .map(|id| crate::request::conversation(base, &id)),
            (Op::Stop, _) => self.agent_id.map(|id| crate::request::stop(base, &id)),
            _ => None,
        }
    }

    fn set_slot(&mut self, which: Which, slot: Option<Slot>) {
        match which {
            Which::Main => self.main = slot,
            Which::Stop => self.stop = slot,
        }
    }

    // ---- inputs --------------------------------------------------------------------------

    fn take_in_flight(&mut self, id: RequestId) -> Option<(Which, Slot)> {
        if self.is_done() {
            return None;
        }
        if let Some(s) = self.main.filter(|s| s.in_flight(id)) {
            self.main = None;
            return Some((Which::Main, s));
        }
        if let Some(s) = self.stop.filter(|s| s.in_flight(id)) {
            self.stop = None;
            return Some((Which::Stop, s));
        }
        None
    }

    pub(super) fn on_response(
        &mut self,
        now: Instant,
        wall_now: SystemTime,
        id: RequestId,
        resp: http::Response<Bytes>,
    ) {
        let Some((which, slot)) = self.take_in_flight(id) else {
            return;
        };
        let (parts, body) = resp.into_parts();
        let cfg = ClassifyConfig {
            retry_after: self.cfg.retry.retry_after.clone(),
        };
        let class = classify(parts.status, &parts.headers, &body, wall_now, &cfg);
        if class != Classification::Success {
            let err = api_error(&class, &body);
            let cause = match class {
                Classification::RateLimited { retry_after } => {
                    Some(Cause::RateLimited(retry_after))
                }
                Classification::ServerError { retry_after, .. } => {
                    Some(Cause::ServerError(retry_after))
                }
                _ => None,
            };
            let outcome = AttemptOutcome::Response(class);
            self.attempt_failed(now, which, slot, outcome, err, cause);
            return;
        }
        if which == Which::Main {
            self.outage.clear();
        }
        match slot.op {
            Op::Launch => self.on_launched(now, &body),
            Op::FollowUp => self.on_follow_up_accepted(now, &body),
            Op::GetAgent => match crate::wire::decode_agent(&body) {
                Ok(agent) => self.on_agent(now, agent),
                Err(e) => self.broken_read(now, which, slot, e.to_string()),
            },
            Op::Conversation => match crate::wire::decode_conversation(&body) {
                Ok(conv) => self.on_conversation(conv),
                Err(e) => self.broken_read(now, which, slot, e.to_string()),
            },
            Op::Stop => self.on_stopped(now, &body),
        }
    }

    /// `curable`: a later attempt may succeed (a reset, a connect failure, a timeout), as
    /// opposed to a refused certificate or an oversized body, which are never retried.
    pub(super) fn on_failure(
        &mut self,
        now: Instant,
        id: RequestId,
        f: SendFailure,
        curable: bool,
    ) {
        let Some((which, slot)) = self.take_in_flight(id) else {
            return;
        };
        let err = TurnError::Transport(f);
        if curable {
            let outcome = AttemptOutcome::Failed(f);
            self.attempt_failed(now, which, slot, outcome, err, Some(Cause::NoResponse));
        } else {
            let unknown = f.maybe_received() && slot.op.kind().is_non_idempotent();
            self.gave_up(which, slot, unknown, err);
        }
    }

    pub(super) fn on_timeout(&mut self, now: Instant) {
        if self.abandon_at().is_some_and(|at| now >= at) {
            // Its response, should it come, is for an id no slot holds: ignored.
            self.main = None;
            match self.phase {
                // The window ends at the deadline at the latest: confirm from the conversation.
                Phase::AwaitingNewTurn { .. } => self.next_stale_poll(now),
                _ => self.fail(self.deadline_error()),
            }
            return;
        }
        // Nothing is ever scheduled past the deadline; this guards that invariant.
        if let (Some(deadline), Some(due)) = (self.deadline_at, self.main.and_then(|s| s.due()))
            && now > deadline
            && due > deadline
        {
            self.fail(self.deadline_error());
        }
    }

    pub(super) fn on_cancel(&mut self, now: Instant) {
        if self.is_done() || self.cancel_requested {
            return;
        }
        self.cancel_requested = true;
        match self.phase {
            Phase::Launching | Phase::SendingFollowUp => {
                if self.main.and_then(|s| s.due()).is_some() {
                    // Not sent yet (or waiting to be resent after NotSent/429): nothing to stop.
                    self.fail(TurnError::Cancelled);
                }
                // In flight: the stop goes out once the launch/follow-up is answered.
            }
            _ => self.request_stop(now),
        }
    }

    // ---- transitions on success ----------------------------------------------------------

    fn on_launched(&mut self, now: Instant, body: &[u8]) {
        match crate::wire::decode_agent(body) {
            Ok(agent) => {
                self.agent_id = Some(agent.id);
                self.events.push_back(Event::Launched {
                    agent: agent.clone(),
                });
                self.phase = Phase::Polling;
                if self.cancel_requested {
                    self.request_stop(now);
                }
                self.observe(now, agent);
                self.advance_polling(now);
            }
            // Created, but we cannot say which agent: the caller must reconcile.
            Err(e) => self.fail(TurnError::Decode(e.to_string())),
        }
    }

    fn on_follow_up_accepted(&mut self, now: Instant, body: &[u8]) {
        let (window_end, deadline_bound) = self.window_end(now);
        self.phase = Phase::AwaitingNewTurn {
            window_end,
            deadline_bound,
        };
        if self.cancel_requested {
            self.request_stop(now);
        }
        // The 202 body is the agent as it is now, possibly stale; a broken body changes nothing
        // (the follow-up was accepted either way).
        match crate::wire::decode_agent(body) {
            Ok(agent) => {
                self.events.push_back(Event::FollowUpAccepted {
                    agent: agent.clone(),
                });
                self.on_agent(now, agent);
            }
            Err(_) => self.next_stale_poll(now),
        }
    }

    fn on_agent(&mut self, now: Instant, agent: Agent) {
        match self.phase {
            Phase::AwaitingNewTurn { .. } => {
                if self.is_fresh(&agent) {
                    self.phase = Phase::Polling;
                    self.poll_attempt = 0;
                    self.observe(now, agent);
                    self.advance_polling(now);
                } else {
                    // Still the previous turn's state: keep the record, report nothing.
                    self.agent = Some(agent);
                    self.next_stale_poll(now);
                }
            }
            Phase::Polling => {
                self.observe(now, agent);
                self.advance_polling(now);
            }
            _ => {}
        }
    }

    fn on_conversation(&mut self, conv: Conversation) {
        let Some(agent) = self.agent.clone() else {
            self.fail(TurnError::Decode(
                "no agent seen before the conversation".to_owned(),
            ));
            return;
        };
        let prompt = match &self.origin {
            Origin::FollowUp { prompt, .. } => Some(prompt.text.clone()),
            _ => None,
        };
        match self.phase {
            Phase::Confirming { deadline_bound } => {
                let answer = prompt.as_deref().and_then(|p| answered(&conv, p));
                match answer {
                    Some(answer) => self.finish(Event::Finished {
                        agent,
                        answer: Some(answer),
                        conversation: conv,
                    }),
                    None if deadline_bound => self.fail(TurnError::DeadlineExceeded),
                    None => self.fail(TurnError::StaleAfterFollowUp),
                }
            }
            Phase::Concluding => {
                let event = match agent.status {
                    AgentStatus::Failed => {
                        let context = agent.error.clone().or_else(|| last_error_row(&conv));
                        Event::Failed { agent, context }
                    }
                    AgentStatus::Stopped => Event::Stopped { agent },
                    _ => {
                        // A follow-up turn only ever reports the answer to its own prompt, so the
                        // previous turn's answer cannot leak through.
                        let answer = match prompt.as_deref() {
                            Some(p) => answered(&conv, p),
                            None => crate::answer::final_answer(&conv),
                        };
                        Event::Finished {
                            agent,
                            answer,
                            conversation: conv,
                        }
                    }
                };
                self.finish(event);
            }
            _ => {}
        }
    }

    fn on_stopped(&mut self, now: Instant, body: &[u8]) {
        // Only trust the body while polling: during the stale window it may show the old turn.
        if self.phase == Phase::Polling
            && let Ok(agent) = crate::wire::decode_agent(body)
        {
            self.observe(now, agent);
            if self.status.as_ref().is_some_and(AgentStatus::is_terminal) {
                if self
                    .main
                    .is_some_and(|s| s.op == Op::GetAgent && s.due().is_some())
                {
                    self.main = None;
                }
                if self.main.is_none() {
                    self.advance_polling(now);
                }
                return;
            }
        }
        // Look again soon rather than at the end of a long backoff.
        let soon = now.checked_add(self.cfg.poll.initial).unwrap_or(now);
        if let Some(slot) = self.main.as_mut()
            && slot.op == Op::GetAgent
            && let When::At(at) = slot.when
            && at > soon
        {
            slot.when = When::At(soon);
        }
    }

    // ---- failures ------------------------------------------------------------------------

    /// A 2xx read whose body did not decode: retried like a broken connection.
    /// Not an outage (the server answered, with garbage), so never ridden out.
    fn broken_read(&mut self, now: Instant, which: Which, slot: Slot, reason: String) {
        let outcome = AttemptOutcome::Failed(SendFailure::MaybeSent);
        self.attempt_failed(now, which, slot, outcome, TurnError::Decode(reason), None);
    }

    /// `cause`: set when a later attempt may cure the failure (5xx, rate 429, no response);
    /// a poll failing so is ridden out once `retry` gives up on it.
    fn attempt_failed(
        &mut self,
        now: Instant,
        which: Which,
        slot: Slot,
        outcome: AttemptOutcome,
        err: TurnError,
        cause: Option<Cause>,
    ) {
        let decision = decide(
            slot.op.kind(),
            &outcome,
            slot.attempt,
            &self.cfg.retry,
            &mut self.rng,
        );
        let ride_out = cause.filter(|_| which == Which::Main && slot.op.is_poll());
        match decision {
            RetryDecision::Retry { after } => {
                let at = now.checked_add(after);
                let past_deadline = match (at, self.deadline_at) {
                    (None, _) => true,
                    (Some(at), Some(d)) => at > d,
                    (Some(_), None) => false,
                };
                if let Some(cause) = ride_out
                    && past_deadline
                {
                    self.ride_out(now, slot.op, cause, err);
                    return;
                }
                match (which, at) {
                    (Which::Stop, _) if past_deadline => {}
                    (Which::Main, _) if past_deadline => self.fail(self.deadline_error()),
                    (_, Some(at)) => {
                        let next = Slot {
                            op: slot.op,
                            attempt: slot.attempt.saturating_add(1),
                            when: When::At(at),
                        };
                        self.set_slot(which, Some(next));
                    }
                    (_, None) => {}
                }
            }
            RetryDecision::GiveUp { outcome_unknown } => match ride_out {
                // A read is never "outcome unknown"; the guard only keeps the two rules apart.
                Some(cause) if !outcome_unknown => self.ride_out(now, slot.op, cause, err),
                _ => self.gave_up(which, slot, outcome_unknown, err),
            },
        }
    }

    /// No more attempts for this request: the turn ends (main) or carries on without it (stop).
    fn gave_up(&mut self, which: Which, slot: Slot, outcome_unknown: bool, err: TurnError) {
        match which {
            Which::Stop => {
                // The agent may already be terminal (409) or the next turn may not have
                // started: stop again once it is seen active.
                if err == TurnError::Conflict {
                    self.restop_when_active = true;
                }
            }
            Which::Main => {
                let err = match (outcome_unknown, slot.op) {
                    (true, Op::Launch) => TurnError::LaunchOutcomeUnknown,
                    (true, Op::FollowUp) => TurnError::FollowUpOutcomeUnknown,
                    _ => err,
                };
                self.fail(err);
            }
        }
    }

    /// A poll failed for good: poll again after the outage backoff, or end (`outage.rs`).
    fn ride_out(&mut self, now: Instant, op: Op, cause: Cause, err: TurnError) {
        let limits = Limits {
            policy: self.cfg.poll_errors,
            backoff: &self.cfg.poll_error_backoff,
            deadline: self.deadline_at.zip(self.cfg.effective_deadline()),
        };
        match self
            .outage
            .after_failure(now, cause, err.clone(), limits, &mut self.rng)
        {
            Next::PollAt(at) => {
                self.main = Some(Slot::at(op, at));
                self.events.push_back(Event::PollRetrying {
                    failed_polls: self.outage.failed_polls(),
                    retry_at: at,
                    error: err,
                });
            }
            Next::End(e) => self.fail(e),
        }
    }

    /// The error of a deadline that passes now: it names the last poll error during an outage.
    fn deadline_error(&self) -> TurnError {
        let deadline = self.cfg.effective_deadline().unwrap_or_default();
        self.outage.deadline_error(deadline)
    }

    // ---- helpers -------------------------------------------------------------------------

    /// Records an observation, emitting a status change when there is one.
    fn observe(&mut self, now: Instant, agent: Agent) {
        if self.status.as_ref() != Some(&agent.status) {
            let from = self.status.replace(agent.status.clone());
            self.events.push_back(Event::StatusChanged {
                from,
                to: agent.status.clone(),
            });
        }
        if self.restop_when_active && agent.status.is_active() && self.stop.is_none() {
            self.restop_when_active = false;
            self.stop = Some(Slot::at(Op::Stop, now));
        }
        self.agent = Some(agent);
    }

    /// In the polling phase, after an observation: conclude if terminal, else schedule the next
    /// poll (or give up at the deadline).
    fn advance_polling(&mut self, now: Instant) {
        if self.status.as_ref().is_some_and(AgentStatus::is_terminal) {
            self.phase = Phase::Concluding;
            self.main = Some(Slot::at(Op::Conversation, now));
            return;
        }
        let attempt = self.poll_attempt;
        self.poll_attempt = self.poll_attempt.saturating_add(1);
        match self.poll_clock.next_poll(now, attempt, &mut self.rng) {
            Some(at) => self.main = Some(Slot::at(Op::GetAgent, at)),
            None => self.fail(self.deadline_error()),
        }
    }

    /// True when `agent` shows the new turn rather than the state recorded before the follow-up.
    fn is_fresh(&self, agent: &Agent) -> bool {
        match &self.origin {
            Origin::FollowUp { prior, .. } => is_fresh(prior, agent),
            _ => true,
        }
    }

    fn window_end(&self, now: Instant) -> (Instant, bool) {
        let end = now.checked_add(self.cfg.followup_window).unwrap_or(now);
        match self.deadline_at {
            Some(d) if d <= end => (d.max(now), true),
            _ => (end, false),
        }
    }

    /// Inside the stale window: poll again after the short interval, or, once the window has
    /// closed, read the conversation to confirm.
    fn next_stale_poll(&mut self, now: Instant) {
        let Phase::AwaitingNewTurn {
            window_end,
            deadline_bound,
        } = self.phase
        else {
            return;
        };
        if now >= window_end {
            self.phase = Phase::Confirming { deadline_bound };
            self.main = Some(Slot::at(Op::Conversation, now));
            return;
        }
        let interval = self
            .cfg
            .followup_poll_interval
            .max(Duration::from_millis(1));
        let at = now
            .checked_add(interval)
            .map_or(window_end, |t| t.min(window_end));
        self.main = Some(Slot::at(Op::GetAgent, at));
    }

    fn request_stop(&mut self, now: Instant) {
        if self.stop.is_none() && self.agent_id.is_some() {
            self.stop = Some(Slot::at(Op::Stop, now));
        }
    }

    fn finish(&mut self, event: Event) {
        self.phase = Phase::Done;
        self.main = None;
        self.stop = None;
        self.events.push_back(event);
    }

    fn fail(&mut self, err: TurnError) {
        self.finish(Event::Error(err));
    }
}

/// The stale-window test: the agent shows the new turn once it is active, its status changed,
/// or its `updatedAt` moved.
pub(super) fn is_fresh(prior: &Snapshot, agent: &Agent) -> bool {
    agent.status.is_active()
        || agent.status != prior.status
        || agent.updated_at.differs_from(&prior.updated_at)
}

/// The error a non-success response becomes when it is not retried.
fn api_error(class: &Classification, body: &[u8]) -> TurnError {
    let parsed = crate::wire::decode_error_body(body);
    let code = parsed.as_ref().and_then(|b| b.code.clone());
    let message = parsed.map(|b| b.error);
    let api = |status: u16, fallback: &str| TurnError::Api {
        status,
        code: code.clone(),
        message: message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| fallback.to_owned()),
    };
    match class {
        Classification::Success => api(200, "unexpected success"),
        Classification::RateLimited { .. } => api(429, "rate limited"),
        Classification::SpendLimited { message } => TurnError::SpendLimited {
            message: message.clone(),
        },
        Classification::ServerError { status, .. } => api(*status, "server error"),
        Classification::NotFound => TurnError::AgentGone,
        Classification::Unauthorized => TurnError::Unauthorized,
        Classification::Forbidden => TurnError::Forbidden,
        Classification::Invalid { issues, .. } => TurnError::Invalid {
            issues: issues.clone(),
        },
        Classification::Conflict => TurnError::Conflict,
        Classification::PayloadTooLarge => api(413, "payload too large"),
        Classification::Redirect { status, .. } => api(*status, "unexpected redirect"),
        Classification::Other { status } => api(*status, "unexpected status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{AgentId, Timestamp};

    fn agent(status: AgentStatus, updated: &str) -> Agent {
        let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let mut a = Agent::new(id, status);
        a.updated_at = Timestamp::new(updated);
        a
    }

    #[test]
    fn freshness_after_a_follow_up() {
        let prior = Snapshot {
            status: AgentStatus::Finished,
            updated_at: Timestamp::new("2026-04-25T12:00:00.000Z"),
        };
        let same = "2026-04-25T12:00:00.000Z";
        // The previous turn's state, even written differently: stale.
        assert!(!is_fresh(&prior, &agent(AgentStatus::Finished, same)));
        assert!(!is_fresh(
            &prior,
            &agent(AgentStatus::Finished, "2026-04-25T12:00:00Z")
        ));
        // Active, another terminal status, or a moved updatedAt: the new turn.
        assert!(is_fresh(&prior, &agent(AgentStatus::Running, same)));
        assert!(is_fresh(&prior, &agent(AgentStatus::Waiting, same)));
        assert!(is_fresh(
            &prior,
            &agent(AgentStatus::Unknown("x".into()), same)
        ));
        assert!(is_fresh(&prior, &agent(AgentStatus::Failed, same)));
        assert!(is_fresh(
            &prior,
            &agent(AgentStatus::Finished, "2026-04-25T12:00:00.001Z")
        ));
    }

    #[test]
    fn error_mapping() {
        let body = br#"{"error":"Nope","code":"weird"}"#;
        assert_eq!(
            api_error(&Classification::Other { status: 418 }, body),
            TurnError::Api {
                status: 418,
                code: Some("weird".into()),
                message: "Nope".into()
            }
        );
        assert_eq!(
            api_error(
                &Classification::ServerError {
                    status: 502,
                    retry_after: None
                },
                b"<html>"
            ),
            TurnError::Api {
                status: 502,
                code: None,
                message: "server error".into()
            }
        );
        assert_eq!(
            api_error(&Classification::NotFound, b""),
            TurnError::AgentGone
        );
        assert_eq!(
            api_error(&Classification::Conflict, b""),
            TurnError::Conflict
        );
        assert_eq!(
            api_error(&Classification::Unauthorized, b""),
            TurnError::Unauthorized
        );
        assert_eq!(
            api_error(&Classification::Forbidden, b""),
            TurnError::Forbidden
        );
        assert_eq!(
            api_error(
                &Classification::Invalid {
                    status: 400,
                    issues: vec!["a: b".into()]
                },
                b""
            ),
            TurnError::Invalid {
                issues: vec!["a: b".into()]
            }
        );
        assert_eq!(
            api_error(
                &Classification::SpendLimited {
                    message: "cap".into()
                },
                b""
            ),
            TurnError::SpendLimited {
                message: "cap".into()
            }
        );
    }
}
