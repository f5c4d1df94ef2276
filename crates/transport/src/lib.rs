//! Transport for the Nomic Agent API.
#![deny(missing_docs)]
