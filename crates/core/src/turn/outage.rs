//! Riding out failed polls: which caller setting bounds it ([`PollErrorPolicy`]), and the pure
//! decision taken after each failed poll ([`Outage`]).
//!
//! A *poll* is a read the turn makes while it waits: `GET /agents/{id}` or the conversation.
//! When one fails with an error a later attempt can cure — a 5xx, a rate 429, a reset, a
//! connect failure, a timeout — after every retry of that request, the turn does not end: it
//! polls again after a capped, jittered backoff, until the deadline. Launches, follow-ups and
//! stops never come here; their resend rules are `policy::retry::decide`'s alone.

use std::time::{Duration, Instant};

use super::error::TurnError;
use crate::policy::PolicyError;
use crate::policy::backoff::Backoff;
use crate::policy::classify::{ApiError, ErrorKind};
use crate::rng::Rng;

/// How long a turn keeps polling through errors a retry can cure (5xx, rate 429, resets,
/// connect failures, timeouts), counted after each poll's own retries.
///
/// Launches, follow-ups, stops and uploads are not polls: their resend rules do not change.
///
/// ```
/// use nomic_agent_core::turn::PollErrorPolicy;
/// assert_eq!(PollErrorPolicy::default(), PollErrorPolicy::UntilDeadline);
/// assert!(PollErrorPolicy::MaxConsecutive(0).validate().is_err());
/// assert!(PollErrorPolicy::MaxConsecutive(5).validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PollErrorPolicy {
    /// Keep polling until the turn's deadline, then end with
    /// [`TurnError::PollsFailedUntilDeadline`] naming the last error. Without a deadline an
    /// outage of any length is waited out. The default.
    #[default]
    UntilDeadline,
    /// End the turn with the last poll's error once this many polls in a row have failed (or at
    /// the deadline, if that comes first). `MaxConsecutive(1)` ends it on the first failed poll.
    MaxConsecutive(u32),
}

impl PollErrorPolicy {
    /// Rejects `MaxConsecutive(0)`, which would allow no poll at all.
    pub fn validate(&self) -> Result<(), PolicyError> {
        match self {
            PollErrorPolicy::MaxConsecutive(0) => Err(PolicyError::new(
                "poll_errors",
                "MaxConsecutive must allow at least one failed poll",
            )),
            _ => Ok(()),
        }
    }
}

/// What to do after a failed poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    /// Poll again at this instant (never past the deadline).
    PollAt(Instant),
    /// End the turn with this error.
    End(TurnError),
}

/// Why a poll failed, as far as the next try is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// A rate-limit 429, with its (capped) `Retry-After`.
    RateLimited(Option<Duration>),
    /// A 5xx, with its (capped) `Retry-After`.
    ServerError(Option<Duration>),
    /// No response: reset, connect failure, timeout.
    NoResponse,
}

impl Cause {
    /// The cause when a later attempt may cure `e` (a rate 429 or a 5xx), with its
    /// `Retry-After`; `None` for an error that waiting does not cure.
    pub(super) fn of(e: &ApiError) -> Option<Cause> {
        match e.kind() {
            ErrorKind::RateLimited => Some(Cause::RateLimited(e.retry_after())),
            ErrorKind::ServerError => Some(Cause::ServerError(e.retry_after())),
            _ => None,
        }
    }

    fn hint(self) -> Option<Duration> {
        match self {
            Cause::RateLimited(h) | Cause::ServerError(h) => h,
            Cause::NoResponse => None,
        }
    }
}

/// The settings [`Outage::after_failure`] reads.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits<'a> {
    pub(super) policy: PollErrorPolicy,
    pub(super) backoff: &'a Backoff,
    /// The turn's deadline: the instant, and the duration it was configured as (for the error).
    pub(super) deadline: Option<(Instant, Duration)>,
}

/// The polls that have failed in a row, and the latest error.
#[derive(Debug, Clone, Default)]
pub(super) struct Outage {
    failed: u32,
    last: Option<TurnError>,
}

impl Outage {
    /// Polls failed in a row so far.
    pub(super) fn failed_polls(&self) -> u32 {
        self.failed
    }

    /// A poll succeeded: the outage (if any) is over.
    pub(super) fn clear(&mut self) {
        self.failed = 0;
        self.last = None;
    }

