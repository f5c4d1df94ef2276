//! The stages a request goes through, in order: deadline → retry → pacing → per-attempt
//! timeout → body limit → tracing → auth and redirects → the pooled client. Each folder holds
//! one stage's rules; [`crate::dispatch`] runs them in that order as one future.

pub(crate) mod auth;
pub(crate) mod deadline;
pub(crate) mod limit;
pub(crate) mod pacing;
pub(crate) mod retry;
pub(crate) mod trace;
