//! A span per attempt (attempt number, status), inside the request span the transport opens.

mod layer;

pub(crate) use layer::TraceLayer;
