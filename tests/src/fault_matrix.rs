//! The fault matrix: many concurrent sessions (launch → wait → follow-up → wait, through
//! `Client` and `Agent`) against the emulator, one injected fault family per scenario, judged from the emulator's own counters
//! and request log rather than from what the SDK says about itself.
//!
//! `tests/tests/fault_matrix.rs` runs every scenario with [`session_count`] sessions (200 by
//! default, `NOMIC_SOAK_SESSIONS` to change it; `cargo xtask soak` uses 1,000).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use nomic_agent::{AgentId, AgentStatus, Client, Error, LaunchRequest, RetryConfig, TurnOutcome};
use nomic_agent_emulator::{
    Fault, FaultRule, LifecycleConfig, RequestLogEntry, RunningEmulator, SpendConfig,
};
use serde_json::{Value, json};

use crate::pacing_order::{self, Recorded};
use crate::{Wire, builder, config, start};

/// The environment variable that sets the sessions per scenario.
pub const ENV_SESSIONS: &str = "NOMIC_SOAK_SESSIONS";
/// Sessions per scenario when [`ENV_SESSIONS`] is not set (the CI size).
pub const DEFAULT_SESSIONS: usize = 200;
/// Time scale of the matrix: a 2.5 s turn takes 5 ms, a 60 s stale window 120 ms.
pub const MATRIX_SCALE: f64 = 0.002;

/// Sessions per scenario: `NOMIC_SOAK_SESSIONS`, else [`DEFAULT_SESSIONS`].
pub fn session_count() -> usize {
    std::env::var(ENV_SESSIONS)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(DEFAULT_SESSIONS)
}

/// Whether a launch hit by the scenario's faults was acted on by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commits {
    /// Never (the fault replaces the handler): agents created == launches reported created.
    Never,
    /// The handler runs when the request gets past the emulator's rate limit: reported created
    /// ≤ agents created ≤ reported created + reported unknown (no duplicate).
    Always,
    /// Either (a timeout races the handler): only the bounds are checked.
    Maybe,
}

/// How a session's send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `Ok` and `finished`.
    Finished,
    /// `Ok` but `failed`.
    Failed,
    /// `Ok` but `stopped`.
    Stopped,
    /// `Error::LaunchOutcomeUnknown`.
    LaunchOutcomeUnknown,
    /// `Error::FollowUpOutcomeUnknown`.
    FollowUpOutcomeUnknown,
    /// `Error::NotFound`.
    NotFound,
    /// `Error::SpendLimit`.
    SpendLimit,
    /// `Error::RateLimited`.
    RateLimited,
    /// `Error::Server`.
    Server,
    /// `Error::Transport`.
    Transport,
    /// `Error::Timeout`.
    Timeout,
    /// `Error::StaleAfterFollowUp`.
    StaleAfterFollowUp,
    /// `Error::Conflict`.
    Conflict,
    /// `Error::Decode`.
    Decode,
    /// Any other error variant.
    OtherError,
    /// No outcome before the scenario's hard timeout.
    Hung,
}

impl Kind {
    fn of(e: &Error) -> Kind {
        match e {
            Error::LaunchOutcomeUnknown => Kind::LaunchOutcomeUnknown,
            Error::FollowUpOutcomeUnknown { .. } => Kind::FollowUpOutcomeUnknown,
            Error::NotFound { .. } => Kind::NotFound,
            Error::SpendLimit { .. } => Kind::SpendLimit,
            Error::RateLimited { .. } => Kind::RateLimited,
            Error::Server { .. } => Kind::Server,
            Error::Transport { .. } => Kind::Transport,
            Error::Timeout { .. } => Kind::Timeout,
            Error::StaleAfterFollowUp => Kind::StaleAfterFollowUp,
            Error::Conflict { .. } => Kind::Conflict,
            Error::Decode { .. } => Kind::Decode,
            _ => Kind::OtherError,
        }
    }

    fn name(self) -> String {
        format!("{self:?}")
    }
}

/// One scenario of the matrix.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name (table row, JSON key).
    pub name: &'static str,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// The emulator's follow-up stale window, nominal milliseconds.
    pub stale_window_ms: u64,
    /// Cap the user's runs at 1.5 × sessions, so the cap is reached mid-run.
    pub spend_cap: bool,
    /// Delete agents between turns (every 4th session) and during the follow-up (every 4th + 1).
    pub delete_mid_session: bool,
    /// The SDK's per-attempt timeout, when the scenario needs a short one.
    pub attempt_timeout: Option<Duration>,
    /// What a faulted launch does on the server.
    pub launch_commits: Commits,
    /// Outcomes that are acceptable here besides `Finished`.
    pub allowed: Vec<Kind>,
}

