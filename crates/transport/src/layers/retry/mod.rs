//! Retries with core's policy: classify each attempt, ask `policy::retry::decide`, spend the
//! retry budget, sleep (never past the deadline) and send again.

mod layer;
mod policy;

pub(crate) use layer::RetryLayer;
