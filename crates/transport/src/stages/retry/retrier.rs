use std::sync::Mutex;

use nomic_agent_core::RequestKind;
use nomic_agent_core::policy::budget::RetryBudget;
use nomic_agent_core::policy::classify::ClassifyConfig;
use nomic_agent_core::policy::retry::{AttemptOutcome, RetryConfig, RetryDecision, decide};
use nomic_agent_core::rng::Rng;
use tokio::time::Instant;

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
        let mut classify = ClassifyConfig::default();
        classify.retry_after = cfg.retry_after.clone();
        Retrier {
            cfg,
            classify,
            error_body_limit,
            budget: Mutex::new(budget),
            rng: Mutex::new(Rng::seed(seed)),
        }
    }

    /// Whether another attempt may follow attempt `attempt` at all (core's `max_attempts`).
    pub(crate) fn may_follow(&self, attempt: u32) -> bool {
        attempt < self.cfg.max_attempts.max(1)
    }

    /// Every request earns the budget a little.
    pub(crate) fn deposit(&self, now: Instant) {
        lock(&self.budget).deposit(now.into_std());
    }

    /// Spends one retry from the budget, if there is one.
    pub(crate) fn try_withdraw(&self, now: Instant) -> bool {
        lock(&self.budget).try_withdraw(now.into_std())
    }

    /// Core's decision for this attempt's outcome.
    pub(crate) fn decide(
        &self,
        kind: RequestKind,
        outcome: &AttemptOutcome,
        attempt: u32,
    ) -> RetryDecision {
        decide(kind, outcome, attempt, &self.cfg, &mut lock(&self.rng))
    }
}
