//! Response body limits: a declared length over the limit fails before a byte is read; a body
//! that grows past it fails when it does.

use http::Response;
use http_body::Body as _;
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

/// Fails a response whose declared length is over `limit`. The body's size hint carries the
/// `Content-Length` hyper already parsed (and is exact for in-memory bodies), so no header is
/// read twice.
pub(crate) fn check_declared(resp: &Response<Body>, limit: u64) -> Result<(), Error> {
    if resp.body().size_hint().lower() > limit {
        return Err(Error::body_too_large(limit));
    }
    Ok(())
}
