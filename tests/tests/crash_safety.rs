//! Crash safety of a file-backed `Session`: a worker process (`session_worker`) is killed with
//! SIGKILL at seeded random moments of each kind of kill point, then restarted with the same
//! arguments. It must resume the same agent, send no duplicate launch or follow-up (checked on
//! the emulator's counters), and print the turn's answer.
//!
//! The seed is printed; `CRASH_SEED=n` replays a run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nomic_agent::{FileStore, SessionStore, TurnRecord, TurnStage};
use nomic_agent_emulator::{
    Emulator, EmulatorConfig, Fault, FaultRule, KeyConfig, LifecycleConfig, RunningEmulator,
};

const SCALE: f64 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    /// The launch intent is on disk; the launch request is delayed by the server.
    BeforeLaunchSent,
    /// The server created the agent; its response is still dripping in.
    AfterLaunchSent,
    /// The launch was accepted; the agent runs.
    WhileWaiting,
    /// The server accepted the follow-up; its response is still dripping in.
    AfterFollowUpSent,
    /// The 202 arrived; the agent still shows the previous turn.
    StaleWindow,
    /// The answer was read; the worker has not printed it yet.
    AfterAnswer,
}

const POINTS: [Point; 6] = [
    Point::BeforeLaunchSent,
    Point::AfterLaunchSent,
    Point::WhileWaiting,
    Point::AfterFollowUpSent,
    Point::StaleWindow,
    Point::AfterAnswer,
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Ctx {
    emu: RunningEmulator,
    store: PathBuf,
}

struct Turn<'a> {
    thread: &'a str,
    key: &'a str,
    message: &'a str,
    prompt: String,
    hold_ms: u64,
}

