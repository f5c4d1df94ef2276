//! Request extensions callers set (the deadline, the body limit) or read (outcome unknown),
//! and what the stages know about a request.

use http::{Extensions, Method};
use nomic_agent_core::request::Endpoint;
use nomic_agent_core::wire::AgentId;
use nomic_agent_core::{RequestKind, Tier};

/// A per-request override of the overall deadline: put it in the request's extensions.
///
/// The deadline bounds everything — pacing waits, attempts, backoff sleeps and reading the
/// response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(pub tokio::time::Instant);

/// A per-request cap on the response body size, in bytes: put it in the request's extensions.
///
/// `Transport::send_buffered` applies the configured JSON limit unless one is set; streamed
/// responses (`Transport::send`) are unlimited unless one is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseBodyLimit(pub u64);

/// What the stages need to know about a request, computed once at the top.
#[derive(Clone, Debug)]
pub(crate) struct RequestMeta {
    pub tier: Tier,
    pub kind: RequestKind,
    /// The route template (`/agents/{id}`): static, so the metadata is cheap to copy per attempt.
    pub route: &'static str,
    /// Formatted only when the request span is enabled.
    pub agent_id: Option<AgentId>,
}

impl RequestMeta {
    /// Takes core's endpoint (and agent id) out of the extensions when present; otherwise a
    /// custom call: Standard tier, a read for GET/HEAD, else treated as non-idempotent (resent
    /// only when not sent).
    pub(crate) fn take(method: &Method, ext: &mut Extensions) -> RequestMeta {
        // Taken out, not read, so the copies made for retries do not carry them.
        if let Some(endpoint) = ext.remove::<Endpoint>() {
            return RequestMeta {
                tier: endpoint.tier(),
                kind: endpoint.kind(),
                route: endpoint.route_template(),
                agent_id: ext.remove::<AgentId>(),
            };
        }
        let kind = if matches!(*method, Method::GET | Method::HEAD) {
            RequestKind::Read
        } else {
            // Not Launch, but the same resend rule: only when certainly not acted on.
            RequestKind::Upload
        };
        RequestMeta {
            tier: Tier::Standard,
            kind,
            route: "custom",
            agent_id: None,
        }
    }
}

/// Marks a final response (a 5xx) to a launch, follow-up or upload that the server may have
/// acted on before failing: found in the response's extensions. The transport did not resend
/// it; the caller must reconcile rather than retry blindly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeUnknown;
