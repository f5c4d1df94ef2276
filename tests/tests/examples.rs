//! Runs each example's body against the emulator (the same code `cargo run --example` runs;
//! each example's `main` only adds the emulator-or-environment connection).

// Every example includes its own copy of `examples/common`, as its own binary does.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/common/mod.rs"]
mod common;

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/launch_and_wait.rs"]
mod launch_and_wait;

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/follow_up.rs"]
mod follow_up;

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/upload_and_analyze.rs"]
mod upload_and_analyze;

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/workflow.rs"]
mod workflow;

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/session.rs"]
mod session;

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/fleet.rs"]
mod fleet;

#[allow(dead_code)]
#[path = "../../crates/sdk/examples/ticket_two_process.rs"]
mod ticket_two_process;

use nomic_agent_tests::{SCALE, Wire, client, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_runs_against_the_emulator() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);

    let answer = launch_and_wait::run(&c).await.unwrap();
    assert!(answer.contains("inspection findings"), "{answer}");

    let answers = follow_up::run(&c).await.unwrap();
    assert_eq!(answers.len(), 3);
    assert!(
        answers[1].contains("overdue?") && answers[2].contains("reminder"),
        "{answers:?}"
    );

    let answer = upload_and_analyze::run(&c, None).await.unwrap();
    assert!(answer.contains("nomic-sample-report"), "{answer}");
    assert!(answer.contains("Images: 1"), "{answer}");

    let answers = workflow::run(&c).await.unwrap();
    assert!(answers.len() >= 2);

    let dir = tempfile::tempdir().unwrap();
    let starts = session::run(&c, &dir.path().join("s.json")).await.unwrap();
    assert_eq!(starts, ["Launched", "Launched", "FollowedUp", "FollowedUp"]);

    assert_eq!(fleet::run(&c, 8).await.unwrap(), 8);

    // The waiting half on another client, as another process would.
    let answer = ticket_two_process::run(&c, &client(&emu, SCALE))
        .await
        .unwrap();
    assert!(answer.contains("overdue?"), "{answer}");
    assert_eq!(emu.counters().too_many_requests_sent, 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_connection_helper_scales_to_the_emulator() {
    let emu = start(config(Wire::Tcp, 0.01)).await;
    let c = common::emulator_client(&emu).unwrap();
    assert!(launch_and_wait::run(&c).await.unwrap().contains("Turn 1"));
    emu.shutdown().await;
}
