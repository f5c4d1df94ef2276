//! Retries: whether another attempt follows, and when. The dispatch loop holds the mechanism
//! (send, wait, send again); every rule lives here:
//!
//! - [`classify`]: what an attempt's response or failure means to core's policy;
//! - [`rules`]: the transport's own rules, each a named function (which failures deserve
//!   another attempt, replayable bodies, the deadline, the retry budget's exemption);
//! - [`policy`]: the [`RetryPolicy`] trait the loop asks after each attempt, and its answer;
//! - [`retrier`]: the policy in use — core's `decide` (resend safety, `Retry-After`, backoff
//!   and jitter) followed by the rules, with the budget and jitter source it keeps.

mod classify;
mod policy;
mod retrier;
mod rules;

pub(crate) use classify::{body_needed, classify_head, classify_with_body};
pub(crate) use policy::{AttemptReport, Next, RetryPolicy, StopReason};
pub(crate) use retrier::Retrier;
pub(crate) use rules::{FailureVerdict, on_failure};
