//! Submit-then-lookup sessions, per-call wait bounds, and a second `wait` after a follow-up
//! whose outcome was unknown — against the emulator over TCP, with its stale window on.

use std::time::Duration;

use nomic_agent::{
    AgentStatus, Error, FileStore, LaunchRequest, Session, SessionStart, ThreadStatus, Ticket,
    WaitOptions,
};
use nomic_agent_emulator::{Fault, FaultRule, LifecycleConfig, RunningEmulator};
use nomic_agent_tests::{SCALE, Wire, client, config, start};

/// The server shows the previous turn's `finished` for this long after a follow-up (emulator
/// ms, scaled): shorter than the client's follow-up window (60 s scaled the same way).
const STALE_WINDOW_MS: u64 = 50_000;

async fn stale_emulator() -> RunningEmulator {
    let mut cfg = config(Wire::Tcp, SCALE);
    cfg.lifecycle = LifecycleConfig {
        stale_window_ms: STALE_WINDOW_MS,
        ..LifecycleConfig::default()
    };
    start(cfg).await
}

fn follow_up_fault(fault: Fault) -> FaultRule {
    FaultRule {
        route: "/agents/{id}/followup".into(),
        method: Some("POST".into()),
        fault,
        probability: None,
        count: Some(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_returns_a_ticket_that_another_process_turns_into_the_answer() {
    let emu = stale_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("threads.json");
    // The web handler's process.
    let web = Session::new(client(&emu, SCALE), FileStore::open(&path).unwrap());
    assert_eq!(web.status("t1").await.unwrap(), ThreadStatus::Empty);

    let sub = web.submit("t1", "first question").await.unwrap();
    assert_eq!(sub.start, SessionStart::Launched);
    assert_eq!(sub.ticket.agent_id(), sub.agent_id);
    // Journaled: the store already names the agent and the ticket.
    let rec = web.turn_record("t1").await.unwrap().unwrap();
    assert_eq!(rec.ticket(), Some(&sub.ticket));
    assert_eq!(web.agent_id("t1").await.unwrap(), Some(sub.agent_id));

    // A worker process: its own client and store handle, only the ticket's text.
    let worker = Session::new(client(&emu, SCALE), FileStore::open(&path).unwrap());
    let ticket: Ticket = sub.ticket.to_string().parse().unwrap();
    let first = worker.reply(&ticket).await.unwrap();
    let first_answer = first.outcome.answer.clone().unwrap();
    assert!(first_answer.contains("first question"), "{first_answer}");
    assert!(matches!(
        web.status("t1").await.unwrap(),
        ThreadStatus::Ended {
            status: AgentStatus::Finished,
            ..
        }
    ));

    // A follow-up submitted inside the stale window: the server still shows the previous
    // turn's `finished`, which `status` must not take for this turn's end.
    let next = web.submit("t1", "second question").await.unwrap();
    assert_eq!(next.start, SessionStart::FollowedUp);
    assert!(next.ticket.is_follow_up());
    match web.status("t1").await.unwrap() {
        ThreadStatus::Running { ticket, .. } => assert_eq!(ticket, Some(next.ticket.clone())),
        other => panic!("the stale `finished` was read as the new turn's end: {other:?}"),
    }
    let second = worker.reply(&next.ticket).await.unwrap();
    let answer = second.outcome.answer.unwrap();
    assert!(answer.contains("second question"), "{answer}");
    assert_ne!(answer, first_answer);
    assert_eq!(second.start, SessionStart::FollowedUp);
    assert!(matches!(
        worker.status("t1").await.unwrap(),
        ThreadStatus::Ended { .. }
    ));
    // One agent for the thread, one launch and one follow-up sent.
    let log = emu.request_log();
    let posts = |suffix: &str| {
        log.iter()
            .filter(|e| e.method == "POST" && e.path.ends_with(suffix))
            .count()
    };
    assert_eq!(posts("/agents"), 1);
    assert_eq!(posts("/followup"), 1);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_message_is_not_sent_twice() {
    let emu = stale_emulator().await;
    let s = Session::in_memory(client(&emu, SCALE));
    let a = s.submit_message("t", "m1", "only once").await.unwrap();
    s.reply(&a.ticket).await.unwrap();
    // The same message again (a retried web request): the recorded turn, nothing sent.
    let b = s.submit_message("t", "m1", "only once").await.unwrap();
    assert_eq!(b.ticket, a.ticket);
    assert_eq!(b.start, SessionStart::Resumed);
    let launches = emu
        .request_log()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/agents"))
        .count();
    assert_eq!(launches, 1);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_call_deadline_ends_one_wait_and_a_later_wait_picks_the_turn_up() {
    let emu = stale_emulator().await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("runs until stopped [never]"))
        .await
        .unwrap();
    let short = WaitOptions::new()
        .deadline(Duration::from_millis(200))
        .poll_interval(Duration::from_millis(5), Duration::from_millis(20));
    let err = agent.wait_with(&short).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    // The session's status sees it running; the next wait (client bounds) gets the end.
    agent.stop().await.unwrap();
    let out = agent.wait().await.unwrap();
    assert_eq!(out.status, AgentStatus::Stopped);
    let bad = WaitOptions::new().poll_interval(Duration::from_secs(5), Duration::from_secs(1));
    assert!(matches!(
        agent.wait_with(&bad).await,
        Err(Error::Config { .. })
    ));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_with_a_short_deadline_leaves_the_turn_for_reply() {
    let emu = stale_emulator().await;
    let s = Session::in_memory(client(&emu, SCALE));
    let short = WaitOptions::new().deadline(Duration::from_millis(100));
    let err = s
        .send_with("t", "slow one [never]", &short)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    let ThreadStatus::Running {
        agent_id,
        ticket: Some(ticket),
        ..
    } = s.status("t").await.unwrap()
    else {
        panic!("the timed-out turn is still recorded as running");
    };
    s.client().stop(agent_id).await.unwrap();
    let reply = s.reply(&ticket).await.unwrap();
    assert_eq!(reply.outcome.status, AgentStatus::Stopped);
    emu.shutdown().await;
}

/// The follow-up reached the server but its response was lost (reset after commit): the
/// first wait reports the unknown, the second resolves it to the new turn's answer — never
/// the previous turn's, although the server still shows its `finished`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_wait_after_an_unknown_follow_up_gets_the_new_answer() {
    let emu = stale_emulator().await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("first question"))
        .await
        .unwrap();
    let first = agent.wait().await.unwrap().answer.unwrap();
    emu.set_faults(vec![follow_up_fault(Fault::ResetAfter)])
        .unwrap();
    let err = agent.follow_up("second question").await.unwrap_err();
    assert!(matches!(err, Error::FollowUpOutcomeUnknown { .. }), "{err}");
    let answer = agent.wait().await.unwrap().answer.unwrap();
    assert!(answer.contains("second question"), "{answer}");
    assert_ne!(answer, first);
    // An id-only handle of the same client knows of the unknown turn too.
    let again = c.agent(agent.id()).wait().await.unwrap().answer.unwrap();
    assert_eq!(again, answer);
    emu.shutdown().await;
}

/// The follow-up never reached the server (a 503 before acting): the second wait says the
/// agent never showed the new turn — it does not report the previous turn's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_wait_after_a_lost_follow_up_never_reports_the_old_answer() {
    let emu = stale_emulator().await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("first question"))
        .await
        .unwrap();
    agent.wait().await.unwrap();
    emu.set_faults(vec![follow_up_fault(Fault::ServerError { status: 503 })])
        .unwrap();
    let err = agent.follow_up("second question").await.unwrap_err();
    assert!(matches!(err, Error::FollowUpOutcomeUnknown { .. }), "{err}");
    let err = agent.wait().await.unwrap_err();
    assert!(matches!(err, Error::StaleAfterFollowUp), "{err}");
    emu.shutdown().await;
}
