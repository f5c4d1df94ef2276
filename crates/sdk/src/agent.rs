//! [`Agent`]: a handle on one agent — wait for its answer, watch its status, follow up, stop.

use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;

use futures_core::Stream;
use nomic_agent_core::turn::{Event, Ticket, Turn, TurnStartError};
use nomic_agent_core::validate::validate_against_workflow;
use nomic_agent_core::wire::{
    self, AgentId, AgentStatus, ArtifactMeta, Conversation, LaunchRequest, Prompt, WorkflowId,
};
use tokio::sync::Mutex;

use crate::client::{Client, WorkflowInput};
use crate::driver::{self, CancelSignal, Pending, turn_error};
use crate::error::Error;
use crate::turns;
use crate::wait_options::WaitOptions;

/// How a turn ended: the terminal status, this turn's answer and the artifacts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TurnOutcome {
    /// `finished`, `failed` or `stopped`.
    pub status: AgentStatus,
    /// The assistant's answer to this turn's prompt (never a previous turn's); `None` when the
    /// turn failed or was stopped before answering.
    pub answer: Option<String>,
    /// The agent's artifacts (download them with [`Client::artifact`]).
    pub artifacts: Vec<ArtifactMeta>,
    /// For `failed`: the agent's error, or the last error row of the conversation.
    pub error: Option<String>,
    /// The agent as last seen.
    pub agent: wire::Agent,
    /// The conversation, when it was read (always for `finished`).
    pub conversation: Option<Conversation>,
}

impl TurnOutcome {
    /// True for `finished`.
    pub fn is_finished(&self) -> bool {
        self.status == AgentStatus::Finished
    }

    pub(crate) fn assemble(
        agent: wire::Agent,
        answer: Option<String>,
        error: Option<String>,
        conversation: Option<Conversation>,
    ) -> TurnOutcome {
        TurnOutcome {
            status: agent.status.clone(),
            answer,
            artifacts: agent.artifacts.clone(),
            error,
            agent,
            conversation,
        }
    }

    fn from_event(ev: Event) -> Option<Result<TurnOutcome, nomic_agent_core::turn::TurnError>> {
        let out = TurnOutcome::assemble;
        match ev {
            Event::Finished {
                agent,
                answer,
                conversation,
            } => Some(Ok(out(agent, answer, None, Some(conversation)))),
            Event::Failed { agent, context } => Some(Ok(out(agent, None, context, None))),
            Event::Stopped { agent } => Some(Ok(out(agent, None, None, None))),
            Event::Error(e) => Some(Err(e)),
            _ => None,
        }
    }
}

/// One observed status change, as yielded by [`Agent::watch`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatusChange {
    /// The previous status; `None` for the first observation.
    pub from: Option<AgentStatus>,
    /// The new status.
    pub to: AgentStatus,
}

// The launches and follow-ups of `Client` live here, beside the handle they return, so
// `client.rs` never needs `Agent`.
impl Client {
    /// Launches an agent (`POST /agents`) after validating the request (and, for a workflow
    /// whose slots this client has seen, checking the slot names). Returns once the agent
    /// exists; [`Agent::wait`] then waits for its answer.
    ///
    /// A launch that may have reached the server without a response is **not** resent:
    /// [`Error::LaunchOutcomeUnknown`].
    pub async fn launch(&self, req: LaunchRequest) -> Result<Agent, Error> {
        if let Some(wf) = req.workflow_id.and_then(|id| self.cached_workflow(&id)) {
            validate_against_workflow(&req, &wf)?;
        }
        let now = tokio::time::Instant::now().into_std();
        let turn = turns::launch(&self.inner, req, now)?;
        let mut pending = driver::Pending::new(turn);
        let agent = driver::drive_until_started(&self.inner, &mut pending).await?;
        Ok(Agent::with_pending(self.clone(), agent, pending))
    }

    /// Launches a simple agent with a text prompt.
    pub async fn launch_prompt(&self, text: impl Into<String>) -> Result<Agent, Error> {
        self.launch(LaunchRequest::prompt(text)).await
    }

