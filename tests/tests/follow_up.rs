//! Follow-ups through the stale window: the new turn's answer, never the previous one.

use nomic_agent::{AgentStatus, Error, LaunchRequest};
use nomic_agent_emulator::LifecycleConfig;
use nomic_agent_tests::{SCALE, Wire, client, config, start};

async fn follow_up_with_stale_window(stale_window_ms: u64) {
    let mut cfg = config(Wire::Tcp, SCALE);
    cfg.lifecycle = LifecycleConfig {
        stale_window_ms,
        ..LifecycleConfig::default()
    };
    let emu = start(cfg).await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("first question"))
        .await
        .unwrap();
    let first = agent.wait().await.unwrap();
    let first_answer = first.answer.unwrap();
    assert!(first_answer.contains("first question"), "{first_answer}");

    for (n, prompt) in ["second question", "third question"]
        .into_iter()
        .enumerate()
    {
        let out = agent.ask(prompt).await.unwrap();
        assert_eq!(out.status, AgentStatus::Finished);
        let answer = out.answer.unwrap();
        assert!(answer.contains(prompt), "turn {n}: {answer}");
        assert_ne!(answer, first_answer);
        assert!(
            answer.starts_with(&format!("Turn {} answer", n + 2)),
            "{answer}"
        );
    }
    let counters = emu.counters();
    assert_eq!(
        counters.follow_ups_per_agent.get(&agent.id().to_string()),
        Some(&2),
        "each follow-up sent exactly once"
    );
    assert_eq!(counters.too_many_requests_sent, 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_window_zero() {
    follow_up_with_stale_window(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_window_two_seconds() {
    follow_up_with_stale_window(2_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_window_longer_than_the_poll_cap() {
    follow_up_with_stale_window(45_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_window_longer_than_the_follow_up_window_is_a_typed_error() {
    let mut cfg = config(Wire::Tcp, SCALE);
    cfg.lifecycle = LifecycleConfig {
        stale_window_ms: 600_000,
        ..LifecycleConfig::default()
    };
    let emu = start(cfg).await;
    let c = client(&emu, SCALE);
    let agent = c.launch(LaunchRequest::prompt("first")).await.unwrap();
    agent.wait().await.unwrap();
    // The server keeps showing the first turn's `finished` past the SDK's window: the SDK
    // reports that instead of returning the first turn's answer as the second's.
    let err = agent.ask("second").await.unwrap_err();
    assert!(matches!(err, Error::StaleAfterFollowUp), "{err}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_on_an_active_agent_is_a_conflict_and_stop_then_follow_up_works() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("run forever [never]"))
        .await
        .unwrap();
    // Another handle (no turn in progress) sees the server's active status.
    let other = c.agent(agent.id());
    let err = other.follow_up("too early").await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");

    let stopped = agent.cancel().await.unwrap();
    assert_eq!(stopped.status, AgentStatus::Stopped);
    assert_eq!(
        c.get_agent(agent.id()).await.unwrap().status,
        AgentStatus::Stopped
    );

    let out = agent.ask("after the stop").await.unwrap();
    assert_eq!(out.status, AgentStatus::Finished);
    assert!(out.answer.unwrap().contains("after the stop"));

    // A plain stop on a terminal agent reports the conflict.
    let err = agent.stop().await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    emu.shutdown().await;
}
