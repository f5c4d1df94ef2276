//! Sans-IO core of the Nomic Agent API client.
//!
//! This crate performs no IO, owns no async runtime and never reads a clock: every input carries
//! `now`, every wall-clock fact arrives already converted, and jitter comes from a seeded PRNG.
//! Same inputs and same seed give the same outputs, byte for byte.
//!
//! # Wire types, requests and validation
//!
//! [`wire`] holds the JSON bodies of every endpoint (lenient when decoding, exact when
//! encoding), [`validate`] checks a request against every rule the server would answer with a
//! 400, and [`request`] turns a validated body into an `http::Request` that carries its
//! [`request::Endpoint`] (rate tier, route, resend class) in its extensions. The caller's
//! transport adds the `Authorization` header and sends it; the response body goes back
//! through a `wire::decode_*` function, and [`answer::final_answer`] reads the turn's answer
//! from the conversation. Uploads are framed by the streaming [`multipart::Encoder`].
//!
//! ```
//! use nomic_agent_core::request::{self, ApiBase, Endpoint};
//! use nomic_agent_core::validate::ProblemKind;
//! use nomic_agent_core::wire::{self, AgentStatus, LaunchRequest};
//! use nomic_agent_core::{RequestKind, Tier};
//!
//! let base = ApiBase::parse("https://acme.nomic.ai")?;
//! let req = request::launch(&base, &LaunchRequest::prompt("Summarize the report."))?;
//! assert_eq!(req.uri(), "https://acme.nomic.ai/api/v0/agents");
//! let endpoint = req.extensions().get::<Endpoint>().copied().unwrap();
//! assert_eq!((endpoint.tier(), endpoint.kind()), (Tier::Heavy, RequestKind::Launch));
//!
//! // Invalid bodies never reach the network; every problem is reported at once.
//! let err = request::launch(&base, &LaunchRequest::prompt("  ")).unwrap_err();
//! assert!(err.has(&ProblemKind::EmptyText));
//!
//! // Decoding is lenient: upper-case and unknown statuses are kept.
//! let agent = wire::decode_agent(
//!     br#"{"data":{"id":"019abc12-3456-7890-abcd-ef1234567890","status":"FINISHED"}}"#,
//! )?;
//! assert_eq!(agent.status, AgentStatus::Finished);
//! assert_eq!(
//!     base.agent_url(&agent.id),
//!     "https://acme.nomic.ai/assistant/019abc12-3456-7890-abcd-ef1234567890"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod answer;
pub mod multipart;
pub mod policy;
pub mod request;
pub mod rng;
pub mod tier;
pub mod turn;
pub mod validate;
pub mod wire;

pub use tier::{RequestKind, Tier};