    /// Launches a workflow agent. The workflow's declared slots are fetched (and cached) first,
    /// so a wrong slot name, a missing required slot or a prompt on a file-slot workflow is
    /// reported before anything is launched.
    pub async fn launch_workflow(
        &self,
        workflow: WorkflowId,
        input: WorkflowInput,
    ) -> Result<Agent, Error> {
        let wf = self.workflow(workflow).await?;
        let mut req = LaunchRequest::workflow_inputs(workflow);
        match input {
            WorkflowInput::Prompt(p) => req.prompt = Some(p),
            WorkflowInput::Inputs(slots) => {
                for (slot, ids) in slots {
                    req.inputs.entry(slot).or_default().extend(ids);
                }
            }
        }
        validate_against_workflow(&req, &wf)?;
        self.launch(req).await
    }

    /// A handle on an agent launched elsewhere (nothing is sent until it is used).
    ///
    /// Its [`wait`](Agent::wait) waits on the latest turn this client issued for the agent
    /// (race-safely, as [`resume`](Client::resume) does), or, when this client issued none,
    /// on the agent's current turn as the server shows it. A turn sent by **another** client
    /// or process is unknown here: right after its follow-up, the server may still show the
    /// previous turn's `finished`, so wait on that turn's [`Ticket`] with
    /// [`resume`](Client::resume) instead.
    pub fn agent(&self, id: AgentId) -> Agent {
        Agent::attach(self.clone(), id)
    }

    /// A handle on the turn `ticket` names (from [`Agent::ticket`], in any process): its
    /// [`wait`](Agent::wait) and [`watch`](Agent::watch) are exactly as race-safe as the
    /// sending handle's — the previous turn's answer is never reported, however long the
    /// server keeps showing it. Nothing is sent until the handle is used.
    ///
    /// Fails with [`Error::Ticket`] when the ticket names another API origin than this
    /// client's.
    ///
    /// ```no_run
    /// # async fn f(client: nomic_agent::Client, text: &str) -> Result<(), nomic_agent::Error> {
    /// let ticket: nomic_agent::Ticket = text.parse()?;
    /// let outcome = client.resume(&ticket)?.wait().await?;
    /// println!("{}", outcome.answer.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub fn resume(&self, ticket: &Ticket) -> Result<Agent, Error> {
        let turn = turns::resume(&self.inner, ticket, driver::now())?;
        self.inner.record_ticket(ticket);
        let a = Agent::attach(self.clone(), ticket.agent_id());
        a.set_ticket(Some(ticket.clone()));
        a.state
            .try_lock()
            .expect("a new handle is not shared yet")
            .pending = Some(Pending::new(turn));
        Ok(a)
    }

    /// Sends a follow-up to a terminal agent, race-safely; see [`Agent::follow_up`].
    pub async fn follow_up(&self, id: AgentId, prompt: impl Into<Prompt>) -> Result<Agent, Error> {
        let agent = self.agent(id);
        agent.follow_up(prompt).await?;
        Ok(agent)
    }
}

#[derive(Debug, Default)]
struct State {
    /// The turn in progress, if any (kept here so a dropped `wait` can be resumed).
    pending: Option<Pending>,
    /// A terminal outcome a `watch` observed, handed to the next `wait`.
    completed: Option<TurnOutcome>,
}

