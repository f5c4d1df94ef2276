//! [`Session`]: one agent per application thread, over a [`SessionStore`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use nomic_agent_core::turn::{Ticket, Turn};
use nomic_agent_core::wire::{
    self, AgentId, AgentStatus, Conversation, LaunchRequest, ListAgentsQuery, Prompt, Role,
};

use crate::agent::{Agent, TurnOutcome};
use crate::claim::{Claim, ClaimOwner};
use crate::client::Client;
use crate::error::Error;
use crate::journal::{Kind, TurnRecord, TurnStage, fingerprint, unix_millis_now};
use crate::store::{MemoryStore, SessionStore};
use crate::wait_options::WaitOptions;

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
///
/// Serialized as `{"kind": "launched"}`, `{"kind": "relaunched", "previous": "019…"}`, ….
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
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
///
/// Serialized in camelCase (`agentId`, `start`, `outcome`), like the CLI's `--json`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SessionReply {
    /// The thread's agent (now stored for the thread).
    pub agent_id: AgentId,
    /// How the turn started.
    pub start: SessionStart,
    /// How the turn ended.
    pub outcome: TurnOutcome,
}

/// A turn [`Session::submit`] started and did not wait for.
///
/// Serialized in camelCase (`agentId`, `start`, `ticket`), the ticket as its string form.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Submission {
    /// The thread's agent (now stored for the thread).
    pub agent_id: AgentId,
    /// How the turn started.
    pub start: SessionStart,
    /// The turn's ticket: hand it to [`Session::reply`] (in any process) for the answer.
    pub ticket: Ticket,
}

/// What [`Session::status`] knows of a thread, from its store and one look at the server.
///
/// Serialized as `{"state": "running", "agentId": …, "ticket": …, "status": "running"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ThreadStatus {
    /// Nothing was ever sent on the thread (or it was forgotten).
    Empty,
    /// A launch or follow-up was recorded but its acceptance was not (being sent now, or left
    /// by a crash; the next `send` of that message reconciles it).
    #[serde(rename_all = "camelCase")]
    Sending {
        /// The thread's agent, when it has one.
        agent_id: Option<AgentId>,
    },
    /// The latest turn was accepted and has not ended yet (or the server does not show its
    /// end yet: a follow-up's stale window is never read as its end).
    #[serde(rename_all = "camelCase")]
    Running {
        /// The thread's agent.
        agent_id: AgentId,
        /// The turn's ticket, when recorded.
        ticket: Option<Ticket>,
        /// The agent's status as the server showed it.
        status: AgentStatus,
    },
    /// The latest turn ended; [`Session::reply`] with the ticket returns its outcome at once.
    #[serde(rename_all = "camelCase")]
    Ended {
        /// The thread's agent.
        agent_id: AgentId,
        /// The turn's ticket, when recorded.
        ticket: Option<Ticket>,
        /// The terminal status.
        status: AgentStatus,
    },
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

/// Where a send got to.
enum Step {
    /// The turn's outcome (waited for, or a recovered or replayed turn's).
    Replied(Box<SessionReply>),
    /// Accepted, not waited for ([`Session::submit`]).
    Submitted(Submission),
}

/// What a send does once its turn is accepted.
#[derive(Clone, Copy)]
enum Then<'o> {
    /// Wait for the outcome with these bounds.
    Wait(&'o WaitOptions),
    /// Return with the ticket.
    Return,
}

/// What reconciling a recorded turn found.
enum Recovered {
    /// The turn existed on the server; this is its outcome, and its ticket.
    Answered(Box<SessionReply>, Ticket),
    /// The server never received it.
    NotSent,
}

