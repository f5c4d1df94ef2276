//! The steps [`Turn`]'s inputs take once a request succeeded: the agent launched, the
//! follow-up accepted, an agent or a conversation read, a stop acknowledged; and the
//! bookkeeping they share (slots, observations, the end of the turn).

use std::time::{Instant, SystemTime};

use super::Turn;
use super::error::TurnError;
use super::event::Event;
use super::origin::Origin;
use super::phase::Phase;
use super::race;
use super::slot::{Op, Slot, When, Which};
use super::ticket::{self, Ticket};
use super::transmit::RequestId;
use crate::wire::{Agent, AgentStatus, Conversation, Role};

impl Turn {
    // ---- slots -----------------------------------------------------------------------------

    pub(super) fn slot(&self, which: Which) -> Option<Slot> {
        match which {
            Which::Main => self.main,
            Which::Stop => self.stop,
        }
    }

    pub(super) fn set_slot(&mut self, which: Which, slot: Option<Slot>) {
        match which {
            Which::Main => self.main = slot,
            Which::Stop => self.stop = slot,
        }
    }

    /// The slot waiting for the answer to `id`, emptied; `None` for an unknown, superseded or
    /// abandoned id, or once the turn is done.
    pub(super) fn take_in_flight(&mut self, id: RequestId) -> Option<(Which, Slot)> {
        if self.is_done() {
            return None;
        }
        for which in [Which::Main, Which::Stop] {
            if let Some(s) = self.slot(which).filter(|s| s.in_flight(id)) {
                self.set_slot(which, None);
                return Some((which, s));
            }
        }
        None
    }

    // ---- after a success -------------------------------------------------------------------

    pub(super) fn on_launched(&mut self, now: Instant, body: &[u8]) {
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

    pub(super) fn on_follow_up_accepted(&mut self, now: Instant, body: &[u8]) {
        let (window_end, deadline_bound) =
            race::window_end(now, self.cfg.followup_window, self.deadline_at);
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

    pub(super) fn on_agent(&mut self, now: Instant, agent: Agent) {
        match self.phase {
            Phase::AwaitingNewTurn { .. } => {
                let fresh = self
                    .origin
                    .prior()
                    .is_none_or(|prior| race::is_fresh(prior, &agent));
                if fresh {
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
                // Once the new turn was seen, a read showing the previous turn's state again is
                // a lagging replica: it must not conclude the turn.
                if self
                    .origin
                    .prior()
                    .is_none_or(|prior| race::is_fresh(prior, &agent))
                {
                    self.observe(now, agent);
                }
                self.advance_polling(now);
            }
            _ => {}
        }
    }

    pub(super) fn on_conversation(&mut self, conv: Conversation) {
        let Some(agent) = self.agent.clone() else {
            self.fail(TurnError::Decode(
                "no agent seen before the conversation".to_owned(),
            ));
            return;
        };
        match self.phase {
            Phase::Confirming { deadline_bound } => match self.origin.answer(&conv) {
                Some(answer) => self.finish(Event::Finished {
                    agent,
                    answer: Some(answer),
                    conversation: conv,
                }),
                None if deadline_bound => self.fail(TurnError::DeadlineExceeded),
                None => self.fail(TurnError::StaleAfterFollowUp),
            },
            Phase::Concluding => {
                let event = match agent.status {
                    AgentStatus::Failed => {
                        let context = agent.error.clone().or_else(|| last_error_row(&conv));
                        Event::Failed { agent, context }
                    }
                    AgentStatus::Stopped => Event::Stopped { agent },
                    _ => {
                        let answer = self.origin.answer(&conv);
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

    pub(super) fn on_stopped(&mut self, now: Instant, body: &[u8]) {
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
        let soon = now
            .checked_add(self.poll_clock.schedule().initial)
            .unwrap_or(now);
        if let Some(slot) = self.main.as_mut()
            && slot.op == Op::GetAgent
            && let When::At(at) = slot.when
            && at > soon
        {
            slot.when = When::At(soon);
        }
    }

    /// Names the turn once the server accepted it (`wall_now` is the send time a resumed
    /// turn counts its stale window from).
    pub(super) fn issue_ticket(&mut self, wall_now: SystemTime) {
        let (Some(id), None) = (self.agent_id, &self.ticket) else {
            return;
        };
        let origin = self.cfg.api_base.origin();
        let sent = ticket::unix_ms(wall_now);
        self.ticket = match &self.origin {
            Origin::Launch { .. } => Some(Ticket::launch(id, origin, sent)),
            Origin::FollowUp { prompt, prior, .. } => Some(Ticket::follow_up(
                id,
                origin,
                sent,
                prior.clone(),
                &prompt.text,
            )),
            Origin::Attach | Origin::Resumed { .. } => None,
        };
    }

    // ---- shared steps ----------------------------------------------------------------------

    /// Records an observation, emitting a status change when there is one.
    pub(super) fn observe(&mut self, now: Instant, agent: Agent) {
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
    pub(super) fn advance_polling(&mut self, now: Instant) {
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

    /// Inside the stale window: poll again after the short interval, or, once the window has
    /// closed, read the conversation to confirm.
    pub(super) fn next_stale_poll(&mut self, now: Instant) {
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
        let at = race::next_stale_poll(now, self.cfg.followup_poll_interval, window_end);
        self.main = Some(Slot::at(Op::GetAgent, at));
    }

    pub(super) fn request_stop(&mut self, now: Instant) {
        if self.stop.is_none() && self.agent_id.is_some() {
            self.stop = Some(Slot::at(Op::Stop, now));
        }
    }

    pub(super) fn finish(&mut self, event: Event) {
        self.phase = Phase::Done;
        self.main = None;
        self.stop = None;
        self.events.push_back(event);
    }

    pub(super) fn fail(&mut self, err: TurnError) {
        self.finish(Event::Error(err));
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
