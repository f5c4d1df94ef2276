//! `nomic-agent chat --store` killed with SIGKILL mid-turn and restarted with the same line:
//! the turn is resumed (no second launch, no second follow-up) and its answer printed. Also
//! `-vv` runs with the key given by flag and by `NOMIC_API_KEY` never print it.

mod common;

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Emu, FAST, Out, SECRET, USER, bare};
use nomic_agent::{FileStore, SessionStore, TurnStage};

fn chat(e: &Emu, store: &std::path::Path) -> Child {
    let mut c = e.cmd(&["chat", "--thread", "t", "--store", store.to_str().unwrap()]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chat starts")
}

/// Feeds `line`, waits until the store records the turn at `stage` (launch or follow-up),
/// then kills the process. Returns the turn's agent.
fn kill_at(
    e: &Emu,
    store: &std::path::Path,
    line: &str,
    stage: TurnStage,
    launch: bool,
) -> Option<nomic_agent::AgentId> {
    let mut child = chat(e, store);
    writeln!(child.stdin.as_mut().unwrap(), "{line}").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rec = FileStore::open(store)
            .ok()
            .and_then(|s| e.rt.block_on(s.load_turn("t")).ok().flatten());
        if let Some(r) = rec.filter(|r| r.stage() == stage && r.is_launch() == launch) {
            child.kill().unwrap(); // SIGKILL
            let o = child.wait_with_output().unwrap();
            assert!(!o.status.success());
            return r.agent();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "chat ended before the kill point"
        );
        assert!(Instant::now() < deadline, "the kill point never came");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn rerun(e: &Emu, store: &std::path::Path, line: &str) -> Out {
    let mut child = chat(e, store);
    // The line, then end of input: chat answers and exits.
    writeln!(child.stdin.take().unwrap(), "{line}").unwrap();
    let o = child.wait_with_output().unwrap();
    let out = Out {
        status: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    out
}

#[test]
fn a_killed_chat_resumes_its_turn_without_resending() {
    let e = Emu::with(|c| {
        // 300 ms at this scale: the restart happens inside the stale window.
        c.lifecycle.stale_window_ms = 30_000;
    });
    let store = e.dir.path().join("threads.json");

    // Killed while the launched agent runs: `[never]` keeps it running until completed, so
    // a busy machine cannot make the test miss the kill point.
    let agent = kill_at(
        &e,
        &store,
        "first question [never]",
        TurnStage::Accepted,
        true,
    )
    .expect("the accepted launch names its agent");
    e.emu()
        .complete_agent(*agent.as_uuid())
        .expect("the running agent completes");
    let out = rerun(&e, &store, "first question [never]");
    assert_eq!(out.status, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("first question"), "{}", out.stdout);
    let c = e.emu().counters();
    assert_eq!(c.agents_created_per_user.get(USER), Some(&1), "one agent");

    // Killed inside the follow-up's stale window.
    kill_at(&e, &store, "second question", TurnStage::Accepted, false);
    let out = rerun(&e, &store, "second question");
    assert_eq!(out.status, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("second question"), "{}", out.stdout);
    let c = e.emu().counters();
    assert_eq!(c.agents_created_per_user.get(USER), Some(&1));
    assert_eq!(
        c.follow_ups_per_agent.values().sum::<u64>(),
        1,
        "one follow-up"
    );
}

#[test]
fn verbose_output_never_contains_the_key() {
    let e = Emu::start();
    for args in [vec!["-vv", "run", "hello there"], vec!["-vv", "list"]] {
        // By flag (the harness adds --api-key) …
        let out = Out::of(e.cmd(&args));
        assert!(!out.stderr.is_empty());
        // … and by environment.
        let mut c = bare(e.dir.path());
        c.args(["--base-url", &e.base_url()])
            .args(FAST)
            .args(&args)
            .env("NOMIC_API_KEY", SECRET)
            .env("RUST_LOG", "trace");
        let out = Out::of(c);
        assert_eq!(out.status, Some(0), "{}{}", out.stdout, out.stderr);
    }
    // A wrong key through the environment: the error names the variable, not the value.
    let mut c = bare(e.dir.path());
    c.args(["-vv", "--base-url", &e.base_url(), "list"])
        .env("NOMIC_API_KEY", "npk_wrong_sentinel_77aa");
    let out = Out::of(c);
    assert!(!out.stdout.contains("npk_wrong_sentinel_77aa"));
    assert!(!out.stderr.contains("npk_wrong_sentinel_77aa"));
}