    /// The error for a deadline that passes now: the outage's, naming its last error, or the
    /// plain [`TurnError::DeadlineExceeded`] when no poll is failing.
    pub(super) fn deadline_error(&self, deadline: Duration) -> TurnError {
        match &self.last {
            Some(last) if self.failed > 0 => TurnError::PollsFailedUntilDeadline {
                deadline,
                failed_polls: self.failed,
                last: Box::new(last.clone()),
            },
            _ => TurnError::DeadlineExceeded,
        }
    }

    /// Records a failed poll at `now` and decides what follows.
    ///
    /// The wait is the backoff for this many failures in a row, or the server's `Retry-After`
    /// when that is longer (a `Retry-After: 0` must not turn into a request storm). A wait that
    /// would end past the deadline is cut to the deadline — one last poll there, as the poll
    /// schedule does. The turn ends at once instead when the deadline has passed (with the
    /// deadline error), or when the server's `Retry-After` reaches past it, since no poll may go
    /// out before then: a 429 with its own rate-limit error, a 5xx with the deadline error.
    /// Draws exactly one number from `rng`.
    pub(super) fn after_failure(
        &mut self,
        now: Instant,
        cause: Cause,
        err: TurnError,
        limits: Limits<'_>,
        rng: &mut Rng,
    ) -> Next {
        self.failed = self.failed.saturating_add(1);
        self.last = Some(err.clone());
        let backoff = limits.backoff.delay(self.failed - 1, rng);
        if let PollErrorPolicy::MaxConsecutive(max) = limits.policy
            && self.failed >= max
        {
            return Next::End(err);
        }
        let hint = cause.hint();
        let wait = hint.map_or(backoff, |h| h.max(backoff));
        let at = now.checked_add(wait);
        let Some((deadline_at, deadline)) = limits.deadline else {
            // Without a deadline a wait too long to represent is one that never ends.
            return at.map_or(Next::End(err), Next::PollAt);
        };
        match at {
            Some(at) if at <= deadline_at => Next::PollAt(at),
            _ if now >= deadline_at => Next::End(self.deadline_error(deadline)),
            _ if hint.is_none() => Next::PollAt(deadline_at),
            // The server's own wait reaches past the deadline: a 429 is the rate limit's error.
            _ => match cause {
                Cause::RateLimited(_) => Next::End(err),
                _ => Next::End(self.deadline_error(deadline)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[allow(clippy::disallowed_methods)] // one base instant; only offsets matter
    fn t0() -> Instant {
        Instant::now()
    }

    fn e503() -> TurnError {
        TurnError::Api(ApiError::new(ErrorKind::ServerError, 503).with_message("down"))
    }

    fn exact() -> Backoff {
        Backoff::default().with_jitter(0.0)
    }

    /// Limits with a deadline `deadline` after `start`.
    fn limits(
        policy: PollErrorPolicy,
        b: &Backoff,
        start: Instant,
        deadline: Option<Duration>,
    ) -> Limits<'_> {
        Limits {
            policy,
            backoff: b,
            deadline: deadline.map(|d| (start + d, d)),
        }
    }

    #[test]
    fn waits_grow_along_the_backoff_until_the_deadline_then_end_naming_the_last_error() {
        let b = exact();
        let start = t0();
        let lim = limits(PollErrorPolicy::UntilDeadline, &b, start, Some(ms(2_000)));
        let mut o = Outage::default();
        let mut rng = Rng::seed(1);
        let mut now = start;
        let mut times = Vec::new();
        loop {
            match o.after_failure(now, Cause::ServerError(None), e503(), lim, &mut rng) {
                Next::PollAt(at) => {
                    assert!(at >= now);
                    times.push(at - start);
                    now = at;
                }
                Next::End(e) => {
                    assert_eq!(
                        e,
                        TurnError::PollsFailedUntilDeadline {
                            deadline: ms(2_000),
                            failed_polls: 5,
                            last: Box::new(e503()),
                        }
                    );
                    break;
                }
            }
        }
        // 200, 400, 800 ms waits; the next (1.6 s) is cut to the deadline; then it is over.
        assert_eq!(times, vec![ms(200), ms(600), ms(1_400), ms(2_000)]);
        assert_eq!(o.failed_polls(), 5);
    }

    #[test]
    fn without_a_deadline_the_outage_is_waited_out_at_the_capped_backoff() {
        let b = exact();
        let mut o = Outage::default();
        let mut rng = Rng::seed(1);
        let mut now = t0();
        for n in 0..200 {
            let lim = limits(PollErrorPolicy::UntilDeadline, &b, now, None);
            let Next::PollAt(at) = o.after_failure(now, Cause::NoResponse, e503(), lim, &mut rng)
            else {
                panic!("gave up after {n} failures without a deadline");
            };
            assert!(at - now <= b.max);
            now = at;
        }
        assert_eq!(o.failed_polls(), 200);
        o.clear();
        assert_eq!(o.failed_polls(), 0);
        assert_eq!(o.deadline_error(ms(1)), TurnError::DeadlineExceeded);
    }

    #[test]
    fn max_consecutive_ends_with_the_last_error_itself() {
        let b = exact();
        let mut o = Outage::default();
        let mut rng = Rng::seed(1);
        let now = t0();
        let lim = limits(PollErrorPolicy::MaxConsecutive(3), &b, now, None);
        for _ in 0..2 {
            assert!(matches!(
                o.after_failure(now, Cause::NoResponse, e503(), lim, &mut rng),
                Next::PollAt(_)
            ));
        }
        assert_eq!(
            o.after_failure(now, Cause::NoResponse, e503(), lim, &mut rng),
            Next::End(e503())
        );
    }

    #[test]
    fn server_hints_are_honoured_and_never_undercut_the_backoff() {
        let b = exact();
        let now = t0();
        let lim = limits(PollErrorPolicy::UntilDeadline, &b, now, Some(ms(60_000)));
        let mut o = Outage::default();
        let mut rng = Rng::seed(1);
        let hinted = o.after_failure(
            now,
            Cause::RateLimited(Some(ms(5_000))),
            e503(),
            lim,
            &mut rng,
        );
        assert_eq!(hinted, Next::PollAt(now + ms(5_000)));
        // Retry-After: 0 still waits the backoff (the second step: 400 ms).
        let zero = o.after_failure(now, Cause::ServerError(Some(ms(0))), e503(), lim, &mut rng);
        assert_eq!(zero, Next::PollAt(now + ms(400)));
    }

    #[test]
    fn a_retry_after_past_the_deadline_ends_at_once() {
        let b = exact();
        let now = t0();
        let lim = limits(PollErrorPolicy::UntilDeadline, &b, now, Some(ms(2_000)));
        let rate = TurnError::Api(
            ApiError::new(ErrorKind::RateLimited, 429)
                .with_code("rate_limited")
                .with_message("slow down"),
        );
        let mut rng = Rng::seed(1);
        let day = Some(Duration::from_secs(86_400));
        let mut o = Outage::default();
        assert_eq!(
            o.after_failure(now, Cause::RateLimited(day), rate.clone(), lim, &mut rng),
            Next::End(rate)
        );
        let mut o = Outage::default();
        assert_eq!(
            o.after_failure(now, Cause::ServerError(day), e503(), lim, &mut rng),
            Next::End(TurnError::PollsFailedUntilDeadline {
                deadline: ms(2_000),
                failed_polls: 1,
                last: Box::new(e503()),
            })
        );
    }

    #[test]
    fn a_failure_at_or_after_the_deadline_ends_the_turn() {
        let b = exact();
        let start = t0();
        let lim = limits(PollErrorPolicy::UntilDeadline, &b, start, Some(ms(2_000)));
        let mut rng = Rng::seed(1);
        let rate =
            TurnError::Api(ApiError::new(ErrorKind::RateLimited, 429).with_message("slow down"));
        for late in [ms(2_000), ms(9_000)] {
            for (cause, err) in [
                (Cause::NoResponse, e503()),
                (Cause::RateLimited(None), rate.clone()),
                (Cause::RateLimited(Some(ms(1))), rate.clone()),
            ] {
                let mut o = Outage::default();
                let got = o.after_failure(start + late, cause, err.clone(), lim, &mut rng);
                let want = TurnError::PollsFailedUntilDeadline {
                    deadline: ms(2_000),
                    failed_polls: 1,
                    last: Box::new(err),
                };
                assert_eq!(got, Next::End(want), "{cause:?} at {late:?}");
            }
        }
    }
}
