//! One overall budget across pacing waits, attempts, backoff sleeps and the response body.
//! The dispatcher enforces it up to the response head (and through a buffered body); a
//! streamed body carries its own timer.

mod body;

pub(crate) use body::DeadlineBody;

use crate::error::{Error, Sent};

/// The error for a deadline that passed: "maybe sent" while an attempt is in flight (and
/// outcome-unknown for a launch, follow-up or upload), else "not sent".
pub(crate) fn expired(in_flight: bool, non_idempotent: bool) -> Error {
    let err = if in_flight {
        let e = Error::deadline(Sent::Maybe);
        if non_idempotent {
            e.with_outcome_unknown()
        } else {
            e
        }
    } else {
        Error::deadline(Sent::No)
    };
    tracing::debug!(error = %err, "deadline passed");
    err
}
