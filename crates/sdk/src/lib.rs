//! Async Rust SDK for the [Nomic Agent API](https://docs.nomic.ai/api/agents): launch
//! background agents, wait for their answers, follow up, upload files, run workflows, keep
//! one agent per application thread ([`Session`]) and track thousands at once ([`Fleet`]).
//!
//! The happy path from SKILL.md — launch, poll with backoff until terminal, read the answer
//! and artifacts, follow up without ever reading the previous turn's answer:
//!
//! ```no_run
//! use nomic_agent::{Client, LaunchRequest};
//!
//! # async fn run() -> Result<(), nomic_agent::Error> {
//! let client = Client::from_env()?; // NOMIC_API_KEY, NOMIC_BASE_URL
//! let agent = client.launch(LaunchRequest::prompt("Summarize the inspection report.")).await?;
//! println!("open {}", agent.url());
//! let outcome = agent.wait().await?; // polls 2 s → 30 s with jitter, honours 429s
//! println!("{}: {}", outcome.status, outcome.answer.unwrap_or_default());
//! for a in &outcome.artifacts {
//!     let content = client.artifact(agent.id(), a.id).await?;
//!     println!("{} ({} bytes)", a.title, content.bytes.len());
//! }
//! let next = agent.ask("Now list the open safety issues.").await?; // race-safe follow-up
//! println!("{}", next.answer.unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! Requests are paced per rate tier (clones of a [`Client`] share the pacing), retried by the
//! transport when that is safe, and a launch that may have reached the server is never resent
//! ([`Error::LaunchOutcomeUnknown`]). Nothing runs in the background: dropping a future or a
//! stream stops its requests.
//!
//! Configuration mistakes are typed errors that say what to fix:
//!
//! ```
//! use nomic_agent::{Client, Error};
//!
//! let err = Client::builder().base_url("https://acme.nomic.ai").build().unwrap_err();
//! assert!(matches!(err, Error::Config { .. }));
//! assert!(err.to_string().contains("NOMIC_API_KEY"));
//!
//! let client = Client::builder()
//!     .api_key("npk_example")
//!     .base_url("https://acme.nomic.ai") // a bare origin gets /api/v0
//!     .build()?;
//! assert_eq!(client.base_url(), "https://acme.nomic.ai/api/v0");
//! assert!(!format!("{client:?}").contains("npk_example"));
//! # Ok::<(), Error>(())
//! ```
#![deny(missing_docs)]
#![warn(unnameable_types)]

mod agent;
mod claim;
mod client;
mod config;
mod driver;
mod error;
mod fleet;
mod image;
mod journal;
mod session;
mod shared;
mod store;
mod turns;
mod upload;
mod wait_options;

pub use agent::{Agent, StatusChange, TurnOutcome};
pub use claim::{Claim, ClaimOwner};
pub use client::{Client, WorkflowInput};
pub use config::{ClientBuilder, DEFAULT_FOLLOWUP_WINDOW, ENV_API_KEY, ENV_BASE_URL};
pub use error::Error;
pub use fleet::{Fleet, FleetOutcome};
pub use image::ImageExt;
pub use journal::{TurnRecord, TurnStage};
pub use session::{
    BusyPolicy, DEFAULT_CLAIM_LEASE, DEFAULT_CLAIM_POLL, DEFAULT_CLOCK_SKEW, DEFAULT_LAUNCH_SETTLE,
    Session, SessionReply, SessionStart, Submission, ThreadStatus,
};
pub use store::{FileStore, MemoryStore, SessionStore};
pub use upload::UploadOptions;
pub use wait_options::WaitOptions;

pub use nomic_agent_core::Tier;
pub use nomic_agent_core::multipart::UploadForm;
pub use nomic_agent_core::policy::PolicyError;
pub use nomic_agent_core::policy::backoff::Backoff;
pub use nomic_agent_core::policy::classify::{ApiError, ErrorKind};
pub use nomic_agent_core::policy::gcra::{TierLimit, TierLimits};
pub use nomic_agent_core::policy::poll::PollSchedule;
pub use nomic_agent_core::policy::retry::RetryConfig;
pub use nomic_agent_core::policy::retry_after::RetryAfterPolicy;
pub use nomic_agent_core::rng::Rng;
pub use nomic_agent_core::turn::{PollErrorPolicy, Ticket, TicketError};
pub use nomic_agent_core::validate::{InvalidRequest, Problem, ProblemKind};
pub use nomic_agent_core::wire::{
    AgentFile, AgentId, AgentStatus, ApiErrorBody, ApiIssue, ArtifactContent, ArtifactId,
    ArtifactKind, ArtifactMeta, Conversation, DecodeError, DecodeErrorKind, FileHit, FileId,
    FileSearchQuery, Image, InvalidId, LaunchRequest, ListAgentsQuery, ListWorkflowsQuery,
    MAX_IMAGE_BYTES, MAX_IMAGES, MediaType, Message, Page, PathSegment, ProjectId, Prompt, Role,
    Table, TableCell, Timestamp, UploadedFile, Workflow, WorkflowId, WorkflowSlot,
};

/// The raw wire object of an agent, as `GET /agents/{id}` returns it (distinct from the
/// [`Agent`] handle).
pub type AgentInfo = nomic_agent_core::wire::Agent;

/// The types needed for a custom inner `tower::Service` ([`ClientBuilder::service`]).
pub mod custom_service {
    pub use nomic_agent_transport::{Body, Error};
}

/// `use nomic_agent::prelude::*;` brings the client, the handles and the extension traits.
pub mod prelude {
    pub use crate::{
        Agent, Client, Error, Fleet, ImageExt, LaunchRequest, Prompt, Session, SessionStore,
        TurnOutcome,
    };
}

/// The README's library example, compiled as a doctest so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;
