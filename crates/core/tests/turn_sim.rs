//! A deterministic simulator for `Turn`: a scripted fake server driven in fake time, scenario
//! tests on top of it, and property tests over random fault sequences.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use nomic_agent_core::policy::backoff::Backoff;
use nomic_agent_core::policy::classify::{ApiError, ErrorKind};
use nomic_agent_core::policy::poll::PollSchedule;
use nomic_agent_core::policy::retry::{RetryConfig, SendFailure};
use nomic_agent_core::request::{ApiBase, Endpoint};
use nomic_agent_core::turn::{Event, Turn, TurnConfig, TurnError, TurnPhase, TurnStartError};
use nomic_agent_core::wire::{Agent, AgentId, AgentStatus, LaunchRequest, Prompt, Timestamp};
use nomic_agent_core::{RequestKind, Tier};
use proptest::prelude::*;
use serde_json::json;

const AGENT: &str = "0192f5a8-6c1e-7cc0-8000-000000000001";
const OLD_ANSWER: &str = "OLD ANSWER";
const NEW_ANSWER: &str = "NEW ANSWER";
const FOLLOW_UP: &str = "and now the summary";
/// Wall-clock seconds at fake time zero (2026-04-25T12:00:00Z).
const WALL0: u64 = 1_777_118_400;

// ---- the fake server -----------------------------------------------------------------------

/// How `Retry-After` is written on a fake 429.
#[derive(Debug, Clone, Copy)]
enum RaForm {
    Delta(u64),
    Date(u64),
    Garbage,
}

/// What goes wrong with one request, consumed in order (an empty script means no faults).
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    NotSent,
    Reset {
        applied: bool,
    },
    Timeout {
        applied: bool,
    },
    Rate(Option<RaForm>),
    Spend,
    Server {
        status: u16,
        retry_after: Option<u64>,
        applied: bool,
    },
}

/// What the fake server did with one request.
#[derive(Debug, Clone, PartialEq)]
enum Served {
    Ok {
        stale: bool,
        status: Option<String>,
    },
    Failure(SendFailure),
    Status {
        code: u16,
        min_wait: Option<Duration>,
    },
}

#[derive(Debug, Clone)]
struct Sent {
    at: Duration,
    method: Method,
    path: String,
    tier: Tier,
    kind: RequestKind,
    served: Served,
}

/// A stateful model of one agent.
struct Model {
    status: String,
    updated_ms: i64,
    messages: Vec<(String, String)>,
    error: Option<String>,
    /// Statuses the current turn still has to go through, one per status read.
    pending: VecDeque<String>,
    /// Status reads after a follow-up that still show the previous turn.
    stale_reads: u32,
    /// The follow-up's turn runs without ever changing status or `updatedAt`.
    silent_turn: bool,
    /// The conversation rows of the follow-up's turn, appended when it starts.
    next_turn: Option<(String, Vec<String>)>,
    faults: VecDeque<Fault>,
    launches: u32,
    followups: u32,
    reads_404: bool,
}

impl Model {
    fn new(timeline: &[&str]) -> Model {
        Model {
            status: String::new(),
            updated_ms: 0,
            messages: Vec::new(),
            error: None,
            pending: timeline.iter().map(|s| s.to_string()).collect(),
            stale_reads: 0,
            silent_turn: false,
            next_turn: None,
            faults: VecDeque::new(),
            launches: 0,
            followups: 0,
            reads_404: false,
        }
    }

    /// An agent that has finished one turn, ready for a follow-up whose turn goes `timeline`.
    fn finished(timeline: &[&str], stale_reads: u32) -> Model {
        let mut m = Model::new(timeline);
        m.status = "finished".into();
        m.updated_ms = 5_000;
        m.messages = vec![
            ("user".into(), "first question".into()),
            ("assistant".into(), OLD_ANSWER.into()),
        ];
        m.stale_reads = stale_reads;
        m
    }

    fn with_faults(mut self, faults: &[Fault]) -> Model {
        self.faults = faults.iter().copied().collect();
        self
    }

    fn agent_json(&self) -> serde_json::Value {
        json!({
            "id": AGENT, "status": self.status, "workflowId": null, "projectId": null,
            "artifacts": [], "files": [],
            "createdAt": "2026-04-25T12:00:00.000Z",
            "updatedAt": Timestamp::from_unix_millis(1_777_118_400_000 + self.updated_ms).unwrap().as_str(),
            "url": null, "summary": null, "error": self.error,
        })
    }

    fn set_status(&mut self, status: &str) {
        if status != self.status {
            self.status = status.to_owned();
            self.updated_ms += 1;
        }
        match status {
            "finished" => {
                let answer = if self.followups > 0 {
                    NEW_ANSWER
                } else {
                    "the launch answer"
                };
                self.messages.push(("tool".into(), String::new()));
                self.messages.push(("assistant".into(), answer.into()));
            }
            "failed" => {
                self.messages.push(("error".into(), "tool exploded".into()));
                self.error = Some("the run failed".into());
            }
            _ => {}
        }
    }

    fn is_active(&self) -> bool {
        !matches!(self.status.as_str(), "finished" | "stopped" | "failed")
    }

