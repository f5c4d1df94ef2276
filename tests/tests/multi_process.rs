//! More than one process on one `FileStore`: real worker processes (`store_writer`,
//! `session_fanout`) share one store file and one emulator.
//!
//! - concurrent writers lose no update;
//! - a claim held by a SIGKILLed process is taken over at once, one held by a live process that
//!   stopped renewing only after its lease;
//! - 4 processes × 100 threads make exactly 100 agents and 400 replies, each quoting its own
//!   prompt, nothing lost;
//! - a session process killed or stalled mid-turn is taken over, without a second agent.
//!
//! Time is bounded only by generous hang guards; assertions are on orders and counts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nomic_agent::{AgentId, Claim, ClaimOwner, FileStore, SessionStore, TurnStage};
use nomic_agent_emulator::{EmulatorConfig, RateLimitConfig, RunningEmulator};
use nomic_agent_tests::{SENTINEL_KEY, Wire, config, start};

/// Hang guard for one worker process: far beyond what any run needs.
const HANG_GUARD: Duration = Duration::from_secs(600);

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A worker whose pipes are drained from now on (by a thread), so a chatty worker never
/// blocks on a full pipe while the test waits for another one.
struct Collecting {
    pid: String,
    out: std::sync::mpsc::Receiver<std::io::Result<Output>>,
}

fn collect(child: Child) -> Collecting {
    let pid = child.id().to_string();
    let (tx, out) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    Collecting { pid, out }
}

impl Collecting {
    /// Waits for the exit (killing the worker after the hang guard) and returns its output.
    fn finish(self, what: &str) -> Output {
        match self.out.recv_timeout(HANG_GUARD) {
            Ok(out) => out.expect("the output"),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &self.pid]).status();
                panic!("{what} hung");
            }
        }
    }
}

/// Waits for `child` to exit (see [`Collecting::finish`]).
fn finish(child: Child, what: &str) -> Output {
    collect(child).finish(what)
}

fn ok_stdout(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The first line `child` prints (it prints it once ready).
fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim().to_owned()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {sig} failed");
}

/// The claim recorded for `key` in the store file, as (owner id, pid, expiry).
fn claim_in_file(path: &Path, key: &str) -> Option<(String, u64, i64)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let c = v.get(key)?.get("claim")?;
    Some((
        c["owner"].as_str()?.to_owned(),
        c["pid"].as_u64()?,
        c["expiresAtMs"].as_i64()?,
    ))
}

