//! One overall budget across pacing waits, attempts, backoff sleeps and the response body.

mod future;
mod layer;

pub(crate) use layer::DeadlineLayer;
