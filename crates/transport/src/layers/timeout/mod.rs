//! A timeout per attempt, so one stuck connection cannot eat the whole deadline.

mod future;
mod layer;

pub(crate) use layer::TimeoutLayer;
