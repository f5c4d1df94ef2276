//! One turn of one agent — a launch, a follow-up or an attach — driven to its terminal state
//! without doing any IO.
//!
//! [`Turn`] is the machine; its public methods hold the turn's logic and read top to bottom.
//! The sub-concerns they call live beside it, each in a file named for it:
//!
//! - `slot.rs`: the (at most two) requests alive at once, and what each operation sends;
//! - `origin.rs`: how the turn started, and the request each operation builds;
//! - `race.rs`: the follow-up race's pure rules (the snapshot taken before a follow-up, the
//!   freshness test, the stale window), described in `docs/lifecycle.md`;
//! - `ticket.rs`: [`Ticket`], a turn named so another process can wait on it with the same
//!   rules ([`Turn::ticket`], [`Turn::resume`]);
//! - `outage.rs`: a poll that fails with an error a retry can cure does not end the turn: it
//!   is polled again with backoff until the deadline ([`PollErrorPolicy`]);
//! - `transitions.rs` and `failures.rs`: the private steps the inputs take (an agent observed,
//!   the conversation read; an attempt failed, retried or given up).

mod config;
mod error;
mod event;
mod failures;
mod origin;
mod outage;
mod phase;
mod race;
mod slot;
mod ticket;
mod transitions;
mod transmit;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

pub use config::TurnConfig;
pub use error::{TurnError, TurnStartError};
pub use event::Event;
pub use outage::PollErrorPolicy;
pub use phase::TurnPhase;
pub use ticket::{Ticket, TicketError};
pub use transmit::{RequestId, Transmit};

use self::origin::Origin;
use self::outage::{Cause, Outage};
use self::phase::Phase;
use self::race::Snapshot;
use self::slot::{Op, Slot, When, Which};
use crate::policy::classify::{ApiError, Classification, ClassifyConfig, classify};
use crate::policy::poll::{PollClock, PollSchedule};
use crate::policy::retry::{AttemptOutcome, SendFailure};
use crate::rng::Rng;
use crate::validate::InvalidRequest;
use crate::wire::{Agent, AgentId, AgentStatus, FollowUpRequest, LaunchRequest, Prompt};

/// One turn of one agent, as a sans-IO state machine: the caller owns the clock and the
/// network, the turn owns every decision.
///
/// # Methods, by group
///
/// As quinn-proto's `Connection` sorts them:
///
/// - **constructors**: [`launch`](Self::launch), [`follow_up`](Self::follow_up),
///   [`attach`](Self::attach), [`resume`](Self::resume);
/// - **getters** (no effect): [`agent_id`](Self::agent_id), [`agent`](Self::agent),
///   [`ticket`](Self::ticket),
///   [`phase`](Self::phase), [`is_done`](Self::is_done);
/// - **inputs**, what happened: [`handle_response`](Self::handle_response),
///   [`handle_failure`](Self::handle_failure),
///   [`handle_permanent_failure`](Self::handle_permanent_failure),
///   [`handle_timeout`](Self::handle_timeout);
/// - **commands**, what the caller wants: [`cancel`](Self::cancel);
/// - **outputs**, what the turn wants: [`poll_transmit`](Self::poll_transmit),
///   [`poll_event`](Self::poll_event), [`poll_timeout`](Self::poll_timeout).
///
/// # Drain order
///
/// After creating the turn, and after every input or command:
///
/// 1. drain [`poll_transmit`](Self::poll_transmit) until `None`, sending each request; its
///    response or failure comes back later through an input, under the same [`RequestId`];
/// 2. drain [`poll_event`](Self::poll_event) until `None`;
/// 3. wait for a response or until [`poll_timeout`](Self::poll_timeout), then feed it back
///    (the response, or [`handle_timeout`](Self::handle_timeout)) and start again at 1.
///
/// The turn is over when [`is_done`](Self::is_done); it has then emitted exactly one terminal
/// [`Event`], always its last.
#[derive(Debug)]
pub struct Turn {
    cfg: Arc<TurnConfig>,
    rng: Rng,
    origin: Origin,
    agent_id: Option<AgentId>,
    agent: Option<Agent>,
    status: Option<AgentStatus>,
    phase: Phase,
    main: Option<Slot>,
    stop: Option<Slot>,
    cancel_requested: bool,
    restop_when_active: bool,
    poll_clock: PollClock,
    poll_attempt: u32,
    outage: Outage,
    /// This wait's time budget (the config's, or a per-call one from [`Turn::rebound`]).
    deadline: Option<Duration>,
    deadline_at: Option<Instant>,
    next_id: u64,
    events: VecDeque<Event>,
    ticket: Option<Ticket>,
}

