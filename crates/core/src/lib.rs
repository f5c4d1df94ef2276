//! Sans-IO core of the Nomic Agent API client.
//!
//! This crate performs no IO, owns no async runtime and never reads a clock: every input carries
//! `now`, every wall-clock fact arrives already converted, and jitter comes from a seeded PRNG.
//! Same inputs and same seed give the same outputs, byte for byte.
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
