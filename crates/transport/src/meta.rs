//! Request extensions the layers share: the deadline, the body limit, what the request is.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{Method, Request};
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

/// What the layers need to know about a request, computed once at the top.
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
    /// From core's endpoint extension when present; otherwise a custom call: Standard tier,
    /// a read for GET/HEAD, else treated as non-idempotent (resent only when not sent).
    pub(crate) fn of<B>(req: &Request<B>) -> RequestMeta {
        if let Some(meta) = crate::endpoint::from_extensions(req.extensions()) {
            return meta;
        }
        let kind = if matches!(*req.method(), Method::GET | Method::HEAD) {
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

/// Set by `Transport::send_buffered`: the retry layer reads each final response's body inside
/// its loop, so a body cut mid-stream is one more maybe-sent failure under the same policy,
/// deadline and budget (retried for reads and idempotent writes, outcome-unknown otherwise).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BufferResponse;

/// The attempt number (1-based) the retry layer stamps on each copy it sends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attempt(pub u32);

/// Set while an attempt that may reach the server is in flight, so a deadline that fires in
/// the middle can say whether the request may have been sent.
#[derive(Clone, Debug, Default)]
pub(crate) struct InFlight(Arc<AtomicBool>);

impl InFlight {
    pub(crate) fn set(&self, v: bool) {
        self.0.store(v, Ordering::SeqCst);
    }
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Marks a final response (a 5xx) to a launch, follow-up or upload that the server may have
/// acted on before failing: found in the response's extensions. The transport did not resend
/// it; the caller must reconcile rather than retry blindly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeUnknown;
