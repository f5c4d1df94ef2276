//! A local, stateful Nomic Agent API emulator for tests and demos.
//!
//! It serves every `/api/v0` endpoint of `docs/wire.md` over HTTP/1.1 and HTTP/2 (optionally
//! TLS), with bearer keys and scopes, GCRA rate limits per (user, tier), spend caps, scripted
//! deterministic agents on a time-scaled timeline, the follow-up stale window, multipart
//! uploads, workflows, seeded fault injection, and control endpoints under `/_emulator/`.
//! `docs/emulator.md` lists every behaviour and which ones are guesses.
//!
//! ```
//! use nomic_agent_emulator::{Emulator, EmulatorConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! rt.block_on(async {
//!     let emu = Emulator::start(EmulatorConfig { time_scale: 0.001, ..Default::default() }).await?;
//!     assert!(emu.base_url().ends_with("/api/v0"));
//!     assert_eq!(emu.default_key(), Some("npk_emulator_local"));
//!     assert_eq!(emu.counters().requests_per_route.len(), 0);
//!     emu.shutdown().await;
//!     Ok(())
//! })
//! # }
//! ```
#![deny(missing_docs)]

pub mod cli;
pub mod clock;
pub mod config;
mod control;
mod control_token;
mod error;
pub mod faults;
pub mod http;
pub mod introspection;
pub mod model;
pub mod ratelimit;
pub mod rng;
mod routes;
mod server;
mod shared;
mod time_scale;
mod tls;

pub use clock::Clock;
pub use config::{
    DEFAULT_KEY, DEFAULT_USER, EmulatorConfig, KeyConfig, LifecycleConfig, LimitsConfig,
    RateLimitConfig, SlotConfig, SpendConfig, TlsConfig, WorkflowConfig,
};
pub use control_token::{ControlToken, ENV_CONTROL_TOKEN};
pub use error::EmulatorError;
pub use faults::{Fault, FaultRule};
pub use introspection::{Counters, RequestLogEntry};
pub use model::SpendState;
pub use server::{Emulator, RunningEmulator};
pub use time_scale::TimeScale;