fn rule(route: &str, method: &str, fault: Fault, count: u32) -> FaultRule {
    FaultRule {
        route: route.into(),
        method: Some(method.into()),
        fault,
        probability: None,
        count: Some(count),
    }
}

/// Bursts of `fault` on launches, polls, conversations and follow-ups, sized for `sessions`.
fn bursts(fault: Fault, sessions: usize, launches: bool, follow_ups: bool) -> Vec<FaultRule> {
    let n = |per_200: usize| ((sessions * per_200) / 200).max(1) as u32;
    let mut rules = vec![
        rule("/agents/{id}", "GET", fault.clone(), n(20)),
        rule("/agents/{id}/conversation", "GET", fault.clone(), n(8)),
    ];
    if launches {
        rules.push(rule("/agents", "POST", fault.clone(), n(10)));
    }
    if follow_ups {
        rules.push(rule("/agents/{id}/followup", "POST", fault, n(10)));
    }
    rules
}

fn base(name: &'static str) -> Scenario {
    Scenario {
        name,
        faults: Vec::new(),
        stale_window_ms: 2_000,
        spend_cap: false,
        delete_mid_session: false,
        attempt_timeout: None,
        launch_commits: Commits::Never,
        allowed: Vec::new(),
    }
}

/// Every scenario of the matrix, sized for `sessions` sessions.
pub fn scenarios(sessions: usize) -> Vec<Scenario> {
    use Kind::*;
    let mut all = Vec::new();
    // Every 429 holds its whole tier for the (unscaled, ≥ 1 s) Retry-After, so these bursts
    // are small: a few per route, on launches, polls and follow-ups.
    let burst = (sessions / 50).max(2) as u32;
    for (name, http_date) in [("429_delta", false), ("429_http_date", true)] {
        let fault = Fault::RateLimit {
            retry_after_secs: 1,
            http_date,
        };
        all.push(Scenario {
            faults: vec![
                rule("/agents", "POST", fault.clone(), burst),
                rule("/agents/{id}", "GET", fault.clone(), burst),
                rule("/agents/{id}/followup", "POST", fault, burst),
            ],
            ..base(name)
        });
    }
    for (name, status) in [("500_burst", 500), ("502_burst", 502), ("503_burst", 503)] {
        all.push(Scenario {
            faults: bursts(Fault::ServerError { status }, sessions, true, true),
            // A 5xx on a launch or follow-up may have been acted on: reported, never resent.
            // Reads are retried within the retry budget; beyond it the 5xx is reported.
            allowed: vec![LaunchOutcomeUnknown, FollowUpOutcomeUnknown, Server],
            ..base(name)
        });
    }
    all.push(Scenario {
        faults: bursts(Fault::ResetBefore, sessions, true, true),
        allowed: vec![LaunchOutcomeUnknown, FollowUpOutcomeUnknown, Transport],
        ..base("reset_before_handler")
    });
    all.push(Scenario {
        faults: vec![rule(
            "/agents",
            "POST",
            Fault::ResetAfter,
            ((sessions / 10).max(1)) as u32,
        )],
        launch_commits: Commits::Always,
        allowed: vec![LaunchOutcomeUnknown],
        ..base("reset_after_launch")
    });
    all.push(Scenario {
        faults: vec![rule(
            "/agents/{id}/followup",
            "POST",
            Fault::ResetAfter,
            ((sessions / 10).max(1)) as u32,
        )],
        allowed: vec![FollowUpOutcomeUnknown],
        ..base("reset_after_followup")
    });
    all.push(Scenario {
        faults: bursts(Fault::Truncate, sessions, true, true),
        launch_commits: Commits::Always,
        // A cut read is retried by the transport; only a cut launch/follow-up answer is lost.
        allowed: vec![LaunchOutcomeUnknown, FollowUpOutcomeUnknown],
        ..base("truncated_bodies")
    });
    all.push(Scenario {
        faults: bursts(Fault::Latency { ms: 1_500 }, sessions / 2, true, true),
        attempt_timeout: Some(Duration::from_millis(500)),
        launch_commits: Commits::Maybe,
        allowed: vec![LaunchOutcomeUnknown, FollowUpOutcomeUnknown, Timeout],
        ..base("latency_spikes")
    });
    for (name, secs) in [
        ("stale_window_0s", 0),
        ("stale_window_2s", 2),
        ("stale_window_30s", 30),
        ("stale_window_60s", 60),
    ] {
        all.push(Scenario {
            stale_window_ms: secs * 1_000,
            ..base(name)
        });
    }
    all.push(Scenario {
        delete_mid_session: true,
        allowed: vec![NotFound],
        ..base("agents_deleted_mid_session")
    });
    all.push(Scenario {
        spend_cap: true,
        allowed: vec![SpendLimit],
        ..base("spend_cap_mid_run")
    });
    all
}

