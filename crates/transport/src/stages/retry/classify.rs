//! What an attempt's response means to core's policy: classified once, by core's classifier,
//! from the head, or from the head and a bounded read of the body when the kind depends on it
//! (429: a spend or a rate limit?) or its issues are wanted (400, 422).
//!
//! The verdict is also handed on: an error response leaves the transport with its
//! [`ApiError`] in its extensions, so nobody above classifies it again (the SDK's error and
//! core's turn read it there). Its message and code come from the body: whoever reads a body
//! the classifier did not need adds them with [`ApiError::with_body`].

use std::time::SystemTime;

use bytes::Bytes;
use http::{Extensions, Response, StatusCode};
use http_body_util::BodyExt;
use nomic_agent_core::policy::classify::{ApiError, Classification, ClassifyConfig, classify};
use nomic_agent_core::policy::retry::AttemptOutcome;

use crate::body::Body;
use crate::error::Error;
use crate::stages::limit::limit_body;

/// Whether core's classifier reads this response's body: a 429's (a spend or a rate limit?)
/// and a 400's or 422's (which issues?).
pub(crate) fn body_needed(status: StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 422 | 429)
}

/// Classifies a response whose body the classifier does not need; the body stays untouched
/// and streaming.
pub(crate) fn classify_head(
    resp: &mut Response<Body>,
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> AttemptOutcome {
    let c = classify(resp.status(), resp.headers(), &[], wall_now, cfg);
    hand_on(resp.extensions_mut(), &c);
    AttemptOutcome::Response(c)
}

/// Classifies a 400, 422 or 429, whose body core's classifier reads (a spend or a rate limit?
/// which issues?): buffered up to `limit` and handed on intact.
pub(crate) async fn classify_with_body(
    resp: Response<Body>,
    limit: u64,
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> Result<(Response<Body>, AttemptOutcome), Error> {
    let (mut parts, body) = resp.into_parts();
    let bytes: Bytes = limit_body(body, limit).collect().await?.to_bytes();
    let c = classify(parts.status, &parts.headers, &bytes, wall_now, cfg);
    hand_on(&mut parts.extensions, &c);
    Ok((
        Response::from_parts(parts, Body::from(bytes)),
        AttemptOutcome::Response(c),
    ))
}

/// Leaves an error's verdict on its response. A success carries nothing (its status says it
/// all, and the hot path stays free of the extension map's allocation).
fn hand_on(ext: &mut Extensions, c: &Classification) {
    if let Classification::Error(e) = c {
        ext.insert::<ApiError>(e.clone());
    }
}
