//! [`Session`]: one agent per application thread, over a [`SessionStore`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use nomic_agent_core::wire::{AgentId, Conversation, LaunchRequest, ListAgentsQuery, Prompt, Role};

use crate::agent::{Agent, TurnOutcome};
use crate::claim::{Claim, ClaimOwner};
use crate::client::Client;
use crate::error::Error;
use crate::journal::{Kind, TurnRecord, TurnStage, fingerprint, unix_millis_now};
use crate::store::{MemoryStore, SessionStore};

/// Default tolerated difference between the local clock and the server's `createdAt`.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(300);
/// Default time after a recorded launch intent before "no agent found" means "never created".
pub const DEFAULT_LAUNCH_SETTLE: Duration = Duration::from_secs(120);
/// Default lease of a thread claim (see [`Session::claims`]); renewed every third of it while
/// the turn runs.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(30);
/// Default time between two looks at a thread claimed by another owner.
pub const DEFAULT_CLAIM_POLL: Duration = Duration::from_millis(250);
/// At most this many recent agents are examined when looking for a launch's agent.
const MAX_LAUNCH_CANDIDATES: usize = 500;

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
    /// The turn had been started by an earlier `send` of the same message that did not finish
    /// (the process crashed, or the future was dropped); it was picked up from the store's
    /// [`TurnRecord`] without sending the launch or follow-up again.
    Resumed,
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
///
/// # Crash safety
///
/// Before a launch or follow-up is sent, the session records the intent in the store (a
/// [`TurnRecord`]: the stage, a fingerprint of the prompt, the local start time, and for a
/// follow-up the prompt and the agent's status and `updatedAt` right before). It moves the
/// record to *accepted* after the 201/202 and to *done* once the answer is read. With a
/// [`FileStore`](crate::FileStore), a process killed at any point and restarted with the same
/// message (`send` with the same prompt, or [`send_message`](Session::send_message) with the
/// same message id) resumes the turn ([`SessionStart::Resumed`]) instead of sending it again:
///
/// - **Launch intent, no agent id**: the agent list is scanned newest first back to the
///   recorded start (minus the allowed [clock skew](Session::launch_recovery)); an agent whose
///   first `user` row has our prompt's fingerprint is adopted. When none is found, the session
///   waits until the *settle* time after the recorded start has passed and scans again; only
///   then is the launch sent again. This cannot duplicate because the intent is durable before
///   the request leaves, so any agent the earlier request created was created after the
///   recorded start and carries our prompt, and the second scan happens after any request the
///   crashed process sent could still have been acted on (the settle time must exceed the
///   client's request deadline). Two threads launching the *same* prompt at the same moment
///   cannot be told apart; give them distinct prompts.
/// - **Launch accepted**: the recorded agent is stored for the thread and waited for.
/// - **Follow-up intent or accepted**: the agent is read until its `updatedAt` (or status)
///   moved from the recorded snapshot *and* the conversation's last `user` row is our prompt;
///   then the turn is waited for. If it still shows the old snapshot when the client's
///   follow-up window closes, an intent is taken as never received and sent again; an accepted
///   follow-up gives [`Error::StaleAfterFollowUp`] (it is never resent).
/// - **Done**: a `send_message` with the same message id returns the turn's outcome again
///   (re-read from the agent) without sending anything; `send` treats a repeated prompt after
///   a finished turn as a new message.
///
/// A record for a *different* message is still reconciled first (its agent adopted, an
/// accepted follow-up waited for) but never resent: the application moved on.
///
/// # More than one process
///
/// Several processes (or several `Session`s in one) may share a store that keeps claims
/// ([`FileStore`](crate::FileStore), [`MemoryStore`]; see [`SessionStore::claim`]). Every
/// `send` (and [`forget`](Session::forget)) first claims its thread for this session's
/// [`ClaimOwner`], before anything is launched or followed up, and releases it when done; the
/// claim's lease is renewed while the turn runs. While another live owner holds the thread,
/// `send` waits for it to finish (looking again every [claim poll](Session::claims)), then reads
/// the store afresh: it follows up on the agent the other process created (or resumes that
/// process's turn record if it died mid-turn) instead of launching a second one. So each
/// thread gets exactly one agent, and turns on one thread run one after the other across
/// processes.
///
/// A claim whose owner died is taken over: at once when the owner ran on this machine and its
/// process is gone (Linux, via `/proc`), otherwise once its lease ran out. Dropping a `send`
/// future mid-turn leaves its claim until the lease runs out (this session's own later sends
/// may renew it at once). Should a lease lapse while its turn still runs (the process stalled
/// longer than the lease), the turn ends with [`Error::Store`] as soon as the loss is noticed
/// at the next renewal, since another owner may now act on the thread. Stores without claims
/// (the trait's default) keep the previous behaviour: only sends through one `Session` and its
/// clones are ordered.
pub struct Session<S: SessionStore = MemoryStore> {
    client: Client,
    store: Arc<S>,
    busy: BusyPolicy,
    template: LaunchRequest,
    threads: Arc<Mutex<HashMap<String, Thread>>>,
    clock_skew: Duration,
    launch_settle: Duration,
    owner: ClaimOwner,
    claim_lease: Duration,
    claim_poll: Duration,
}

