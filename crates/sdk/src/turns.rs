//! A client's turns: core's constructors, each turn seeded from the client's seed source
//! ([`Shared::next_seed`]), so concurrent waits spread their polls instead of polling in
//! lock-step, and an explicit `ClientBuilder::seed` keeps the whole schedule reproducible.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use nomic_agent_core::turn::{Ticket, TicketError, Turn, TurnStartError};
use nomic_agent_core::validate::InvalidRequest;
use nomic_agent_core::wire::{Agent, AgentId, LaunchRequest, Prompt};

use crate::shared::Shared;

/// A turn that launches `req`.
pub(crate) fn launch(
    shared: &Shared,
    req: LaunchRequest,
    now: Instant,
) -> Result<Turn, InvalidRequest> {
    Ok(Turn::launch(req, Arc::clone(&shared.turn_cfg), now)?.with_seed(shared.next_seed()))
}

/// A turn that follows up on `agent` (terminal) with `prompt`.
pub(crate) fn follow_up(
    shared: &Shared,
    agent: Agent,
    prompt: Prompt,
    now: Instant,
) -> Result<Turn, TurnStartError> {
    Ok(
        Turn::follow_up(agent, prompt, Arc::clone(&shared.turn_cfg), now)?
            .with_seed(shared.next_seed()),
    )
}

/// A turn that waits on agent `id`.
pub(crate) fn attach(shared: &Shared, id: AgentId, now: Instant) -> Turn {
    Turn::attach(id, Arc::clone(&shared.turn_cfg), now).with_seed(shared.next_seed())
}

/// A turn that waits on the turn `ticket` names.
pub(crate) fn resume(shared: &Shared, ticket: &Ticket, now: Instant) -> Result<Turn, TicketError> {
    Ok(
        Turn::resume(ticket, Arc::clone(&shared.turn_cfg), now, SystemTime::now())?
            .with_seed(shared.next_seed()),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::Client;

    const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";

    fn client(seed: Option<u64>) -> Client {
        let b = Client::builder()
            .api_key("npk_test_jitter")
            .base_url("https://acme.example/api/v0");
        match seed {
            Some(s) => b.seed(s),
            None => b,
        }
        .build()
        .unwrap()
    }

    /// When each of `n` turns of `client`, attached at `now` and answered "running" at
    /// `now`, polls next.
    fn next_polls(client: &Client, n: usize, now: Instant) -> Vec<Instant> {
        let id: AgentId = ID.parse().unwrap();
        let body = Bytes::from(format!(
            r#"{{"data":{{"id":"{ID}","status":"running","url":"https://acme.example/a",
               "createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}}}}"#
        ));
        (0..n)
            .map(|_| {
                let mut turn = attach(&client.inner, id, now);
                let tx = turn.poll_transmit(now).expect("the first poll");
                let resp = http::Response::builder()
                    .status(200)
                    .body(body.clone())
                    .unwrap();
                turn.handle_response(now, std::time::SystemTime::UNIX_EPOCH, tx.id, resp);
                assert!(!turn.is_done(), "still running");
                turn.poll_timeout().expect("a next poll")
            })
            .collect()
    }

    #[test]
    fn one_clients_turns_spread_their_polls_over_the_jitter_range() {
        let now = Instant::now();
        let polls = next_polls(&client(None), 100, now);
        let distinct: BTreeSet<_> = polls.iter().collect();
        assert!(distinct.len() >= 90, "{} distinct instants", distinct.len());
        // The default schedule: 2 s ± 10 %; the spread covers most of it.
        let lo = polls.iter().min().unwrap().duration_since(now);
        let hi = polls.iter().max().unwrap().duration_since(now);
        assert!(lo >= Duration::from_millis(1800) && hi <= Duration::from_millis(2200));
        assert!(lo < Duration::from_millis(1850), "{lo:?}");
        assert!(hi > Duration::from_millis(2150), "{hi:?}");
    }

    #[test]
    fn an_explicit_seed_reproduces_the_schedule() {
        let now = Instant::now();
        let a = next_polls(&client(Some(7)), 20, now);
        let b = next_polls(&client(Some(7)), 20, now);
        assert_eq!(a, b);
        let other = next_polls(&client(Some(8)), 20, now);
        assert_ne!(a, other);
    }
}
