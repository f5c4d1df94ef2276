//! What an attempt's response means to core's policy: classified from the head, or from the
//! head and a bounded read of the body when the classifier needs it (400, 422, 429).

use std::time::SystemTime;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use nomic_agent_core::policy::classify::{ClassifyConfig, classify};
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
    resp: &Response<Body>,
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> AttemptOutcome {
    AttemptOutcome::Response(classify(resp.status(), resp.headers(), &[], wall_now, cfg))
}

/// Classifies a 400, 422 or 429, whose body core's classifier reads (a spend or a rate limit?
/// which issues?): buffered up to `limit` and handed on intact.
pub(crate) async fn classify_with_body(
    resp: Response<Body>,
    limit: u64,
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> Result<(Response<Body>, AttemptOutcome), Error> {
    let (parts, body) = resp.into_parts();
    let bytes: Bytes = limit_body(body, limit).collect().await?.to_bytes();
    let c = classify(parts.status, &parts.headers, &bytes, wall_now, cfg);
    Ok((
        Response::from_parts(parts, Body::from(bytes)),
        AttemptOutcome::Response(c),
    ))
}