/// What reconciling a recorded turn found.
enum Recovered {
    /// The turn existed on the server; this is its outcome.
    Answered(Box<SessionReply>),
    /// The server never received it.
    NotSent,
}

/// Errors after which the server certainly did not act on a launch or follow-up.
fn certainly_not_sent(e: &Error) -> bool {
    matches!(
        e,
        Error::Invalid { .. }
            | Error::Auth { .. }
            | Error::Forbidden { .. }
            | Error::Config { .. }
            | Error::RateLimited { .. }
            | Error::SpendLimit { .. }
            | Error::Conflict { .. }
            | Error::NotFound { .. }
            | Error::PayloadTooLarge { .. }
    )
}

fn first_user_row(c: &Conversation) -> Option<&str> {
    c.messages
        .iter()
        .find(|m| m.role == Role::User)
        .map(|m| m.text.as_str())
}

fn last_user_row(c: &Conversation) -> Option<&str> {
    c.messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map(|m| m.text.as_str())
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
            clock_skew: self.clock_skew,
            launch_settle: self.launch_settle,
            owner: self.owner.clone(),
            claim_lease: self.claim_lease,
            claim_poll: self.claim_poll,
        }
    }
}

impl<S: SessionStore> fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("busy", &self.busy)
            .field("owner", &self.owner)
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
            clock_skew: DEFAULT_CLOCK_SKEW,
            launch_settle: DEFAULT_LAUNCH_SETTLE,
            owner: ClaimOwner::new(),
            claim_lease: DEFAULT_CLAIM_LEASE,
            claim_poll: DEFAULT_CLAIM_POLL,
        }
    }

    /// How threads are claimed in a shared store (see
    /// [More than one process](Session#more-than-one-process)): a claim lasts `lease` unless
    /// renewed (it is renewed every third of it while the turn runs), and a thread held by
    /// another owner is looked at again every `poll`. A shorter lease lets a stalled owner's
    /// thread be taken over sooner but must comfortably exceed the longest pause this process
    /// can have. Defaults: [`DEFAULT_CLAIM_LEASE`], [`DEFAULT_CLAIM_POLL`]. Zero durations are
    /// raised to 1 ms.
    pub fn claims(mut self, lease: Duration, poll: Duration) -> Session<S> {
        self.claim_lease = lease.max(Duration::from_millis(1));
        self.claim_poll = poll.max(Duration::from_millis(1));
        self
    }

    /// The owner this session (and its clones) claims threads as.
    pub fn owner(&self) -> &ClaimOwner {
        &self.owner
    }

    /// How a recorded launch whose response never arrived is reconciled (see
    /// [Crash safety](Session#crash-safety)): agents created up to `clock_skew` before the
    /// recorded start are examined, and "no agent found" is trusted only once `settle` has
    /// passed since the recorded start. `settle` must exceed the client's request deadline.
    /// Defaults: [`DEFAULT_CLOCK_SKEW`], [`DEFAULT_LAUNCH_SETTLE`].
    pub fn launch_recovery(mut self, clock_skew: Duration, settle: Duration) -> Session<S> {
        self.clock_skew = clock_skew;
        self.launch_settle = settle;
        self
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
    ///
    /// A turn an earlier `send` of the same prompt on this thread left unfinished (a crash, a
    /// dropped future) is resumed instead of sent again; see [Crash safety](Session#crash-safety).
    pub async fn send(&self, key: &str, prompt: impl Into<Prompt>) -> Result<SessionReply, Error> {
        self.send_inner(key, None, prompt.into()).await
    }

    /// Like [`send`](Session::send), with the application's id for this message (e.g. its
    /// database row id): sending the same `message_id` again after a crash resumes the turn,
    /// or, when it already finished, returns its outcome again without sending anything. The
    /// id is kept in the store.
    pub async fn send_message(
        &self,
        key: &str,
        message_id: &str,
        prompt: impl Into<Prompt>,
    ) -> Result<SessionReply, Error> {
        self.send_inner(key, Some(message_id), prompt.into()).await
    }

    /// The latest turn recorded for `key` (what a restart would reconcile), if any.
    pub async fn turn_record(&self, key: &str) -> Result<Option<TurnRecord>, Error> {
        self.store.load_turn(key).await
    }

    async fn send_inner(
        &self,
        key: &str,
        message: Option<&str>,
        prompt: Prompt,
    ) -> Result<SessionReply, Error> {
        let thread = self.thread(key);
        let mut handle = thread.lock.lock().await;
        let r = self
            .claimed(key, self.send_locked(key, prompt, message, &mut handle))
            .await;
        drop(handle);
        self.forget_idle(key);
        r
    }

    /// Forgets the thread `key` (the agent itself is left alone). With a shared store, waits
    /// until no other owner is working on the thread.
    pub async fn forget(&self, key: &str) -> Result<(), Error> {
        let thread = self.thread(key);
        let mut handle = thread.lock.lock().await;
        *handle = None;
        self.claimed(key, self.store.remove(key)).await
    }

    /// Runs `work` while holding the claim on `key`: waits until the claim is granted, renews
    /// it while `work` runs, releases it after.
    async fn claimed<T>(
        &self,
        key: &str,
        work: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        if !self.acquire(key).await? {
            return work.await;
        }
        let r = tokio::select! {
            biased;
            r = work => r,
            lost = self.keep_claim(key) => Err(lost),
        };
        // Best effort: a claim left behind only delays others until its lease runs out.
        if let Err(e) = self.store.release(key, &self.owner).await {
            tracing::warn!(error = %e, "could not release a thread claim; it lapses with its lease");
        }
        r
    }

    /// Claims `key`, waiting while another owner holds it. False when the store keeps no claims.
    async fn acquire(&self, key: &str) -> Result<bool, Error> {
        let mut waited = false;
        loop {
            match self.store.claim(key, &self.owner, self.claim_lease).await? {
                Claim::Acquired { took_over, .. } => {
                    if let Some(prev) = took_over {
                        tracing::info!(previous = %prev, "took over a lapsed thread claim");
                    }
                    return Ok(true);
                }
                Claim::Unsupported => return Ok(false),
                Claim::Held { owner, .. } => {
                    if !waited {
                        tracing::debug!(holder = %owner, "thread claimed by another owner; waiting");
                        waited = true;
                    }
                    tokio::time::sleep(self.claim_poll).await;
                }
            }
        }
    }

    /// Renews the claim on `key` every third of the lease; returns only when it was lost.
    async fn keep_claim(&self, key: &str) -> Error {
        loop {
            tokio::time::sleep(self.claim_lease / 3).await;
            let lost = |by: String| Error::Store {
                message: format!(
                    "the claim on this thread lapsed and {by} took it over while this turn ran; \
                     its outcome is left to the new owner"
                ),
            };
            match self.store.claim(key, &self.owner, self.claim_lease).await {
                Ok(Claim::Held { owner, .. }) => return lost(owner.to_string()),
                // Granted afresh: someone held it in between (and let it go).
                Ok(Claim::Acquired { renewed: false, .. }) => {
                    return lost("another owner".into());
                }
                Ok(_) => {}
                // A store hiccup: the lease covers it until the next renewal.
                Err(e) => tracing::warn!(error = %e, "could not renew a thread claim"),
            }
        }
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
        message: Option<&str>,
        handle: &mut Option<Agent>,
    ) -> Result<SessionReply, Error> {
        if let Some(rec) = self.store.load_turn(key).await? {
            let same = rec.matches(&prompt.text, message);
            match rec.stage {
                TurnStage::Done => {
                    if same && message.is_some() {
                        return self.replay(&rec).await;
                    }
                }
                _ => match self.recover(key, &rec, handle).await? {
                    Recovered::Answered(reply) => {
                        let done = rec.clone().with(TurnStage::Done, Some(reply.agent_id));
                        self.store.save_turn(key, Some(done)).await?;
                        if same {
                            return Ok(*reply);
                        }
                    }
                    Recovered::NotSent => self.store.save_turn(key, None).await?,
                },
            }
        }
        let Some(id) = self.store.load(key).await? else {
            return self
                .launch(key, prompt, message, handle, SessionStart::Launched)
                .await;
        };
        let agent = match handle.take() {
            Some(a) if a.id() == id => a,
            _ => self.client.agent(id),
        };
        match self.follow_up(key, &agent, prompt.clone(), message).await {
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
                    message,
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

    /// Returns a finished turn's outcome again (same message id after a crash).
    async fn replay(&self, rec: &TurnRecord) -> Result<SessionReply, Error> {
        let Some(id) = rec.agent else {
            return Err(Error::Store {
                message: "a finished turn record has no agent id".into(),
            });
        };
        let outcome = self.client.agent(id).wait().await?;
        if let Some(c) = &outcome.conversation
            && last_user_row(c).map(fingerprint).as_deref() != Some(rec.fingerprint.as_str())
        {
            return Err(Error::Conflict {
                message: format!(
                    "agent {id} has had another turn since this message; its answer is no longer the latest"
                ),
                api: None,
            });
        }
        Ok(SessionReply {
            agent_id: id,
            start: SessionStart::Resumed,
            outcome,
        })
    }

    /// Reconciles a turn recorded before a crash with what the server shows.
    async fn recover(
        &self,
        key: &str,
        rec: &TurnRecord,
        handle: &mut Option<Agent>,
    ) -> Result<Recovered, Error> {
        match (&rec.kind, rec.agent) {
            (Kind::Launch, Some(id)) => self.adopt(key, rec, id, handle).await,
            (Kind::Launch, None) => {
                if let Some(id) = self.find_launched(rec).await? {
                    return self.adopt(key, rec, id, handle).await;
                }
                let settle_ms = i64::try_from(self.launch_settle.as_millis()).unwrap_or(i64::MAX);
                let wait_ms = rec
                    .started_at_ms
                    .saturating_add(settle_ms)
                    .saturating_sub(unix_millis_now());
                if wait_ms > 0 {
                    tracing::debug!(wait_ms, "launch outcome unknown; waiting before rescanning");
                    tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
                    if let Some(id) = self.find_launched(rec).await? {
                        return self.adopt(key, rec, id, handle).await;
                    }
                }
                Ok(Recovered::NotSent)
            }
            (Kind::FollowUp { .. }, Some(id)) => self.recover_follow_up(rec, id, handle).await,
            (Kind::FollowUp { .. }, None) => Ok(Recovered::NotSent),
        }
    }

    /// Stores `id` for the thread (recording the launch as accepted) and waits for its turn.
    async fn adopt(
        &self,
        key: &str,
        rec: &TurnRecord,
        id: AgentId,
        handle: &mut Option<Agent>,
    ) -> Result<Recovered, Error> {
        let accepted = rec.clone().with(TurnStage::Accepted, Some(id));
        self.store.save_turn(key, Some(accepted)).await?;
        self.store.save(key, id).await?;
        let agent = self.client.agent(id);
        *handle = Some(agent.clone());
        let outcome = agent.wait().await?;
        Ok(Recovered::Answered(Box::new(SessionReply {
            agent_id: id,
            start: SessionStart::Resumed,
            outcome,
        })))
    }

    /// The agent a recorded launch created, if the server has one: created at or after the
    /// recorded start (minus the clock skew), first `user` row matching the fingerprint.
    async fn find_launched(&self, rec: &TurnRecord) -> Result<Option<AgentId>, Error> {
        let skew = i64::try_from(self.clock_skew.as_millis()).unwrap_or(i64::MAX);
        let since = rec.started_at_ms.saturating_sub(skew);
        let mut list = std::pin::pin!(self.client.list_agents(ListAgentsQuery::new().limit(100)));
        let mut examined = 0;
        while let Some(a) = list.next().await {
            let a = a?;
            if a.created_at.unix_millis().is_some_and(|t| t < since) {
                break; // newest first: everything after is older still
            }
            examined += 1;
            if examined > MAX_LAUNCH_CANDIDATES {
                break;
            }
            let conv = match self.client.conversation(a.id).await {
                Ok(c) => c,
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            if first_user_row(&conv).map(fingerprint).as_deref() == Some(rec.fingerprint.as_str()) {
                return Ok(Some(a.id));
            }
        }
        Ok(None)
    }

    /// A recorded follow-up: waits (up to the client's follow-up window) for the agent to move
    /// past the recorded snapshot with our prompt as its last `user` row.
    async fn recover_follow_up(
        &self,
        rec: &TurnRecord,
        id: AgentId,
        handle: &mut Option<Agent>,
    ) -> Result<Recovered, Error> {
        let Kind::FollowUp {
            prior_status,
            prior_updated_at,
            ..
        } = &rec.kind
        else {
            return Ok(Recovered::NotSent);
        };
        let cfg = Arc::clone(&self.client.inner.turn_cfg);
        let until = tokio::time::Instant::now() + cfg.followup_window;
        loop {
            let a = match self.client.get_agent(id).await {
                Ok(a) => a,
                // Deleted: nothing to resume; the normal path relaunches.
                Err(Error::NotFound { .. }) => return Ok(Recovered::NotSent),
                Err(e) => return Err(e),
            };
            let moved = a.updated_at.differs_from(prior_updated_at) || a.status != *prior_status;
            if moved {
                let conv = self.client.conversation(id).await?;
                if last_user_row(&conv).map(fingerprint).as_deref()
                    == Some(rec.fingerprint.as_str())
                {
                    let agent = self.client.agent(id);
                    *handle = Some(agent.clone());
                    let outcome = agent.wait().await?;
                    return Ok(Recovered::Answered(Box::new(SessionReply {
                        agent_id: id,
                        start: SessionStart::Resumed,
                        outcome,
                    })));
                }
            }
            if tokio::time::Instant::now() >= until {
                return match rec.stage {
                    TurnStage::Intent => Ok(Recovered::NotSent),
                    _ => Err(Error::StaleAfterFollowUp),
                };
            }
            tokio::time::sleep(cfg.followup_poll_interval).await;
        }
    }

    async fn follow_up(
        &self,
        key: &str,
        agent: &Agent,
        prompt: Prompt,
        message: Option<&str>,
    ) -> Result<TurnOutcome, Error> {
        let mut snapshot = agent.get().await?;
        let mut busy = snapshot.status.is_active();
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
                snapshot = agent.get().await?;
            }
            // The intent is durable before the request leaves (crash safety).
            let rec = TurnRecord::follow_up(&snapshot, &prompt.text, message);
            self.store.save_turn(key, Some(rec.clone())).await?;
            match agent.follow_up_from(snapshot.clone(), prompt.clone()).await {
                Ok(()) => {
                    let accepted = rec.clone().with(TurnStage::Accepted, None);
                    self.store.save_turn(key, Some(accepted)).await?;
                    let outcome = agent.wait().await?;
                    self.store
                        .save_turn(key, Some(rec.with(TurnStage::Done, None)))
                        .await?;
                    return Ok(outcome);
                }
                Err(e) if certainly_not_sent(&e) => {
                    self.store.save_turn(key, None).await?;
                    if !matches!(e, Error::Conflict { .. }) {
                        return Err(e);
                    }
                    busy = true;
                    tokio::time::sleep(self.client.inner.turn_cfg.poll.initial).await;
                }
                // Maybe received: the record stays, the next send of this message reconciles.
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict {
            message: format!(
                "agent {} stayed busy with turns started elsewhere; try again later",
                agent.id()
            ),
            api: None,
        })
    }

    async fn launch(
        &self,
        key: &str,
        prompt: Prompt,
        message: Option<&str>,
        handle: &mut Option<Agent>,
        start: SessionStart,
    ) -> Result<SessionReply, Error> {
        // The intent is durable before the request leaves (crash safety).
        let rec = TurnRecord::launch(&prompt.text, message);
        self.store.save_turn(key, Some(rec.clone())).await?;
        let mut req = self.template.clone();
        req.prompt = Some(prompt);
        let agent = match self.client.launch(req).await {
            Ok(a) => a,
            Err(e) => {
                if certainly_not_sent(&e) {
                    self.store.save_turn(key, None).await?;
                }
                return Err(e);
            }
        };
        let id = agent.id();
        // Recorded and stored before waiting, so a crash or a dropped future mid-turn keeps
        // the thread and its turn.
        self.store
            .save_turn(key, Some(rec.clone().with(TurnStage::Accepted, Some(id))))
            .await?;
        self.store.save(key, id).await?;
        *handle = Some(agent.clone());
        let outcome = agent.wait().await?;
        self.store
            .save_turn(key, Some(rec.with(TurnStage::Done, Some(id))))
            .await?;
        Ok(SessionReply {
            agent_id: id,
            start,
            outcome,
        })
    }
}
