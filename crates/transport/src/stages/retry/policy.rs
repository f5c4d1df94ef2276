use std::time::SystemTime;

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use nomic_agent_core::policy::classify::{ClassifyConfig, classify};
use nomic_agent_core::policy::retry::{AttemptOutcome, SendFailure};

use crate::body::Body;
use crate::error::{Error, Kind, Sent};
use crate::stages::limit::limit_body;

/// What core needs to hear about a failure.
pub(crate) fn send_failure(e: &Error) -> SendFailure {
    match (e.kind(), e.sent()) {
        (_, Sent::No) => SendFailure::NotSent,
        (Kind::Timeout, _) => SendFailure::TimedOut,
        _ => SendFailure::MaybeSent,
    }
}

/// Classifies a response. The bodies core's classifier reads — a 429's (spend or rate limit?)
/// and a 400/422's (the issues) — are buffered up to `limit` and handed on intact; every other
/// body keeps streaming untouched.
pub(crate) async fn classify_response(
    resp: Response<Body>,
    limit: u64,
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> Result<(Response<Body>, AttemptOutcome), Error> {
    if !matches!(resp.status().as_u16(), 400 | 422 | 429) {
        let c = classify(resp.status(), resp.headers(), &[], wall_now, cfg);
        return Ok((resp, AttemptOutcome::Response(c)));
    }
    let (parts, body) = resp.into_parts();
    let bytes: Bytes = limit_body(body, limit).collect().await?.to_bytes();
    let c = classify(parts.status, &parts.headers, &bytes, wall_now, cfg);
    Ok((
        Response::from_parts(parts, Body::from(bytes)),
        AttemptOutcome::Response(c),
    ))
}
