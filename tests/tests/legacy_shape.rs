//! The SDK against an emulator serving the pre-documentation shape (`legacyShape`: bare
//! objects, UPPER-CASE statuses, lists under `agents`/`workflows`) reaches the same outcomes
//! as against the documented one: launch, wait, follow up, watch a failure, stop, list.

use futures_util::TryStreamExt;
use nomic_agent::{AgentStatus, LaunchRequest, ListAgentsQuery};
use nomic_agent_tests::{SCALE, Wire, client, config, start};

/// Everything a run observed, with ids left out (each emulator issues its own).
#[derive(Debug, PartialEq)]
struct Observed {
    first: (AgentStatus, Option<String>, usize),
    follow_up: (AgentStatus, Option<String>),
    failed: (AgentStatus, bool),
    stopped: AgentStatus,
    /// Newest first, two per page, so the pages' cursors are followed.
    listed: Vec<AgentStatus>,
    listed_ids_match: bool,
    workflows: usize,
}

async fn run(legacy: bool) -> Observed {
    let mut cfg = config(Wire::Tcp, SCALE);
    cfg.legacy_shape = legacy;
    let emu = start(cfg).await;
    let c = client(&emu, SCALE);

    let agent = c
        .launch(LaunchRequest::prompt("Check egress widths [tool]"))
        .await
        .unwrap();
    let out = agent.wait().await.unwrap();
    let first = (out.status.clone(), out.answer.clone(), out.artifacts.len());
    let next = agent.ask("And the stairs?").await.unwrap();
    let follow_up = (next.status.clone(), next.answer.clone());

    let broken = c
        .launch(LaunchRequest::prompt("This one [FAIL]"))
        .await
        .unwrap();
    let failed = broken.wait().await.unwrap();
    let failed = (failed.status, failed.error.is_some());

    let long = c
        .launch(LaunchRequest::prompt("A long one [tool]"))
        .await
        .unwrap();
    let stopped = long.stop().await.unwrap().status;

    let listed: Vec<_> = c
        .list_agents(ListAgentsQuery::new().limit(2))
        .try_collect()
        .await
        .unwrap();
    let listed_ids_match =
        listed.iter().map(|a| a.id).collect::<Vec<_>>() == [long.id(), broken.id(), agent.id()];
    let listed = listed.into_iter().map(|a| a.status).collect();
    let workflows = c
        .list_workflows()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len();
    emu.shutdown().await;
    Observed {
        first,
        follow_up,
        failed,
        stopped,
        listed,
        listed_ids_match,
        workflows,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_shape_gives_the_same_outcomes() {
    let documented = run(false).await;
    // The documented run is itself what the scenario promises, so equality below means
    // something.
    assert_eq!(documented.first.0, AgentStatus::Finished);
    let first_answer = documented.first.1.clone().unwrap();
    assert!(
        first_answer.contains("Check egress widths"),
        "{first_answer}"
    );
    assert!(documented.first.2 > 0, "artifacts");
    let second = documented.follow_up.1.clone().unwrap();
    assert!(second.contains("And the stairs?"), "{second}");
    assert_ne!(second, first_answer);
    assert_eq!(documented.failed, (AgentStatus::Failed, true));
    assert_eq!(documented.stopped, AgentStatus::Stopped);
    assert_eq!(
        documented.listed,
        [
            AgentStatus::Stopped,
            AgentStatus::Failed,
            AgentStatus::Finished
        ]
    );
    assert!(documented.listed_ids_match);
    assert!(documented.workflows > 0);

    let legacy = run(true).await;
    assert_eq!(legacy, documented);
}
