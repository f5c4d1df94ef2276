//! Async Rust SDK for the Nomic Agent API.
#![deny(missing_docs)]
