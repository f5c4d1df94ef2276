//! The transport's retry rules, one function each. Core's `policy::retry::decide` holds the
//! rest (resend safety by request kind, `Retry-After`, backoff); see [`super::retrier`].

use std::time::Duration;

use nomic_agent_core::policy::classify::ErrorKind;
use nomic_agent_core::policy::retry::{AttemptOutcome, SendFailure};
use tokio::time::Instant;

use crate::error::{Error, Kind, Sent};

/// What a failed attempt (no response) means for the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureVerdict {
    /// Refused before anything was sent and would be refused again (no permit before the
    /// deadline, a TLS rejection): the previous attempt's answer stands, so a 429'd launch
    /// stays "rate limited", never "unknown".
    KeepPrevious,
    /// Final: a refused redirect, an oversized body, a malformed response would fail the same
    /// way again.
    Final,
    /// A transport failure worth asking the policy about, as core sees it.
    Attempt(SendFailure),
}

/// Sorts a failed attempt: only transport failures (connect, timeout, send) are worth another
/// attempt.
pub(crate) fn on_failure(e: &Error) -> FailureVerdict {
    let transient = matches!(e.kind(), Kind::Connect | Kind::Timeout | Kind::Send);
    match (transient, e.sent()) {
        (false, Sent::No) => FailureVerdict::KeepPrevious,
        (false, _) => FailureVerdict::Final,
        (true, Sent::No) => FailureVerdict::Attempt(SendFailure::NotSent),
        (true, _) if e.kind() == Kind::Timeout => FailureVerdict::Attempt(SendFailure::TimedOut),
        (true, _) => FailureVerdict::Attempt(SendFailure::MaybeSent),
    }
}

/// Only a request whose body can be sent again is retried: a streamed body goes out once.
pub(crate) fn replayable(has_copy: bool) -> bool {
    has_copy
}

/// An attempt that would start at (or after) the deadline could only end in the deadline
/// error, and a launch caught by it would look "maybe sent": keep the answer instead.
pub(crate) fn fits_deadline(now: Instant, wait: Duration, deadline: Instant) -> bool {
    now + wait < deadline
}

/// A 429 that says when to come back is the server scheduling us, not a failure storm: the
/// pacer already holds the whole tier until then and `max_attempts` bounds the repeats, so
/// honouring it does not draw from the retry budget.
pub(crate) fn scheduled_by_server(outcome: &AttemptOutcome) -> bool {
    matches!(
        outcome,
        AttemptOutcome::Response(c)
            if c.kind() == Some(ErrorKind::RateLimited)
                && c.error().is_some_and(|e| e.retry_after().is_some())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_kind_and_whether_sent() {
        assert_eq!(
            on_failure(&Error::deadline(Sent::No)),
            FailureVerdict::KeepPrevious
        );
        assert_eq!(
            on_failure(&Error::body_too_large(10)),
            FailureVerdict::Final
        );
        assert_eq!(
            on_failure(&Error::timeout()),
            FailureVerdict::Attempt(SendFailure::TimedOut)
        );
    }

    #[test]
    fn deadline_rule_is_strict() {
        let now = Instant::now();
        let s = Duration::from_secs(1);
        assert!(fits_deadline(now, s, now + s * 2));
        assert!(!fits_deadline(now, s, now + s));
        assert!(!fits_deadline(now, s * 3, now + s));
    }

    #[test]
    fn only_a_429_with_retry_after_is_exempt_from_the_budget() {
        use nomic_agent_core::policy::classify::{ApiError, Classification};
        let rl = |ra| {
            let e = ApiError::new(ErrorKind::RateLimited, 429).with_retry_after(ra);
            AttemptOutcome::Response(Classification::Error(e))
        };
        assert!(scheduled_by_server(&rl(Some(Duration::from_secs(2)))));
        assert!(!scheduled_by_server(&rl(None)));
        assert!(!scheduled_by_server(&AttemptOutcome::Failed(
            SendFailure::MaybeSent
        )));
        assert!(replayable(true) && !replayable(false));
    }
}
