//! The error a policy's `validate()` returns.

/// A policy setting that cannot work (zero, negative, NaN or inconsistent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy setting `{field}`: {reason}")]
pub struct PolicyError {
    /// The offending field, e.g. `"initial"`.
    pub field: &'static str,
    /// Why it was rejected.
    pub reason: &'static str,
}

impl PolicyError {
    pub(crate) fn new(field: &'static str, reason: &'static str) -> Self {
        PolicyError { field, reason }
    }
}