/// One call (launch + wait, or follow-up + wait) of one session, as the harness saw it.
#[derive(Debug, Clone)]
struct SendRecord {
    kind: Kind,
    /// Whether this call was the launch.
    launch: bool,
    /// The agent, when the launch reported one.
    agent: Option<AgentId>,
    /// Which call ended it (`launch`, `wait`, `ask`) and the error's text, for violations.
    detail: Option<String>,
}

#[derive(Debug, Default)]
struct SessionRecord {
    sends: Vec<SendRecord>,
    /// The launch returned an agent (the SDK reported it created).
    launched: bool,
    /// A follow-up request was attempted (at most one per session).
    followed_up: bool,
    violations: Vec<String>,
    /// Deletes spawned to race the follow-up, awaited before the counters are read.
    deletes: Vec<tokio::task::JoinHandle<()>>,
}

/// The measured figures and the problems found in one scenario.
#[derive(Debug, Clone)]
pub struct Report {
    /// Scenario name.
    pub name: &'static str,
    /// Sessions run.
    pub sessions: usize,
    /// Requests in the emulator's log.
    pub requests: usize,
    /// Requests that were first attempts.
    pub first_attempts: usize,
    /// Requests that repeated a failed request.
    pub retries: usize,
    /// 429 responses sent.
    pub too_many_requests: u64,
    /// Faults injected.
    pub faults_injected: u64,
    /// Agents the emulator created.
    pub agents_created: u64,
    /// Follow-ups the emulator accepted.
    pub follow_ups_accepted: u64,
    /// Outcomes of every send, by kind.
    pub outcomes: BTreeMap<String, usize>,
    /// Smallest margin (ms) between an advertised `Retry-After` and the retry of that request.
    pub retry_after_min_margin_ms: Option<i64>,
    /// Wall time of the scenario.
    pub wall: Duration,
    /// Broken promises (empty when the scenario passed).
    pub violations: Vec<String>,
}

impl Report {
    /// The figures as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "sessions": self.sessions,
            "requests": self.requests,
            "firstAttempts": self.first_attempts,
            "retries": self.retries,
            "tooManyRequests": self.too_many_requests,
            "faultsInjected": self.faults_injected,
            "agentsCreated": self.agents_created,
            "followUpsAccepted": self.follow_ups_accepted,
            "outcomes": self.outcomes,
            "retryAfterMinMarginMs": self.retry_after_min_margin_ms,
            "wallMs": self.wall.as_millis() as u64,
            "violations": self.violations,
        })
    }
}

/// The client for a scenario: the shared test builder (scaled polling, pacing and windows),
/// with `Retry-After` honoured in full (the test helpers cap it for speed; here it is checked).
fn scenario_client(emu: &RunningEmulator, s: &Scenario, sessions: usize) -> Client {
    // Pacing queues grow with the number of sessions; keep deadlines well beyond them.
    let per_session = Duration::from_millis(60).saturating_mul(sessions as u32);
    let mut b = builder(emu, MATRIX_SCALE)
        .retry(RetryConfig::default())
        // The SDK's follow-up window must outlast the server's stale window, or a slow start
        // is (correctly) reported as `StaleAfterFollowUp`; the matrix tests windows up to 60 s.
        .followup_window(
            crate::scaled(Duration::from_secs(90), MATRIX_SCALE),
            crate::scaled(Duration::from_millis(500), MATRIX_SCALE),
        )
        .request_deadline(Duration::from_secs(30).max(per_session))
        .wait_deadline(Duration::from_secs(60).max(per_session))
        .seed(11);
    if let Some(t) = s.attempt_timeout {
        b = b.attempt_timeout(t);
    }
    b.build().expect("the client builds")
}

