//! [`Fleet`]: many agents tracked by one scheduler, outcomes as a stream. The scheduling
//! decisions are core's [`Planner`]; this file only runs its work and feeds the results back.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use nomic_agent_core::answer::final_answer;
use nomic_agent_core::fleet::{Planner, Work, scan_query};
use nomic_agent_core::wire::{self, AgentId, AgentStatus, LaunchRequest, Page};

use crate::agent::TurnOutcome;
use crate::client::Client;
use crate::driver::now;
use crate::error::Error;

/// One agent's result, as yielded by a [`Fleet`].
///
/// Serialized as `{"agentId": …, "outcome": {…}}`, or `{"agentId": …, "error": "…"}` (the
/// error's message) when the agent could not be followed.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetOutcome {
    /// The agent.
    pub agent_id: AgentId,
    /// Its terminal outcome, or why it could not be followed (e.g. 404: deleted).
    pub result: Result<TurnOutcome, Error>,
}

impl serde::Serialize for FleetOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("FleetOutcome", 2)?;
        st.serialize_field("agentId", &self.agent_id)?;
        match &self.result {
            Ok(outcome) => st.serialize_field("outcome", outcome)?,
            // `Error` holds sources that cannot be serialized; its message says it all.
            Err(e) => st.serialize_field("error", &e.to_string())?,
        }
        st.end()
    }
}

enum Done {
    ScanPage(Result<Page<wire::Agent>, Error>),
    Polled(AgentId, Result<wire::Agent, Error>),
    Answered(wire::Agent, Result<wire::Conversation, Error>),
}

type WorkFuture = Pin<Box<dyn Future<Output = Done> + Send>>;

/// Tracks many agents until each reaches a terminal status, with one scheduler: no task or
/// timer per agent. While few agents are due it polls them one by one (`GET /agents/{id}`,
/// 2 s → 30 s backoff each); when paged `GET /agents?status=waiting,running,awaiting_tool`
/// scans cost fewer requests, it scans once per poll cap (anchored to scan starts, back to back
/// if a scan takes longer) and polls only the agents that left the active list, as soon as the
/// scan has gone past the page that listed them last time.
///
/// Every request goes through the client's transport, so the fleet shares the Standard tier's
/// pacing with everything else the client (and its clones) does.
///
/// Tracked agents are reported as launches: the answer is the assistant text after the last
/// `user` row. For follow-ups use [`Agent::wait`](crate::Agent::wait), which handles the
/// stale-status race.
pub struct Fleet {
    client: Client,
    planner: Planner,
    running: FuturesUnordered<WorkFuture>,
    ready: VecDeque<FleetOutcome>,
    concurrency: usize,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("tracked", &self.planner.len())
            .field("in_flight", &self.running.len())
            .field("ready", &self.ready.len())
            .finish()
    }
}

impl Fleet {
    /// An empty fleet using the client's poll schedule and pacing.
    pub fn new(client: &Client) -> Fleet {
        let poll = client.inner.turn_cfg.poll.clone();
        Fleet {
            planner: Planner::new(poll, client.next_seed()),
            client: client.clone(),
            running: FuturesUnordered::new(),
            ready: VecDeque::new(),
            concurrency: 16,
        }
    }

    /// At most `n` requests in flight at once (default 16; pacing still applies).
    pub fn concurrency(mut self, n: usize) -> Fleet {
        self.concurrency = n.max(1);
        self
    }

    /// Starts tracking an agent launched elsewhere.
    pub fn track(&mut self, id: AgentId) {
        self.planner.track(now(), id);
    }

    /// Launches an agent and tracks it.
    pub async fn launch(&mut self, req: LaunchRequest) -> Result<AgentId, Error> {
        let agent = self.client.launch(req).await?;
        self.track(agent.id());
        Ok(agent.id())
    }

    /// Agents not yet reported.
    pub fn pending(&self) -> usize {
        self.planner.len() + self.ready.len()
    }

