//! Model-based test of the public `Session` API against the emulator: random sequences of
//! operations (send on thread k, delete thread k's agent through the client, stop it, restart
//! the session over the same file store, change the emulator's time scale and with it the
//! real length of the follow-up stale window) are applied both to a `Session` and to a small
//! reference model of what the emulator must then hold (threads → agent ids, launches,
//! accepted follow-ups per agent). After every operation the emulator's counters and the
//! session's store must agree with the model, and every answer must quote its own prompt.
//!
//! One emulator is shared by all cases and reset between them; each case is tiny.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nomic_agent::{
    AgentId, AgentStatus, BusyPolicy, Client, Error, FileStore, Session, SessionStart, TierLimit,
    TierLimits,
};
use nomic_agent_emulator::{RateLimitConfig, RunningEmulator};
use nomic_agent_tests::{Wire, builder, config, start};
use proptest::prelude::*;
use proptest::test_runner::Config;

const THREADS: usize = 3;
const BASE_SCALE: f64 = 0.001;
/// Emulator time scales an operation may switch to: the 2 s stale window becomes 1–8 ms,
/// always inside the client's 60 ms window (60 s at the base scale).
const SCALES: [f64; 4] = [0.0005, 0.001, 0.002, 0.004];

#[derive(Debug, Clone)]
enum Op {
    Send(usize),
    Delete(usize),
    Stop(usize),
    Restart,
    SetScale(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..THREADS).prop_map(Op::Send),
        2 => (0..THREADS).prop_map(Op::Delete),
        1 => (0..THREADS).prop_map(Op::Stop),
        1 => Just(Op::Restart),
        1 => (0..SCALES.len()).prop_map(Op::SetScale),
    ]
}

/// What the emulator and the store must hold.
#[derive(Debug, Default)]
struct Model {
    /// Thread → (agent, deleted on the server).
    threads: [Option<(AgentId, bool)>; THREADS],
    launches: u64,
    follow_ups: BTreeMap<AgentId, u64>,
}

struct Shared {
    rt: tokio::runtime::Runtime,
    emu: RunningEmulator,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let emu = rt.block_on(async {
            let mut cfg = config(Wire::Tcp, BASE_SCALE);
            // This test is about session semantics; rate limits have their own tests.
            cfg.rate_limits = RateLimitConfig {
                enabled: false,
                ..RateLimitConfig::default()
            };
            start(cfg).await
        });
        Shared { rt, emu }
    })
}

fn client(emu: &RunningEmulator) -> Client {
    let fast = TierLimit::new(6_000_000, 100);
    builder(emu, BASE_SCALE)
        .tier_limits(TierLimits {
            standard: fast,
            write: fast,
            heavy: fast,
            search: fast,
        })
        .wait_deadline(Duration::from_secs(10))
        .build()
        .expect("the client builds")
}

fn session(emu: &RunningEmulator, path: &PathBuf) -> Session<FileStore> {
    Session::new(client(emu), FileStore::open(path).expect("the store opens"))
        .busy_policy(BusyPolicy::StopPrevious)
}

static PROMPTS: AtomicU64 = AtomicU64::new(0);