fn writer(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_store_writer"));
    c.args(["--store", store.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_ten_keys_each_keep_all_twenty() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sessions.json");
    let go = dir.path().join("go");
    let children: Vec<Collecting> = (0..2)
        .map(|w| {
            collect(
                writer(&store)
                    .args(["--writer", &w.to_string(), "--keys", "10"])
                    .args(["--go", go.to_str().unwrap()])
                    .spawn()
                    .expect("the writer starts"),
            )
        })
        .collect();
    // Both have opened the store; now they write at the same time.
    std::fs::write(&go, b"").unwrap();
    for (w, c) in children.into_iter().enumerate() {
        let out = ok_stdout(&c.finish("a writer"), "a writer");
        assert_eq!(out.trim(), "saved 10", "writer {w}");
    }
    let s = FileStore::open(&store).unwrap();
    for w in 0..2u16 {
        for i in 0..10u32 {
            let want: AgentId = format!("019abc12-3456-7890-abcd-{w:04x}{i:08x}")
                .parse()
                .unwrap();
            assert_eq!(
                s.load(&format!("w{w}-{i}")).await.unwrap(),
                Some(want),
                "key w{w}-{i}"
            );
        }
    }
    // No temporary file is left behind.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["go", "sessions.json", "sessions.json.lock"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_of_a_sigkilled_process_is_taken_over_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sessions.json");
    // An hour's lease: only noticing that the process is gone can free the thread in time.
    let mut holder = writer(&store)
        .args(["--claim", "t", "--lease-ms", "3600000"])
        .spawn()
        .unwrap();
    let line = first_line(&mut holder);
    assert!(line.starts_with("claimed "), "{line}");
    let s = FileStore::open(&store).unwrap();
    let me = ClaimOwner::new();
    let lease = Duration::from_secs(30);
    // Alive: refused.
    match s.claim("t", &me, lease).await.unwrap() {
        Claim::Held { owner, .. } => assert_eq!(owner.pid(), holder.id()),
        other => panic!("{other:?}"),
    }
    let pid = holder.id();
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    if !Path::new("/proc/self/stat").exists() {
        return; // no /proc: only the lease frees it (the next test)
    }
    match s.claim("t", &me, lease).await.unwrap() {
        Claim::Acquired {
            took_over: Some(prev),
            ..
        } => assert_eq!(prev.pid(), pid),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        claim_in_file(&store, "t").map(|c| c.0),
        Some(me.id().to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_of_a_process_that_stopped_renewing_is_taken_over_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sessions.json");
    // The holder stays alive and never renews its short lease.
    let mut holder = writer(&store)
        .args(["--claim", "t", "--lease-ms", "300"])
        .spawn()
        .unwrap();
    let line = first_line(&mut holder);
    assert!(line.starts_with("claimed "), "{line}");
    let (holder_id, _, expires_at) = claim_in_file(&store, "t").expect("the claim is in the file");
    let s = FileStore::open(&store).unwrap();
    let me = ClaimOwner::new();
    let deadline = Instant::now() + HANG_GUARD;
    let mut refused = 0;
    loop {
        match s.claim("t", &me, Duration::from_secs(30)).await.unwrap() {
            Claim::Held { owner, .. } => {
                assert_eq!(owner.id(), holder_id);
                refused += 1;
            }
            Claim::Acquired { took_over, .. } => {
                // Granted no earlier than the lease's end (read after the answer, so a slow
                // machine can only make this later).
                assert!(unix_ms() >= expires_at, "taken over before the lease ended");
                assert_eq!(took_over.map(|o| o.id().to_owned()), Some(holder_id));
                break;
            }
            other => panic!("{other:?}"),
        }
        assert!(Instant::now() < deadline, "the lease never ran out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(refused > 0, "the live holder was never refused to others");
    // Taken over by the lease, not because the holder died.
    assert!(holder.try_wait().unwrap().is_none(), "the holder exited");
    holder.kill().unwrap();
    holder.wait().unwrap();
}

/// The scale of the session tests: a turn takes about 12 ms, a `[slow]` one ten times that.
const SCALE: f64 = 0.005;

/// An emulator whose rate limits fit `processes` workers each pacing at the documented rates
/// (they share one user, so they can follow up on each other's agents).
async fn emulator(scale: f64, processes: u32) -> RunningEmulator {
    let d = RateLimitConfig::default();
    start(EmulatorConfig {
        rate_limits: RateLimitConfig {
            standard_per_minute: d.standard_per_minute * processes,
            heavy_per_minute: d.heavy_per_minute * processes,
            write_per_minute: d.write_per_minute * processes,
            ..d
        },
        ..config(Wire::Tcp, scale)
    })
    .await
}

struct Fanout<'a> {
    emu: &'a RunningEmulator,
    store: &'a Path,
    tag: &'a str,
    first: usize,
    threads: usize,
    scale: f64,
    lease_ms: u64,
    go: Option<&'a Path>,
}

fn fanout(f: &Fanout<'_>) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_session_fanout"));
    c.args(["--base-url", &f.emu.base_url()])
        .args(["--api-key", SENTINEL_KEY])
        .args(["--store", f.store.to_str().unwrap()])
        .args(["--tag", f.tag])
        .args(["--first", &f.first.to_string()])
        .args(["--threads", &f.threads.to_string()])
        .args(["--scale", &f.scale.to_string()])
        .args(["--lease-ms", &f.lease_ms.to_string()])
        .args(["--poll-ms", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(go) = f.go {
        c.args(["--go", go.to_str().unwrap()]);
    }
    c.spawn().expect("the worker starts")
}

#[derive(Debug)]
struct Reply {
    thread: String,
    start: String,
    agent: String,
    answer: String,
}

fn replies(stdout: &str) -> Vec<Reply> {
    stdout
        .lines()
        .map(|l| {
            let rest = l.strip_prefix("reply ").unwrap_or_else(|| panic!("{l}"));
            let (thread, rest) = rest.split_once(' ').unwrap();
            let (start, rest) = rest.split_once(' ').unwrap();
            let (agent, answer) = rest.split_once(' ').unwrap();
            Reply {
                thread: thread.strip_prefix("thread=").unwrap().to_owned(),
                start: start.strip_prefix("start=").unwrap().to_owned(),
                agent: agent.strip_prefix("agent=").unwrap().to_owned(),
                answer: answer.strip_prefix("answer=").unwrap().to_owned(),
            }
        })
        .collect()
}

/// The turn number an emulator answer names (`Turn 3 answer. …`).
fn turn_of(answer: &str) -> u32 {
    answer
        .strip_prefix("Turn ")
        .and_then(|r| r.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("not an emulator answer: {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_one_store_make_one_agent_per_thread() {
    const PROCESSES: usize = 4;
    const THREADS: usize = 100;
    let emu = emulator(SCALE, PROCESSES as u32).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sessions.json");
    let go = dir.path().join("go");
    let started = Instant::now();
    let tags: Vec<String> = (0..PROCESSES).map(|p| format!("p{p}")).collect();
    let children: Vec<Collecting> = tags
        .iter()
        .map(|tag| {
            collect(fanout(&Fanout {
                emu: &emu,
                store: &store,
                tag,
                first: 0,
                threads: THREADS,
                scale: SCALE,
                lease_ms: 30_000,
                go: Some(&go),
            }))
        })
        .collect();
    // All four race for every thread at once.
    std::fs::write(&go, b"").unwrap();
    let mut by_thread: BTreeMap<String, Vec<(usize, Reply)>> = BTreeMap::new();
    for (p, child) in children.into_iter().enumerate() {
        let out = ok_stdout(&child.finish("a fanout worker"), "a fanout worker");
        let rs = replies(&out);
        assert_eq!(rs.len(), THREADS, "process {p}: {out}");
        for r in rs {
            by_thread.entry(r.thread.clone()).or_default().push((p, r));
        }
    }
    println!(
        "{PROCESSES} processes x {THREADS} threads: {:?}",
        started.elapsed()
    );
    assert_eq!(by_thread.len(), THREADS);
    let s = FileStore::open(&store).unwrap();
    for (thread, rs) in &by_thread {
        assert_eq!(rs.len(), PROCESSES, "{thread}");
        let i: usize = thread.strip_prefix("thread-").unwrap().parse().unwrap();
        // One agent for the thread, the one in the store.
        let stored = s.load(thread).await.unwrap().expect("the thread's agent");
        for (p, r) in rs {
            assert_eq!(r.agent, stored.to_string(), "{thread}: process {p}");
            // Each reply quotes its own prompt (and only that: it is the latest turn's).
            assert!(
                r.answer
                    .contains(&format!("You asked: \"[p{p}] thread {i}: hello\"")),
                "{thread}: process {p} got {}",
                r.answer
            );
        }
        // One launch, then follow-ups, each reply a turn of its own.
        let launched = rs.iter().filter(|(_, r)| r.start == "Launched").count();
        let followed = rs.iter().filter(|(_, r)| r.start == "FollowedUp").count();
        assert_eq!((launched, followed), (1, PROCESSES - 1), "{thread}: {rs:?}");
        let turns: BTreeSet<u32> = rs.iter().map(|(_, r)| turn_of(&r.answer)).collect();
        assert_eq!(turns, (1..=PROCESSES as u32).collect(), "{thread}: {rs:?}");
        // Every turn finished and every claim was released.
        let rec = s.load_turn(thread).await.unwrap().expect("a turn record");
        assert_eq!(rec.stage(), TurnStage::Done, "{thread}");
        assert_eq!(claim_in_file(&store, thread), None, "{thread}");
    }
    let c = emu.counters();
    assert_eq!(
        c.agents_created_per_user.values().sum::<u64>(),
        THREADS as u64
    );
    assert_eq!(c.follow_ups_per_agent.len(), THREADS);
    assert!(
        c.follow_ups_per_agent
            .values()
            .all(|n| *n == PROCESSES as u64 - 1),
        "{:?}",
        c.follow_ups_per_agent
    );
    emu.shutdown().await;
}

/// Waits (polling the store) until `thread`'s launch was accepted by the worker, which then
/// holds the claim and waits for its `[slow]` turn.
async fn until_launch_accepted(store: &Path, thread: &str, child: &mut Child) {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let rec = match FileStore::open(store) {
            Ok(s) => s.load_turn(thread).await.ok().flatten(),
            Err(_) => None,
        };
        if rec.is_some_and(|r| r.stage() == TurnStage::Accepted && r.is_launch()) {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the worker ended before its launch was accepted"
        );
        assert!(Instant::now() < deadline, "the launch was never accepted");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Stops `child` at a moment it does not hold the store's file lock (a stalled process that
/// holds it would stall every other process's writes too, which is not what this models).
fn stop_outside_the_lock(child: &Child, store: &Path) {
    let lock = store.with_file_name("sessions.json.lock");
    loop {
        signal(child, "-STOP");
        let f = std::fs::File::options().write(true).open(&lock).unwrap();
        match f.try_lock() {
            Ok(()) => return,
            Err(_) => {
                signal(child, "-CONT");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

fn ours(stdout: &str, tag: &str, i: usize) -> Reply {
    let mut rs = replies(stdout);
    assert_eq!(rs.len(), 1, "{stdout}");
    let r = rs.remove(0);
    assert!(
        r.answer
            .contains(&format!("You asked: \"[{tag}] thread {i}: hello\"")),
        "{stdout}"
    );
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_killed_or_stalled_mid_turn_is_taken_over_without_a_second_agent() {
    // Slower turns, so a `[slow]` launch is still running when its worker is stopped.
    let scale = 0.02;
    let emu = emulator(scale, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sessions.json");
    let worker = |tag: &'static str, i: usize, lease_ms: u64| {
        fanout(&Fanout {
            emu: &emu,
            store: &store,
            tag,
            first: i,
            threads: 1,
            scale,
            lease_ms,
            go: None,
        })
    };

    // thread-0: the holder is SIGKILLed mid-turn with an hour's lease; the next process
    // notices it is gone, adopts its agent, waits for its turn, then follows up.
    let mut a = worker("a [slow]", 0, 3_600_000);
    until_launch_accepted(&store, "thread-0", &mut a).await;
    a.kill().unwrap();
    let out = a.wait_with_output().unwrap();
    assert!(!out.status.success(), "the worker finished before the kill");
    assert!(claim_in_file(&store, "thread-0").is_some());
    let b = worker("b", 0, 30_000);
    let out = ok_stdout(&finish(b, "the second worker"), "the second worker");
    let r = ours(&out, "b", 0);
    assert_eq!(r.start, "FollowedUp");
    assert_eq!(turn_of(&r.answer), 2, "{out}");

    // thread-1: the holder stalls (SIGSTOP) with a short lease; the next process waits for the
    // lease to end, then takes over the same way.
    let mut c = worker("c [slow]", 1, 500);
    until_launch_accepted(&store, "thread-1", &mut c).await;
    stop_outside_the_lock(&c, &store);
    let (holder, _, expires_at) = claim_in_file(&store, "thread-1").expect("c's claim");
    let mut d = worker("d", 1, 30_000);
    // While the lease runs, the claim stays c's (checked by reading, then looking at the
    // clock: a slow machine only makes the check weaker, never wrong).
    let deadline = Instant::now() + HANG_GUARD;
    while d.try_wait().unwrap().is_none() {
        if let Some((owner, _, _)) = claim_in_file(&store, "thread-1")
            && owner != holder
        {
            assert!(unix_ms() >= expires_at, "taken over before the lease ended");
        }
        assert!(
            Instant::now() < deadline,
            "the stalled claim was never taken over"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let out = ok_stdout(&finish(d, "the fourth worker"), "the fourth worker");
    let r = ours(&out, "d", 1);
    assert_eq!(r.start, "FollowedUp");
    assert_eq!(turn_of(&r.answer), 2, "{out}");
    c.kill().unwrap(); // a stopped process still takes SIGKILL
    c.wait().unwrap();

    // One agent per thread, one follow-up each.
    let s = FileStore::open(&store).unwrap();
    let counters = emu.counters();
    assert_eq!(counters.agents_created_per_user.values().sum::<u64>(), 2);
    for t in ["thread-0", "thread-1"] {
        let id = s.load(t).await.unwrap().expect("the agent").to_string();
        assert_eq!(counters.follow_ups_per_agent.get(&id), Some(&1), "{t}");
    }
    emu.shutdown().await;
}