/// Errors after which the server certainly did not act on a launch or follow-up: a refusal
/// before acting, or a request that never left (connect refused, DNS), which needs no
/// reconcile.
fn certainly_not_sent(e: &Error) -> bool {
    e.is_certainly_not_sent()
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

    /// The client this session sends with.
    pub fn client(&self) -> &Client {
        &self.client
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
        self.send_with(key, prompt, &WaitOptions::new()).await
    }

    /// [`send`](Session::send) with the wait's own deadline and poll bounds ([`WaitOptions`]).
    /// A send that times out leaves its turn recorded: [`reply`](Session::reply) with the
    /// thread's ticket ([`status`](Session::status)), or the same send again, picks it up.
    pub async fn send_with(
        &self,
        key: &str,
        prompt: impl Into<Prompt>,
        opts: &WaitOptions,
    ) -> Result<SessionReply, Error> {
        match self
            .send_inner(key, None, prompt.into(), Then::Wait(opts))
            .await?
        {
            Step::Replied(r) => Ok(*r),
            Step::Submitted(_) => Err(Error::internal("a waiting send returned unanswered")),
        }
    }

    /// Starts a turn on the thread `key` like [`send`](Session::send) — claiming the thread,
    /// journaling the intent before anything is sent, launching or following up — and returns
    /// as soon as the server accepted it, with the turn's [`Ticket`]. For web handlers: answer
    /// the request with the ticket, then get the outcome with [`reply`](Session::reply) (here
    /// or in any process) or look with [`status`](Session::status).
    ///
    /// A crash after the intent was journaled loses nothing: the next `send`/`submit` of the
    /// same message reconciles it. If the thread's previous turn is still running, the
    /// session's [`BusyPolicy`] applies first (by default it waits for it).
    ///
    /// ```no_run
    /// # async fn f(session: nomic_agent::Session) -> Result<(), nomic_agent::Error> {
    /// let sub = session.submit("ticket-4711", "Summarize the inspection report.").await?;
    /// let text = sub.ticket.to_string(); // store it, return it to the browser, …
    /// // later, anywhere:
    /// let ticket: nomic_agent::Ticket = text.parse()?;
    /// let reply = session.reply(&ticket).await?;
    /// println!("{}", reply.outcome.answer.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn submit(&self, key: &str, prompt: impl Into<Prompt>) -> Result<Submission, Error> {
        self.submit_inner(key, None, prompt.into()).await
    }

    /// [`submit`](Session::submit) with the application's id for this message (see
    /// [`send_message`](Session::send_message)): submitting the same id again after a crash
    /// returns the recorded turn's ticket instead of sending it twice.
    pub async fn submit_message(
        &self,
        key: &str,
        message_id: &str,
        prompt: impl Into<Prompt>,
    ) -> Result<Submission, Error> {
        self.submit_inner(key, Some(message_id), prompt.into())
            .await
    }

    async fn submit_inner(
        &self,
        key: &str,
        message: Option<&str>,
        prompt: Prompt,
    ) -> Result<Submission, Error> {
        match self.send_inner(key, message, prompt, Then::Return).await? {
            Step::Submitted(s) => Ok(s),
            // Recovered or replayed: the turn is answered; name it by its recorded ticket.
            Step::Replied(r) => {
                let rec = self.store.load_turn(key).await?;
                let ticket =
                    rec.as_ref()
                        .and_then(|r| r.ticket.clone())
                        .ok_or_else(|| Error::Store {
                            message: "the thread's recorded turn has no ticket".into(),
                        })?;
                Ok(Submission {
                    agent_id: r.agent_id,
                    start: r.start,
                    ticket,
                })
            }
        }
    }

    /// Waits for the turn `ticket` names ([`submit`](Session::submit),
    /// [`status`](Session::status), [`Agent::ticket`]) and returns its outcome — in any
    /// process, any time later, as race-safely as the sender would have (never the previous
    /// turn's answer).
    pub async fn reply(&self, ticket: &Ticket) -> Result<SessionReply, Error> {
        self.reply_with(ticket, &WaitOptions::new()).await
    }

    /// [`reply`](Session::reply) with the wait's own deadline and poll bounds.
    pub async fn reply_with(
        &self,
        ticket: &Ticket,
        opts: &WaitOptions,
    ) -> Result<SessionReply, Error> {
        let outcome = self.client.resume(ticket)?.wait_with(opts).await?;
        Ok(SessionReply {
            agent_id: ticket.agent_id(),
            start: if ticket.is_follow_up() {
                SessionStart::FollowedUp
            } else {
                SessionStart::Launched
            },
            outcome,
        })
    }

    /// The thread's latest turn: what its store recorded and, when a turn was accepted, one
    /// look at the agent (a `GET`, plus the conversation when needed to tell a follow-up's end
    /// from the previous turn's). Never waits and never sends a prompt.
    pub async fn status(&self, key: &str) -> Result<ThreadStatus, Error> {
        let rec = self.store.load_turn(key).await?;
        let stored = self.store.load(key).await?;
        let Some(rec) = rec else {
            return Ok(match stored {
                None => ThreadStatus::Empty,
                Some(id) => self.status_of(id, None, None).await?,
            });
        };
        let agent_id = rec.agent.or(stored);
        match (rec.stage, agent_id) {
            (TurnStage::Intent, _) | (_, None) => Ok(ThreadStatus::Sending { agent_id }),
            (_, Some(id)) => self.status_of(id, rec.ticket.clone(), Some(&rec)).await,
        }
    }

    /// One look at agent `id` for the turn `rec` recorded (its follow-up's end must show past
    /// the recorded snapshot, with our prompt as the last `user` row).
    async fn status_of(
        &self,
        id: AgentId,
        ticket: Option<Ticket>,
        rec: Option<&TurnRecord>,
    ) -> Result<ThreadStatus, Error> {
        let a = self.client.get_agent(id).await?;
        let ended = a.status.is_terminal()
            && match rec.map(|r| (&r.kind, r.stage)) {
                Some((_, TurnStage::Done)) | Some((Kind::Launch, _)) | None => true,
                Some((
                    Kind::FollowUp {
                        prior_status,
                        prior_updated_at,
                        ..
                    },
                    _,
                )) => {
                    let moved =
                        a.updated_at.differs_from(prior_updated_at) || a.status != *prior_status;
                    moved && {
                        let conv = self.client.conversation(id).await?;
                        let fp = rec.map(|r| r.fingerprint.as_str());
                        last_user_row(&conv).map(fingerprint).as_deref() == fp
                    }
                }
            };
        Ok(if ended {
            ThreadStatus::Ended {
                agent_id: id,
                ticket,
                status: a.status,
            }
        } else {
            ThreadStatus::Running {
                agent_id: id,
                ticket,
                status: a.status,
            }
        })
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
        self.send_message_with(key, message_id, prompt, &WaitOptions::new())
            .await
    }

    /// [`send_message`](Session::send_message) with the wait's own deadline and poll bounds.
    pub async fn send_message_with(
        &self,
        key: &str,
        message_id: &str,
        prompt: impl Into<Prompt>,
        opts: &WaitOptions,
    ) -> Result<SessionReply, Error> {
        match self
            .send_inner(key, Some(message_id), prompt.into(), Then::Wait(opts))
            .await?
        {
            Step::Replied(r) => Ok(*r),
            Step::Submitted(_) => Err(Error::internal("a waiting send returned unanswered")),
        }
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
        then: Then<'_>,
    ) -> Result<Step, Error> {
        let thread = self.thread(key);
        let mut handle = thread.lock.lock().await;
        let r = self
            .claimed(
                key,
                self.send_locked(key, prompt, message, &mut handle, then),
            )
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
        then: Then<'_>,
    ) -> Result<Step, Error> {
        if let Some(rec) = self.store.load_turn(key).await? {
            let same = rec.matches(&prompt.text, message);
            match rec.stage {
                TurnStage::Done => {
                    if same && message.is_some() {
                        return self.replay(&rec).await.map(|r| Step::Replied(Box::new(r)));
                    }
                }
                _ => match self.recover(key, &rec, handle).await? {
                    Recovered::Answered(reply, ticket) => {
                        let done = rec
                            .clone()
                            .accepted(Some(ticket))
                            .with(TurnStage::Done, Some(reply.agent_id));
                        self.store.save_turn(key, Some(done)).await?;
                        if same {
                            return Ok(Step::Replied(reply));
                        }
                    }
                    Recovered::NotSent => self.store.save_turn(key, None).await?,
                },
            }
        }
        let Some(id) = self.store.load(key).await? else {
            return self
                .launch(key, prompt, message, handle, SessionStart::Launched, then)
                .await;
        };
        let agent = match handle.take() {
            Some(a) if a.id() == id => a,
            _ => self.client.agent(id),
        };
        match self
            .follow_up(key, &agent, prompt.clone(), message, then)
            .await
        {
            Ok(step) => {
                *handle = Some(agent);
                Ok(step)
            }
            Err(Error::NotFound { .. }) => {
                self.launch(
                    key,
                    prompt,
                    message,
                    handle,
                    SessionStart::Relaunched { previous: id },
                    then,
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
        // Found, not seen accepted: a launch ticket (it waits on the agent's current turn).
        let ticket = rec.ticket.clone().unwrap_or_else(|| {
            Ticket::launch(
                id,
                self.client.inner.turn_cfg.api_base.origin(),
                u64::try_from(rec.started_at_ms).unwrap_or(0),
            )
        });
        let accepted = rec.clone().accepted(Some(ticket.clone()));
        self.store.save_turn(key, Some(accepted)).await?;
        self.store.save(key, id).await?;
        let agent = self.client.agent(id);
        *handle = Some(agent.clone());
        let outcome = agent.wait().await?;
        Ok(Recovered::Answered(
            Box::new(SessionReply {
                agent_id: id,
                start: SessionStart::Resumed,
                outcome,
            }),
            ticket,
        ))
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
                    // The recorded ticket, else the follow-up's own (its prompt is on record).
                    let ticket = match &rec.ticket {
                        Some(t) => t.clone(),
                        None => self.follow_up_ticket(rec, id)?,
                    };
                    let agent = self.client.resume(&ticket)?;
                    *handle = Some(agent.clone());
                    let outcome = agent.wait().await?;
                    return Ok(Recovered::Answered(
                        Box::new(SessionReply {
                            agent_id: id,
                            start: SessionStart::Resumed,
                            outcome,
                        }),
                        ticket,
                    ));
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
        then: Then<'_>,
    ) -> Result<Step, Error> {
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
                    let accepted = rec.accepted(agent.ticket());
                    self.store.save_turn(key, Some(accepted.clone())).await?;
                    return self
                        .finish(key, agent, SessionStart::FollowedUp, accepted, then)
                        .await;
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
        then: Then<'_>,
    ) -> Result<Step, Error> {
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
        let accepted = rec
            .with(TurnStage::Accepted, Some(id))
            .accepted(agent.ticket());
        self.store.save_turn(key, Some(accepted.clone())).await?;
        self.store.save(key, id).await?;
        *handle = Some(agent.clone());
        self.finish(key, &agent, start, accepted, then).await
    }

    /// An accepted turn: returns its ticket ([`Then::Return`]) or waits for its outcome and
    /// records the turn as done.
    async fn finish(
        &self,
        key: &str,
        agent: &Agent,
        start: SessionStart,
        accepted: TurnRecord,
        then: Then<'_>,
    ) -> Result<Step, Error> {
        let id = agent.id();
        let opts = match then {
            Then::Return => {
                let ticket = accepted
                    .ticket
                    .clone()
                    .ok_or_else(|| Error::internal("an accepted turn has no ticket"))?;
                return Ok(Step::Submitted(Submission {
                    agent_id: id,
                    start,
                    ticket,
                }));
            }
            Then::Wait(opts) => opts,
        };
        let outcome = agent.wait_with(opts).await?;
        self.store
            .save_turn(key, Some(accepted.with(TurnStage::Done, Some(id))))
            .await?;
        Ok(Step::Replied(Box::new(SessionReply {
            agent_id: id,
            start,
            outcome,
        })))
    }

    /// The ticket of a recorded follow-up that was never seen accepted: its prompt and the
    /// snapshot before it are on record, which is all a ticket names.
    fn follow_up_ticket(&self, rec: &TurnRecord, id: AgentId) -> Result<Ticket, Error> {
        let Kind::FollowUp {
            prompt,
            prior_status,
            prior_updated_at,
        } = &rec.kind
        else {
            return Err(Error::internal("a launch record has no follow-up ticket"));
        };
        let mut prior = wire::Agent::new(id, prior_status.clone());
        prior.updated_at = prior_updated_at.clone();
        let turn = Turn::follow_up(
            prior,
            Prompt::new(prompt.clone()),
            Arc::clone(&self.client.inner.turn_cfg),
            crate::driver::now(),
        )
        .map_err(|e| Error::internal(format!("cannot name a recorded follow-up: {e}")))?;
        let sent = std::time::UNIX_EPOCH
            + Duration::from_millis(u64::try_from(rec.started_at_ms).unwrap_or(0));
        turn.unconfirmed_ticket(sent)
            .ok_or_else(|| Error::internal("a follow-up turn has no ticket"))
    }
}
