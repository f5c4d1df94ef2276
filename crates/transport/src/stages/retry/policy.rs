//! The question the dispatch loop asks after every attempt, and the answer it acts on.

use nomic_agent_core::RequestKind;
use nomic_agent_core::policy::retry::AttemptOutcome;
use tokio::time::Instant;

/// What the loop knows when an attempt has ended.
#[derive(Debug)]
pub(crate) struct AttemptReport<'a> {
    pub(crate) kind: RequestKind,
    /// 1 for the first attempt.
    pub(crate) attempt: u32,
    pub(crate) outcome: &'a AttemptOutcome,
    /// Whether the request's body can be sent again (a streamed body cannot).
    pub(crate) replayable: bool,
    pub(crate) now: Instant,
    pub(crate) deadline: Instant,
}

/// Why no other attempt follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// The outcome is final (a success, a 4xx, or attempts used up).
    Final,
    /// A launch, follow-up or upload that may have been acted on: never resent.
    MaybeActedOn,
    /// The body was streamed and cannot be sent again.
    Streamed,
    /// The wait before the next attempt would reach the deadline.
    Deadline,
    /// The retry budget is spent.
    Budget,
}

impl StopReason {
    /// For the DEBUG line that says why the loop stopped.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StopReason::Final => "final",
            StopReason::MaybeActedOn => "the server may have acted on it",
            StopReason::Streamed => "the body was streamed",
            StopReason::Deadline => "the wait would reach the deadline",
            StopReason::Budget => "retry budget exhausted",
        }
    }

    /// Whether the caller must reconcile rather than retry (the outcome is unknown).
    pub(crate) fn outcome_unknown(self) -> bool {
        self == StopReason::MaybeActedOn
    }
}

/// The policy's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Send again at this instant.
    RetryAt(Instant),
    /// The attempt's result is the answer.
    Stop(StopReason),
}

/// Decides whether another attempt follows (gax's retry loop: the loop has no rule in it).
pub(crate) trait RetryPolicy {
    /// Called once per request, before its first attempt (the budget's deposit).
    fn on_request(&self, now: Instant);

    /// Whether an attempt after `attempt` is possible at all, so the loop knows whether to
    /// keep a copy of the request.
    fn may_follow(&self, attempt: u32) -> bool;

    /// After an attempt: when to send again, or why not.
    fn next(&self, report: &AttemptReport<'_>) -> Next;
}
