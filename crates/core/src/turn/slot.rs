//! The requests a turn keeps alive: at most two at once, the main one (launch, follow-up,
//! status poll or conversation read) and a stop. Each is a [`Slot`] that is either scheduled
//! for an instant or in flight under a [`RequestId`].

use std::time::Instant;

use super::transmit::RequestId;
use crate::request::Endpoint;
use crate::{RequestKind, Tier};

/// What a slot sends: the turn's five requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Launch,
    FollowUp,
    GetAgent,
    Conversation,
    Stop,
}

impl Op {
    /// The route it calls, which says its tier and resend class (one source for both).
    pub(super) const fn endpoint(self) -> Endpoint {
        match self {
            Op::Launch => Endpoint::LaunchAgent,
            Op::FollowUp => Endpoint::FollowUp,
            Op::GetAgent => Endpoint::GetAgent,
            Op::Conversation => Endpoint::Conversation,
            Op::Stop => Endpoint::Stop,
        }
    }

    pub(super) const fn kind(self) -> RequestKind {
        self.endpoint().kind()
    }

    pub(super) const fn tier(self) -> Tier {
        self.endpoint().tier()
    }

    /// A read the turn makes while it waits: rides out curable errors (`outage.rs`).
    pub(super) fn is_poll(self) -> bool {
        matches!(self, Op::GetAgent | Op::Conversation)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    At(Instant),
    /// Sent at the instant, under the id.
    InFlight(RequestId, Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    pub(super) op: Op,
    /// 1 for the first attempt of this request.
    pub(super) attempt: u32,
    pub(super) when: When,
}

impl Slot {
    pub(super) fn at(op: Op, at: Instant) -> Slot {
        Slot {
            op,
            attempt: 1,
            when: When::At(at),
        }
    }

    /// When it is to be sent; `None` while it is in flight.
    pub(super) fn due(&self) -> Option<Instant> {
        match self.when {
            When::At(at) => Some(at),
            When::InFlight(..) => None,
        }
    }

    pub(super) fn in_flight(&self, id: RequestId) -> bool {
        matches!(self.when, When::InFlight(sent, _) if sent == id)
    }
}

/// Which slot a response belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    Main,
    Stop,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_and_kind_are_the_endpoints() {
        let ops = [
            Op::Launch,
            Op::FollowUp,
            Op::GetAgent,
            Op::Conversation,
            Op::Stop,
        ];
        for op in ops {
            assert_eq!(op.tier(), op.endpoint().tier(), "{op:?}");
            assert_eq!(op.kind(), op.endpoint().kind(), "{op:?}");
            // Polls are exactly the reads.
            assert_eq!(op.is_poll(), op.kind() == RequestKind::Read, "{op:?}");
        }
        assert_eq!(Op::Launch.tier(), Tier::Heavy);
        assert_eq!(Op::Stop.kind(), RequestKind::IdempotentWrite);
    }
}