fn spawn(ctx: &Ctx, t: &Turn<'_>) -> Child {
    Command::new(env!("CARGO_BIN_EXE_session_worker"))
        .args(["--base-url", &ctx.emu.base_url()])
        .args(["--api-key", t.key])
        .args(["--store", ctx.store.to_str().unwrap()])
        .args(["--thread", t.thread])
        .args(["--message", t.message])
        .args(["--prompt", &t.prompt])
        .args(["--scale", &SCALE.to_string()])
        .args(["--settle-ms", "400"])
        .args(["--hold-ms", &t.hold_ms.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts")
}

async fn record(store: &Path, thread: &str) -> Option<TurnRecord> {
    // The worker replaces the file atomically, so every read sees a whole map.
    let s = FileStore::open(store).ok()?;
    s.load_turn(thread).await.ok().flatten()
}

/// Waits until `cond` holds (polling every millisecond) while the worker runs; true when it
/// held before the worker exited.
async fn wait_for<F, Fut>(child: &mut Child, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if cond().await {
            return true;
        }
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        assert!(Instant::now() < deadline, "the kill condition never held");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().expect("the worker ends");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "worker failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs one turn: kills the worker at `point` (when the point belongs to this turn) after a
/// random extra delay, then reruns it to completion. Returns the final stdout.
async fn run_turn(
    ctx: &Ctx,
    t: &Turn<'_>,
    point: Option<Point>,
    rng: &mut Rng,
    user: &str,
) -> String {
    let Some(point) = point else {
        return finish(spawn(ctx, t));
    };
    let jitter = Duration::from_millis(rng.below(4));
    let mut faults = Vec::new();
    match point {
        Point::BeforeLaunchSent => faults.push(FaultRule {
            route: "/agents".into(),
            method: Some("POST".into()),
            fault: Fault::Latency { ms: 250 },
            probability: None,
            count: Some(1),
        }),
        Point::AfterLaunchSent | Point::AfterFollowUpSent => faults.push(FaultRule {
            route: if point == Point::AfterLaunchSent {
                "/agents".into()
            } else {
                "/agents/{id}/followup".into()
            },
            method: Some("POST".into()),
            fault: Fault::SlowBody {
                chunk_bytes: 4,
                interval_ms: 25,
            },
            probability: None,
            count: Some(1),
        }),
        _ => {}
    }
    ctx.emu.set_faults(faults).unwrap();
    let mut child = spawn(ctx, t);
    let store = ctx.store.clone();
    let thread = t.thread.to_owned();
    let message = t.message.to_owned();
    let stage_is = |stage: TurnStage, launch: bool| {
        let store = store.clone();
        let thread = thread.clone();
        let message = message.clone();
        move || {
            let store = store.clone();
            let thread = thread.clone();
            let message = message.clone();
            async move {
                record(&store, &thread).await.is_some_and(|r| {
                    r.stage() == stage && r.is_launch() == launch && r.message() == Some(&*message)
                })
            }
        }
    };
    let held = match point {
        Point::BeforeLaunchSent => wait_for(&mut child, stage_is(TurnStage::Intent, true)).await,
        Point::AfterLaunchSent => {
            wait_for(&mut child, || async {
                ctx.emu.counters().agents_created_per_user.get(user) == Some(&1)
            })
            .await
        }
        Point::WhileWaiting => wait_for(&mut child, stage_is(TurnStage::Accepted, true)).await,
        Point::AfterFollowUpSent => {
            let before: u64 = ctx.emu.counters().follow_ups_per_agent.values().sum();
            wait_for(&mut child, || async {
                ctx.emu
                    .counters()
                    .follow_ups_per_agent
                    .values()
                    .sum::<u64>()
                    > before
            })
            .await
        }
        Point::StaleWindow => wait_for(&mut child, stage_is(TurnStage::Accepted, false)).await,
        Point::AfterAnswer => {
            let launch = t.message == "m1";
            wait_for(&mut child, stage_is(TurnStage::Done, launch)).await
        }
    };
    assert!(held, "{point:?}: the worker ended before the kill point");
    tokio::time::sleep(jitter).await;
    let _ = child.kill(); // SIGKILL
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success() || point == Point::AfterAnswer,
        "{point:?}: the worker finished before it was killed"
    );
    ctx.emu.set_faults(Vec::new()).unwrap();
    let restarted = Turn {
        hold_ms: 0,
        prompt: t.prompt.clone(),
        ..*t
    };
    finish(spawn(ctx, &restarted))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_resume_without_duplicates() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash_safety seed: CRASH_SEED={seed}");
    nomic_agent_tests::trace_capture::install();
    let mut rng = Rng(seed);
    let emu = Emulator::start(EmulatorConfig {
        time_scale: SCALE,
        lifecycle: LifecycleConfig {
            // 200 ms at this scale: long enough to kill a worker inside it.
            stale_window_ms: 10_000,
            ..LifecycleConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Ctx {
        emu,
        store: dir.path().join("sessions.json"),
    };
    let mut order = POINTS.to_vec();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for (n, point) in order.into_iter().enumerate() {
        let user = format!("user{n}");
        let key = format!("npk_crash_{n}");
        let thread = format!("thread-{n}");
        ctx.emu
            .add_key(KeyConfig {
                key: key.clone(),
                name: format!("crash-{n}"),
                user: user.clone(),
                scopes: vec!["developer:agent".into()],
            })
            .unwrap();
        // "After the answer" hits the launch or the follow-up, by the seed.
        let answer_on_launch = rng.below(2) == 0;
        let on_launch = match point {
            Point::BeforeLaunchSent | Point::AfterLaunchSent | Point::WhileWaiting => true,
            Point::AfterAnswer => answer_on_launch,
            _ => false,
        };
        println!(
            "thread {n}: kill point {point:?} on the {}",
            if on_launch { "launch" } else { "follow-up" }
        );
        let slow = if point == Point::WhileWaiting {
            " [slow]"
        } else {
            ""
        };
        let t1 = Turn {
            thread: &thread,
            key: &key,
            message: "m1",
            prompt: format!("thread {n}: what is in the report?{slow}"),
            hold_ms: if point == Point::AfterAnswer && on_launch {
                5_000
            } else {
                0
            },
        };
        let out1 = run_turn(&ctx, &t1, on_launch.then_some(point), &mut rng, &user).await;
        assert!(out1.contains("what is in the report?"), "{point:?}: {out1}");
        if on_launch {
            assert!(
                out1.contains("start=Resumed") || point == Point::BeforeLaunchSent,
                "{out1}"
            );
        }
        let t2 = Turn {
            thread: &thread,
            key: &key,
            message: "m2",
            prompt: format!("thread {n}: and the open issues?"),
            hold_ms: if point == Point::AfterAnswer && !on_launch {
                5_000
            } else {
                0
            },
        };
        let out2 = run_turn(&ctx, &t2, (!on_launch).then_some(point), &mut rng, &user).await;
        assert!(out2.contains("and the open issues?"), "{point:?}: {out2}");
        assert!(
            !out2.contains("what is in the report?"),
            "{point:?}: stale answer {out2}"
        );
        if !on_launch {
            assert!(
                out2.contains("start=Resumed") || point != Point::StaleWindow,
                "{out2}"
            );
        }
        let agent = FileStore::open(&ctx.store)
            .unwrap()
            .load(&thread)
            .await
            .unwrap()
            .expect("the thread has its agent");
        assert!(out1.contains(&agent.to_string()) && out2.contains(&agent.to_string()));
        let c = ctx.emu.counters();
        assert_eq!(
            c.agents_created_per_user.get(&user),
            Some(&1),
            "{point:?}: agents created"
        );
        assert_eq!(
            c.follow_ups_per_agent.get(&agent.to_string()),
            Some(&1),
            "{point:?}: follow-ups accepted"
        );
    }
}
