//! What a turn reports, drained with [`Turn::poll_event`](super::Turn::poll_event).

use std::time::Instant;

use super::error::TurnError;
use crate::wire::{Agent, AgentStatus, Conversation};

/// Something the caller may want to know. A turn emits exactly one terminal event
/// ([`Finished`](Event::Finished), [`Failed`](Event::Failed), [`Stopped`](Event::Stopped) or
/// [`Error`](Event::Error)) and it is always the last.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The launch was accepted (201) and the agent exists.
    Launched {
        /// The agent as the launch response showed it.
        agent: Agent,
    },
    /// The follow-up was accepted (202); its turn starts asynchronously.
    FollowUpAccepted {
        /// The agent as the 202 showed it (possibly still the previous turn's state).
        agent: Agent,
    },
    /// The observed status changed (only real changes are reported).
    StatusChanged {
        /// The previous status; `None` for the first observation of a launched or attached agent.
        from: Option<AgentStatus>,
        /// The new status.
        to: AgentStatus,
    },
    /// A poll failed with an error a retry can cure (after that request's own retries); the
    /// turn polls again at `retry_at` (see [`PollErrorPolicy`](super::PollErrorPolicy)).
    PollRetrying {
        /// Polls failed in a row, this one included (1 for the first).
        failed_polls: u32,
        /// When the next poll goes out.
        retry_at: Instant,
        /// Why this poll failed.
        error: TurnError,
    },
    /// The turn finished successfully.
    Finished {
        /// The terminal agent.
        agent: Agent,
        /// This turn's answer: the assistant text after this turn's prompt (or after the last
        /// `user` row for a launch or attach); `None` when there is none.
        answer: Option<String>,
        /// The whole conversation.
        conversation: Conversation,
    },
    /// The turn ended with `failed`.
    Failed {
        /// The terminal agent.
        agent: Agent,
        /// `agent.error`, else the text of the last `error` row of the conversation.
        context: Option<String>,
    },
    /// The turn ended with `stopped`.
    Stopped {
        /// The terminal agent.
        agent: Agent,
    },
    /// The turn could not be completed.
    Error(TurnError),
}

impl Event {
    /// True for the events that end a turn.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Event::Finished { .. } | Event::Failed { .. } | Event::Stopped { .. } | Event::Error(_)
        )
    }
}
