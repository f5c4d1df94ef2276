//! Retries with core's policy: classify each attempt, ask `policy::retry::decide`, spend the
//! retry budget, sleep (never past the deadline) and send again.

mod policy;
mod retrier;

pub(crate) use policy::{body_needed, classify_head, classify_with_body, send_failure};
pub(crate) use retrier::Retrier;