/// A handle on one agent. Cheap to clone; clones share the turn in progress.
///
/// Nothing runs in the background: requests are sent only while a method's future (or the
/// [`watch`](Agent::watch) stream) is being polled, and dropping it stops them.
#[derive(Clone)]
pub struct Agent {
    client: Client,
    id: AgentId,
    state: Arc<Mutex<State>>,
    cancel: Arc<CancelSignal>,
    /// The latest turn's ticket (a plain lock: read without waiting for a turn in progress).
    ticket: Arc<std::sync::Mutex<Option<Ticket>>>,
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Agent {
    pub(crate) fn attach(client: Client, id: AgentId) -> Agent {
        Agent {
            client,
            id,
            state: Arc::default(),
            cancel: Arc::default(),
            ticket: Arc::default(),
        }
    }

    pub(crate) fn with_pending(client: Client, agent: wire::Agent, pending: Pending) -> Agent {
        let a = Agent::attach(client, agent.id);
        a.issued(&pending);
        a.state
            .try_lock()
            .expect("a new handle is not shared yet")
            .pending = Some(pending);
        a
    }

    /// The ticket of this handle's latest turn (its launch or its latest follow-up, once the
    /// server accepted it, or the ticket it was resumed from); `None` for an id-only handle
    /// that sent nothing. Send it anywhere (`to_string()`) and wait on that turn with
    /// [`Client::resume`].
    pub fn ticket(&self) -> Option<Ticket> {
        self.ticket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_ticket(&self, ticket: Option<Ticket>) {
        *self.ticket.lock().unwrap_or_else(|p| p.into_inner()) = ticket;
    }

    /// Records the ticket of a turn this handle just had accepted, here and client-wide.
    fn issued(&self, pending: &Pending) {
        if let Some(t) = pending.turn.ticket() {
            self.client.inner.record_ticket(t);
            self.set_ticket(Some(t.clone()));
        }
    }

    /// The turn an idle handle waits on: the latest one this client issued for the agent,
    /// else the agent's current one.
    fn idle_turn(&self) -> Turn {
        let shared = &self.client.inner;
        let now = driver::now();
        shared
            .latest_ticket(&self.id)
            .and_then(|t| turns::resume(shared, &t, now).ok())
            .unwrap_or_else(|| turns::attach(shared, self.id, now))
    }

    /// The turn a waiting call drives (the one in progress, else [`idle_turn`]), with `opts`'
    /// bounds applied from now.
    fn pending_for<'s>(
        &self,
        st: &'s mut State,
        opts: &WaitOptions,
    ) -> Result<&'s mut Pending, Error> {
        let schedule = if opts.is_default() {
            None
        } else {
            Some(opts.schedule(&self.client.inner.turn_cfg)?)
        };
        let p = st
            .pending
            .get_or_insert_with(|| Pending::new(self.idle_turn()));
        if let Some(s) = schedule {
            p.turn.rebound(driver::now(), s);
        }
        Ok(p)
    }

    /// After a turn failed with `e`: a follow-up whose outcome is unknown is remembered by its
    /// unconfirmed ticket, so the next wait (here or on any handle of this client) resolves it
    /// instead of reporting the previous turn.
    fn failed(&self, p: &Pending, e: &Error) {
        if matches!(e, Error::FollowUpOutcomeUnknown { .. })
            && let Some(t) = p.turn.unconfirmed_ticket(std::time::SystemTime::now())
        {
            self.client.inner.record_ticket(&t);
            self.set_ticket(Some(t));
        }
    }

    /// The agent id.
    pub fn id(&self) -> AgentId {
        self.id
    }

    /// The Platform UI deep link, `{origin}/assistant/{agentId}`.
    pub fn url(&self) -> String {
        self.client.agent_url(&self.id)
    }

    /// The client this handle uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `GET /agents/{id}`: the agent as the server shows it now.
    pub async fn get(&self) -> Result<wire::Agent, Error> {
        self.client.get_agent(self.id).await
    }

    /// Waits for the current turn to end (polling with backoff) and returns its outcome. For a
    /// follow-up, the previous turn's `finished` is never taken for this turn's.
    ///
    /// Without a turn in progress on this handle it attaches to the agent and reports its
    /// latest turn. Dropping the future stops polling; a later `wait` resumes the same turn.
    ///
    /// After [`Error::FollowUpOutcomeUnknown`] (the follow-up may or may not have reached the
    /// server), the next `wait` resolves it from the conversation: the answer to that prompt
    /// when it arrived, [`Error::StaleAfterFollowUp`] when the agent still shows the previous
    /// turn once the follow-up window has passed — never the previous turn's answer.
    pub async fn wait(&self) -> Result<TurnOutcome, Error> {
        self.wait_with(&WaitOptions::new()).await
    }