/// A hard bound on one scenario: nothing may hang past it.
pub fn hard_timeout(sessions: usize) -> Duration {
    Duration::from_secs(90).max(Duration::from_millis(200).saturating_mul(sessions as u32))
}

fn prompt(i: usize, turn: usize) -> String {
    format!("<session {i:05} turn {turn}>")
}

fn check_answer(rec: &mut SessionRecord, i: usize, turn: usize, out: &TurnOutcome) -> Kind {
    let kind = match out.status {
        AgentStatus::Finished => Kind::Finished,
        AgentStatus::Failed => Kind::Failed,
        AgentStatus::Stopped => Kind::Stopped,
        _ => Kind::OtherError,
    };
    if kind == Kind::Finished {
        let p = prompt(i, turn);
        let other = prompt(i, 3 - turn);
        match out.answer.as_deref() {
            // The scripted answers quote the turn's prompt: a stale answer quotes the other.
            Some(a) if a.contains(&p) && !a.contains(&other) => {}
            Some(a) => rec.violations.push(format!(
                "session {i} turn {turn}: stale or foreign answer {a:?}"
            )),
            None => rec.violations.push(format!(
                "session {i} turn {turn}: finished without an answer"
            )),
        }
    }
    kind
}

fn error_kind(rec: &mut SessionRecord, i: usize, e: &Error) -> Kind {
    let text = format!("{e} {e:?}");
    if text.contains(nomic_agent_emulator::DEFAULT_KEY) {
        rec.violations
            .push(format!("session {i}: an error shows the API key"));
    }
    Kind::of(e)
}

/// launch → wait → follow-up → wait; the session ends at its first error.
async fn run_session(i: usize, client: Client, delete_mid_session: bool) -> SessionRecord {
    let mut rec = SessionRecord::default();
    let agent = match client.launch(LaunchRequest::prompt(prompt(i, 1))).await {
        Ok(a) => a,
        Err(e) => {
            let kind = error_kind(&mut rec, i, &e);
            rec.sends.push(SendRecord {
                kind,
                launch: true,
                agent: None,
                detail: Some(format!("launch: {e}")),
            });
            return rec;
        }
    };
    rec.launched = true;
    let (kind, detail) = match agent.wait().await {
        Ok(out) => (check_answer(&mut rec, i, 1, &out), None),
        Err(e) => (error_kind(&mut rec, i, &e), Some(format!("wait: {e}"))),
    };
    rec.sends.push(SendRecord {
        kind,
        launch: true,
        agent: Some(agent.id()),
        detail,
    });
    if kind != Kind::Finished {
        return rec;
    }
    if delete_mid_session {
        match i % 4 {
            // Deleted between the turns.
            0 => {
                if let Err(e) = client.delete(agent.id()).await {
                    rec.violations
                        .push(format!("session {i}: delete before turn 2: {e}"));
                }
            }
            // Deleted while the follow-up is in progress.
            1 => {
                let c = client.clone();
                let id = agent.id();
                let delay = Duration::from_micros(700 * (i % 29) as u64);
                rec.deletes.push(tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = c.delete(id).await;
                }));
            }
            _ => {}
        }
    }
    rec.followed_up = true;
    let (kind, detail) = match agent.ask(prompt(i, 2)).await {
        Ok(out) => (check_answer(&mut rec, i, 2, &out), None),
        Err(e) => (error_kind(&mut rec, i, &e), Some(format!("ask: {e}"))),
    };
    rec.sends.push(SendRecord {
        kind,
        launch: false,
        agent: Some(agent.id()),
        detail,
    });
    rec
}
/// The rate tier of a logged request (the emulator's table in `docs/emulator.md`).
fn tier(e: &RequestLogEntry) -> &'static str {
    match (e.method.as_str(), e.route.as_deref()) {
        ("POST", Some("/agents" | "/agents/{id}/followup" | "/files/upload")) => "heavy",
        ("POST", Some("/agents/{id}/stop")) | ("DELETE", _) => "write",
        _ => "standard",
    }
}

