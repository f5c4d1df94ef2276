//! Resumed turns (`Turn::resume` from a `Ticket`): an adversarial server that answers every
//! read with stale, regressing, duplicated or out-of-order observations can never make a
//! resumed follow-up report the previous turn's answer; a consistent server gets the new one.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Method, Response};
use nomic_agent_core::policy::retry::SendFailure;
use nomic_agent_core::request::ApiBase;
use nomic_agent_core::turn::{Event, Ticket, TicketError, Turn, TurnConfig, TurnError};
use nomic_agent_core::wire::{Agent, AgentStatus, Prompt, Timestamp};
use proptest::prelude::*;
use serde_json::json;

const AGENT: &str = "0192f5a8-6c1e-7cc0-8000-000000000001";
const OLD_PROMPT: &str = "first question";
const OLD_ANSWER: &str = "OLD ANSWER";
const FOLLOW_UP: &str = "and now the summary";
const NEW_ANSWER: &str = "NEW ANSWER";
/// The previous turn's `updatedAt`, unix ms (2026-04-25T12:00:00Z).
const PRIOR_MS: i64 = 1_777_118_400_000;

fn base() -> ApiBase {
    ApiBase::parse("https://acme.nomic.ai").unwrap()
}

#[allow(clippy::disallowed_methods)] // one base instant; only offsets matter
fn t0() -> Instant {
    Instant::now()
}

fn wall(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms as u64)
}

fn agent_json(status: &str, updated_ms: i64) -> serde_json::Value {
    json!({
        "id": AGENT, "status": status, "artifacts": [],
        "createdAt": "2026-04-25T11:00:00.000Z",
        "updatedAt": Timestamp::from_unix_millis(updated_ms).unwrap().as_str(),
    })
}

fn conv_json(rows: &[(&str, &str)]) -> serde_json::Value {
    let rows: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, (t, x))| json!({"id": format!("m{i}"), "type": t, "text": x}))
        .collect();
    json!({"messages": rows})
}

fn ok(code: u16, data: serde_json::Value) -> Response<Bytes> {
    Response::builder()
        .status(code)
        .body(Bytes::from(json!({ "data": data }).to_string()))
        .unwrap()
}

/// The agent as the follow-up's sender saw it: the previous turn, finished.
fn prior() -> Agent {
    nomic_agent_core::wire::decode_agent(
        json!({ "data": agent_json("finished", PRIOR_MS) })
            .to_string()
            .as_bytes(),
    )
    .unwrap()
}

/// Sends a follow-up (the server's 202 shows the stale previous turn) and returns its ticket.
fn send_follow_up(cfg: &Arc<TurnConfig>, sent_wall_ms: i64) -> Ticket {
    let now = t0();
    let mut turn = Turn::follow_up(prior(), Prompt::new(FOLLOW_UP), Arc::clone(cfg), now).unwrap();
    assert!(
        turn.ticket().is_none(),
        "no ticket before the server accepted"
    );
    let tx = turn.poll_transmit(now).expect("the follow-up");
    assert_eq!(tx.request.method(), Method::POST);
    let accepted = ok(202, agent_json("finished", PRIOR_MS));
    turn.handle_response(now, wall(sent_wall_ms), tx.id, accepted);
    let ticket = turn.ticket().expect("a ticket once accepted").clone();
    assert!(ticket.is_follow_up());
    assert_eq!(ticket.sent_at_ms(), sent_wall_ms as u64);
    ticket
}

/// One answer the adversary may give to a status read.
#[derive(Debug, Clone, Copy)]
enum AgentObs {
    /// The previous turn exactly: finished, the old `updatedAt`.
    Stale,
    /// A lagging replica: finished, an `updatedAt` older than the previous turn's.
    Older(u16),
    /// The new turn running.
    Running(u16),
    /// The new turn finished.
    Finished(u16),
    /// The previous response again.
    Duplicate,
    /// No response (a reset).
    Lost,
}

/// One answer the adversary may give to a conversation read.
#[derive(Debug, Clone, Copy)]
enum ConvObs {
    /// Only the previous turn.
    Old,
    /// The new prompt recorded, no answer yet.
    PromptOnly,
    /// The new prompt and its answer.
    Answered,
    /// The previous response again.
    Duplicate,
}

