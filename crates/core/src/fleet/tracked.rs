//! What the planner knows about one tracked agent.

use std::time::Instant;

use crate::policy::poll::PollSchedule;
use crate::rng::Rng;

/// One tracked agent: its own poll schedule and what the scans last said about it.
#[derive(Debug, Clone)]
pub(super) struct Tracked {
    /// When a per-agent poll is due (used while the agent is not covered by scans).
    pub(super) due: Instant,
    /// Step of the poll backoff: observations of the agent as active, and failed polls.
    pub(super) attempt: u32,
    /// `Planner::scans_started` at the last observation of the agent as active (tracking, a
    /// poll, a scan page): scans numbered above it may judge the agent's absence.
    pub(super) epoch: u32,
    /// The page of the last scan that listed it; `None` if none has.
    pub(super) page: Option<u32>,
    /// A request about this agent is in flight.
    pub(super) busy: bool,
}

impl Tracked {
    /// An agent known active now, first polled at `due`.
    pub(super) fn new(due: Instant, epoch: u32) -> Tracked {
        Tracked {
            due,
            attempt: 0,
            epoch,
            page: None,
            busy: false,
        }
    }

    /// Seen active, or a poll failed: the next poll is one backoff step after `now`.
    pub(super) fn reschedule(&mut self, now: Instant, poll: &PollSchedule, rng: &mut Rng) {
        self.attempt = self.attempt.saturating_add(1);
        self.due = now + poll.delay(self.attempt, rng);
        self.busy = false;
    }
}
