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
//!
//! # Driving a turn
//!
//! [`turn::Turn`] runs one launch, follow-up or attach to its terminal state. It never sends
//! anything itself: the caller drains [`turn::Turn::poll_transmit`], sends each request, feeds
//! the response back with [`turn::Turn::handle_response`] (or a [`policy::retry::SendFailure`]
//! with [`turn::Turn::handle_failure`]), reads [`turn::Turn::poll_event`], and sleeps until
//! [`turn::Turn::poll_timeout`]. Poll spacing, retries and `Retry-After` come from [`policy`];
//! the follow-up race is handled inside (see `docs/lifecycle.md`). An error response is
//! classified once, by [`policy::classify::classify`], into one
//! [`ApiError`](policy::classify::ApiError) that a transport may attach to the response and the
//! turn ends with, unchanged, in [`turn::TurnError::Api`].
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, Instant, SystemTime};
//! use bytes::Bytes;
//! use nomic_agent_core::request::ApiBase;
//! use nomic_agent_core::turn::{Event, Turn, TurnConfig};
//! use nomic_agent_core::wire::{AgentStatus, LaunchRequest};
//!
//! fn reply(status: u16, body: &str) -> http::Response<Bytes> {
//!     http::Response::builder().status(status).body(Bytes::from(body.to_owned())).unwrap()
//! }
//! const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";
//! let agent = |status: &str| format!(r#"{{"data":{{"id":"{ID}","status":"{status}"}}}}"#);
//!
//! let cfg = Arc::new(TurnConfig::new(ApiBase::parse("https://acme.nomic.ai")?));
//! # #[allow(clippy::disallowed_methods)]
//! let t0 = Instant::now(); // the caller owns the clock; core never reads it
//! let wall = SystemTime::UNIX_EPOCH;
//! let mut turn = Turn::launch(LaunchRequest::prompt("Summarize the report."), cfg, t0)?;
//!
//! // 1. The launch goes out at once; the server answers 201.
//! let tx = turn.poll_transmit(t0).expect("launch");
//! assert_eq!(tx.request.method(), http::Method::POST);
//! turn.handle_response(t0, wall, tx.id, reply(201, &agent("waiting")));
//! assert!(matches!(turn.poll_event(), Some(Event::Launched { .. })));
//! assert!(matches!(turn.poll_event(), Some(Event::StatusChanged { from: None, .. })));
//!
//! // 2. Nothing is due until the first poll, about 2 s later (with jitter).
//! assert!(turn.poll_transmit(t0).is_none());
//! let at = turn.poll_timeout().expect("a poll is scheduled");
//! assert!(at >= t0 + Duration::from_millis(1800) && at <= t0 + Duration::from_millis(2200));
//! turn.handle_timeout(at);
//! let tx = turn.poll_transmit(at).expect("poll");
//! assert_eq!(tx.request.uri().path(), format!("/api/v0/agents/{ID}"));
//! turn.handle_response(at, wall, tx.id, reply(200, &agent("finished")));
//!
//! // 3. Terminal: the conversation is read at once, and the answer comes out.
//! let tx = turn.poll_transmit(at).expect("conversation");
//! let conversation = r#"{"data":{"messages":[
//!     {"id":"1","type":"user","text":"Summarize the report."},
//!     {"id":"2","type":"assistant","text":"It says three things."},
//!     {"id":"3","type":"tool","text":""}]}}"#;
//! turn.handle_response(at, wall, tx.id, reply(200, conversation));
//! let mut last = None;
//! while let Some(event) = turn.poll_event() {
//!     last = Some(event);
//! }
//! match last {
//!     Some(Event::Finished { agent, answer, .. }) => {
//!         assert_eq!(agent.status, AgentStatus::Finished);
//!         assert_eq!(answer.as_deref(), Some("It says three things."));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert!(turn.is_done());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![warn(unnameable_types)]

pub mod answer;
pub mod fleet;
pub mod multipart;
pub mod policy;
pub mod request;
pub mod rng;
pub mod tier;
pub mod turn;
pub mod validate;
pub mod wire;

pub use tier::{RequestKind, Tier};
