//! Rate tiers and the resend-safety class of each request.

/// The rate tier an endpoint draws from. A user has one bucket per tier, shared by all their keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Reads: 300 requests per minute by default.
    Standard,
    /// Mutations such as stop and delete: 60 per minute.
    Write,
    /// Resource-intensive calls (launch, follow-up, upload): 30 per minute.
    Heavy,
    /// Codes search: 60 per minute.
    Search,
}

impl Tier {
    /// Every tier, in a fixed order.
    pub const ALL: [Tier; 4] = [Tier::Standard, Tier::Write, Tier::Heavy, Tier::Search];

    /// The documented limit in requests per minute.
    pub const fn documented_per_minute(self) -> u32 {
        match self {
            Tier::Standard => 300,
            Tier::Write => 60,
            Tier::Heavy => 30,
            Tier::Search => 60,
        }
    }

    /// A stable lower-case name, for logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Write => "write",
            Tier::Heavy => "heavy",
            Tier::Search => "search",
        }
    }
}

/// What the server may have done with a request that got no usable response, and so whether
/// it may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// A read with no side effect: always safe to resend.
    Read,
    /// Idempotent by meaning (stop, delete): resending gives the same end state.
    IdempotentWrite,
    /// Creates an agent: resent only when it certainly was not acted on (not sent, or 429).
    Launch,
    /// Starts a new turn: resent only when it certainly was not acted on (not sent, or 429).
    FollowUp,
    /// Creates a file: resent only when it certainly was not acted on.
    Upload,
}

impl RequestKind {
    /// True when a second copy reaching the server would create a second resource or turn.
    pub const fn is_non_idempotent(self) -> bool {
        matches!(
            self,
            RequestKind::Launch | RequestKind::FollowUp | RequestKind::Upload
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_limits() {
        let limits: Vec<u32> = Tier::ALL
            .iter()
            .map(|t| t.documented_per_minute())
            .collect();
        assert_eq!(limits, vec![300, 60, 30, 60]);
    }

    #[test]
    fn non_idempotent_kinds() {
        assert!(RequestKind::Launch.is_non_idempotent());
        assert!(RequestKind::FollowUp.is_non_idempotent());
        assert!(RequestKind::Upload.is_non_idempotent());
        assert!(!RequestKind::Read.is_non_idempotent());
        assert!(!RequestKind::IdempotentWrite.is_non_idempotent());
    }
}
