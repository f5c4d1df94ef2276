//! [`Session`]: one agent per application thread, over a [`SessionStore`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use nomic_agent_core::wire::{AgentId, LaunchRequest, Prompt};

use crate::agent::{Agent, TurnOutcome};
use crate::client::Client;
use crate::error::Error;
use crate::store::{MemoryStore, SessionStore};

/// How often a follow-up refused with 409 is retried after applying the [`BusyPolicy`].
const CONFLICT_ATTEMPTS: u32 = 4;

/// What [`Session::send`] does when the thread's agent is still working on a previous turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BusyPolicy {
    /// Wait for the previous turn to end, then follow up (the default).
    #[default]
    WaitForPrevious,
    /// Stop the agent (`POST …/stop`), wait until it reports `stopped`, then follow up.
    StopPrevious,
}

/// How a [`Session::send`] turn was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStart {
    /// The thread had no agent: a new one was launched.
    Launched,
    /// A follow-up on the thread's agent.
    FollowedUp,
    /// The stored agent was gone (404, e.g. deleted): a new one was launched and stored.
    Relaunched {
        /// The id that 404ed.
        previous: AgentId,
    },
}

/// The result of one [`Session::send`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionReply {
    /// The thread's agent (now stored for the thread).
    pub agent_id: AgentId,
    /// How the turn started.
    pub start: SessionStart,
    /// How the turn ended.
    pub outcome: TurnOutcome,
}

/// Maps application thread keys (a chat thread, a ticket id) to one agent each: the first
/// message launches, later ones follow up on the same agent (SKILL.md's "one session").
///
/// Two concurrent `send`s on one thread run one after the other; different threads run in
/// parallel. Clones share the store and the per-thread ordering.
pub struct Session<S: SessionStore = MemoryStore> {
    client: Client,
    store: Arc<S>,
    busy: BusyPolicy,
    template: LaunchRequest,
    threads: Arc<Mutex<HashMap<String, Thread>>>,
}

#[derive(Clone)]
struct Thread {
    // Serializes sends on one key; also keeps the agent handle so a turn in progress is shared.
    lock: Arc<tokio::sync::Mutex<Option<Agent>>>,
}

impl<S: SessionStore> Clone for Session<S> {
    fn clone(&self) -> Self {
        Session {
            client: self.client.clone(),
            store: Arc::clone(&self.store),
            busy: self.busy,
            template: self.template.clone(),
            threads: Arc::clone(&self.threads),
        }
    }
}

impl<S: SessionStore> fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("busy", &self.busy)
            .finish_non_exhaustive()
    }
}

impl Session<MemoryStore> {
    /// A session over an in-memory store.
    pub fn in_memory(client: Client) -> Session<MemoryStore> {
        Session::new(client, MemoryStore::new())
    }
}

impl<S: SessionStore> Session<S> {
    /// A session over `store`.
    pub fn new(client: Client, store: S) -> Session<S> {
        Session {
            client,
            store: Arc::new(store),
            busy: BusyPolicy::default(),
            template: LaunchRequest::default(),
            threads: Arc::default(),
        }
    }

    /// What to do when the previous turn is still running.
    pub fn busy_policy(mut self, busy: BusyPolicy) -> Session<S> {
        self.busy = busy;
        self
    }

    /// Fields every launch starts from (`projectId`, `fileIds`, a workflow); the prompt of
    /// each launch is the message sent.
    pub fn launch_template(mut self, template: LaunchRequest) -> Session<S> {
        self.template = template;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The agent stored for `key`, if any.
    pub async fn agent_id(&self, key: &str) -> Result<Option<AgentId>, Error> {
        self.store.load(key).await
    }

    /// Sends `prompt` on the thread `key`: launches an agent when the thread has none (or its
    /// agent was deleted), otherwise follows up once the previous turn ended (see
    /// [`BusyPolicy`]); then waits for this turn's answer.
    pub async fn send(&self, key: &str, prompt: impl Into<Prompt>) -> Result<SessionReply, Error> {
        let prompt = prompt.into();
        let thread = self.thread(key);
        let mut handle = thread.lock.lock().await;
        let r = self.send_locked(key, prompt, &mut handle).await;
        drop(handle);
        self.forget_idle(key);
        r
    }

    /// Forgets the thread `key` (the agent itself is left alone).
    pub async fn forget(&self, key: &str) -> Result<(), Error> {
        let thread = self.thread(key);
        let mut handle = thread.lock.lock().await;
        *handle = None;
        self.store.remove(key).await
    }

    fn thread(&self, key: &str) -> Thread {
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        threads
            .entry(key.to_owned())
            .or_insert_with(|| Thread {
                lock: Arc::default(),
            })
            .clone()
    }

    fn forget_idle(&self, key: &str) {
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map holds it: nobody is sending on this key, drop the entry.
        if threads
            .get(key)
            .is_some_and(|t| Arc::strong_count(&t.lock) == 1)
        {
            threads.remove(key);
        }
    }

    async fn send_locked(
        &self,
        key: &str,
        prompt: Prompt,
        handle: &mut Option<Agent>,
    ) -> Result<SessionReply, Error> {
        let Some(id) = self.store.load(key).await? else {
            return self
                .launch(key, prompt, handle, SessionStart::Launched)
                .await;
        };
        let agent = match handle.take() {
            Some(a) if a.id() == id => a,
            _ => self.client.agent(id),
        };
        match self.follow_up(&agent, prompt.clone()).await {
            Ok(outcome) => {
                *handle = Some(agent);
                Ok(SessionReply {
                    agent_id: id,
                    start: SessionStart::FollowedUp,
                    outcome,
                })
            }
            Err(Error::NotFound { .. }) => {
                self.launch(
                    key,
                    prompt,
                    handle,
                    SessionStart::Relaunched { previous: id },
                )
                .await
            }
            Err(e) => {
                *handle = Some(agent);
                Err(e)
            }
        }
    }

    async fn follow_up(&self, agent: &Agent, prompt: Prompt) -> Result<TurnOutcome, Error> {
        let mut busy = agent.get().await?.status.is_active();
        // A turn started elsewhere can hide behind a stale terminal status; the server's 409
        // then reveals it, and the policy is applied before trying again (bounded).
        for _ in 0..CONFLICT_ATTEMPTS {
            if busy {
                match self.busy {
                    BusyPolicy::WaitForPrevious => {
                        agent.wait().await?;
                    }
                    BusyPolicy::StopPrevious => {
                        agent.cancel().await?;
                    }
                }
            }
            match agent.ask(prompt.clone()).await {
                Err(Error::Conflict { .. }) => {
                    busy = true;
                    tokio::time::sleep(self.client.inner.turn_cfg.poll.initial).await;
                }
                other => return other,
            }
        }
        Err(Error::Conflict {
            message: format!(
                "agent {} stayed busy with turns started elsewhere; try again later",
                agent.id()
            ),
        })
    }

    async fn launch(
        &self,
        key: &str,
        prompt: Prompt,
        handle: &mut Option<Agent>,
        start: SessionStart,
    ) -> Result<SessionReply, Error> {
        let mut req = self.template.clone();
        req.prompt = Some(prompt);
        let agent = self.client.launch(req).await?;
        // Stored before waiting, so a crash or a dropped future mid-turn keeps the thread.
        self.store.save(key, agent.id()).await?;
        *handle = Some(agent.clone());
        let outcome = agent.wait().await?;
        Ok(SessionReply {
            agent_id: agent.id(),
            start,
            outcome,
        })
    }
}
