//! Thread claims inside one process: two `Session`s (two claim owners) sharing one store take
//! turns on a thread, and a turn whose claim was taken over ends with a typed error.
//! (The multi-process cases are in `multi_process.rs`.)

use std::time::Duration;

use nomic_agent::{Claim, ClaimOwner, Error, MemoryStore, Session, SessionStart, SessionStore};
use nomic_agent_tests::{SCALE, Wire, client, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_sharing_a_store_make_one_agent_per_thread() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let store = MemoryStore::new();
    // Not clones: separate sessions, so only the store's claims order them.
    let a = Session::new(client(&emu, SCALE), store.clone())
        .claims(Duration::from_secs(30), Duration::from_millis(5));
    let b = Session::new(client(&emu, SCALE), store.clone())
        .claims(Duration::from_secs(30), Duration::from_millis(5));
    assert_ne!(a.owner(), b.owner());
    let (ra, rb) = tokio::join!(a.send("t", "from a"), b.send("t", "from b"));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.agent_id, rb.agent_id);
    let mut starts = [ra.start, rb.start];
    starts.sort_by_key(|s| *s == SessionStart::FollowedUp);
    assert_eq!(starts, [SessionStart::Launched, SessionStart::FollowedUp]);
    assert!(ra.outcome.answer.unwrap().contains("You asked: \"from a\""));
    assert!(rb.outcome.answer.unwrap().contains("You asked: \"from b\""));
    assert_eq!(
        emu.counters().agents_created_per_user.values().sum::<u64>(),
        1
    );
    // Both claims were released.
    let probe = ClaimOwner::new();
    assert!(matches!(
        store
            .claim("t", &probe, Duration::from_secs(1))
            .await
            .unwrap(),
        Claim::Acquired {
            took_over: None,
            ..
        }
    ));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_whose_claim_was_taken_over_ends_with_a_store_error() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let store = MemoryStore::new();
    let session = Session::new(client(&emu, SCALE), store.clone())
        .claims(Duration::from_millis(300), Duration::from_millis(5));
    let owner = session.owner().clone();
    let send = tokio::spawn({
        let session = session.clone();
        // Never ends by itself: only losing the claim ends this send.
        async move { session.send("t", "work forever [never]").await }
    });
    // Once the turn runs, another owner takes the thread over (as after a lapsed lease).
    let thief = ClaimOwner::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while store.load("t").await.unwrap().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the launch never happened"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    store.release("t", &owner).await.unwrap();
    assert!(matches!(
        store
            .claim("t", &thief, Duration::from_secs(3600))
            .await
            .unwrap(),
        Claim::Acquired { .. }
    ));
    let r = tokio::time::timeout(Duration::from_secs(60), send)
        .await
        .expect("the send noticed the loss")
        .unwrap();
    match r {
        Err(Error::Store { message }) => assert!(message.contains("took it over"), "{message}"),
        other => panic!("{other:?}"),
    }
    // The thief's claim is left alone.
    assert!(matches!(
        store
            .claim("t", &owner, Duration::from_secs(1))
            .await
            .unwrap(),
        Claim::Held { .. }
    ));
    emu.shutdown().await;
}
