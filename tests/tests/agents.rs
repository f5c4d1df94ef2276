//! Every agent endpoint against the emulator, over TCP and TLS.

use futures_util::TryStreamExt;
use nomic_agent::{AgentStatus, ArtifactKind, Error, LaunchRequest, ListAgentsQuery, Role};
use nomic_agent_tests::{SCALE, Wire, client, config, start};

async fn launch_wait_read(wire: Wire) {
    let emu = start(config(wire, SCALE)).await;
    let c = client(&emu, SCALE);
    let agent = c
        .launch(LaunchRequest::prompt("Summarize the report [tool]"))
        .await
        .unwrap();
    assert_eq!(
        agent.url(),
        format!("{}/assistant/{}", emu.origin(), agent.id())
    );
    let out = agent.wait().await.unwrap();
    assert_eq!(out.status, AgentStatus::Finished);
    let answer = out.answer.clone().unwrap();
    assert!(answer.contains("Summarize the report"), "{answer}");
    assert!(!out.artifacts.is_empty());

    let got = c.get_agent(agent.id()).await.unwrap();
    assert_eq!(got.id, agent.id());
    assert_eq!(got.status, AgentStatus::Finished);

    let conv = c.conversation(agent.id()).await.unwrap();
    assert_eq!(conv.messages.first().map(|m| &m.role), Some(&Role::User));
    assert!(
        conv.messages
            .iter()
            .any(|m| m.role == Role::Assistant && m.text == answer)
    );

    for meta in &out.artifacts {
        let content = c.artifact(agent.id(), meta.id).await.unwrap();
        match meta.kind {
            ArtifactKind::Document => assert!(!content.as_text().unwrap().is_empty()),
            ArtifactKind::Table => assert!(!content.as_table().unwrap().columns.is_empty()),
            _ => {}
        }
        let mut streamed = Vec::new();
        let n = c
            .download_artifact(agent.id(), meta.id, &mut streamed)
            .await
            .unwrap();
        assert_eq!(n as usize, content.bytes.len());
        assert_eq!(streamed, content.bytes);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("artifact");
        let n = c
            .download_artifact_to_file(agent.id(), meta.id, &file)
            .await
            .unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), content.bytes);
        assert_eq!(n as usize, content.bytes.len());
    }

    let listed: Vec<_> = c
        .list_agents(ListAgentsQuery::new().limit(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, agent.id());

    let before = c.get_agent(agent.id()).await.unwrap();
    assert!(before.status.is_terminal());
    c.delete(agent.id()).await.unwrap();
    let err = c.get_agent(agent.id()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(emu.counters().too_many_requests_sent, 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_wait_read_tcp() {
    launch_wait_read(Wire::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_wait_read_tls() {
    launch_wait_read(Wire::Tls).await;
}
