//! Why a turn could not start, and how a started turn can fail.

use std::time::Duration;

use crate::policy::classify::ApiError;
use crate::policy::retry::SendFailure;
use crate::validate::InvalidRequest;
use crate::wire::AgentStatus;

/// How a turn ended without reaching a terminal agent status. Sent as
/// [`Event::Error`](super::Event::Error), always as the turn's last event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TurnError {
    /// The launch may or may not have created an agent (reset after sending, timeout, 5xx).
    /// It was not resent; list agents to reconcile.
    #[error("the launch may or may not have created an agent; it was not resent")]
    LaunchOutcomeUnknown,
    /// The follow-up may or may not have started a new turn. It was not resent.
    #[error("the follow-up may or may not have started a new turn; it was not resent")]
    FollowUpOutcomeUnknown,
    /// The configured deadline passed before the agent reached a terminal status.
    #[error("the deadline passed before the agent reached a terminal status")]
    DeadlineExceeded,
    /// The deadline passed (or a `Retry-After` reached past it) while polls kept failing with
    /// errors a retry could cure (5xx, resets, connect failures, timeouts), so the agent's
    /// status is unknown. See [`PollErrorPolicy`](super::PollErrorPolicy).
    #[error(
        "the {}-second deadline passed while polls were failing ({failed_polls} in a row); last error: {last}",
        deadline.as_secs_f64()
    )]
    PollsFailedUntilDeadline {
        /// The turn's deadline, as configured.
        deadline: Duration,
        /// How many polls had failed in a row.
        failed_polls: u32,
        /// The latest poll's error.
        last: Box<TurnError>,
    },
    /// After a follow-up the agent never left its previous terminal state within the window,
    /// and the conversation does not show an answer to this turn's prompt.
    #[error("after the follow-up the agent still showed the previous turn's state")]
    StaleAfterFollowUp,
    /// The server answered with an error, as [`classify`](crate::policy::classify::classify)
    /// sorted it (once): 404 (the agent was deleted, belongs to someone else or never existed),
    /// 401, 403, a spend or rate 429, 400/422 with its issues, 409 (a follow-up while the
    /// agent is still active), 5xx, …; its kind, status, `Retry-After` and the server's words
    /// are all in the value.
    #[error("the server answered {0}")]
    Api(ApiError),
    /// A success response whose body could not be decoded.
    #[error("could not decode a response: {0}")]
    Decode(String),
    /// A request got no response on every allowed attempt (and was safe to have tried again).
    #[error("no response after all retries ({0:?})")]
    Transport(SendFailure),
    /// [`Turn::cancel`](super::Turn::cancel) before any agent existed to stop.
    #[error("cancelled before the agent existed")]
    Cancelled,
}

impl TurnError {
    /// The server's error, when the turn ended on one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            TurnError::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`Turn::follow_up`](super::Turn::follow_up) refused to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TurnStartError {
    /// The prompt breaks a documented rule.
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    /// Follow-ups are only allowed from `finished`, `stopped` or `failed`.
    #[error("a follow-up needs a terminal agent, but it is {status}")]
    NotTerminal {
        /// The status the agent had.
        status: AgentStatus,
    },
}
