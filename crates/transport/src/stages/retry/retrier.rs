use std::sync::Mutex;

use nomic_agent_core::RequestKind;
use nomic_agent_core::policy::budget::RetryBudget;
use nomic_agent_core::policy::classify::ClassifyConfig;
use nomic_agent_core::policy::retry::{AttemptOutcome, RetryConfig, RetryDecision, decide};
use nomic_agent_core::rng::Rng;
use tokio::time::Instant;

use super::policy::{AttemptReport, Next, RetryPolicy, StopReason};
use super::rules::{fits_deadline, replayable, scheduled_by_server};
use crate::sync::lock;

/// Core's retry policy with the state it needs across requests: the budget and the jitter
/// source, shared by every clone of a transport.
#[derive(Debug)]
pub(crate) struct Retrier {
    pub(crate) cfg: RetryConfig,
    pub(crate) classify: ClassifyConfig,
    pub(crate) error_body_limit: u64,
    budget: Mutex<RetryBudget>,
    rng: Mutex<Rng>,
}

impl Retrier {
    pub(crate) fn new(
        cfg: RetryConfig,
        budget: RetryBudget,
        seed: u64,
        error_body_limit: u64,
    ) -> Retrier {
        let classify = ClassifyConfig::new(cfg.retry_after.clone());
        Retrier {
            cfg,
            classify,
            error_body_limit,
            budget: Mutex::new(budget),
            rng: Mutex::new(Rng::seed(seed)),
        }
    }

    /// Core's decision for this attempt's outcome: resend safety by request kind,
    /// `Retry-After` (capped), backoff with jitter, `max_attempts`.
    fn decide(&self, kind: RequestKind, outcome: &AttemptOutcome, attempt: u32) -> RetryDecision {
        decide(kind, outcome, attempt, &self.cfg, &mut lock(&self.rng))
    }
}

impl RetryPolicy for Retrier {
    /// Every request earns the budget a little.
    fn on_request(&self, now: Instant) {
        lock(&self.budget).deposit(now.into_std());
    }

    fn may_follow(&self, attempt: u32) -> bool {
        attempt < self.cfg.max_attempts.max(1)
    }

    /// Core first, then the transport's rules in order: a replayable body, a wait that ends
    /// before the deadline, and a retry the budget funds (unless the server scheduled it).
    fn next(&self, r: &AttemptReport<'_>) -> Next {
        let wait = match self.decide(r.kind, r.outcome, r.attempt) {
            RetryDecision::GiveUp {
                outcome_unknown: true,
            } => return Next::Stop(StopReason::MaybeActedOn),
            RetryDecision::GiveUp {
                outcome_unknown: false,
            } => return Next::Stop(StopReason::Final),
            RetryDecision::Retry { after } => after,
        };
        if !replayable(r.replayable) {
            return Next::Stop(StopReason::Streamed);
        }
        if !fits_deadline(r.now, wait, r.deadline) {
            return Next::Stop(StopReason::Deadline);
        }
        if !scheduled_by_server(r.outcome) && !lock(&self.budget).try_withdraw(r.now.into_std()) {
            return Next::Stop(StopReason::Budget);
        }
        Next::RetryAt(r.now + wait)
    }
}