/// The client's read of the 429 in log entry `e` (received at `t`, unix ms): the first hold
/// recorded for the same tier, route and agent at or after `t`. Launches share a route and
/// have no agent id, so theirs is the first launch hold after `t`: never later than the real
/// one, so the check is only stricter (and every launch 429 of a scenario advertises the same
/// wait).
fn client_read<'a>(
    order: &'a Recorded,
    e: &RequestLogEntry,
    tier_of: &str,
    t: i64,
) -> Option<&'a pacing_order::Hold> {
    let route = e.route.as_deref()?;
    let agent = e
        .path
        .strip_prefix("/agents/")
        .map(|rest| rest.split('/').next().unwrap_or_default().to_owned());
    // The two clocks are the same system clock read at different moments; a few ms of
    // tolerance only matters for telling apart two holds of one request, which are at
    // least a Retry-After (a second) apart.
    order
        .holds
        .iter()
        .filter(|h| h.tier == tier_of && h.route == route && h.agent_id == agent)
        .filter(|h| h.wall_ms + 50 >= t)
        .min_by_key(|h| h.holds)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (the emulator's log format) to unix milliseconds.
pub fn parse_log_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[10] != b'T' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    // Days from the civil date (proleptic Gregorian, eras of 400 years from March).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1_000 + ms)
}

/// A request the client would repeat: dropped, 429, 5xx, or cut short by a fault.
fn failed(e: &RequestLogEntry) -> bool {
    match e.status {
        None => true,
        Some(s) if s == 429 || s >= 500 => true,
        _ => matches!(e.fault.as_deref(), Some("truncate" | "latency")),
    }
}

struct LogFigures {
    first_attempts: usize,
    retries: usize,
    min_margin: Option<i64>,
}

/// Retry accounting and the `Retry-After` check, from the request log alone.
fn judge_log(
    log: &[RequestLogEntry],
    order: &Recorded,
    retry_after: Option<(u64, bool)>,
    organic_429_checked: bool,
    violations: &mut Vec<String>,
) -> LogFigures {
    let times: Vec<i64> = log
        .iter()
        .map(|e| parse_log_time(&e.received_at).unwrap_or(i64::MIN))
        .collect();
    if times.contains(&i64::MIN) {
        violations.push("unparseable receivedAt in the request log".into());
    }
    // First attempts vs retries. Per-agent paths carry one request at a time, so a request
    // right after a failed one on the same (method, path) is that request's retry. Launches
    // share one path: a launch is only ever retried after a 429 (or when it never left), so
    // every 429'd launch counts as retried (an over-count, which only makes the check stricter).
    let mut last_failed: HashMap<(&str, &str), bool> = HashMap::new();
    let mut retries = 0;
    for e in log {
        if e.method == "POST" && e.route.as_deref() == Some("/agents") {
            retries += usize::from(e.status == Some(429));
            continue;
        }
        let k = (e.method.as_str(), e.path.as_str());
        if last_failed.insert(k, failed(e)) == Some(true) {
            retries += 1;
        }
    }
    let first_attempts = log.len() - retries;

    // No request before an advertised Retry-After.
    let mut min_margin: Option<i64> = None;
    let (mut read_429s, mut unread) = (0usize, 0usize);
    for (i, e) in log.iter().enumerate() {
        if e.status != Some(429) {
            continue;
        }
        let (secs, http_date) = match (e.fault.as_deref(), retry_after) {
            (Some("rateLimit"), Some(ra)) => ra,
            // The emulator's own limiter: whole seconds, at least one.
            (None, _) if organic_429_checked => (1, false),
            _ => continue,
        };
        let t = times[i];
        let (not_before, slack) = if http_date {
            (((t / 1000) + secs as i64) * 1000, 2)
        } else {
            (t + secs as i64 * 1000, 1)
        };
        // The retry of this very request (same method and path, next in the log).
        let is_launch = e.method == "POST" && e.route.as_deref() == Some("/agents");
        if !is_launch
            && let Some(j) =
                (i + 1..log.len()).find(|&j| log[j].method == e.method && log[j].path == e.path)
        {
            let margin = times[j] - not_before;
            min_margin = Some(min_margin.map_or(margin, |m| m.min(margin)));
            if margin < -slack {
                violations.push(format!(
                    "{} {} retried {} ms before its Retry-After",
                    e.method, e.path, -margin
                ));
            }
        }
        // The tier promise: once the client read this 429, no request of its tier got a
        // permit (the last step before the connection) before the advertised time. "After
        // the read" is the client's own order: the permit counted the hold this 429 made.
        let tier_of = tier(e);
        let Some(read) = client_read(order, e, tier_of, t) else {
            // Never read (the attempt timed out first): the client could not honour it.
            unread += 1;
            continue;
        };
        read_429s += 1;
        let early: Vec<i64> = order
            .permits
            .iter()
            .filter(|p| p.tier == tier_of && p.holds >= read.holds)
            .map(|p| p.wall_ms)
            .filter(|&w| w < not_before - slack)
            .collect();
        if let Some(first) = early.iter().min() {
            violations.push(format!(
                "{} {tier_of}-tier permit(s) taken after the client read a 429 and before its \
                 Retry-After (the earliest {} ms early)",
                early.len(),
                not_before - first
            ));
        }
    }
    if read_429s == 0 && unread > 0 {
        // Every 429 unread means the recorder saw nothing: the check would be empty.
        violations.push(format!(
            "{unread} 429s but no client hold recorded: is the pacing-order recorder installed \
             (trace_capture::install_recording)?"
        ));
    }
    LogFigures {
        first_attempts,
        retries,
        min_margin,
    }
}

