//! Response body limits: a declared length over the limit fails before a byte is read; a body
//! that grows past it fails when it does.

use http::{Response, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::body::Body;
use crate::error::Error;

/// Wraps a body so that reading more than `limit` bytes fails with a typed error.
pub(crate) fn limit_body(body: Body, limit: u64) -> Body {
    let limited = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    Body::wrap(limited.map_err(move |e| {
        if e.is::<LengthLimitError>() {
            Error::body_too_large(limit)
        } else {
            match e.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::body(other),
            }
        }
    }))
}

/// Fails a response whose `Content-Length` is over `limit`.
pub(crate) fn check_declared(resp: &Response<Body>, limit: u64) -> Result<(), Error> {
    let declared = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Error::body_too_large(limit));
    }
    Ok(())
}