async fn apply(
    emu: &RunningEmulator,
    path: &PathBuf,
    s: &mut Session<FileStore>,
    m: &mut Model,
    op: &Op,
) -> Result<(), String> {
    match *op {
        Op::Send(k) => {
            let n = PROMPTS.fetch_add(1, Ordering::Relaxed);
            let prompt = format!("<model prompt {n}>");
            let reply = s
                .send(&format!("thread-{k}"), prompt.as_str())
                .await
                .map_err(|e| format!("send on {k}: {e}"))?;
            let expected = match m.threads[k] {
                None => SessionStart::Launched,
                Some((_, false)) => SessionStart::FollowedUp,
                Some((previous, true)) => SessionStart::Relaunched { previous },
            };
            if reply.start != expected {
                return Err(format!("start {:?}, model says {expected:?}", reply.start));
            }
            if reply.outcome.status != AgentStatus::Finished {
                return Err(format!("status {}", reply.outcome.status));
            }
            match reply.outcome.answer.as_deref() {
                Some(a) if a.contains(&prompt) => {}
                other => return Err(format!("answer {other:?} does not quote {prompt}")),
            }
            if expected == SessionStart::FollowedUp {
                let (id, _) = m.threads[k].expect("followed up");
                if reply.agent_id != id {
                    return Err(format!("followed up on {} not {id}", reply.agent_id));
                }
                *m.follow_ups.entry(id).or_default() += 1;
            } else {
                m.launches += 1;
                m.threads[k] = Some((reply.agent_id, false));
            }
        }
        Op::Delete(k) => {
            if let Some((id, deleted)) = m.threads[k] {
                // Behind the session's back, as another part of the application would.
                let r = client(emu).delete(id).await;
                match (deleted, r) {
                    (false, Ok(())) | (true, Err(Error::NotFound { .. })) => {}
                    (d, r) => return Err(format!("delete (deleted before: {d}): {r:?}")),
                }
                m.threads[k] = Some((id, true));
            }
        }
        Op::Stop(k) => {
            if let Some((id, deleted)) = m.threads[k] {
                // Every send waits for its turn, so the agent is terminal: stop is a conflict.
                match (deleted, client(emu).stop(id).await) {
                    (false, Err(Error::Conflict { .. })) | (true, Err(Error::NotFound { .. })) => {}
                    (d, r) => return Err(format!("stop (deleted: {d}): {r:?}")),
                }
            }
        }
        Op::Restart => {
            // A new process: a new client and a store reopened from the same file.
            *s = session(emu, path);
        }
        Op::SetScale(i) => emu
            .set_time_scale(SCALES[i])
            .map_err(|e| format!("time scale: {e}"))?,
    }
    check(emu, s, m).await
}

async fn check(emu: &RunningEmulator, s: &Session<FileStore>, m: &Model) -> Result<(), String> {
    let c = emu.counters();
    let created: u64 = c.agents_created_per_user.values().sum();
    if created != m.launches {
        return Err(format!("{created} agents created, model {}", m.launches));
    }
    let follow_ups: BTreeMap<String, u64> = c
        .follow_ups_per_agent
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    let model: BTreeMap<String, u64> = m
        .follow_ups
        .iter()
        .map(|(id, n)| (id.to_string(), *n))
        .collect();
    if follow_ups != model {
        return Err(format!("follow-ups {follow_ups:?}, model {model:?}"));
    }
    for (k, t) in m.threads.iter().enumerate() {
        let stored = s
            .agent_id(&format!("thread-{k}"))
            .await
            .map_err(|e| format!("store: {e}"))?;
        if stored != t.map(|(id, _)| id) {
            return Err(format!("thread {k}: store {stored:?}, model {t:?}"));
        }
    }
    Ok(())
}

fn run_case(ops: &[Op]) -> Result<(), String> {
    let sh = shared();
    sh.emu.reset();
    let dir = tempfile::Builder::new()
        .prefix("session-model")
        .tempdir_in(if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "."
        })
        .or_else(|_| tempfile::tempdir())
        .map_err(|e| e.to_string())?;
    let path = dir.path().join("sessions.json");
    sh.rt.block_on(async {
        let work = async {
            let mut s = session(&sh.emu, &path);
            let mut m = Model::default();
            for (i, op) in ops.iter().enumerate() {
                apply(&sh.emu, &path, &mut s, &mut m, op)
                    .await
                    .map_err(|e| format!("op {i} {op:?}: {e}"))?;
            }
            Ok(())
        };
        tokio::time::timeout(Duration::from_secs(20), work)
            .await
            .unwrap_or_else(|_| Err("the case hung".into()))
    })
}

proptest! {
    #![proptest_config(Config {
        cases: 1_000,
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn session_agrees_with_the_model(ops in prop::collection::vec(op(), 1..6)) {
        if let Err(e) = run_case(&ops) {
            prop_assert!(false, "{}", e);
        }
    }
}
