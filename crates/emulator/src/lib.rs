//! A local Nomic Agent API emulator.
#![deny(missing_docs)]