fn agent_obs() -> impl Strategy<Value = AgentObs> {
    prop_oneof![
        3 => Just(AgentObs::Stale),
        2 => any::<u16>().prop_map(AgentObs::Older),
        1 => any::<u16>().prop_map(AgentObs::Running),
        1 => any::<u16>().prop_map(AgentObs::Finished),
        2 => Just(AgentObs::Duplicate),
        1 => Just(AgentObs::Lost),
    ]
}

fn conv_obs() -> impl Strategy<Value = ConvObs> {
    prop_oneof![
        Just(ConvObs::Old),
        Just(ConvObs::PromptOnly),
        Just(ConvObs::Answered),
        Just(ConvObs::Duplicate),
    ]
}

/// Drives `turn` against the scripted adversary (once a script runs out it keeps showing the
/// previous turn) and returns the terminal event.
fn drive(turn: &mut Turn, start: Instant, agents: &[AgentObs], convs: &[ConvObs]) -> Event {
    let (mut agents, mut convs) = (agents.iter(), convs.iter());
    let old = conv_json(&[("user", OLD_PROMPT), ("assistant", OLD_ANSWER)]);
    let stale = agent_json("finished", PRIOR_MS);
    let (mut last_agent, mut last_conv) = (stale.clone(), old.clone());
    let mut now = start;
    let mut terminal = None;
    for _ in 0..10_000 {
        while let Some(tx) = turn.poll_transmit(now) {
            let wall_now = wall(PRIOR_MS) + (now - start);
            if tx.request.uri().path().ends_with("/conversation") {
                let body = match convs.next().copied().unwrap_or(ConvObs::Old) {
                    ConvObs::Old => old.clone(),
                    ConvObs::PromptOnly => conv_json(&[
                        ("user", OLD_PROMPT),
                        ("assistant", OLD_ANSWER),
                        ("user", FOLLOW_UP),
                    ]),
                    ConvObs::Answered => conv_json(&[
                        ("user", OLD_PROMPT),
                        ("assistant", OLD_ANSWER),
                        ("user", FOLLOW_UP),
                        ("assistant", NEW_ANSWER),
                    ]),
                    ConvObs::Duplicate => last_conv.clone(),
                };
                last_conv = body.clone();
                turn.handle_response(now, wall_now, tx.id, ok(200, body));
                continue;
            }
            assert_eq!(
                tx.request.method(),
                Method::GET,
                "a resumed turn only reads"
            );
            let later = |d: u16| PRIOR_MS + 1 + i64::from(d);
            let body = match agents.next().copied().unwrap_or(AgentObs::Stale) {
                AgentObs::Stale => stale.clone(),
                AgentObs::Older(d) => agent_json("finished", PRIOR_MS - 1 - i64::from(d)),
                AgentObs::Running(d) => agent_json("running", later(d)),
                AgentObs::Finished(d) => agent_json("finished", later(d)),
                AgentObs::Duplicate => last_agent.clone(),
                AgentObs::Lost => {
                    turn.handle_failure(now, tx.id, SendFailure::MaybeSent);
                    continue;
                }
            };
            last_agent = body.clone();
            turn.handle_response(now, wall_now, tx.id, ok(200, body));
        }
        while let Some(ev) = turn.poll_event() {
            assert!(
                terminal.is_none(),
                "an event after the terminal one: {ev:?}"
            );
            if ev.is_terminal() {
                terminal = Some(ev);
            }
        }
        if turn.is_done() {
            return terminal.expect("a done turn emitted its terminal event");
        }
        let next = turn
            .poll_timeout()
            .expect("a live turn waits for something");
        now = now.max(next);
        turn.handle_timeout(now);
    }
    panic!("the turn never ended");
}