impl Turn {
    // ---- constructors ----------------------------------------------------------------------

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
            Phase::Launching,
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
        let origin = Origin::FollowUp {
            request,
            prompt,
            prior: Snapshot::of(&agent),
        };
        let mut turn = Turn::new(cfg, now, origin, Some(agent.id), Phase::SendingFollowUp);
        turn.status = Some(agent.status.clone());
        turn.agent = Some(agent);
        Ok(turn)
    }

    /// Waits on an agent launched elsewhere: polls it to a terminal state, then reports it.
    pub fn attach(agent_id: AgentId, cfg: Arc<TurnConfig>, now: Instant) -> Turn {
        Turn::new(cfg, now, Origin::Attach, Some(agent_id), Phase::Polling)
    }

    /// Waits on the turn a [`Ticket`] names, sent by another turn (in this process or
    /// another), exactly as race-safely as that turn: for a follow-up, the stale window
    /// continues from when the server accepted it (`wall_now` against the ticket's send time;
    /// a clock behind the sender's gives the whole window), the previous turn's state is never
    /// taken for this one's, and only the answer to the ticket's prompt is reported. A launch's
    /// ticket waits like [`attach`](Self::attach).
    ///
    /// Fails with [`TicketError::ForeignOrigin`] when the ticket names another API origin than
    /// `cfg.api_base`.
    pub fn resume(
        ticket: &Ticket,
        cfg: Arc<TurnConfig>,
        now: Instant,
        wall_now: SystemTime,
    ) -> Result<Turn, TicketError> {
        if ticket.origin() != cfg.api_base.origin() {
            return Err(TicketError::ForeignOrigin {
                ticket: ticket.origin().to_owned(),
                client: cfg.api_base.origin().to_owned(),
            });
        }
        let id = ticket.agent_id();
        let ticket::Kind::FollowUp { prior, prompt_fp } = ticket.kind() else {
            let mut turn = Turn::attach(id, cfg, now);
            turn.ticket = Some(ticket.clone());
            return Ok(turn);
        };
        let origin = Origin::Resumed {
            prompt_fp: *prompt_fp,
            prior: prior.clone(),
        };
        let window = cfg.followup_window;
        let mut turn = Turn::new(cfg, now, origin, Some(id), Phase::Polling);
        let elapsed = ticket::unix_ms(wall_now).saturating_sub(ticket.sent_at_ms());
        let left = window.saturating_sub(std::time::Duration::from_millis(elapsed));
        let (window_end, deadline_bound) = race::window_end(now, left, turn.deadline_at);
        turn.phase = Phase::AwaitingNewTurn {
            window_end,
            deadline_bound,
        };
        turn.status = Some(prior.status.clone());
        turn.ticket = Some(ticket.clone());
        Ok(turn)
    }

    fn new(
        cfg: Arc<TurnConfig>,
        now: Instant,
        origin: Origin,
        agent_id: Option<AgentId>,
        phase: Phase,
    ) -> Turn {
        let deadline = cfg.effective_deadline();
        let deadline_at = deadline.and_then(|d| now.checked_add(d));
        let poll_clock = PollClock::new(cfg.poll.clone().with_deadline(deadline), now);
        let first = match phase {
            Phase::Launching => Op::Launch,
            Phase::SendingFollowUp => Op::FollowUp,
            _ => Op::GetAgent,
        };
        Turn {
            rng: Rng::seed(cfg.seed),
            cfg,
            origin,
            agent_id,
            agent: None,
            status: None,
            phase,
            main: Some(Slot::at(first, now)),
            stop: None,
            cancel_requested: false,
            restop_when_active: false,
            poll_clock,
            poll_attempt: 0,
            outage: Outage::default(),
            deadline,
            deadline_at,
            next_id: 0,
            events: VecDeque::new(),
            ticket: None,
        }
    }

    /// Seeds the turn's jitter from `seed` instead of [`TurnConfig::seed`], so turns sharing
    /// one config (one client's) do not poll in lock-step. Call it on a new turn, before any
    /// response is fed: the seed is drawn from only when a delay is scheduled.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Turn {
        self.rng = Rng::seed(seed);
        self
    }

    /// Replaces the poll schedule and the deadline from `now` on, for one waiting call with its
    /// own bounds (the client's apply otherwise). `schedule.deadline` is the new budget,
    /// counted from `now`; `None` waits without one. A stale window already open is cut short
    /// by a nearer deadline, never lengthened.
    pub fn rebound(&mut self, now: Instant, schedule: PollSchedule) {
        let deadline = schedule.deadline;
        self.deadline = deadline;
        self.deadline_at = deadline.and_then(|d| now.checked_add(d));
        self.poll_clock = PollClock::new(schedule, now);
        self.poll_attempt = 0;
        if let Phase::AwaitingNewTurn {
            window_end,
            deadline_bound,
        } = &mut self.phase
            && let Some(at) = self.deadline_at
            && at < *window_end
        {
            *window_end = at.max(now);
            *deadline_bound = true;
        }
        // A poll already scheduled past the new first delay comes sooner.
        let first = now.checked_add(self.poll_clock.schedule().initial);
        if let (Some(slot), Some(first)) = (self.main.as_mut(), first)
            && slot.op == Op::GetAgent
            && let When::At(at) = slot.when
            && at > first
        {
            slot.when = When::At(first);
        }
    }

    /// For a follow-up whose outcome is unknown (it may or may not have reached the server),
    /// the ticket it would have had: resuming it waits for the answer to this prompt if the
    /// server got it and otherwise ends with [`TurnError::StaleAfterFollowUp`], never with the
    /// previous turn's answer. `wall_now` stands in for the send time, which only lengthens
    /// the stale window. `None` for other turns.
    pub fn unconfirmed_ticket(&self, wall_now: SystemTime) -> Option<Ticket> {
        let (Some(id), Origin::FollowUp { prompt, prior, .. }) = (self.agent_id, &self.origin)
        else {
            return None;
        };
        Some(Ticket::follow_up(
            id,
            self.cfg.api_base.origin(),
            ticket::unix_ms(wall_now),
            prior.clone(),
            &prompt.text,
        ))
    }

    // ---- getters ---------------------------------------------------------------------------

    /// The agent id, once known (always for follow-ups and attaches; after the 201 for launches).
    pub fn agent_id(&self) -> Option<AgentId> {
        self.agent_id
    }

    /// The agent as last seen.
    pub fn agent(&self) -> Option<&Agent> {
        self.agent.as_ref()
    }

    /// The ticket naming this turn, once the server accepted it (the launch's 201, the
    /// follow-up's 202), or the ticket it was resumed from. Give it to
    /// [`resume`](Self::resume) in another process to wait on this very turn.
    pub fn ticket(&self) -> Option<&Ticket> {
        self.ticket.as_ref()
    }

    /// True once the terminal event has been queued.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Where the turn is in its lifecycle.
    pub fn phase(&self) -> TurnPhase {
        self.phase.public()
    }

    // ---- inputs ----------------------------------------------------------------------------

    /// Feeds back the response to the request `id`. Responses to unknown or superseded ids
    /// are ignored. `wall_now` resolves HTTP-date `Retry-After` values.
    ///
    /// An error response is classified once: when the response carries an [`ApiError`] in its
    /// extensions (a transport that already classified it, as `nomic-agent-transport` does,
    /// leaves it there), that verdict is used as it is, completed with the body's message;
    /// otherwise the turn classifies it. Either way the turn ends with that very value in
    /// [`TurnError::Api`] when it is not retried.
    pub fn handle_response(
        &mut self,
        now: Instant,
        wall_now: SystemTime,
        id: RequestId,
        resp: http::Response<Bytes>,
    ) {
        let Some((which, slot)) = self.take_in_flight(id) else {
            return;
        };
        let (mut parts, body) = resp.into_parts();
        let class = match parts.extensions.remove::<ApiError>() {
            Some(e) => Classification::Error(e.with_body(&body)),
            None => {
                let cfg = ClassifyConfig::new(self.cfg.retry.retry_after.clone());
                classify(parts.status, &parts.headers, &body, wall_now, &cfg)
            }
        };
        if let Classification::Error(e) = class {
            let cause = Cause::of(&e);
            let outcome = AttemptOutcome::Response(Classification::Error(e.clone()));
            self.attempt_failed(now, which, slot, outcome, TurnError::Api(e), cause);
            return;
        }
        if which == Which::Main {
            self.outage.clear();
        }
        match slot.op {
            Op::Launch => {
                self.on_launched(now, &body);
                self.issue_ticket(wall_now);
            }
            Op::FollowUp => {
                self.on_follow_up_accepted(now, &body);
                self.issue_ticket(wall_now);
            }
            Op::GetAgent => match crate::wire::decode_agent(&body) {
                Ok(agent) => self.on_agent(now, agent),
                Err(e) => self.broken_read(now, which, slot, e.to_string()),
            },
            Op::Conversation => match crate::wire::decode_conversation(&body) {
                Ok(conv) => self.on_conversation(conv),
                Err(e) => self.broken_read(now, which, slot, e.to_string()),
            },
            Op::Stop => self.on_stopped(now, &body),
        }
    }

    /// Feeds back that request `id` got no response (a reset, a connect failure, a timeout:
    /// something a later attempt may cure). A poll that fails so is polled again until the
    /// deadline (see [`PollErrorPolicy`]).
    pub fn handle_failure(&mut self, now: Instant, id: RequestId, f: SendFailure) {
        let Some((which, slot)) = self.take_in_flight(id) else {
            return;
        };
        let outcome = AttemptOutcome::Failed(f);
        let err = TurnError::Transport(f);
        self.attempt_failed(now, which, slot, outcome, err, Some(Cause::NoResponse));
    }

    /// Feeds back that request `id` got no usable response and that sending it again cannot
    /// cure that (the TLS certificate was refused, a redirect was not followed, the response was
    /// over its size limit). Nothing is retried: the turn ends with
    /// [`TurnError::Transport`]`(f)`, or the launch or follow-up outcome error when `f` says
    /// it may have been received.
    pub fn handle_permanent_failure(&mut self, _now: Instant, id: RequestId, f: SendFailure) {
        let Some((which, slot)) = self.take_in_flight(id) else {
            return;
        };
        let unknown = f.maybe_received() && slot.op.kind().is_non_idempotent();
        self.gave_up(which, slot, unknown, TurnError::Transport(f));
    }

    /// Tells the turn that time has reached `now` (call it at [`poll_timeout`](Self::poll_timeout)).
    ///
    /// A status poll still unanswered at the deadline is abandoned (its late response is then
    /// ignored): inside the follow-up window the conversation is read to confirm, otherwise
    /// the turn ends with the deadline error.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.abandon_at().is_some_and(|at| now >= at) {
            self.main = None;
            match self.phase {
                // The window ends at the deadline at the latest: confirm from the conversation.
                Phase::AwaitingNewTurn { .. } => self.next_stale_poll(now),
                _ => self.fail(self.deadline_error()),
            }
            return;
        }
        // Nothing is ever scheduled past the deadline; this guards that invariant.
        if let (Some(deadline), Some(due)) = (self.deadline_at, self.main.and_then(|s| s.due()))
            && now > deadline
            && due > deadline
        {
            self.fail(self.deadline_error());
        }
    }

    // ---- commands --------------------------------------------------------------------------

    /// Asks for the agent to be stopped: a stop request is queued as soon as the agent id is
    /// known. A turn whose launch or follow-up was not yet sent ends with
    /// [`TurnError::Cancelled`]; otherwise the turn ends when the agent reports a terminal
    /// status (normally [`Event::Stopped`]).
    pub fn cancel(&mut self, now: Instant) {
        if self.is_done() || self.cancel_requested {
            return;
        }
        self.cancel_requested = true;
        match self.phase {
            Phase::Launching | Phase::SendingFollowUp => {
                if self.main.and_then(|s| s.due()).is_some() {
                    // Not sent yet (or waiting to be resent after NotSent/429): nothing to stop.
                    self.fail(TurnError::Cancelled);
                }
                // In flight: the stop goes out once the launch/follow-up is answered.
            }
            _ => self.request_stop(now),
        }
    }

    // ---- outputs ---------------------------------------------------------------------------

    /// The next request to send, if one is due at `now`. The stop goes before the main
    /// request.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if self.is_done() {
            return None;
        }
        for which in [Which::Stop, Which::Main] {
            let Some(slot) = self.slot(which) else {
                continue;
            };
            if slot.due().is_none_or(|at| at > now) {
                continue;
            }
            let Some(request) = self
                .origin
                .request(slot.op, &self.cfg.api_base, self.agent_id)
            else {
                // No agent id for an op that needs one: cannot happen by construction; drop it
                // rather than send a wrong request.
                self.set_slot(which, None);
                continue;
            };
            let id = RequestId(self.next_id);
            self.next_id += 1;
            let sent = Slot {
                when: When::InFlight(id, now),
                ..slot
            };
            self.set_slot(which, Some(sent));
            return Some(Transmit {
                id,
                request,
                tier: slot.op.tier(),
                kind: slot.op.kind(),
            });
        }
        None
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
        if self.is_done() {
            return None;
        }
        [self.main, self.stop]
            .iter()
            .flatten()
            .filter_map(Slot::due)
            .chain(self.abandon_at())
            .min()
    }
}
