//! `watch`, `cancel`, attaching, and dropping futures.

use std::time::Duration;

use futures_util::StreamExt;
use nomic_agent::{AgentStatus, LaunchRequest};
use nomic_agent_tests::{SCALE, Wire, client, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reports_changes_only_then_wait_returns_the_outcome() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("watch me [tool]"))
        .await
        .unwrap();
    let changes: Vec<_> = agent.watch().map(|r| r.unwrap()).collect().await;
    assert!(changes.len() >= 2, "{changes:?}");
    assert_eq!(changes.last().unwrap().to, AgentStatus::Finished);
    for pair in changes.windows(2) {
        assert_ne!(pair[0].to, pair[1].to, "changes only");
        assert_eq!(pair[1].from.as_ref(), Some(&pair[0].to));
    }
    let gets_before = emu.request_log().len();
    let out = agent.wait().await.unwrap();
    assert!(out.answer.unwrap().contains("watch me"));
    assert_eq!(
        emu.request_log().len(),
        gets_before,
        "the watched outcome is reused"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_wait_leaves_nothing_running_and_attach_resumes() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("long [never]"))
        .await
        .unwrap();
    let timed = tokio::time::timeout(Duration::from_millis(100), agent.wait()).await;
    assert!(timed.is_err(), "still running");
    let before = emu.request_log().len();
    // A running wait polls every 10 ms here, so a poller left behind would make a dozen
    // requests in this window. One poll may have been on its way when the wait was dropped
    // and land late on a busy machine; that one is allowed, a second would be a leak.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after = emu.request_log().len();
    assert!(
        after <= before + 1,
        "{} requests after the drop",
        after - before
    );

    // Another handle attaches and cancels: the agent is stopped on the server.
    let attached = c.agent(agent.id());
    let out = attached.cancel().await.unwrap();
    assert_eq!(out.status, AgentStatus::Stopped);
    // The first handle resumes its turn and sees the same end.
    let out = agent.wait().await.unwrap();
    assert_eq!(out.status, AgentStatus::Stopped);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_turns_carry_their_error() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let out = c
        .launch(LaunchRequest::prompt("break [fail]"))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, AgentStatus::Failed);
    assert!(out.error.is_some());
    assert_eq!(out.answer, None);
    emu.shutdown().await;
}
