//! What a turn asks the caller to send: a request and the id its answer comes back under.

use std::fmt;

use bytes::Bytes;

use crate::{RequestKind, Tier};

/// Names one transmitted request, so its response or failure can be matched to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(super) u64);

impl RequestId {
    /// The number inside (unique within one turn, increasing).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req#{}", self.0)
    }
}

/// A request the caller must send now.
#[derive(Debug)]
pub struct Transmit {
    /// Echo this back with the response or failure.
    pub id: RequestId,
    /// The request, without the `Authorization` header (the transport adds the key).
    pub request: http::Request<Bytes>,
    /// The rate tier to pace it in.
    pub tier: Tier,
    /// Its resend-safety class. The turn already applies the retry rules; a transport that also
    /// retries must not resend non-idempotent kinds.
    pub kind: RequestKind,
}
