//! One turn of one agent — a launch, a follow-up or an attach — driven to its terminal state
//! without doing any IO.
//!
//! The caller owns the clock and the network. After creating a turn and after every input
//! ([`handle_response`](Turn::handle_response), [`handle_failure`](Turn::handle_failure),
//! [`handle_timeout`](Turn::handle_timeout), [`cancel`](Turn::cancel)) it drains
//! [`poll_transmit`](Turn::poll_transmit) (sending each request and feeding back its result
//! under the same [`RequestId`]), then [`poll_event`](Turn::poll_event), then sleeps until
//! [`poll_timeout`](Turn::poll_timeout) and calls `handle_timeout`. The turn is over when
//! [`is_done`](Turn::is_done); it has then emitted exactly one terminal [`Event`].
//!
//! The transitions, including the follow-up race, live in `state.rs` and are described in
//! `docs/lifecycle.md`. A poll that fails with an error a retry can cure does not end the turn:
//! it is polled again with backoff until the deadline (`outage.rs`, [`PollErrorPolicy`]).

mod config;
mod error;
mod event;
mod outage;
mod state;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;

pub use config::TurnConfig;
pub use error::{TurnError, TurnStartError};
pub use event::Event;
pub use outage::PollErrorPolicy;
pub use state::TurnPhase;

use crate::policy::poll::PollClock;
use crate::policy::retry::SendFailure;
use crate::rng::Rng;
use crate::validate::InvalidRequest;
use crate::wire::{Agent, AgentId, AgentStatus, FollowUpRequest, LaunchRequest, Prompt};
use crate::{RequestKind, Tier};

/// Names one transmitted request, so its response or failure can be matched to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

impl RequestId {
    /// The number inside (unique within one turn, increasing).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req#{}", self.0)
    }
}

/// A request the caller must send now.
#[derive(Debug)]
pub struct Transmit {
    /// Echo this back with the response or failure.
    pub id: RequestId,
    /// The request, without the `Authorization` header (the transport adds the key).
    pub request: http::Request<Bytes>,
    /// The rate tier to pace it in.
    pub tier: Tier,
    /// Its resend-safety class. The turn already applies the retry rules; a transport that also
    /// retries must not resend non-idempotent kinds.
    pub kind: RequestKind,
}

/// The status and `updatedAt` of an agent just before a follow-up, used to tell the previous
/// turn's terminal state from the new turn's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) status: AgentStatus,
    pub(crate) updated_at: crate::wire::Timestamp,
}

/// How the turn started.
#[derive(Debug)]
pub(crate) enum Origin {
    Launch {
        request: http::Request<Bytes>,
    },
    FollowUp {
        request: http::Request<Bytes>,
        prompt: Prompt,
        prior: Snapshot,
    },
    Attach,
}

/// One turn of one agent, as a sans-IO state machine.
#[derive(Debug)]
pub struct Turn {
    cfg: Arc<TurnConfig>,
    rng: Rng,
    origin: Origin,
    agent_id: Option<AgentId>,
    agent: Option<Agent>,
    status: Option<AgentStatus>,
    phase: state::Phase,
    main: Option<state::Slot>,
    stop: Option<state::Slot>,
    cancel_requested: bool,
    restop_when_active: bool,
    poll_clock: PollClock,
    poll_attempt: u32,
    outage: outage::Outage,
    deadline_at: Option<Instant>,
    next_id: u64,
    events: VecDeque<Event>,
}

impl Turn {
    /// Starts a turn that launches a new agent with `req`, after validating it.
    pub fn launch(
        req: LaunchRequest,
        cfg: Arc<TurnConfig>,
        now: Instant,
    ) -> Result<Turn, InvalidRequest> {
        let request = crate::request::launch(&cfg.api_base, &req)?;
        Ok(Turn::new(
            cfg,
            now,
            Origin::Launch { request },
            None,
            state::Phase::Launching,
        ))
    }

    /// Starts a follow-up turn on `agent`, which must be terminal. The agent's status and
    /// `updatedAt` are recorded so the previous turn's state is never taken for this one's.
    pub fn follow_up(
        agent: Agent,
        prompt: Prompt,
        cfg: Arc<TurnConfig>,
        now: Instant,
    ) -> Result<Turn, TurnStartError> {
        if !agent.status.is_terminal() {
            return Err(TurnStartError::NotTerminal {
                status: agent.status,
            });
        }
        let body = FollowUpRequest::new(prompt.clone());
        let request = crate::request::follow_up(&cfg.api_base, &agent.id, &body)?;
        let prior = Snapshot {
            status: agent.status.clone(),
            updated_at: agent.updated_at.clone(),
        };
        let id = agent.id;
        let mut turn = Turn::new(
            cfg,
            now,
            Origin::FollowUp {
                request,
                prompt,
                prior,
            },
            Some(id),
            state::Phase::SendingFollowUp,
        );
        turn.status = Some(agent.status.clone());
        turn.agent = Some(agent);
        Ok(turn)
    }