fn cfg(window_ms: u64) -> Arc<TurnConfig> {
    Arc::new(
        TurnConfig::new(base())
            .with_followup_window(Duration::from_millis(window_ms))
            .with_deadline(Some(Duration::from_secs(600))),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_resumed_follow_up_never_reports_the_old_answer(
        agents in proptest::collection::vec(agent_obs(), 0..40),
        convs in proptest::collection::vec(conv_obs(), 0..6),
        window_ms in prop_oneof![Just(0u64), 1u64..5_000, Just(30_000)],
        resumed_after_ms in prop_oneof![Just(0i64), 0i64..40_000, Just(-5_000)],
    ) {
        let cfg = cfg(window_ms);
        let ticket = send_follow_up(&cfg, PRIOR_MS);
        // Through the string form, as another process gets it.
        let ticket: Ticket = ticket.to_string().parse().unwrap();
        let start = t0();
        let mut turn = Turn::resume(&ticket, Arc::clone(&cfg), start, wall(PRIOR_MS + resumed_after_ms)).unwrap();
        prop_assert_eq!(turn.ticket(), Some(&ticket));
        match drive(&mut turn, start, &agents, &convs) {
            Event::Finished { answer, .. } => {
                prop_assert_ne!(answer.as_deref(), Some(OLD_ANSWER));
                if let Some(a) = answer {
                    prop_assert_eq!(a, NEW_ANSWER);
                }
            }
            // Unconfirmed or out of time: an error, never a wrong answer.
            Event::Error(_) => {}
            other => prop_assert!(false, "unexpected terminal event {other:?}"),
        }
    }
}

/// A consistent server: stale for a while, then the new turn runs and finishes. The resumed
/// turn waits out the staleness and reports the new answer.
#[test]
fn a_resumed_follow_up_gets_the_new_answer() {
    let cfg = cfg(30_000);
    let ticket = send_follow_up(&cfg, PRIOR_MS);
    let start = t0();
    let mut turn = Turn::resume(&ticket, Arc::clone(&cfg), start, wall(PRIOR_MS + 2_000)).unwrap();
    let agents = [
        AgentObs::Stale,
        AgentObs::Stale,
        AgentObs::Running(5),
        AgentObs::Stale, // a lagging replica after the new turn was seen: ignored
        AgentObs::Running(6),
        AgentObs::Finished(9),
    ];
    match drive(&mut turn, start, &agents, &[ConvObs::Answered]) {
        Event::Finished { answer, .. } => assert_eq!(answer.as_deref(), Some(NEW_ANSWER)),
        other => panic!("expected the new answer, got {other:?}"),
    }
}

/// Resumed long after the window closed with the server still showing the previous turn: the
/// conversation decides, as it would have for the sender.
#[test]
fn a_late_resume_confirms_from_the_conversation() {
    let cfg = cfg(30_000);
    let ticket = send_follow_up(&cfg, PRIOR_MS);
    let start = t0();
    let late = wall(PRIOR_MS + 3_600_000);
    let mut turn = Turn::resume(&ticket, Arc::clone(&cfg), start, late).unwrap();
    let ev = drive(&mut turn, start, &[AgentObs::Stale], &[ConvObs::Answered]);
    assert!(matches!(ev, Event::Finished { answer: Some(ref a), .. } if a == NEW_ANSWER));
    let mut turn = Turn::resume(&ticket, Arc::clone(&cfg), start, late).unwrap();
    let ev = drive(&mut turn, start, &[AgentObs::Stale], &[ConvObs::Old]);
    assert!(matches!(ev, Event::Error(TurnError::StaleAfterFollowUp)));
}

/// A launch's ticket waits like an attach; a ticket for another origin is refused.
#[test]
fn launch_tickets_and_foreign_origins() {
    let cfg = cfg(30_000);
    let now = t0();
    let mut turn = Turn::launch(
        nomic_agent_core::wire::LaunchRequest::prompt("hi"),
        Arc::clone(&cfg),
        now,
    )
    .unwrap();
    let tx = turn.poll_transmit(now).unwrap();
    turn.handle_response(
        now,
        wall(PRIOR_MS),
        tx.id,
        ok(201, agent_json("running", PRIOR_MS)),
    );
    let ticket = turn.ticket().expect("a launch's ticket").clone();
    assert!(!ticket.is_follow_up());
    assert_eq!(ticket.origin(), "https://acme.nomic.ai");
    let mut resumed = Turn::resume(&ticket, Arc::clone(&cfg), now, wall(PRIOR_MS)).unwrap();
    let ev = drive(
        &mut resumed,
        now,
        &[AgentObs::Running(1), AgentObs::Finished(2)],
        &[ConvObs::Answered],
    );
    assert!(matches!(ev, Event::Finished { answer: Some(ref a), .. } if a == NEW_ANSWER));

    let other = Arc::new(TurnConfig::new(
        ApiBase::parse("https://other.nomic.ai").unwrap(),
    ));
    let err = Turn::resume(&ticket, other, now, wall(PRIOR_MS)).unwrap_err();
    assert!(matches!(err, TicketError::ForeignOrigin { .. }));
    assert_eq!(
        AgentStatus::Finished,
        prior().status,
        "the sender's baseline is the finished previous turn"
    );
}

/// A follow-up whose response was lost: its unconfirmed ticket waits for the answer to *this*
/// prompt when the server got it, and ends with `StaleAfterFollowUp` (never the previous
/// answer) when it did not.
#[test]
fn an_unconfirmed_follow_up_resolves_from_the_conversation() {
    let cfg = cfg(5_000);
    let now = t0();
    let mut sent = Turn::follow_up(prior(), Prompt::new(FOLLOW_UP), Arc::clone(&cfg), now).unwrap();
    let tx = sent.poll_transmit(now).expect("the follow-up");
    sent.handle_permanent_failure(now, tx.id, SendFailure::MaybeSent);
    while let Some(ev) = sent.poll_event() {
        if let Event::Error(e) = ev {
            assert!(matches!(e, TurnError::FollowUpOutcomeUnknown), "{e:?}");
        }
    }
    assert!(sent.is_done());
    assert!(sent.ticket().is_none(), "never accepted");
    let ticket = sent
        .unconfirmed_ticket(wall(PRIOR_MS + 100))
        .expect("a follow-up names its turn even unconfirmed");
    assert!(ticket.is_follow_up());

    // It arrived: the new turn runs, finishes, and the answer is this prompt's.
    let start = t0();
    let mut turn = Turn::resume(&ticket, Arc::clone(&cfg), start, wall(PRIOR_MS + 100)).unwrap();
    let agents = [AgentObs::Stale, AgentObs::Running(3), AgentObs::Finished(7)];
    match drive(&mut turn, start, &agents, &[ConvObs::Answered]) {
        Event::Finished { answer, .. } => assert_eq!(answer.as_deref(), Some(NEW_ANSWER)),
        other => panic!("expected the new answer, got {other:?}"),
    }
    // It never arrived: the server keeps the previous turn; the wait says so.
    let mut turn = Turn::resume(&ticket, Arc::clone(&cfg), start, wall(PRIOR_MS + 100)).unwrap();
    let ev = drive(&mut turn, start, &[], &[ConvObs::Old]);
    assert!(
        matches!(ev, Event::Error(TurnError::StaleAfterFollowUp)),
        "{ev:?}"
    );

    let launch = Turn::launch(
        nomic_agent_core::wire::LaunchRequest::prompt("hi"),
        Arc::clone(&cfg),
        now,
    )
    .unwrap();
    assert!(launch.unconfirmed_ticket(wall(PRIOR_MS)).is_none());
}

/// Per-call bounds: a shorter deadline from `rebound` ends the wait then, with the deadline
/// error; a faster schedule brings the next poll forward.
#[test]
fn rebound_replaces_the_schedule_and_deadline_from_now() {
    use nomic_agent_core::policy::poll::PollSchedule;
    let cfg = cfg(30_000); // client deadline 600 s
    let start = t0();
    let id = AGENT.parse().unwrap();
    let mut turn = Turn::attach(id, Arc::clone(&cfg), start);
    let tx = turn.poll_transmit(start).expect("first poll");
    turn.handle_response(
        start,
        wall(PRIOR_MS),
        tx.id,
        ok(200, agent_json("running", PRIOR_MS)),
    );
    let next = turn.poll_timeout().expect("a next poll");
    assert!(
        next >= start + Duration::from_millis(1_800),
        "default 2 s schedule"
    );

    let fast = PollSchedule::default()
        .with_initial(Duration::from_millis(100))
        .with_max(Duration::from_millis(200))
        .with_deadline(Some(Duration::from_secs(1)));
    turn.rebound(start, fast);
    let next = turn.poll_timeout().expect("a next poll");
    assert!(
        next <= start + Duration::from_millis(110),
        "brought forward: {:?}",
        next - start
    );
    // Keep answering "running": the 1 s deadline (not the client's 600 s) ends it.
    let mut now = start;
    for _ in 0..1_000 {
        while let Some(tx) = turn.poll_transmit(now) {
            turn.handle_response(
                now,
                wall(PRIOR_MS),
                tx.id,
                ok(200, agent_json("running", PRIOR_MS)),
            );
        }
        if turn.is_done() {
            break;
        }
        now = now.max(turn.poll_timeout().expect("waiting"));
        turn.handle_timeout(now);
    }
    assert!(turn.is_done(), "ended by the per-call deadline");
    assert!(
        now <= start + Duration::from_millis(1_300),
        "{:?}",
        now - start
    );
    let mut err = None;
    while let Some(ev) = turn.poll_event() {
        if let Event::Error(e) = ev {
            err = Some(e);
        }
    }
    assert!(matches!(err, Some(TurnError::DeadlineExceeded)), "{err:?}");
}
