//! A span per request (method, route, tier, agent id, status) and one per attempt inside it.
//! Headers are never recorded, so the key cannot leak here.

mod attempt;

pub(crate) use attempt::Traced;

use http::Method;

use crate::meta::RequestMeta;

/// The request span; disabled (and never entered) when DEBUG is off for this target. The
/// fields are only evaluated (and the id only formatted) when it is enabled.
pub(crate) fn request_span(method: &Method, meta: &RequestMeta) -> tracing::Span {
    let span = tracing::debug_span!(
        "nomic_agent.request",
        method = %method,
        route = %meta.route,
        tier = %meta.tier.as_str(),
        agent_id = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    if !span.is_disabled()
        && let Some(id) = &meta.agent_id
    {
        span.record("agent_id", tracing::field::display(id));
    }
    span
}