    /// Waits on an agent launched elsewhere: polls it to a terminal state, then reports it.
    pub fn attach(agent_id: AgentId, cfg: Arc<TurnConfig>, now: Instant) -> Turn {
        Turn::new(
            cfg,
            now,
            Origin::Attach,
            Some(agent_id),
            state::Phase::Polling,
        )
    }

    fn new(
        cfg: Arc<TurnConfig>,
        now: Instant,
        origin: Origin,
        agent_id: Option<AgentId>,
        phase: state::Phase,
    ) -> Turn {
        let deadline = cfg.effective_deadline();
        let deadline_at = deadline.and_then(|d| now.checked_add(d));
        let poll_clock = PollClock::new(cfg.poll.clone().with_deadline(deadline), now);
        let first = match phase {
            state::Phase::Launching => state::Op::Launch,
            state::Phase::SendingFollowUp => state::Op::FollowUp,
            _ => state::Op::GetAgent,
        };
        Turn {
            rng: Rng::seed(cfg.seed),
            cfg,
            origin,
            agent_id,
            agent: None,
            status: None,
            phase,
            main: Some(state::Slot::at(first, now)),
            stop: None,
            cancel_requested: false,
            restop_when_active: false,
            poll_clock,
            poll_attempt: 0,
            outage: outage::Outage::default(),
            deadline_at,
            next_id: 0,
            events: VecDeque::new(),
        }
    }

    /// The agent id, once known (always for follow-ups and attaches; after the 201 for launches).
    pub fn agent_id(&self) -> Option<AgentId> {
        self.agent_id
    }

    /// The agent as last seen.
    pub fn agent(&self) -> Option<&Agent> {
        self.agent.as_ref()
    }

    /// True once the terminal event has been queued.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, state::Phase::Done)
    }

    /// Where the turn is in its lifecycle.
    pub fn phase(&self) -> TurnPhase {
        self.phase.public()
    }

    /// Feeds back the response to the request `id`. Responses to unknown or superseded ids
    /// are ignored. `wall_now` resolves HTTP-date `Retry-After` values.
    pub fn handle_response(
        &mut self,
        now: Instant,
        wall_now: SystemTime,
        id: RequestId,
        resp: http::Response<Bytes>,
    ) {
        self.on_response(now, wall_now, id, resp);
    }

    /// Feeds back that request `id` got no response (a reset, a connect failure, a timeout:
    /// something a later attempt may cure). A poll that fails so is polled again until the
    /// deadline (see [`PollErrorPolicy`]).
    pub fn handle_failure(&mut self, now: Instant, id: RequestId, f: SendFailure) {
        self.on_failure(now, id, f, true);
    }

    /// Feeds back that request `id` got no usable response and that sending it again cannot
    /// cure that (the TLS certificate was refused, a redirect was not followed, the response was
    /// over its size limit). Nothing is retried: the turn ends with
    /// [`TurnError::Transport`]`(f)`, or the launch or follow-up outcome error when `f` says
    /// it may have been received.
    pub fn handle_permanent_failure(&mut self, now: Instant, id: RequestId, f: SendFailure) {
        self.on_failure(now, id, f, false);
    }

    /// Tells the turn that time has reached `now` (call it at [`poll_timeout`](Self::poll_timeout)).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.on_timeout(now);
    }

    /// Asks for the agent to be stopped: a stop request is queued as soon as the agent id is
    /// known. A turn whose launch or follow-up was not yet sent ends with
    /// [`TurnError::Cancelled`]; otherwise the turn ends when the agent reports a terminal
    /// status (normally [`Event::Stopped`]).
    pub fn cancel(&mut self, now: Instant) {
        self.on_cancel(now);
    }

    /// The next request to send, if one is due at `now`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.next_transmit(now)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When the turn next needs [`handle_timeout`](Self::handle_timeout): a request becomes
    /// due, or the deadline passes with a status poll sent before it still unanswered (the poll
    /// is then abandoned, so a slow or silent server cannot stretch the wait). `None` when it
    /// only waits for responses or is done.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_due()
    }
}