/// Runs one scenario with `sessions` concurrent sessions and judges it.
pub async fn run_scenario(s: &Scenario, sessions: usize) -> Report {
    let mut cfg = config(Wire::Tcp, MATRIX_SCALE);
    cfg.seed = 42;
    cfg.lifecycle = LifecycleConfig {
        stale_window_ms: s.stale_window_ms,
        ..LifecycleConfig::default()
    };
    cfg.limits.request_log_capacity = sessions * 200 + 10_000;
    let cap = (sessions * 3 / 2) as u64;
    if s.spend_cap {
        cfg.spend = SpendConfig {
            default_max_runs: Some(cap),
        };
    }
    cfg.faults = s.faults.clone();
    let emu = start(cfg).await;
    pacing_order::start();
    let client = scenario_client(&emu, s, sessions);
    let started = Instant::now();
    let limit = hard_timeout(sessions);
    let tasks = (0..sessions).map(|i| {
        let fut = run_session(i, client.clone(), s.delete_mid_session);
        tokio::spawn(async move { tokio::time::timeout(limit, fut).await })
    });
    let results = join_all(tasks).await;
    let wall = started.elapsed();

    let mut violations = Vec::new();
    let mut records = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(Ok(mut rec)) => {
                violations.append(&mut rec.violations);
                records.push(rec);
            }
            // None hung: every session ends in a typed outcome before the hard timeout.
            Ok(Err(_)) => violations.push(format!("session {i} hung")),
            Err(e) => violations.push(format!("session {i} panicked: {e}")),
        }
    }
    // The deletes spawned mid-session land before the counters are read (awaited, not
    // slept on: a busy machine can take any time to run them).
    for rec in &mut records {
        for d in rec.deletes.drain(..) {
            if let Err(e) = d.await {
                violations.push(format!("a mid-session delete panicked: {e}"));
            }
        }
    }
    let counters = emu.counters();
    let log = emu.request_log();
    emu.shutdown().await;
    let order = pacing_order::take();

    let sends: Vec<&SendRecord> = records.iter().flat_map(|r| &r.sends).collect();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for r in &sends {
        *outcomes.entry(r.kind.name()).or_default() += 1;
    }
    for r in &sends {
        if r.kind != Kind::Finished && !s.allowed.contains(&r.kind) {
            violations.push(format!(
                "unexpected outcome {:?} of a {} ({})",
                r.kind,
                if r.launch { "launch" } else { "follow-up" },
                r.detail.as_deref().unwrap_or("no error")
            ));
        }
    }
    violations.sort();
    violations.dedup();

    // Agents created == launches reported created (+ reported unknown, when those commit).
    let created: u64 = counters.agents_created_per_user.values().sum();
    let reported = records.iter().filter(|r| r.launched).count() as u64;
    let unknown = sends
        .iter()
        .filter(|r| r.kind == Kind::LaunchOutcomeUnknown)
        .count() as u64;
    // Each session reports exactly one launch outcome, so `created ≤ reported + unknown` is what
    // catches a duplicate launch. A faulted launch that "always commits" can still commit
    // nothing when the emulator's own rate limit refused it first, so only the bounds hold there.
    let ok = match s.launch_commits {
        Commits::Never => created == reported,
        Commits::Always | Commits::Maybe => (reported..=reported + unknown).contains(&created),
    };
    if !ok {
        violations.push(format!(
            "agents created {created}, launches reported created {reported}, unknown {unknown} ({:?})",
            s.launch_commits
        ));
    }

    // No follow-up sent twice: each session follows up at most once, on its own agent.
    let accepted: u64 = counters.follow_ups_per_agent.values().sum();
    for (agent, n) in &counters.follow_ups_per_agent {
        if *n > 1 {
            violations.push(format!("agent {agent} accepted {n} follow-ups"));
        }
    }
    let mut acted: HashMap<&str, usize> = HashMap::new();
    for e in &log {
        let maybe_acted = e.status == Some(202)
            || (e.status.is_none() && e.fault.as_deref() != Some("resetBefore"));
        if e.route.as_deref() == Some("/agents/{id}/followup") && maybe_acted {
            *acted.entry(e.path.as_str()).or_default() += 1;
        }
    }
    for (path, n) in &acted {
        if *n > 1 {
            violations.push(format!(
                "{n} follow-up requests reached the handler on {path}"
            ));
        }
    }
    for r in &sends {
        if !r.launch
            && r.kind == Kind::Finished
            && let Some(a) = r.agent
            && counters.follow_ups_per_agent.get(&a.to_string()) != Some(&1)
        {
            violations.push(format!(
                "agent {a}: follow-up answered but not counted once"
            ));
        }
    }

    // Spend cap: every run attempt is accepted or refused, and exactly the cap is accepted.
    if s.spend_cap {
        let attempts = (records.len() + records.iter().filter(|r| r.followed_up).count()) as u64;
        let refused = outcomes.get("SpendLimit").copied().unwrap_or(0) as u64;
        if created + accepted != cap.min(attempts) || created + accepted + refused != attempts {
            violations.push(format!(
                "spend cap {cap}: {attempts} runs tried, {created} launches + {accepted} follow-ups accepted, {refused} refused"
            ));
        }
    }

    let retry_after = s.faults.iter().find_map(|r| match r.fault {
        Fault::RateLimit {
            retry_after_secs,
            http_date,
        } => Some((retry_after_secs, http_date)),
        _ => None,
    });
    let figures = judge_log(&log, &order, retry_after, !s.spend_cap, &mut violations);
    // Retry traffic: the retry budget's 20 % of first attempts, plus its floor of 10 per
    // 10 s, plus 10 for requests that merely follow a failure (a new call after an error).
    let floor = 10 * (wall.as_secs() as usize / 10 + 1) + 10;
    if log.len() * 5 > figures.first_attempts * 6 + floor * 5 {
        violations.push(format!(
            "{} requests for {} first attempts: over 1.2× + {floor}",
            log.len(),
            figures.first_attempts
        ));
    }

    Report {
        name: s.name,
        sessions,
        requests: log.len(),
        first_attempts: figures.first_attempts,
        retries: figures.retries,
        too_many_requests: counters.too_many_requests_sent,
        faults_injected: counters.faults_injected,
        agents_created: created,
        follow_ups_accepted: accepted,
        outcomes,
        retry_after_min_margin_ms: figures.min_margin,
        wall,
        violations,
    }
}

