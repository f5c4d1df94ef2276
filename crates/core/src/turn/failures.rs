//! The steps [`Turn`]'s inputs take when an attempt failed: retried, ridden out (a poll), or
//! given up; and the deadline that bounds them all.

use std::time::Instant;

use super::Turn;
use super::error::TurnError;
use super::event::Event;
use super::outage::{Cause, Limits, Next};
use super::slot::{Op, Slot, When, Which};
use crate::policy::classify::ErrorKind;
use crate::policy::retry::{AttemptOutcome, RetryDecision, SendFailure, decide};

impl Turn {
    /// A 2xx read whose body did not decode: retried like a broken connection.
    /// Not an outage (the server answered, with garbage), so never ridden out.
    pub(super) fn broken_read(&mut self, now: Instant, which: Which, slot: Slot, reason: String) {
        let outcome = AttemptOutcome::Failed(SendFailure::MaybeSent);
        self.attempt_failed(now, which, slot, outcome, TurnError::Decode(reason), None);
    }

    /// An attempt failed with `outcome` (the error it becomes if not retried: `err`): send it
    /// again when the retry rules allow it, else give up on it. `cause`: set when a later
    /// attempt may cure the failure (5xx, rate 429, no response); a poll failing so is ridden
    /// out once the retry rules give up on it.
    pub(super) fn attempt_failed(
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
    pub(super) fn gave_up(
        &mut self,
        which: Which,
        slot: Slot,
        outcome_unknown: bool,
        err: TurnError,
    ) {
        match which {
            Which::Stop => {
                // The agent may already be terminal (409) or the next turn may not have
                // started: stop again once it is seen active.
                if err.api().is_some_and(|e| e.kind() == ErrorKind::Conflict) {
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
            deadline: self.deadline_at.zip(self.deadline),
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
    pub(super) fn deadline_error(&self) -> TurnError {
        let deadline = self.deadline.unwrap_or_default();
        self.outage.deadline_error(deadline)
    }

    /// When the status poll in flight is abandoned: at the deadline, if it was sent before it.
    /// A poll sent at the deadline (the last one) is left to finish. Conversation reads are
    /// never abandoned: the agent is already terminal, or the window is being confirmed.
    pub(super) fn abandon_at(&self) -> Option<Instant> {
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
}
