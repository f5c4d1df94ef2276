//! Turn tickets across clients: a follow-up sent by one client is waited on by another
//! (a fresh `Client`, as another process would build) from the ticket's string form, inside the
//! emulator's stale window — and gets the new turn's answer, never the previous one.

use futures_util::StreamExt;
use nomic_agent::{AgentStatus, Client, Error, LaunchRequest, Ticket, TicketError};
use nomic_agent_emulator::LifecycleConfig;
use nomic_agent_tests::{SCALE, Wire, client, config, start};

/// Longer than the SDK needs to see the new turn start, shorter than its follow-up window
/// (60 s, scaled like this): the server shows the previous turn's `finished` for a long time.
const STALE_WINDOW_MS: u64 = 50_000;

async fn stale_emulator() -> nomic_agent_emulator::RunningEmulator {
    let mut cfg = config(Wire::Tcp, SCALE);
    cfg.lifecycle = LifecycleConfig {
        stale_window_ms: STALE_WINDOW_MS,
        ..LifecycleConfig::default()
    };
    start(cfg).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_client_resumes_a_follow_up_from_its_ticket() {
    let emu = stale_emulator().await;
    let sender = client(&emu, SCALE);
    let agent = sender
        .launch(LaunchRequest::prompt("first question"))
        .await
        .unwrap();
    let launch_ticket = agent.ticket().expect("a launch yields a ticket");
    assert!(!launch_ticket.is_follow_up());
    let first = agent.wait().await.unwrap().answer.unwrap();
    assert!(first.contains("first question"), "{first}");

    let sent = sender
        .follow_up(agent.id(), "second question")
        .await
        .unwrap();
    let text = sent
        .ticket()
        .expect("a follow-up yields a ticket")
        .to_string();
    assert_ne!(text, launch_ticket.to_string());
    assert!(
        !text.contains(nomic_agent_tests::SENTINEL_KEY),
        "never the key"
    );

    // Another client, from the string alone, during the stale window.
    let waiter = client(&emu, SCALE);
    let ticket: Ticket = text.parse().unwrap();
    let resumed = waiter.resume(&ticket).unwrap();
    assert_eq!(resumed.id(), agent.id());
    assert_eq!(resumed.ticket().as_ref(), Some(&ticket));
    let out = resumed.wait().await.unwrap();
    assert_eq!(out.status, AgentStatus::Finished);
    let answer = out.answer.unwrap();
    assert!(answer.contains("second question"), "{answer}");
    assert_ne!(answer, first);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_on_a_resumed_handle_follows_the_new_turn_only() {
    let emu = stale_emulator().await;
    let sender = client(&emu, SCALE);
    let agent = sender
        .launch(LaunchRequest::prompt("first question"))
        .await
        .unwrap();
    let first = agent.wait().await.unwrap().answer.unwrap();
    let sent = sender
        .follow_up(agent.id(), "second question")
        .await
        .unwrap();
    let ticket = sent.ticket().unwrap();

    let resumed = client(&emu, SCALE).resume(&ticket).unwrap();
    let changes: Vec<_> = resumed.watch().map(|r| r.unwrap()).collect().await;
    // Whatever the polls caught of the new turn (a fast turn may show no change at all), the
    // stream ends with it, never earlier on the stale `finished`.
    assert!(
        changes
            .iter()
            .all(|c| c.to.is_active() || c.to == AgentStatus::Finished),
        "{changes:?}"
    );
    // The outcome the watch saw is handed to `wait` without another request.
    let answer = resumed.wait().await.unwrap().answer.unwrap();
    assert!(answer.contains("second question"), "{answer}");
    assert_ne!(answer, first);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_only_handle_waits_on_the_latest_turn_its_client_issued() {
    let emu = stale_emulator().await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("first question"))
        .await
        .unwrap();
    let first = agent.wait().await.unwrap().answer.unwrap();
    c.follow_up(agent.id(), "second question").await.unwrap();
    // A fresh handle knowing only the id, on the client that sent the follow-up.
    let out = c.agent(agent.id()).wait().await.unwrap();
    let answer = out.answer.unwrap();
    assert!(answer.contains("second question"), "{answer}");
    assert_ne!(answer, first);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_for_another_origin_or_a_damaged_one_is_a_typed_error() {
    let emu = stale_emulator().await;
    let c = client(&emu, SCALE);
    let agent = c.launch(LaunchRequest::prompt("hello")).await.unwrap();
    let ticket = agent.ticket().unwrap();
    let elsewhere = Client::builder()
        .api_key(nomic_agent_tests::SENTINEL_KEY)
        .base_url("https://elsewhere.example")
        .build()
        .unwrap();
    let err = elsewhere.resume(&ticket).unwrap_err();
    assert!(
        matches!(err, Error::Ticket(TicketError::ForeignOrigin { .. })),
        "{err}"
    );
    let text = ticket.to_string();
    let err = text[..text.len() - 3].parse::<Ticket>().unwrap_err();
    assert!(matches!(err, TicketError::Malformed { .. }), "{err}");
    agent.wait().await.unwrap();
    emu.shutdown().await;
}
