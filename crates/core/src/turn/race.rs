//! The follow-up race (`docs/lifecycle.md`): after a follow-up's 202 the API may keep showing
//! the previous turn's terminal state for a while. These are the pure rules that tell the two
//! apart; the turn's transitions apply them.

use std::time::{Duration, Instant};

use crate::answer::AnswerCheck;
use crate::wire::{Agent, AgentStatus, Conversation, Role, Timestamp};

/// The status and `updatedAt` of an agent just before a follow-up, used to tell the previous
/// turn's terminal state from the new turn's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Snapshot {
    pub(super) status: AgentStatus,
    pub(super) updated_at: Timestamp,
}

impl Snapshot {
    pub(super) fn of(agent: &Agent) -> Snapshot {
        Snapshot {
            status: agent.status.clone(),
            updated_at: agent.updated_at.clone(),
        }
    }
}

/// The stale-window test: the agent shows the new turn once it is active, its status changed,
/// or its `updatedAt` moved forward. An `updatedAt` older than the snapshot's is a lagging
/// read of the previous turn, not the new one (when either does not parse, any change counts).
pub(super) fn is_fresh(prior: &Snapshot, agent: &Agent) -> bool {
    agent.status.is_active() || agent.status != prior.status || moved_forward(prior, agent)
}

fn moved_forward(prior: &Snapshot, agent: &Agent) -> bool {
    match (
        agent.updated_at.unix_millis(),
        prior.updated_at.unix_millis(),
    ) {
        (Some(now), Some(before)) => now > before,
        _ => agent.updated_at.differs_from(&prior.updated_at),
    }
}

/// A 64-bit FNV-1a fingerprint of a prompt, trimmed as [`answered`] compares it: what a ticket
/// carries instead of the prompt text.
pub(super) fn fingerprint(prompt: &str) -> u64 {
    prompt.trim().bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The answer to the prompt whose [`fingerprint`] is `fp`, only if it is the last user row and
/// an answer follows it.
pub(super) fn answered_fp(conv: &Conversation, fp: u64) -> Option<String> {
    let last_user = conv.messages.iter().rev().find(|m| m.role == Role::User)?;
    if fingerprint(&last_user.text) != fp {
        return None;
    }
    // Our prompt is the last user row, so the final answer is the answer after it.
    crate::answer::final_answer(conv)
}

/// When the stale window that opens at `now` closes, and whether the deadline cut it short.
pub(super) fn window_end(
    now: Instant,
    window: Duration,
    deadline_at: Option<Instant>,
) -> (Instant, bool) {
    let end = now.checked_add(window).unwrap_or(now);
    match deadline_at {
        Some(d) if d <= end => (d.max(now), true),
        _ => (end, false),
    }
}

/// The next poll inside the window: after the short interval, never past the window's end.
pub(super) fn next_stale_poll(now: Instant, interval: Duration, window_end: Instant) -> Instant {
    let interval = interval.max(Duration::from_millis(1));
    now.checked_add(interval)
        .map_or(window_end, |t| t.min(window_end))
}

/// The answer to `prompt`, only if it is the last user row and an answer follows it.
pub(super) fn answered(conv: &Conversation, prompt: &str) -> Option<String> {
    match crate::answer::answer_after_prompt(conv, prompt) {
        AnswerCheck::Answered(answer) => Some(answer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AgentId;

    fn agent(status: AgentStatus, updated: &str) -> Agent {
        let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let mut a = Agent::new(id, status);
        a.updated_at = Timestamp::new(updated);
        a
    }

    #[test]
    fn freshness_after_a_follow_up() {
        let prior = Snapshot {
            status: AgentStatus::Finished,
            updated_at: Timestamp::new("2026-04-25T12:00:00.000Z"),
        };
        let same = "2026-04-25T12:00:00.000Z";
        // The previous turn's state, even written differently: stale.
        assert!(!is_fresh(&prior, &agent(AgentStatus::Finished, same)));
        assert!(!is_fresh(
            &prior,
            &agent(AgentStatus::Finished, "2026-04-25T12:00:00Z")
        ));
        // Active, another terminal status, or a moved updatedAt: the new turn.
        assert!(is_fresh(&prior, &agent(AgentStatus::Running, same)));
        assert!(is_fresh(&prior, &agent(AgentStatus::Waiting, same)));
        assert!(is_fresh(
            &prior,
            &agent(AgentStatus::Unknown("x".into()), same)
        ));
        assert!(is_fresh(&prior, &agent(AgentStatus::Failed, same)));
        assert!(is_fresh(
            &prior,
            &agent(AgentStatus::Finished, "2026-04-25T12:00:00.001Z")
        ));
        // An older updatedAt is a lagging read of the previous turn.
        assert!(!is_fresh(
            &prior,
            &agent(AgentStatus::Finished, "2026-04-25T11:59:59.999Z")
        ));
        assert!(is_fresh(&prior, &agent(AgentStatus::Finished, "garbled")));
    }

    #[allow(clippy::disallowed_methods)] // one base instant; only offsets matter
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn the_window_is_cut_by_the_deadline_and_polls_stay_inside_it() {
        let now = t0();
        let s = Duration::from_secs;
        assert_eq!(window_end(now, s(30), None), (now + s(30), false));
        assert_eq!(
            window_end(now, s(30), Some(now + s(40))),
            (now + s(30), false)
        );
        assert_eq!(window_end(now, s(30), Some(now + s(5))), (now + s(5), true));
        // A deadline already passed closes the window now.
        let late = now + s(1);
        assert_eq!(window_end(late, s(30), Some(now)), (late, true));
        assert_eq!(next_stale_poll(now, s(1), now + s(30)), now + s(1));
        assert_eq!(next_stale_poll(now, s(1), now + s(0)), now);
        assert_eq!(
            next_stale_poll(now, Duration::ZERO, now + s(1)),
            now + Duration::from_millis(1)
        );
    }
}
