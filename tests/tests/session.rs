//! Sessions: launch then follow up, 404 → relaunch, serialized sends, a store that survives.

use std::sync::Arc;

use nomic_agent::{
    AgentStatus, BusyPolicy, FileStore, MemoryStore, Session, SessionStart, SessionStore,
};
use nomic_agent_tests::{SCALE, Wire, client, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_follow_up_and_relaunch_after_delete() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let session = Session::in_memory(c.clone());

    let first = session.send("ticket-1", "What is open?").await.unwrap();
    assert_eq!(first.start, SessionStart::Launched);
    assert!(first.outcome.answer.unwrap().contains("What is open?"));

    let second = session
        .send("ticket-1", "And what is closed?")
        .await
        .unwrap();
    assert_eq!(second.start, SessionStart::FollowedUp);
    assert_eq!(second.agent_id, first.agent_id);
    assert!(
        second
            .outcome
            .answer
            .unwrap()
            .contains("And what is closed?")
    );

    // Another thread gets its own agent.
    let other = session.send("ticket-2", "Unrelated").await.unwrap();
    assert_ne!(other.agent_id, first.agent_id);

    // The agent is deleted behind the session's back: the next send relaunches.
    c.delete(first.agent_id).await.unwrap();
    let third = session.send("ticket-1", "Still there?").await.unwrap();
    assert_eq!(
        third.start,
        SessionStart::Relaunched {
            previous: first.agent_id
        }
    );
    assert_ne!(third.agent_id, first.agent_id);
    assert_eq!(
        session.agent_id("ticket-1").await.unwrap(),
        Some(third.agent_id)
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_on_one_thread_are_serialized() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let session = Arc::new(Session::new(c.clone(), MemoryStore::new()));
    let sends = (0..3).map(|i| {
        let s = Arc::clone(&session);
        tokio::spawn(async move { s.send("t", format!("message {i}")).await.unwrap() })
    });
    let mut replies = Vec::new();
    for h in sends {
        replies.push(h.await.unwrap());
    }
    let id = replies[0].agent_id;
    assert!(
        replies.iter().all(|r| r.agent_id == id),
        "one agent per thread"
    );
    let launched = replies
        .iter()
        .filter(|r| r.start == SessionStart::Launched)
        .count();
    assert_eq!(launched, 1);
    for (i, r) in replies.iter().enumerate() {
        let answer = r.outcome.answer.as_deref().unwrap();
        assert!(answer.contains(&format!("message {i}")), "{answer}");
    }
    let counters = emu.counters();
    assert_eq!(counters.agents_created_per_user.values().sum::<u64>(), 1);
    assert_eq!(counters.follow_ups_per_agent.get(&id.to_string()), Some(&2));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_survives_a_restart_and_stop_policy_interrupts() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    let first_id = {
        let s = Session::new(client(&emu, SCALE), FileStore::open(&path).unwrap());
        s.send("thread", "remember me").await.unwrap().agent_id
    };
    // A new process: a new client and store over the same file.
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.load("thread").await.unwrap(), Some(first_id));
    let c = client(&emu, SCALE);
    let s = Session::new(c.clone(), store).busy_policy(BusyPolicy::StopPrevious);
    // Make the stored agent busy with a turn that never ends; the stop policy interrupts it.
    c.agent(first_id)
        .follow_up("work forever [never]")
        .await
        .unwrap();
    let reply = s.send("thread", "next").await.unwrap();
    assert_eq!(reply.start, SessionStart::FollowedUp);
    assert_eq!(reply.agent_id, first_id);
    assert_eq!(reply.outcome.status, AgentStatus::Finished);
    assert!(reply.outcome.answer.unwrap().contains("next"));
    emu.shutdown().await;
}