/// The figures as a text table.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<27} {:>8} {:>8} {:>8} {:>7} {:>5} {:>7} {:>7}  outcomes",
        "scenario", "sessions", "requests", "first", "retries", "429s", "RA min", "wall ms"
    );
    for r in reports {
        let outcomes: Vec<String> = r.outcomes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "{:<27} {:>8} {:>8} {:>8} {:>7} {:>5} {:>7} {:>7}  {}",
            r.name,
            r.sessions,
            r.requests,
            r.first_attempts,
            r.retries,
            r.too_many_requests,
            r.retry_after_min_margin_ms
                .map_or("-".into(), |m| m.to_string()),
            r.wall.as_millis(),
            outcomes.join(" ")
        );
    }
    out
}

/// `target/reliability/` of the workspace (or of `CARGO_TARGET_DIR`).
pub fn reliability_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("reliability")
}

/// Writes the reports to `target/reliability/fault_matrix.json`; returns the path.
pub fn write_json(reports: &[Report], total: Duration) -> std::io::Result<PathBuf> {
    let dir = reliability_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("fault_matrix.json");
    let doc = json!({
        "sessionsPerScenario": reports.first().map_or(0, |r| r.sessions),
        "timeScale": MATRIX_SCALE,
        "totalWallMs": total.as_millis() as u64,
        "scenarios": reports.iter().map(Report::to_json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
    std::fs::write(&path, text)?;
    Ok(path)
}