    /// True when every tracked agent has been reported.
    pub fn is_empty(&self) -> bool {
        self.pending() == 0 && self.running.is_empty()
    }

    /// The next agent to reach a terminal status; `None` when none is left.
    pub async fn next(&mut self) -> Option<FleetOutcome> {
        loop {
            if let Some(o) = self.ready.pop_front() {
                return Some(o);
            }
            if self.planner.is_empty() && self.running.is_empty() {
                return None;
            }
            // The planner's drain order: start work while a slot is free, then sleep until its
            // timeout or the next completion.
            let t = now();
            while self.running.len() < self.concurrency {
                let Some(work) = self.planner.poll_work(t) else {
                    break;
                };
                self.start(work);
            }
            let wake = self
                .planner
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                Some(done) = self.running.next(), if !self.running.is_empty() => self.finish(done),
                _ = async { tokio::time::sleep_until(wake.expect("guarded")).await }, if wake.is_some() => {}
            }
        }
    }

    /// The outcomes as a stream (ends when every tracked agent was reported).
    pub fn into_stream(self) -> impl Stream<Item = FleetOutcome> + Send {
        futures_util::stream::unfold(self, |mut fleet| async move {
            fleet.next().await.map(|o| (o, fleet))
        })
    }

    fn start(&mut self, work: Work) {
        let client = self.client.clone();
        let fut: WorkFuture = match work {
            Work::ScanPage(cursor) => Box::pin(async move {
                Done::ScanPage(client.list_agents_page(&scan_query(cursor)).await)
            }),
            Work::Poll(id) => Box::pin(async move { Done::Polled(id, client.get_agent(id).await) }),
        };
        self.running.push(fut);
    }

    fn finish(&mut self, done: Done) {
        let t = now();
        match done {
            Done::ScanPage(Ok(page)) => {
                let listed: Vec<(AgentId, AgentStatus)> =
                    page.data.into_iter().map(|a| (a.id, a.status)).collect();
                self.planner.handle_scan_page(t, &listed, page.next_cursor);
            }
            Done::ScanPage(Err(_)) => self.planner.handle_scan_failure(t),
            Done::Polled(id, Ok(agent)) => {
                if self.planner.handle_poll(t, &id, &agent.status) {
                    if agent.status == AgentStatus::Finished {
                        let client = self.client.clone();
                        self.running.push(Box::pin(async move {
                            let c = client.conversation(agent.id).await;
                            Done::Answered(agent, c)
                        }));
                    } else {
                        self.report(agent, None);
                    }
                }
            }
            Done::Polled(id, Err(e)) if e.is_retryable() => {
                self.planner.handle_poll_failure(t, &id)
            }
            Done::Polled(id, Err(e)) => {
                self.planner.untrack(&id);
                self.ready.push_back(FleetOutcome {
                    agent_id: id,
                    result: Err(e),
                });
            }
            Done::Answered(agent, Ok(conversation)) => self.report(agent, Some(conversation)),
            Done::Answered(agent, Err(e)) => self.ready.push_back(FleetOutcome {
                agent_id: agent.id,
                result: Err(e),
            }),
        }
    }

    fn report(&mut self, agent: wire::Agent, conversation: Option<wire::Conversation>) {
        let answer = conversation.as_ref().and_then(final_answer);
        let error = if agent.status == AgentStatus::Failed {
            agent.error.clone()
        } else {
            None
        };
        self.ready.push_back(FleetOutcome {
            agent_id: agent.id,
            result: Ok(TurnOutcome::assemble(agent, answer, error, conversation)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_that_failed_serializes_its_message() {
        let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let failed = FleetOutcome {
            agent_id: id,
            result: Err(Error::Cancelled),
        };
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            serde_json::json!({"agentId": id.to_string(), "error": Error::Cancelled.to_string()})
        );
    }
}