    /// Serves one request at fake time `at` (wall clock `wall`).
    fn serve(
        &mut self,
        req: &http::Request<Bytes>,
        wall: SystemTime,
    ) -> (Served, Option<Response<Bytes>>) {
        let fault = self.faults.pop_front().unwrap_or(Fault::None);
        let applies = match fault {
            Fault::None => true,
            Fault::Reset { applied } | Fault::Timeout { applied } => applied,
            Fault::Server { applied, .. } => applied,
            Fault::NotSent | Fault::Rate(_) | Fault::Spend => false,
        };
        let mut reply = None;
        if applies {
            reply = Some(self.apply(req));
        }
        match fault {
            Fault::None => {
                let (code, body, stale) = reply.expect("applied");
                let status = if code < 300 {
                    Some(self.status.clone())
                } else {
                    None
                };
                let served = if code < 300 {
                    Served::Ok { stale, status }
                } else {
                    Served::Status {
                        code,
                        min_wait: None,
                    }
                };
                (served, Some(response(code, &[], body)))
            }
            Fault::NotSent => (Served::Failure(SendFailure::NotSent), None),
            Fault::Reset { .. } => (Served::Failure(SendFailure::MaybeSent), None),
            Fault::Timeout { .. } => (Served::Failure(SendFailure::TimedOut), None),
            Fault::Rate(form) => {
                let wall_secs = wall.duration_since(SystemTime::UNIX_EPOCH).unwrap();
                let (header, min_wait) = match form {
                    None => (None, None),
                    Some(RaForm::Delta(s)) => (Some(s.to_string()), Some(Duration::from_secs(s))),
                    Some(RaForm::Date(s)) => {
                        let target = Duration::from_secs(wall_secs.as_secs() + s);
                        let date = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + target);
                        (Some(date), Some(target.saturating_sub(wall_secs)))
                    }
                    Some(RaForm::Garbage) => (Some("soon-ish".to_owned()), None),
                };
                let headers: Vec<(&str, String)> =
                    header.into_iter().map(|h| ("retry-after", h)).collect();
                let body = json!({"error": "Rate limit exceeded", "code": "rate_limited"});
                (
                    Served::Status {
                        code: 429,
                        min_wait,
                    },
                    Some(response(429, &headers, body)),
                )
            }
            Fault::Spend => {
                let body = json!({"error": "Spend limit reached", "code": "spend_limit_reached"});
                (
                    Served::Status {
                        code: 429,
                        min_wait: None,
                    },
                    Some(response(429, &[], body)),
                )
            }
            Fault::Server {
                status,
                retry_after,
                ..
            } => {
                let headers: Vec<(&str, String)> = retry_after
                    .iter()
                    .map(|s| ("retry-after", s.to_string()))
                    .collect();
                let body = json!({"error": "boom", "code": "internal_error"});
                let min_wait = retry_after.map(Duration::from_secs);
                (
                    Served::Status {
                        code: status,
                        min_wait,
                    },
                    Some(response(status, &headers, body)),
                )
            }
        }
    }

    /// The request's effect on the model: (status code, body, stale?).
    fn apply(&mut self, req: &http::Request<Bytes>) -> (u16, serde_json::Value, bool) {
        let path = req.uri().path();
        let not_found = json!({"error": "Not found", "code": "not_found"});
        if req.method() == Method::POST && path.ends_with("/agents") {
            self.launches += 1;
            let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
            let text = body["prompt"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            self.messages.push(("user".into(), text));
            let first = self.pending.pop_front().unwrap_or_else(|| "waiting".into());
            self.set_status(&first);
            return (201, json!({"data": self.agent_json()}), false);
        }
        if self.reads_404 {
            return (404, not_found, false);
        }
        if path.ends_with("/followup") {
            if self.is_active() {
                return (
                    409,
                    json!({"error": "Agent is active", "code": "conflict"}),
                    false,
                );
            }
            self.followups += 1;
            let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
            let text = body["prompt"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if self.silent_turn {
                self.messages.push(("user".into(), text));
                self.messages.push(("assistant".into(), NEW_ANSWER.into()));
                self.pending.clear();
                self.stale_reads = u32::MAX;
            } else {
                self.next_turn = Some((text, Vec::new()));
            }
            return (202, json!({"data": self.agent_json()}), true);
        }
        if path.ends_with("/stop") {
            if !self.is_active() {
                return (
                    409,
                    json!({"error": "Agent is not active", "code": "conflict"}),
                    false,
                );
            }
            self.pending.clear();
            self.set_status("stopped");
            return (200, json!({"data": self.agent_json()}), false);
        }
        if path.ends_with("/conversation") {
            let rows: Vec<serde_json::Value> = self
                .messages
                .iter()
                .enumerate()
                .map(|(i, (t, x))| json!({"id": format!("m{i}"), "type": t, "text": x, "createdAt": "2026-04-25T12:00:00.000Z"}))
                .collect();
            return (200, json!({"data": {"messages": rows}}), false);
        }
        // GET /agents/{id}
        if self.stale_reads > 0 && self.followups > 0 {
            self.stale_reads -= 1;
            return (200, json!({"data": self.agent_json()}), true);
        }
        if let Some((prompt, _)) = self.next_turn.take() {
            self.messages.push(("user".into(), prompt));
        }
        if let Some(next) = self.pending.pop_front() {
            self.set_status(&next);
        }
        (200, json!({"data": self.agent_json()}), false)
    }
}

fn response(code: u16, headers: &[(&str, String)], body: serde_json::Value) -> Response<Bytes> {
    let mut b = Response::builder().status(StatusCode::from_u16(code).unwrap());
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    b.body(Bytes::from(body.to_string())).unwrap()
}

// ---- the driver ----------------------------------------------------------------------------

struct Run {
    sent: Vec<Sent>,
    events: Vec<(Duration, Event)>,
    steps: usize,
}

impl Run {
    fn terminal(&self) -> &Event {
        &self.events.last().expect("an event").1
    }

    fn count(&self, suffix: &str, method: Method) -> usize {
        self.sent
            .iter()
            .filter(|s| s.method == method && s.path.ends_with(suffix))
            .count()
    }

    fn polls(&self) -> Vec<&Sent> {
        self.sent
            .iter()
            .filter(|s| s.method == Method::GET && s.path.ends_with(AGENT))
            .collect()
    }
}

const MAX_STEPS: usize = 20_000;

#[allow(clippy::disallowed_methods)] // one base instant for the whole fake timeline
fn t0() -> Instant {
    Instant::now()
}

/// Drives `turn` against `model` in fake time until it is done. `cancel_at` cancels once fake
/// time reaches it.
fn drive(turn: &mut Turn, model: &mut Model, start: Instant, cancel_at: Option<Duration>) -> Run {
    let mut run = Run {
        sent: Vec::new(),
        events: Vec::new(),
        steps: 0,
    };
    let mut now = start;
    let mut cancelled = false;
    loop {
        run.steps += 1;
        assert!(
            run.steps < MAX_STEPS,
            "turn did not end within {MAX_STEPS} steps"
        );
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(WALL0) + (now - start);
        while let Some(tx) = turn.poll_transmit(now) {
            // One source: a transmit's tier and kind are its route's.
            let endpoint = tx.request.extensions().get::<Endpoint>().copied();
            assert_eq!(
                endpoint.map(|e| (e.tier(), e.kind())),
                Some((tx.tier, tx.kind))
            );
            let (served, resp) = model.serve(&tx.request, wall);
            run.sent.push(Sent {
                at: now - start,
                method: tx.request.method().clone(),
                path: tx.request.uri().path().to_owned(),
                tier: tx.tier,
                kind: tx.kind,
                served: served.clone(),
            });
            match (served, resp) {
                (Served::Failure(f), _) => turn.handle_failure(now, tx.id, f),
                (_, Some(resp)) => turn.handle_response(now, wall, tx.id, resp),
                (_, None) => unreachable!("a served response has a body"),
            }
        }
        while let Some(ev) = turn.poll_event() {
            assert!(
                run.events.last().is_none_or(|(_, e)| !e.is_terminal()),
                "an event after the terminal one: {ev:?}"
            );
            run.events.push((now - start, ev));
        }
        if turn.is_done() {
            assert!(
                run.events.last().is_some_and(|(_, e)| e.is_terminal()),
                "done without a terminal event"
            );
            assert!(turn.poll_transmit(now).is_none() && turn.poll_timeout().is_none());
            return run;
        }
        if let Some(c) = cancel_at
            && !cancelled
            && now - start >= c
        {
            cancelled = true;
            turn.cancel(now);
            continue;
        }
        let next = turn
            .poll_timeout()
            .expect("a live turn with nothing in flight must have a timer");
        assert!(next >= now, "timer in the past");
        now = match cancel_at {
            Some(c) if !cancelled && start + c < next => (start + c).max(now),
            _ => next,
        };
        turn.handle_timeout(now);
    }
}

/// The server's error a turn ended with.
fn api_error(terminal: &Event) -> &ApiError {
    match terminal {
        Event::Error(TurnError::Api(e)) => e,
        other => panic!("not an API error: {other:?}"),
    }
}

fn base() -> ApiBase {
    ApiBase::parse("https://acme.nomic.ai/api/v0").unwrap()
}

fn exact_cfg() -> TurnConfig {
    TurnConfig::new(base())
        .with_poll(PollSchedule::default().with_jitter(0.0))
        .with_retry(RetryConfig::default().with_backoff(Backoff::default().with_jitter(0.0)))
}

fn launch(cfg: TurnConfig, start: Instant) -> Turn {
    Turn::launch(
        LaunchRequest::prompt("What changed in the spec?"),
        Arc::new(cfg),
        start,
    )
    .unwrap()
}

fn finished_agent(model: &Model) -> Agent {
    serde_json::from_value(model.agent_json()).unwrap()
}

fn follow_up(model: &Model, cfg: TurnConfig, start: Instant) -> Turn {
    Turn::follow_up(
        finished_agent(model),
        Prompt::new(FOLLOW_UP),
        Arc::new(cfg),
        start,
    )
    .unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

// ---- scenarios -----------------------------------------------------------------------------

#[test]
fn happy_launch_polls_on_schedule_and_finishes() {
    let start = t0();
    let mut model = Model::new(&["waiting", "running", "awaiting_tool", "running", "finished"]);
    let mut turn = launch(exact_cfg(), start);
    assert_eq!(turn.phase(), TurnPhase::Launching);
    let run = drive(&mut turn, &mut model, start, None);

    let launch = &run.sent[0];
    assert_eq!(
        (launch.method.clone(), launch.tier, launch.kind),
        (Method::POST, Tier::Heavy, RequestKind::Launch)
    );
    assert_eq!(launch.path, "/api/v0/agents");
    let poll_times: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    assert_eq!(poll_times, vec![secs(2), secs(6), secs(14), secs(30)]);
    assert!(
        run.polls()
            .iter()
            .all(|s| s.tier == Tier::Standard && s.kind == RequestKind::Read)
    );
    let conv = run.sent.last().unwrap();
    assert!(conv.path.ends_with("/conversation") && conv.at == secs(30));

    let statuses: Vec<(Option<AgentStatus>, AgentStatus)> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::StatusChanged { from, to } => Some((from.clone(), to.clone())),
            _ => None,
        })
        .collect();
    use AgentStatus::*;
    assert_eq!(
        statuses,
        vec![
            (None, Waiting),
            (Some(Waiting), Running),
            (Some(Running), AwaitingTool),
            (Some(AwaitingTool), Running),
            (Some(Running), Finished)
        ]
    );
    assert!(
        matches!(run.events[0].1, Event::Launched { ref agent } if agent.id.to_string() == AGENT)
    );
    match run.terminal() {
        Event::Finished {
            agent,
            answer,
            conversation,
        } => {
            assert_eq!(agent.status, Finished);
            assert_eq!(answer.as_deref(), Some("the launch answer"));
            assert_eq!(conversation.messages.len(), 3);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(turn.is_done());
    assert_eq!(turn.phase(), TurnPhase::Done);
    assert_eq!(turn.agent_id().unwrap().to_string(), AGENT);
}

#[test]
fn unknown_statuses_count_as_active() {
    let start = t0();
    let mut model = Model::new(&["waiting", "thinking_hard", "finished"]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    assert!(run.events.iter().any(|(_, e)| matches!(e, Event::StatusChanged { to: AgentStatus::Unknown(s), .. } if s == "thinking_hard")));
    assert!(matches!(run.terminal(), Event::Finished { .. }));
}

#[test]
fn rate_limited_launch_is_resent_after_retry_after() {
    let start = t0();
    let mut model = Model::new(&["running", "finished"]).with_faults(&[
        Fault::Rate(Some(RaForm::Delta(5))),
        Fault::Rate(Some(RaForm::Date(7))),
    ]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    let launches: Vec<Duration> = run
        .sent
        .iter()
        .filter(|s| s.kind == RequestKind::Launch)
        .map(|s| s.at)
        .collect();
    assert_eq!(launches, vec![Duration::ZERO, secs(5), secs(12)]);
    assert_eq!(model.launches, 1);
    assert!(matches!(run.terminal(), Event::Finished { .. }));
}

#[test]
fn not_sent_launch_is_resent_with_backoff() {
    let start = t0();
    let mut model =
        Model::new(&["running", "finished"]).with_faults(&[Fault::NotSent, Fault::NotSent]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    let launches: Vec<Duration> = run
        .sent
        .iter()
        .filter(|s| s.kind == RequestKind::Launch)
        .map(|s| s.at)
        .collect();
    assert_eq!(launches, vec![Duration::ZERO, ms(200), ms(600)]);
    assert!(matches!(run.terminal(), Event::Finished { .. }));
}

#[test]
fn a_launch_that_may_have_landed_is_never_resent() {
    for fault in [
        Fault::Reset { applied: true },
        Fault::Reset { applied: false },
        Fault::Timeout { applied: true },
        Fault::Server {
            status: 503,
            retry_after: Some(1),
            applied: false,
        },
        Fault::Server {
            status: 500,
            retry_after: None,
            applied: true,
        },
    ] {
        let start = t0();
        let mut model = Model::new(&["running", "finished"]).with_faults(&[fault]);
        let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
        assert_eq!(run.sent.len(), 1, "{fault:?}");
        assert_eq!(
            run.terminal(),
            &Event::Error(TurnError::LaunchOutcomeUnknown),
            "{fault:?}"
        );
    }
}

#[test]
fn spend_limit_is_final() {
    let start = t0();
    let mut model = Model::new(&["running"]).with_faults(&[Fault::Spend]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    assert_eq!(run.sent.len(), 1);
    let e = api_error(run.terminal());
    assert_eq!(e.kind(), ErrorKind::SpendLimited);
    assert_eq!(e.message(), Some("Spend limit reached"));
}

#[test]
fn rate_limits_exhaust_into_an_api_error() {
    let start = t0();
    let mut model = Model::new(&["running"]).with_faults(&[Fault::Rate(None); 4]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    assert_eq!(run.sent.len(), 4);
    let e = api_error(run.terminal());
    assert_eq!((e.kind(), e.status()), (ErrorKind::RateLimited, 429));
    assert_eq!(e.code(), Some("rate_limited"));
    assert_eq!(e.message(), Some("Rate limit exceeded"));
}

#[test]
fn poll_errors_are_retried_and_retry_after_is_honoured() {
    let start = t0();
    // Launch ok; first poll 503 with Retry-After 9; then a reset; then fine.
    let mut model = Model::new(&["waiting", "running", "finished"]).with_faults(&[
        Fault::None,
        Fault::Server {
            status: 503,
            retry_after: Some(9),
            applied: false,
        },
        Fault::Reset { applied: true },
    ]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    // 2 s (503) → +9 s = 11 s (reset, applied: running) → +400 ms backoff (attempt 2) → 11.4 s
    // shows finished (the reset poll already advanced the model).
    assert_eq!(polls, vec![secs(2), secs(11), ms(11_400)]);
    assert!(matches!(run.terminal(), Event::Finished { .. }));
}

#[test]
fn a_deleted_agent_is_gone() {
    let start = t0();
    let mut model = Model::new(&["running"]);
    model.reads_404 = true;
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    assert_eq!(api_error(run.terminal()).kind(), ErrorKind::NotFound);
}

#[test]
fn failed_and_stopped_agents() {
    let start = t0();
    let mut model = Model::new(&["running", "failed"]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    match run.terminal() {
        Event::Failed { agent, context } => {
            assert_eq!(agent.status, AgentStatus::Failed);
            assert_eq!(context.as_deref(), Some("the run failed"));
        }
        other => panic!("{other:?}"),
    }
    let mut model = Model::new(&["running", "stopped"]);
    let run = drive(&mut launch(exact_cfg(), start), &mut model, start, None);
    assert!(
        matches!(run.terminal(), Event::Stopped { agent } if agent.status == AgentStatus::Stopped)
    );
}

#[test]
fn deadline_gives_one_last_poll_at_the_deadline() {
    let start = t0();
    let mut model = Model::new(&["running"; 1]);
    let cfg = exact_cfg().with_deadline(Some(secs(60)));
    let run = drive(&mut launch(cfg, start), &mut model, start, None);
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    assert_eq!(polls, vec![secs(2), secs(6), secs(14), secs(30), secs(60)]);
    assert_eq!(run.terminal(), &Event::Error(TurnError::DeadlineExceeded));
}

#[test]
fn cancel_sends_a_stop_and_ends_stopped() {
    let start = t0();
    let mut model = Model::new(&["running", "running", "running", "running", "finished"]);
    let run = drive(
        &mut launch(exact_cfg(), start),
        &mut model,
        start,
        Some(secs(3)),
    );
    let stop = run
        .sent
        .iter()
        .find(|s| s.path.ends_with("/stop"))
        .expect("a stop");
    assert_eq!(
        (stop.at, stop.tier, stop.kind),
        (secs(3), Tier::Write, RequestKind::IdempotentWrite)
    );
    assert!(matches!(run.terminal(), Event::Stopped { .. }));
    assert_eq!(run.count("/stop", Method::POST), 1);
}

#[test]
fn cancel_before_the_launch_is_sent() {
    let start = t0();
    let mut turn = launch(exact_cfg(), start);
    turn.cancel(start);
    assert!(turn.is_done());
    assert_eq!(turn.poll_event(), Some(Event::Error(TurnError::Cancelled)));
    assert!(turn.poll_transmit(start).is_none());
}

#[test]
fn attach_polls_at_once() {
    let start = t0();
    let mut model = Model::new(&["running", "finished"]);
    model.status = "waiting".into();
    model.messages.push(("user".into(), "q".into()));
    let id: AgentId = AGENT.parse().unwrap();
    let mut turn = Turn::attach(id, Arc::new(exact_cfg()), start);
    let run = drive(&mut turn, &mut model, start, None);
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    assert_eq!(polls, vec![Duration::ZERO, secs(2)]);
    assert!(
        matches!(run.terminal(), Event::Finished { answer: Some(a), .. } if a == "the launch answer")
    );
}

// ---- follow-ups and the race ---------------------------------------------------------------

#[test]
fn follow_up_waits_out_the_stale_window() {
    let start = t0();
    let mut model = Model::finished(&["running", "finished"], 3);
    let mut turn = follow_up(&model, exact_cfg(), start);
    assert_eq!(turn.phase(), TurnPhase::SendingFollowUp);
    let run = drive(&mut turn, &mut model, start, None);
    let fu = &run.sent[0];
    assert_eq!((fu.tier, fu.kind), (Tier::Heavy, RequestKind::FollowUp));
    assert!(fu.path.ends_with("/followup"));
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    // Three stale reads at 500 ms spacing, then the new turn, then the normal schedule.
    assert_eq!(polls, vec![ms(500), ms(1000), ms(1500), ms(2000), ms(4000)]);
    assert!(matches!(run.events[0].1, Event::FollowUpAccepted { .. }));
    match run.terminal() {
        Event::Finished { answer, .. } => assert_eq!(answer.as_deref(), Some(NEW_ANSWER)),
        other => panic!("{other:?}"),
    }
    let changes: Vec<&Event> = run
        .events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, Event::StatusChanged { .. }))
        .collect();
    assert_eq!(
        changes,
        vec![
            &Event::StatusChanged {
                from: Some(AgentStatus::Finished),
                to: AgentStatus::Running
            },
            &Event::StatusChanged {
                from: Some(AgentStatus::Running),
                to: AgentStatus::Finished
            },
        ]
    );
}

#[test]
fn follow_up_window_closes_then_the_conversation_decides() {
    // The turn ran without moving status or updatedAt: the conversation confirms it.
    let start = t0();
    let mut model = Model::finished(&[], 0);
    model.silent_turn = true;
    let cfg = exact_cfg().with_followup_window(secs(3));
    let run = drive(
        &mut follow_up(&model, cfg.clone(), start),
        &mut model,
        start,
        None,
    );
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    assert_eq!(
        polls,
        vec![ms(500), ms(1000), ms(1500), ms(2000), ms(2500), ms(3000)]
    );
    match run.terminal() {
        Event::Finished { answer, .. } => assert_eq!(answer.as_deref(), Some(NEW_ANSWER)),
        other => panic!("{other:?}"),
    }

    // The server never started the turn: typed error, never the old answer.
    let mut model = Model::finished(&["running", "finished"], u32::MAX);
    let run = drive(&mut follow_up(&model, cfg, start), &mut model, start, None);
    assert_eq!(run.terminal(), &Event::Error(TurnError::StaleAfterFollowUp));
}

#[test]
fn follow_up_conflict_and_start_errors() {
    let start = t0();
    let mut model = Model::finished(&[], 0);
    let agent = finished_agent(&model);
    model.status = "running".into();
    let run = drive(
        &mut follow_up(&Model::finished(&[], 0), exact_cfg(), start),
        &mut model,
        start,
        None,
    );
    assert_eq!(api_error(run.terminal()).kind(), ErrorKind::Conflict);

    let mut active = agent.clone();
    active.status = AgentStatus::Running;
    let err = Turn::follow_up(active, Prompt::new("x"), Arc::new(exact_cfg()), start).unwrap_err();
    assert_eq!(
        err,
        TurnStartError::NotTerminal {
            status: AgentStatus::Running
        }
    );
    let err = Turn::follow_up(agent, Prompt::new("   "), Arc::new(exact_cfg()), start).unwrap_err();
    assert!(matches!(err, TurnStartError::Invalid(_)));
    assert!(Turn::launch(LaunchRequest::prompt(""), Arc::new(exact_cfg()), start).is_err());
}

#[test]
fn follow_up_that_may_have_landed_is_not_resent() {
    let start = t0();
    let mut model = Model::finished(&["running", "finished"], 0)
        .with_faults(&[Fault::Timeout { applied: true }]);
    let run = drive(
        &mut follow_up(&model.clone_shape(), exact_cfg(), start),
        &mut model,
        start,
        None,
    );
    assert_eq!(run.sent.len(), 1);
    assert_eq!(
        run.terminal(),
        &Event::Error(TurnError::FollowUpOutcomeUnknown)
    );
}

impl Model {
    fn clone_shape(&self) -> Model {
        let mut m = Model::finished(&[], 0);
        m.status = self.status.clone();
        m.updated_ms = self.updated_ms;
        m
    }
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let trace = |seed: u64| {
        let start = t0();
        let mut model = Model::new(&["waiting", "running", "running", "running", "finished"])
            .with_faults(&[
                Fault::None,
                Fault::NotSent,
                Fault::Server {
                    status: 502,
                    retry_after: None,
                    applied: false,
                },
            ]);
        let cfg = TurnConfig::new(base()).with_seed(seed);
        let run = drive(&mut launch(cfg, start), &mut model, start, None);
        run.sent
            .iter()
            .map(|s| (s.at, s.method.clone(), s.path.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(trace(7), trace(7));
    assert_ne!(trace(7), trace(8));
}

// ---- properties ----------------------------------------------------------------------------

fn ra_form() -> impl Strategy<Value = RaForm> {
    prop_oneof![
        (0u64..200).prop_map(RaForm::Delta),
        (0u64..200).prop_map(RaForm::Date),
        Just(RaForm::Garbage)
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::None),
        1 => Just(Fault::NotSent),
        1 => any::<bool>().prop_map(|applied| Fault::Reset { applied }),
        1 => any::<bool>().prop_map(|applied| Fault::Timeout { applied }),
        2 => proptest::option::of(ra_form()).prop_map(Fault::Rate),
        1 => Just(Fault::Spend),
        1 => (prop_oneof![Just(500u16), Just(502), Just(503), Just(504)], proptest::option::of(0u64..60), any::<bool>())
            .prop_map(|(status, retry_after, applied)| Fault::Server { status, retry_after, applied }),
    ]
}

fn status_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("waiting"),
        Just("running"),
        Just("awaiting_tool"),
        Just("thinking"),
        Just("RUNNING")
    ]
}

fn timeline() -> impl Strategy<Value = Vec<&'static str>> {
    (
        proptest::collection::vec(status_name(), 0..8),
        prop_oneof![Just("finished"), Just("failed"), Just("stopped")],
    )
        .prop_map(|(mut v, end)| {
            v.push(end);
            v
        })
}

/// The invariants every run must keep, whatever the faults.
fn check_run(run: &Run, model: &Model, cfg: &TurnConfig, follow_up: bool) {
    // No launch or follow-up is sent again unless the previous copy certainly did not land.
    let heavy: Vec<&Sent> = run.sent.iter().filter(|s| s.tier == Tier::Heavy).collect();
    for pair in heavy.windows(2) {
        let ok = matches!(
            pair[0].served,
            Served::Failure(SendFailure::NotSent) | Served::Status { code: 429, .. }
        );
        assert!(ok, "resent after {:?}", pair[0].served);
    }
    assert!(
        model.launches <= 1 && model.followups <= 1,
        "duplicate: {} launches, {} follow-ups",
        model.launches,
        model.followups
    );

    // Waits: never before a Retry-After, never after the caps.
    let floor = cfg.poll.floor();
    let deadline = cfg.effective_deadline();
    for pair in run.sent.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        if next.path.ends_with("/stop") || prev.path.ends_with("/stop") {
            continue;
        }
        let gap = next.at - prev.at;
        assert!(
            gap <= cfg.retry.retry_after.cap.max(cfg.poll.max),
            "gap {gap:?} after {prev:?}"
        );
        match &prev.served {
            Served::Status {
                min_wait: Some(w), ..
            } => {
                assert!(
                    gap >= (*w).min(cfg.retry.retry_after.cap),
                    "gap {gap:?} before Retry-After {w:?}"
                );
            }
            Served::Ok {
                stale: false,
                status: Some(s),
            } if next.path.ends_with(AGENT) && prev.path.ends_with(AGENT) => {
                let active = !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "finished" | "failed" | "stopped"
                );
                // The last poll happens at the deadline, however soon that is.
                if active && Some(next.at) != deadline {
                    assert!(
                        gap >= floor && gap <= cfg.poll.max,
                        "poll gap {gap:?} outside [{floor:?}, {:?}]",
                        cfg.poll.max
                    );
                }
            }
            Served::Ok { stale: true, .. } => {
                assert!(gap <= cfg.followup_poll_interval, "stale poll gap {gap:?}")
            }
            _ => {}
        }
    }

    // Exactly one terminal event, last; a follow-up never reports the old answer.
    let terminals = run.events.iter().filter(|(_, e)| e.is_terminal()).count();
    assert_eq!(terminals, 1);
    if follow_up && let Event::Finished { answer, .. } = run.terminal() {
        assert_ne!(answer.as_deref(), Some(OLD_ANSWER));
        // In this model the new turn's prompt and answer are always recorded together, so a
        // finished follow-up must carry exactly the new answer.
        assert_eq!(answer.as_deref(), Some(NEW_ANSWER));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn launch_turns_keep_their_invariants(
        tl in timeline(),
        faults in proptest::collection::vec(fault(), 0..24),
        seed in any::<u64>(),
    ) {
        let start = t0();
        let cfg = TurnConfig::new(base()).with_seed(seed);
        let mut model = Model::new(&tl).with_faults(&faults);
        let run = drive(&mut launch(cfg.clone(), start), &mut model, start, None);
        check_run(&run, &model, &cfg, false);

        // Same seed, same script: the same transmit trace.
        let mut again = Model::new(&tl).with_faults(&faults);
        let run2 = drive(&mut launch(cfg.clone(), start), &mut again, start, None);
        let trace = |r: &Run| r.sent.iter().map(|s| (s.at, s.method.clone(), s.path.clone())).collect::<Vec<_>>();
        prop_assert_eq!(trace(&run), trace(&run2));
    }

    #[test]
    fn follow_up_turns_never_report_the_old_answer(
        tl in timeline(),
        faults in proptest::collection::vec(fault(), 0..24),
        stale in prop_oneof![0u32..5, 5u32..80, Just(u32::MAX)],
        silent in any::<bool>(),
        window_ms in prop_oneof![Just(0u64), 1u64..5_000, Just(30_000)],
        seed in any::<u64>(),
    ) {
        let start = t0();
        let cfg = TurnConfig::new(base()).with_seed(seed).with_followup_window(Duration::from_millis(window_ms));
        let mut model = Model::finished(&tl, stale).with_faults(&faults);
        model.silent_turn = silent;
        let mut turn = follow_up(&model, cfg.clone(), start);
        let run = drive(&mut turn, &mut model, start, None);
        check_run(&run, &model, &cfg, true);
    }

    #[test]
    fn deadlines_bound_every_turn(
        faults in proptest::collection::vec(fault(), 0..24),
        deadline_s in 1u64..200,
        seed in any::<u64>(),
    ) {
        let start = t0();
        let cfg = TurnConfig::new(base()).with_seed(seed).with_deadline(Some(secs(deadline_s)));
        let mut model = Model::new(&["running"]).with_faults(&faults);
        let run = drive(&mut launch(cfg.clone(), start), &mut model, start, None);
        check_run(&run, &model, &cfg, false);
        prop_assert!(run.sent.iter().all(|s| s.at <= secs(deadline_s)));
    }
}

/// Every transmit carries its route's `Endpoint`, so a transport paces a launch on the Heavy
/// tier and never mistakes it for a custom call.
#[test]
fn transmits_carry_their_endpoint() {
    let base = ApiBase::parse("https://acme.nomic.ai").unwrap();
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    let t0 = Instant::now();
    let mut turn = Turn::launch(
        LaunchRequest::prompt("hello"),
        Arc::new(TurnConfig::new(base)),
        t0,
    )
    .unwrap();
    let tx = turn.poll_transmit(t0).expect("launch");
    assert_eq!(
        tx.request.extensions().get::<Endpoint>(),
        Some(&Endpoint::LaunchAgent)
    );
    assert_eq!(tx.tier, nomic_agent_core::Tier::Heavy);
}

/// A response a transport already classified carries its `ApiError`; the turn takes that
/// verdict as it is (here one the status alone would never give) instead of classifying again,
/// adds the body's words, and ends with that very value.
#[test]
fn a_transports_classification_is_used_as_is() {
    let base = ApiBase::parse("https://acme.nomic.ai").unwrap();
    let start = t0();
    let cfg =
        Arc::new(TurnConfig::new(base).with_retry(RetryConfig::default().with_max_attempts(1)));
    let mut turn = Turn::launch(LaunchRequest::prompt("hello"), cfg, start).unwrap();
    let tx = turn.poll_transmit(start).expect("launch");
    let verdict = ApiError::new(ErrorKind::Forbidden, 403).with_request_id("req-7");
    let mut resp = response(500, &[], json!({"error": "no scope", "code": "forbidden"}));
    resp.extensions_mut().insert(verdict.clone());
    turn.handle_response(start, SystemTime::UNIX_EPOCH, tx.id, resp);
    let mut last = None;
    while let Some(ev) = turn.poll_event() {
        last = Some(ev);
    }
    let e = api_error(last.as_ref().expect("a terminal event"));
    assert_eq!((e.kind(), e.status()), (ErrorKind::Forbidden, 403));
    assert_eq!(e.request_id(), Some("req-7"));
    assert_eq!(
        (e.message(), e.code()),
        (Some("no scope"), Some("forbidden"))
    );
    assert_eq!(
        *e,
        verdict.with_body(br#"{"error":"no scope","code":"forbidden"}"#)
    );
}

// ---- outages: polls ride out curable errors until the deadline -----------------------------

/// The SDK's shape: the transport retries each request, so the turn gives up on a request at
/// once and rides the outage out on its own backoff (exact here: no jitter).
fn sdk_like_cfg() -> TurnConfig {
    let exact = Backoff::default().with_jitter(0.0);
    exact_cfg()
        .with_retry(
            RetryConfig::default()
                .with_max_attempts(1)
                .with_backoff(exact.clone()),
        )
        .with_poll_error_backoff(exact)
}

fn e503() -> Fault {
    Fault::Server {
        status: 503,
        retry_after: None,
        applied: false,
    }
}

fn retries(run: &Run) -> Vec<(u32, Duration)> {
    run.events
        .iter()
        .filter_map(|(at, e)| match e {
            Event::PollRetrying { failed_polls, .. } => Some((*failed_polls, *at)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_outage_is_ridden_out_one_poll_per_backoff_step() {
    let start = t0();
    // Launch and the first poll go through; then six polls in a row get a 503.
    let mut faults = vec![Fault::None, Fault::None];
    faults.extend([e503(); 6]);
    let mut model = Model::new(&["waiting", "running", "finished"]).with_faults(&faults);
    let run = drive(&mut launch(sdk_like_cfg(), start), &mut model, start, None);
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    // 2 s ok; 6 s 503; then 200, 400, 800, 1600, 3200 ms later (503s); 6400 ms later: finished.
    assert_eq!(
        polls,
        vec![
            secs(2),
            secs(6),
            ms(6_200),
            ms(6_600),
            ms(7_400),
            ms(9_000),
            ms(12_200),
            ms(18_600)
        ]
    );
    match run.terminal() {
        Event::Finished { answer, .. } => assert_eq!(answer.as_deref(), Some("the launch answer")),
        other => panic!("{other:?}"),
    }
    let seen: Vec<u32> = retries(&run).iter().map(|(n, _)| *n).collect();
    assert_eq!(seen, vec![1, 2, 3, 4, 5, 6]);
    match &run
        .events
        .iter()
        .find(|(_, e)| matches!(e, Event::PollRetrying { .. }))
        .unwrap()
        .1
    {
        Event::PollRetrying { error, .. } => {
            assert!(error.api().is_some_and(|e| e.status() == 503), "{error:?}")
        }
        _ => unreachable!(),
    }
}

#[test]
fn conversation_reads_and_resets_are_ridden_out_too() {
    let start = t0();
    let mut model = Model::new(&["waiting", "finished"]).with_faults(&[
        Fault::None,
        Fault::Reset { applied: true },
        Fault::NotSent,
        Fault::None,
        // The conversation read, twice.
        Fault::Timeout { applied: false },
        e503(),
    ]);
    let run = drive(&mut launch(sdk_like_cfg(), start), &mut model, start, None);
    assert!(
        matches!(run.terminal(), Event::Finished { answer: Some(a), .. } if a == "the launch answer"),
        "{:?}",
        run.terminal()
    );
    assert_eq!(run.count("/conversation", Method::GET), 3);
    let steps: Vec<u32> = retries(&run).iter().map(|(n, _)| *n).collect();
    // Two failed status polls, a success (the count restarts), two failed conversation reads.
    assert_eq!(steps, vec![1, 2, 1, 2]);
}

#[test]
fn an_outage_past_the_deadline_ends_at_it_naming_the_last_error() {
    let start = t0();
    let mut faults = vec![Fault::None];
    faults.extend([e503(); 64]);
    let mut model = Model::new(&["waiting", "running"]).with_faults(&faults);
    let cfg = sdk_like_cfg().with_deadline(Some(secs(30)));
    let run = drive(&mut launch(cfg, start), &mut model, start, None);
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    // 2 s, then the backoff: +0.2, +0.4, +0.8, +1.6, +3.2, +6.4, +10 (cap) = 24.6 s; the next
    // 10 s step is cut to the deadline: one last poll there.
    assert_eq!(
        polls,
        vec![
            secs(2),
            ms(2_200),
            ms(2_600),
            ms(3_400),
            ms(5_000),
            ms(8_200),
            ms(14_600),
            ms(24_600),
            secs(30)
        ]
    );
    let (at, last) = run.events.last().unwrap();
    assert_eq!(*at, secs(30));
    let Event::Error(err) = last else {
        panic!("{last:?}")
    };
    match err {
        TurnError::PollsFailedUntilDeadline {
            deadline,
            failed_polls,
            last,
        } => {
            assert_eq!(*deadline, secs(30));
            assert_eq!(*failed_polls, 9);
            assert!(last.api().is_some_and(|e| e.status() == 503), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("30-second deadline") && text.contains("503"),
        "{text}"
    );
}

#[test]
fn a_day_long_retry_after_on_a_poll_ends_at_once_with_the_rate_limit_error() {
    let start = t0();
    let mut model = Model::new(&["waiting", "running"])
        .with_faults(&[Fault::None, Fault::Rate(Some(RaForm::Delta(86_400)))]);
    let cfg = sdk_like_cfg().with_deadline(Some(secs(30)));
    let run = drive(&mut launch(cfg, start), &mut model, start, None);
    let (at, last) = run.events.last().unwrap();
    // At the 2 s poll, not after a day, and not even at the deadline: no poll may go out
    // before the Retry-After, so waiting longer could only end the same way.
    assert_eq!(*at, secs(2));
    let e = api_error(last);
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    // The server's wait travels with the error (capped at the default 120 s).
    assert_eq!(e.retry_after(), Some(secs(120)));
    assert_eq!(run.polls().len(), 1);

    // A Retry-After inside the deadline is honoured, and the turn goes on.
    let mut model = Model::new(&["waiting", "finished"])
        .with_faults(&[Fault::None, Fault::Rate(Some(RaForm::Delta(7)))]);
    let cfg = sdk_like_cfg().with_deadline(Some(secs(30)));
    let run = drive(&mut launch(cfg, start), &mut model, start, None);
    let polls: Vec<Duration> = run.polls().iter().map(|s| s.at).collect();
    assert_eq!(polls, vec![secs(2), secs(9)]);
    assert!(matches!(run.terminal(), Event::Finished { .. }));
}

#[test]
fn max_consecutive_bounds_the_outage_with_the_last_error() {
    use nomic_agent_core::turn::PollErrorPolicy;
    let start = t0();
    let mut faults = vec![Fault::None];
    faults.extend([e503(); 8]);
    let mut model = Model::new(&["waiting", "running"]).with_faults(&faults);
    let cfg = sdk_like_cfg().with_poll_errors(PollErrorPolicy::MaxConsecutive(3));
    let run = drive(&mut launch(cfg, start), &mut model, start, None);
    assert_eq!(run.polls().len(), 3);
    assert!(
        matches!(
            run.terminal(),
            Event::Error(TurnError::Api(e)) if e.status() == 503
        ),
        "{:?}",
        run.terminal()
    );
    // MaxConsecutive(1) is the old behaviour: the first failed poll ends the turn.
    let mut model = Model::new(&["waiting", "running"]).with_faults(&faults);
    let cfg = sdk_like_cfg().with_poll_errors(PollErrorPolicy::MaxConsecutive(1));
    let run = drive(&mut launch(cfg, start), &mut model, start, None);
    assert_eq!(run.polls().len(), 1);
    assert!(retries(&run).is_empty());
}

#[test]
fn decode_errors_and_permanent_failures_are_not_ridden_out() {
    let start = t0();
    let id: AgentId = AGENT.parse().unwrap();
    // A permanent failure (a refused certificate, say) on a poll ends the turn at once.
    let mut turn = Turn::attach(id, Arc::new(sdk_like_cfg()), start);
    let tx = turn.poll_transmit(start).unwrap();
    turn.handle_permanent_failure(start, tx.id, SendFailure::NotSent);
    assert!(turn.is_done());
    assert_eq!(
        turn.poll_event(),
        Some(Event::Error(TurnError::Transport(SendFailure::NotSent)))
    );
    // On a launch it keeps the launch rules: maybe received means outcome unknown.
    let mut turn = launch(sdk_like_cfg(), start);
    let tx = turn.poll_transmit(start).unwrap();
    turn.handle_permanent_failure(start, tx.id, SendFailure::MaybeSent);
    assert_eq!(
        turn.poll_event(),
        Some(Event::Error(TurnError::LaunchOutcomeUnknown))
    );
    // A 2xx poll whose body does not decode is the server's bug, not an outage.
    let mut turn = Turn::attach(id, Arc::new(sdk_like_cfg()), start);
    let tx = turn.poll_transmit(start).unwrap();
    let garbage = response(200, &[], json!({"data": {"nope": true}}));
    turn.handle_response(start, SystemTime::UNIX_EPOCH, tx.id, garbage);
    assert!(matches!(
        turn.poll_event(),
        Some(Event::Error(TurnError::Decode(_)))
    ));
}

#[test]
fn a_status_poll_unanswered_at_the_deadline_is_abandoned() {
    let start = t0();
    let id: AgentId = AGENT.parse().unwrap();
    let cfg = Arc::new(sdk_like_cfg().with_deadline(Some(secs(5))));
    let mut turn = Turn::attach(id, Arc::clone(&cfg), start);
    let tx = turn.poll_transmit(start).unwrap();
    // The server never answers: the wait still ends at its deadline.
    assert_eq!(turn.poll_timeout(), Some(start + secs(5)));
    turn.handle_timeout(start + secs(5));
    assert!(turn.is_done());
    assert_eq!(
        turn.poll_event(),
        Some(Event::Error(TurnError::DeadlineExceeded))
    );
    // A late answer changes nothing.
    let model = Model::new(&["finished"]);
    let late = response(200, &[], json!({"data": model.agent_json()}));
    turn.handle_response(start + secs(6), SystemTime::UNIX_EPOCH, tx.id, late);
    assert_eq!(turn.poll_event(), None);

    // During an outage the deadline error names the last poll error.
    let mut turn = Turn::attach(id, Arc::clone(&cfg), start);
    let tx = turn.poll_transmit(start).unwrap();
    turn.handle_failure(start, tx.id, SendFailure::MaybeSent);
    assert!(matches!(
        turn.poll_event(),
        Some(Event::PollRetrying {
            failed_polls: 1,
            ..
        })
    ));
    let at = turn.poll_timeout().unwrap();
    turn.handle_timeout(at);
    let _retry = turn.poll_transmit(at).unwrap();
    turn.handle_timeout(start + secs(5));
    assert_eq!(
        turn.poll_event(),
        Some(Event::Error(TurnError::PollsFailedUntilDeadline {
            deadline: secs(5),
            failed_polls: 1,
            last: Box::new(TurnError::Transport(SendFailure::MaybeSent)),
        }))
    );

    // The last poll, sent at the deadline, is left to finish.
    let mut model = Model::new(&["running", "running", "running"]);
    model.status = "running".into();
    let mut turn = Turn::attach(id, cfg, start);
    let mut now = start;
    loop {
        let tx = turn.poll_transmit(now).unwrap();
        if now == start + secs(5) {
            assert_eq!(turn.poll_timeout(), None, "the last poll has no cut-off");
            let (_, resp) = model.serve(&tx.request, SystemTime::UNIX_EPOCH);
            turn.handle_response(now + secs(1), SystemTime::UNIX_EPOCH, tx.id, resp.unwrap());
            break;
        }
        let (_, resp) = model.serve(&tx.request, SystemTime::UNIX_EPOCH);
        turn.handle_response(now, SystemTime::UNIX_EPOCH, tx.id, resp.unwrap());
        now = turn.poll_timeout().unwrap();
        turn.handle_timeout(now);
    }
    let events: Vec<Event> = std::iter::from_fn(|| turn.poll_event()).collect();
    assert_eq!(
        events.last(),
        Some(&Event::Error(TurnError::DeadlineExceeded))
    );
}

#[test]
fn a_stale_window_poll_unanswered_at_the_deadline_goes_to_the_conversation() {
    let start = t0();
    let model = Model::finished(&["running", "finished"], 0);
    let cfg = sdk_like_cfg().with_deadline(Some(secs(3)));
    let mut turn = follow_up(&model, cfg, start);
    let tx = turn.poll_transmit(start).unwrap();
    let accepted = response(202, &[], json!({"data": model.agent_json()}));
    turn.handle_response(start, SystemTime::UNIX_EPOCH, tx.id, accepted);
    let at = turn.poll_timeout().unwrap();
    turn.handle_timeout(at);
    let _stale_poll = turn.poll_transmit(at).unwrap();
    assert_eq!(turn.poll_timeout(), Some(start + secs(3)));
    turn.handle_timeout(start + secs(3));
    assert_eq!(turn.phase(), TurnPhase::Confirming);
    let read = turn.poll_transmit(start + secs(3)).unwrap();
    assert!(read.request.uri().path().ends_with("/conversation"));
}

/// Curable faults only: what an outage throws at polls.
fn curable_fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        2 => Just(Fault::None),
        1 => Just(Fault::NotSent),
        1 => any::<bool>().prop_map(|applied| Fault::Reset { applied }),
        1 => any::<bool>().prop_map(|applied| Fault::Timeout { applied }),
        1 => Just(Fault::Rate(None)),
        3 => prop_oneof![Just(500u16), Just(502), Just(503), Just(504)]
            .prop_map(|status| Fault::Server { status, retry_after: None, applied: false }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever curable faults hit the polls, a turn ends with the agent's outcome or at its
    /// deadline, never with one of those errors, and never faster than one poll per backoff
    /// step of the outage.
    #[test]
    fn polls_ride_out_curable_faults_until_the_deadline(
        tl in timeline(),
        faults in proptest::collection::vec(curable_fault(), 0..60),
        deadline_s in prop_oneof![Just(None), (1u64..300).prop_map(Some)],
        jitter in prop_oneof![Just(0.0), Just(0.2)],
        seed in any::<u64>(),
    ) {
        let start = t0();
        let backoff = Backoff::default().with_jitter(jitter);
        let cfg = TurnConfig::new(base())
            .with_seed(seed)
            .with_retry(RetryConfig::default().with_max_attempts(1))
            .with_poll_error_backoff(backoff.clone())
            .with_deadline(deadline_s.map(secs));
        let mut all = vec![Fault::None];
        all.extend(faults);
        let mut model = Model::new(&tl).with_faults(&all);
        let run = drive(&mut launch(cfg.clone(), start), &mut model, start, None);
        check_run(&run, &model, &cfg, false);
        match run.terminal() {
            Event::Finished { .. } | Event::Failed { .. } | Event::Stopped { .. } => {}
            Event::Error(TurnError::DeadlineExceeded | TurnError::PollsFailedUntilDeadline { .. }) => {
                prop_assert!(deadline_s.is_some(), "a deadline error without a deadline");
            }
            other => prop_assert!(false, "an outage ended the turn: {other:?}"),
        }
        if let Some(d) = deadline_s {
            prop_assert!(run.sent.iter().all(|s| s.at <= secs(d)));
        }
        // One poll per backoff step: after the n-th failed poll in a row, the next request
        // waits at least the n-th step's floor (or goes out at the deadline itself).
        let mut failed = 0u32;
        for pair in run.sent.windows(2) {
            let (prev, next) = (&pair[0], &pair[1]);
            if prev.kind != RequestKind::Read {
                continue;
            }
            match prev.served {
                Served::Ok { .. } => failed = 0,
                _ => {
                    failed += 1;
                    let nominal = backoff.initial.mul_f64(2f64.powi(failed as i32 - 1)).min(backoff.max);
                    let floor = nominal.mul_f64(1.0 - jitter) - Duration::from_nanos(1);
                    let gap = next.at - prev.at;
                    prop_assert!(
                        gap >= floor || deadline_s.map(secs) == Some(next.at),
                        "after {failed} failed polls: {gap:?} < {floor:?}"
                    );
                }
            }
        }
    }
}
