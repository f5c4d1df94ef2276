//! Retries with core's policy: classify each attempt, ask `policy::retry::decide`, spend the
//! retry budget, sleep (never past the deadline) and send again.

mod policy;
mod retrier;

pub(crate) use policy::{classify_response, send_failure};
pub(crate) use retrier::Retrier;