    /// [`wait`](Agent::wait) with this call's own deadline and poll bounds (see
    /// [`WaitOptions`]); a wait it times out can be resumed by another `wait`.
    pub async fn wait_with(&self, opts: &WaitOptions) -> Result<TurnOutcome, Error> {
        let mut st = self.state.lock().await;
        self.wait_locked(&mut st, opts).await
    }

    async fn wait_locked(&self, st: &mut State, opts: &WaitOptions) -> Result<TurnOutcome, Error> {
        if st.pending.is_none()
            && let Some(done) = st.completed.take()
        {
            return Ok(done);
        }
        let id = self.id;
        let p = self.pending_for(st, opts)?;
        let r = driver::drive(
            &self.client.inner,
            p,
            |ev, last| match TurnOutcome::from_event(ev) {
                Some(Ok(o)) => ControlFlow::Break(Ok(o)),
                Some(Err(e)) => ControlFlow::Break(Err(turn_error(e, Some(id), last))),
                None => ControlFlow::Continue(()),
            },
            Some(&self.cancel),
        )
        .await;
        if let Ok(Some(Err(e))) | Err(e) = &r {
            self.failed(p, e);
        }
        st.pending = None;
        match r {
            Ok(Some(r)) => r,
            Ok(None) => Err(Error::internal("the turn ended without an outcome")),
            Err(e) => Err(e),
        }
    }

