//! Transport for the Nomic Agent API: hyper-util's pooled client over rustls, behind stages
//! that own retries, pacing, timeouts, body limits, tracing and credentials. [`Transport`] is a
//! `tower::Service`, and takes a custom inner `tower::Service` in place of the pool.
//!
//! The stages, outermost first (run as one future, so nothing is cloned or boxed per stage):
//!
//! 1. **deadline** — one budget across pacing waits, attempts, backoff sleeps and the body;
//! 2. **retry** — core's classifier and `decide`, a retry budget, `Retry-After` honoured and
//!    capped; launches, follow-ups and uploads resent only when not sent or on a 429;
//! 3. **pacing** — core's GCRA per tier, one limiter per (origin, key) in the process;
//! 4. **per-attempt timeout**;
//! 5. **body limit** — `http_body_util::Limited` when the request asks for one;
//! 6. **tracing** — a span per attempt inside the request span;
//! 7. **auth and redirects** — adds the sensitive `Authorization` header, keeps requests on
//!    the base URL's origin;
//! 8. hyper-util's client: HTTP/1.1 or HTTP/2 by ALPN, webpki roots (native roots with the
//!    `native-roots` feature), ring (aws-lc-rs with the `aws-lc-rs` feature).
//!
//! A final HTTP response — 4xx and 5xx included — is `Ok`; [`Error`] means no response. An
//! error response carries core's verdict on it, the
//! [`ApiError`](nomic_agent_core::policy::classify::ApiError) the retry stage classified once,
//! in its extensions: read it there instead of classifying the response again.
//! Requests with an in-memory [`Body`] can be retried; a streamed body is sent at most once.
//!
//! ```
//! use nomic_agent_core::request::ApiBase;
//! use nomic_agent_transport::{ApiKey, Transport, TransportConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = ApiKey::new("npk_example".to_owned())?;
//! let base = ApiBase::parse("https://acme.nomic.ai/api/v0")?;
//! let transport = Transport::new(TransportConfig::new(key.clone(), base))?;
//! assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
//!
//! // Plain http is refused except on loopback or with an explicit opt-in.
//! let insecure = ApiBase::parse("http://acme.nomic.ai/api/v0")?;
//! assert!(Transport::new(TransportConfig::new(key, insecure)).is_err());
//! # drop(transport);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![warn(unnameable_types)]

mod base;
mod body;
mod config;
mod connector;
mod dispatch;
mod error;
mod lower;
mod meta;
mod secret;
mod stages;
mod sync;
mod timer;
mod transport;

pub use body::Body;
pub use config::{TransportConfig, WallClock};
pub use error::{BuildError, Error};
pub use meta::{Deadline, OutcomeUnknown, ResponseBodyLimit};
pub use secret::{ApiKey, InvalidApiKey};
pub use stages::auth::RedirectMode;
pub use transport::{ResponseFuture, Transport};

/// Core's policy types that appear in [`TransportConfig`], re-exported for convenience.
pub mod policy {
    pub use nomic_agent_core::policy::backoff::Backoff;
    pub use nomic_agent_core::policy::budget::RetryBudget;
    pub use nomic_agent_core::policy::gcra::{TierLimit, TierLimits};
    pub use nomic_agent_core::policy::retry::RetryConfig;
    pub use nomic_agent_core::policy::retry_after::RetryAfterPolicy;
}
