//! Where a turn is: the public [`TurnPhase`] and the internal phase with its window state.

use std::time::Instant;

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

/// [`TurnPhase`] with what the follow-up window needs to know.
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
