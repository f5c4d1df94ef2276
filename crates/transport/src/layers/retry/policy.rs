use std::time::SystemTime;

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use nomic_agent_core::policy::classify::{ClassifyConfig, classify};
use nomic_agent_core::policy::retry::{AttemptOutcome, SendFailure};

use crate::body::Body;
use crate::error::{Error, Kind, Sent};
use crate::layers::limit::limit_body;

/// What core needs to hear about a failure.
pub(super) fn send_failure(e: &Error) -> SendFailure {
    match (e.kind(), e.sent()) {
        (_, Sent::No) => SendFailure::NotSent,
        (Kind::Timeout, _) => SendFailure::TimedOut,
        _ => SendFailure::MaybeSent,
    }
}

/// Classifies a response. Non-2xx bodies are read (up to `limit`) because a 429's body tells a
/// spend limit from a rate limit; the returned response carries the same bytes.
pub(super) async fn classify_response(
    resp: Response<Body>,
    limit: u64,
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> Result<(Response<Body>, AttemptOutcome), Error> {
    if resp.status().is_success() {
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
