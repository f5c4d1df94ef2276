//! Settings shared by every turn of a client.

use std::time::Duration;

use super::outage::PollErrorPolicy;
use crate::policy::PolicyError;
use crate::policy::backoff::Backoff;
use crate::policy::poll::PollSchedule;
use crate::policy::retry::RetryConfig;
use crate::request::ApiBase;

/// How a [`Turn`](super::Turn) polls, retries and waits. Shared through an `Arc`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TurnConfig {
    /// Where the API lives.
    pub api_base: ApiBase,
    /// Poll schedule while the agent is active.
    pub poll: PollSchedule,
    /// Retry rules for every request of the turn.
    pub retry: RetryConfig,
    /// How long polls (status and conversation reads) go on through errors a retry can cure,
    /// once `retry` has given up on one. Default [`PollErrorPolicy::UntilDeadline`].
    pub poll_errors: PollErrorPolicy,
    /// The wait before polling again after the n-th poll in a row failed: `delay(n - 1)`.
    /// Default [`Backoff::default`] (200 ms, ×2, 10 s cap, ±20 %). A caller whose transport
    /// already retried each request continues its curve with [`Backoff::advanced`].
    pub poll_error_backoff: Backoff,
    /// After a follow-up's 202, how long a stale terminal status is tolerated before the
    /// conversation is consulted. Default 30 s ("tens of seconds", SKILL.md).
    pub followup_window: Duration,
    /// Poll interval inside that window. Default 500 ms ("sub-second", SKILL.md).
    pub followup_poll_interval: Duration,
    /// Overall time budget for the turn from its creation; `None` waits as long as the agent
    /// runs. When both this and `poll.deadline` are set, the earlier one wins.
    pub deadline: Option<Duration>,
    /// Seed of the turn's jitter PRNG: same seed and inputs, same requests at the same times.
    pub seed: u64,
}

impl TurnConfig {
    /// The documented defaults against `api_base`, seed 0.
    pub fn new(api_base: ApiBase) -> Self {
        TurnConfig {
            api_base,
            poll: PollSchedule::default(),
            retry: RetryConfig::default(),
            poll_errors: PollErrorPolicy::default(),
            poll_error_backoff: Backoff::default(),
            followup_window: Duration::from_secs(30),
            followup_poll_interval: Duration::from_millis(500),
            deadline: None,
            seed: 0,
        }
    }

    /// Sets [`poll`](Self::poll).
    pub fn with_poll(mut self, poll: PollSchedule) -> Self {
        self.poll = poll;
        self
    }

    /// Sets [`retry`](Self::retry).
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Sets [`poll_errors`](Self::poll_errors).
    pub fn with_poll_errors(mut self, policy: PollErrorPolicy) -> Self {
        self.poll_errors = policy;
        self
    }

    /// Sets [`poll_error_backoff`](Self::poll_error_backoff).
    pub fn with_poll_error_backoff(mut self, backoff: Backoff) -> Self {
        self.poll_error_backoff = backoff;
        self
    }

    /// Sets [`followup_window`](Self::followup_window).
    pub fn with_followup_window(mut self, window: Duration) -> Self {
        self.followup_window = window;
        self
    }

    /// Sets [`followup_poll_interval`](Self::followup_poll_interval).
    pub fn with_followup_poll_interval(mut self, interval: Duration) -> Self {
        self.followup_poll_interval = interval;
        self
    }

    /// Sets [`deadline`](Self::deadline).
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Rejects settings that would spin or never poll: see [`PollSchedule::validate`],
    /// [`Backoff::validate`] and [`PollErrorPolicy::validate`]; the follow-up interval and a
    /// deadline must be positive.
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.poll.validate()?;
        self.retry.backoff.validate()?;
        self.poll_error_backoff.validate()?;
        self.poll_errors.validate()?;
        crate::policy::positive("followup_poll_interval", self.followup_poll_interval)?;
        if let Some(d) = self.deadline {
            crate::policy::positive("deadline", d)?;
        }
        Ok(())
    }

    /// The effective deadline: the earlier of [`deadline`](Self::deadline) and `poll.deadline`.
    pub fn effective_deadline(&self) -> Option<Duration> {
        match (self.deadline, self.poll.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> TurnConfig {
        TurnConfig::new(ApiBase::parse("https://acme.nomic.ai").unwrap())
    }

    #[test]
    fn defaults_and_validation() {
        let c = cfg();
        assert_eq!(c.followup_window, Duration::from_secs(30));
        assert_eq!(c.followup_poll_interval, Duration::from_millis(500));
        assert_eq!(c.retry.max_attempts, 4);
        assert_eq!(c.poll_errors, PollErrorPolicy::UntilDeadline);
        assert!(c.validate().is_ok());
        let bad = cfg()
            .with_poll_errors(PollErrorPolicy::MaxConsecutive(0))
            .validate()
            .unwrap_err();
        assert_eq!(bad.field, "poll_errors");
        assert!(
            cfg()
                .with_poll_error_backoff(Backoff::default().with_initial(Duration::ZERO))
                .validate()
                .is_err()
        );
        let bad = cfg()
            .with_followup_poll_interval(Duration::ZERO)
            .validate()
            .unwrap_err();
        assert_eq!(bad.field, "followup_poll_interval");
        assert!(
            cfg()
                .with_deadline(Some(Duration::ZERO))
                .validate()
                .is_err()
        );
        assert!(
            cfg()
                .with_poll(PollSchedule::default().with_factor(f64::NAN))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn the_earlier_deadline_wins() {
        let s = |n| Some(Duration::from_secs(n));
        assert_eq!(cfg().effective_deadline(), None);
        assert_eq!(cfg().with_deadline(s(9)).effective_deadline(), s(9));
        let both = cfg()
            .with_deadline(s(9))
            .with_poll(PollSchedule::default().with_deadline(s(5)));
        assert_eq!(both.effective_deadline(), s(5));
        let poll_only = cfg().with_poll(PollSchedule::default().with_deadline(s(5)));
        assert_eq!(poll_only.effective_deadline(), s(5));
    }
}