    /// The agent's status changes (changes only, the first observation included) until the
    /// turn ends. Dropping the stream stops polling.
    ///
    /// The turn's outcome is kept for the next [`wait`](Agent::wait), which then returns it
    /// without another request.
    pub fn watch(&self) -> impl Stream<Item = Result<StatusChange, Error>> + Send + 'static {
        self.watch_with(WaitOptions::new())
    }

    /// [`watch`](Agent::watch) with its own deadline and poll bounds (see [`WaitOptions`]),
    /// counted from the first item polled.
    pub fn watch_with(
        &self,
        opts: WaitOptions,
    ) -> impl Stream<Item = Result<StatusChange, Error>> + Send + 'static {
        let agent = self.clone();
        futures_util::stream::unfold(Some((agent, opts)), |state| async move {
            let (agent, opts) = state?;
            let mut st = agent.state.lock().await;
            if st.pending.is_none() && st.completed.is_some() {
                return None;
            }
            let id = agent.id;
            let p = match agent.pending_for(&mut st, &opts) {
                Ok(p) => p,
                Err(e) => return Some((Err(e), None)),
            };
            let mut completed = None;
            let r = driver::drive(
                &agent.client.inner,
                p,
                |ev, last| {
                    if let Event::StatusChanged { from, to } = ev {
                        return ControlFlow::Break(Ok(StatusChange { from, to }));
                    }
                    match TurnOutcome::from_event(ev) {
                        Some(Ok(o)) => {
                            completed = Some(o);
                            ControlFlow::Continue(())
                        }
                        Some(Err(e)) => ControlFlow::Break(Err(turn_error(e, Some(id), last))),
                        None => ControlFlow::Continue(()),
                    }
                },
                Some(&agent.cancel),
            )
            .await;
            if let Ok(Some(Err(e))) | Err(e) = &r {
                agent.failed(p, e);
            }
            let done = p.turn.is_done();
            if done {
                st.pending = None;
                st.completed = completed;
            }
            drop(st);
            // Later items keep the client's bounds: the call's deadline was applied once.
            let rest = WaitOptions::new();
            match r {
                Ok(Some(Ok(change))) => Some((Ok(change), Some((agent, rest)))),
                Ok(Some(Err(e))) | Err(e) => Some((Err(e), None)),
                Ok(None) => None,
            }
        })
    }

    /// Sends a follow-up prompt (`POST /agents/{id}/followup`) once the agent is terminal,
    /// and returns when the server accepted it; [`wait`](Agent::wait) then returns the new
    /// turn's answer — never the previous one, however long the server keeps showing the old
    /// `finished` (SKILL.md's polling race).
    ///
    /// A turn still in progress on this handle is waited for first. Fails with
    /// [`Error::Conflict`] when the agent is active on the server (wait for it or stop it),
    /// [`Error::NotFound`] when it was deleted.
    pub async fn follow_up(&self, prompt: impl Into<Prompt>) -> Result<(), Error> {
        let prompt = prompt.into();
        let mut st = self.state.lock().await;
        if st.pending.is_some() {
            self.wait_locked(&mut st, &WaitOptions::new()).await?;
        }
        st.completed = None;
        // The snapshot right before the follow-up is what tells the old turn from the new.
        let snapshot = self.client.get_agent(self.id).await?;
        self.start_follow_up_locked(&mut st, snapshot, prompt).await
    }

    /// A follow-up from a snapshot the caller just read (and recorded), without another GET.
    pub(crate) async fn follow_up_from(
        &self,
        snapshot: wire::Agent,
        prompt: Prompt,
    ) -> Result<(), Error> {
        let mut st = self.state.lock().await;
        if st.pending.is_some() {
            self.wait_locked(&mut st, &WaitOptions::new()).await?;
        }
        st.completed = None;
        self.start_follow_up_locked(&mut st, snapshot, prompt).await
    }

    async fn start_follow_up_locked(
        &self,
        st: &mut State,
        snapshot: wire::Agent,
        prompt: Prompt,
    ) -> Result<(), Error> {
        let turn =
            turns::follow_up(&self.client.inner, snapshot, prompt, driver::now()).map_err(|e| {
                match e {
                    TurnStartError::Invalid(i) => Error::from(i),
                    TurnStartError::NotTerminal { status } => Error::Conflict {
                        message: format!(
                            "agent {} is still {status}: wait for it or stop it before a follow-up",
                            self.id
                        ),
                        api: None,
                    },
                    other => Error::Invalid {
                        issues: vec![other.to_string()],
                        api: None,
                    },
                }
            })?;
        let p = st.pending.insert(Pending::new(turn));
        match driver::drive_until_started(&self.client.inner, p).await {
            Ok(_) => {
                self.issued(p);
                Ok(())
            }
            Err(e) => {
                self.failed(p, &e);
                st.pending = None;
                Err(e)
            }
        }
    }

    /// [`follow_up`](Agent::follow_up) then [`wait`](Agent::wait).
    pub async fn ask(&self, prompt: impl Into<Prompt>) -> Result<TurnOutcome, Error> {
        self.ask_with(prompt, &WaitOptions::new()).await
    }

    /// [`ask`](Agent::ask) with the wait's own deadline and poll bounds (see [`WaitOptions`]).
    pub async fn ask_with(
        &self,
        prompt: impl Into<Prompt>,
        opts: &WaitOptions,
    ) -> Result<TurnOutcome, Error> {
        self.follow_up(prompt).await?;
        self.wait_with(opts).await
    }

    /// `POST /agents/{id}/stop`, without waiting; returns the agent as the server shows it.
    pub async fn stop(&self) -> Result<wire::Agent, Error> {
        self.client.stop(self.id).await
    }

    /// Cancels the current turn: stops the agent on the server and waits until it reports a
    /// terminal status (normally `stopped`). A `wait` running in another task sees the
    /// cancellation and returns that outcome too.
    pub async fn cancel(&self) -> Result<TurnOutcome, Error> {
        self.cancel.set(true);
        let mut st = self.state.lock().await;
        let r = self.wait_locked(&mut st, &WaitOptions::new()).await;
        self.cancel.set(false);
        r
    }

    /// `DELETE /agents/{id}`.
    pub async fn delete(&self) -> Result<(), Error> {
        let mut st = self.state.lock().await;
        st.pending = None;
        st.completed = None;
        self.client.delete(self.id).await
    }
}
