//! A launch that never left the machine (connection refused: nothing written) is a plain,
//! "not sent" transport error: the session forgets the intent, so the next send launches
//! once, at once, without reconciling (no agent listing, no settle wait).

use std::time::Duration;

use nomic_agent::{Error, Session, SessionStart};
use nomic_agent_emulator::EmulatorConfig;
use nomic_agent_tests::{SCALE, Wire, builder, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_launch_is_not_sent_and_the_next_send_launches_without_reconciling() {
    // Learn a free port from a first emulator, then close it: the port now refuses.
    let first = start(config(Wire::Tcp, SCALE)).await;
    let addr = first.local_addr();
    let c = builder(&first, SCALE).build().unwrap();
    first.shutdown().await;
    // A short settle keeps a (wrong) reconcile quick, so the counters below catch it.
    let session =
        Session::in_memory(c).launch_recovery(Duration::from_millis(10), Duration::from_millis(50));

    let err = session.send("t", "hello").await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: false, .. }),
        "a refused connection is certainly not sent: {err:?}"
    );
    assert!(err.is_certainly_not_sent());

    // The server comes up on the same port; the same message is sent again.
    let emu = start(EmulatorConfig {
        listen: addr,
        ..config(Wire::Tcp, SCALE)
    })
    .await;
    let reply = tokio::time::timeout(Duration::from_secs(60), session.send("t", "hello"))
        .await
        .expect("hang guard")
        .unwrap();
    assert_eq!(reply.start, SessionStart::Launched);
    let counters = emu.counters();
    let route = |r: &str| counters.requests_per_route.get(r).copied().unwrap_or(0);
    assert_eq!(
        route("POST /agents"),
        1,
        "{:?}",
        counters.requests_per_route
    );
    // Reconciling a maybe-sent launch lists the agents first; a never-sent one needs nothing.
    assert_eq!(route("GET /agents"), 0, "{:?}", counters.requests_per_route);
    assert_eq!(counters.agents_created_per_user.values().sum::<u64>(), 1);
    emu.shutdown().await;
}
