//! The SDK against servers that misbehave: every case ends in a typed result within a short
//! deadline, without a panic, with bounded memory, and the key never reaches another origin.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nomic_agent::{AgentId, Client, Error, RetryConfig};
use nomic_agent_tests::hostile::{Hostile, Reply, Script, Seen};

const KEY: &str = "npk_hostile_sentinel_5e6f7a8b";
const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";

fn id() -> AgentId {
    ID.parse().unwrap()
}

/// Catches a hang, nothing finer: the clients below give up after 2 s, and the error each test
/// expects (a timeout, the hostile reply's own error) is what shows the bound held. A tighter
/// wall-clock figure would fail on a busy machine for no fault of the code.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn agent_json(status: &str, updated: &str) -> Vec<u8> {
    format!(
        r#"{{"data":{{"id":"{ID}","status":"{status}","createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"{updated}"}}}}"#
    )
    .into_bytes()
}

fn client(h: &Hostile) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(h.base_url())
        .request_deadline(Duration::from_secs(2))
        .attempt_timeout(Duration::from_secs(1))
        .wait_deadline(Duration::from_secs(2))
        .poll_schedule(
            nomic_agent::PollSchedule::default()
                .with_initial(Duration::from_millis(5))
                .with_max(Duration::from_millis(20)),
        )
        .followup_window(Duration::from_millis(200), Duration::from_millis(5))
        .retry(RetryConfig::default().with_max_attempts(2))
        .build()
        .unwrap()
}

async fn server(f: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Hostile {
    let s: Script = Arc::new(f);
    Hostile::start(s).await
}

/// Runs `get_agent` against a server that always answers `reply`; returns the error.
async fn get_err(reply: Reply) -> Error {
    let h = server(move |_, _| reply.clone()).await;
    let t = Instant::now();
    let r = client(&h).get_agent(id()).await;
    assert!(t.elapsed() < HANG_GUARD, "took {:?}", t.elapsed());
    r.expect_err("a hostile reply is an error")
}

fn vm(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .map(|kb: u64| kb * 1024)
        .unwrap()
}

#[tokio::test]
async fn malformed_bodies_are_decode_or_server_errors() {
    let e = get_err(Reply::json(200, "{\"data\": {\"id\": ")).await;
    assert!(matches!(e, Error::Decode { .. }), "invalid JSON: {e:?}");

    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let e = get_err(Reply::with(502, "text/html", html)).await;
    assert!(
        matches!(e, Error::Server { .. }) && e.status() == Some(502),
        "HTML 502: {e:?}"
    );
    let e = get_err(Reply::with(200, "text/html", html)).await;
    assert!(matches!(e, Error::Decode { .. }), "HTML 200: {e:?}");

    // A wrong content type on a valid body: decoded (lenient) or refused, never a panic.
    let h = server(|_, _| Reply::with(200, "text/plain", agent_json("running", "t"))).await;
    match client(&h).get_agent(id()).await {
        Ok(a) => assert_eq!(a.id, id()),
        Err(e) => assert!(matches!(e, Error::Decode { .. }), "{e:?}"),
    }

    let mut bad_utf8 = br#"{"data":{"id":""#.to_vec();
    bad_utf8.extend_from_slice(b"\xff\xfe\xc3\x28");
    bad_utf8.extend_from_slice(br#"","status":"running"}}"#);
    let e = get_err(Reply::json(200, bad_utf8)).await;
    assert!(matches!(e, Error::Decode { .. }), "invalid UTF-8: {e:?}");

    let deep = format!(
        "{{\"data\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = get_err(Reply::json(200, deep)).await;
    assert!(matches!(e, Error::Decode { .. }), "deep nesting: {e:?}");

    let e = get_err(Reply::json(200, "{\"data\":{}}")).await;
    assert!(matches!(e, Error::Decode { .. }), "missing fields: {e:?}");
    let e = get_err(Reply::json(200, format!(r#"{{"data":{{"id":"{ID}"}}}}"#))).await;
    assert!(matches!(e, Error::Decode { .. }), "missing status: {e:?}");
    let e = get_err(Reply::json(200, "{}")).await;
    assert!(matches!(e, Error::Decode { .. }), "no data: {e:?}");
}

#[tokio::test]
async fn header_floods_are_refused() {
    let e = get_err(Reply::ManyHeaders { count: 100_000 }).await;
    assert!(
        matches!(
            e,
            Error::Transport { .. } | Error::Decode { .. } | Error::Timeout { .. }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn huge_and_endless_bodies_use_bounded_memory_and_time() {
    let rss_before = vm("VmRSS:");
    for reply in [Reply::Huge { len: 1 << 30 }, Reply::Endless] {
        let name = format!("{reply:?}");
        let e = get_err(reply).await;
        assert!(
            matches!(
                e,
                Error::Transport { .. } | Error::Decode { .. } | Error::Timeout { .. }
            ),
            "{name}: {e:?}"
        );
        println!("{}: {e}", &name[..name.len().min(20)]);
    }
    let grown = vm("VmHWM:").saturating_sub(rss_before);
    println!(
        "peak RSS growth over the 1 GiB and endless bodies: {} KiB",
        grown / 1024
    );
    assert!(grown < 64 << 20, "RSS grew by {grown} bytes");
}

#[tokio::test]
async fn a_regressing_status_never_returns_a_wrong_answer_or_hangs() {
    // finished (t2) → running (t1) → finished …: the turn ends once, with the answer that
    // follows the last user row, or with a typed error.
    let h = server(|seen, n| {
        if seen.path.ends_with("/conversation") {
            return Reply::json(
                200,
                r#"{"data":{"messages":[{"id":"1","type":"user","text":"q"},{"id":"2","type":"assistant","text":"the answer"}]}}"#,
            );
        }
        if n % 2 == 0 {
            Reply::json(200, agent_json("finished", "2026-01-01T00:00:02.000Z"))
        } else {
            Reply::json(200, agent_json("running", "2026-01-01T00:00:01.000Z"))
        }
    })
    .await;
    let t = Instant::now();
    match client(&h).agent(id()).wait().await {
        Ok(o) => assert_eq!(o.answer.as_deref(), Some("the answer")),
        Err(e) => assert!(!matches!(e, Error::Config { .. }), "{e:?}"),
    }
    assert!(t.elapsed() < HANG_GUARD, "{:?}", t.elapsed());
}

#[tokio::test]
async fn an_unknown_status_is_active_until_the_deadline() {
    let h = server(|_, _| Reply::json(200, agent_json("pondering", "t"))).await;
    let t = Instant::now();
    let e = client(&h).agent(id()).wait().await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(t.elapsed() < HANG_GUARD, "{:?}", t.elapsed());
}

#[tokio::test]
async fn a_redirect_to_another_origin_never_carries_the_key() {
    let other = server(|_, _| Reply::json(200, agent_json("finished", "t"))).await;
    let target = other.origin();
    let h = server(move |seen, _| Reply::Full {
        status: 307,
        headers: vec![("location".into(), format!("{target}{}", seen.path))],
        body: Vec::new(),
    })
    .await;
    let e = client(&h).get_agent(id()).await.unwrap_err();
    assert!(
        matches!(e, Error::Transport { .. } | Error::Server { .. }),
        "{e:?}"
    );
    // The first server saw the key; the other origin never did (if it was contacted at all).
    assert!(h.seen().iter().all(|s| {
        s.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.contains(KEY))
    }));
    for s in other.seen() {
        for (k, v) in &s.headers {
            assert!(!v.contains(KEY), "the key reached another origin in {k}");
            assert_ne!(k, "authorization", "credentials reached another origin");
        }
    }
    assert!(!format!("{e:?} {e}").contains(KEY));
}

// ---------------------------------------------------------------------------------------------
// Issue 13, item 5: a response the client cannot read names its cause ("the response header
// was too large", "not valid HTTP"), is not retried, and a launch it answers stays "maybe
// received". (The CLI's hostile-text tests are in crates/cli/tests/hostile_text.rs: only that
// crate's tests can run the `nomic-agent` binary.)
// ---------------------------------------------------------------------------------------------

/// Raw responses a client cannot read, with the words its error must contain.
fn unreadable_heads() -> Vec<(&'static str, Reply, &'static str)> {
    let big = "a".repeat(2 << 20);
    let raw = |head: String| {
        Reply::Raw(
            format!("{head}content-length: 2\r\n\r\n{{}}")
                .as_bytes()
                .into(),
        )
    };
    let many: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
    vec![
        (
            "a 2 MiB header",
            raw(format!("HTTP/1.1 200 OK\r\nx-big: {big}\r\n")),
            "the response header was too large",
        ),
        (
            "a 2 MiB status line",
            raw(format!("HTTP/1.1 200 {big}\r\n")),
            "the response header was too large",
        ),
        (
            "150 headers",
            raw(format!("HTTP/1.1 200 OK\r\n{many}")),
            "the response header was too large",
        ),
        (
            "a status that is not a number",
            raw("HTTP/1.1 2x0 OK\r\n".into()),
            "the server's response was not valid HTTP",
        ),
    ]
}

#[tokio::test]
async fn an_unreadable_response_head_names_its_cause_and_is_not_retried() {
    for (name, reply, want) in unreadable_heads() {
        let h = server(move |_, _| reply.clone()).await;
        let e = client(&h).get_agent(id()).await.unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Transport { .. }), "{name}: {e:?}");
        assert!(text.contains(want), "{name}: {text:?}");
        assert!(
            !text.contains("sending the request failed"),
            "{name}: {text:?}"
        );
        assert!(!text.contains("client error ("), "{name}: {text:?}");
        // The connection worked; it is the answer that could not be read.
        assert!(
            text.contains("the server's answer could not be read"),
            "{name}: {text:?}"
        );
        assert!(!text.contains("the connection failed"), "{name}: {text:?}");
        // The same server would answer the same way again.
        assert_eq!(h.seen().len(), 1, "{name}: retried");
        assert!(!format!("{e:?} {e}").contains(KEY));
    }
}

#[tokio::test]
async fn a_launch_answered_with_an_unreadable_head_is_maybe_received_and_not_resent() {
    for (name, reply, _) in unreadable_heads() {
        let h = server(move |_, _| reply.clone()).await;
        let e = client(&h)
            .launch(nomic_agent::LaunchRequest::prompt("hello"))
            .await
            .unwrap_err();
        // The server answered, so it had the request: maybe created, never resent.
        assert!(matches!(e, Error::LaunchOutcomeUnknown), "{name}: {e:?}");
        let launches = h.seen().iter().filter(|s| s.method == "POST").count();
        assert_eq!(launches, 1, "{name}");
    }
}

// ============================================================================================
// Polls ride out outages up to the deadline (issue 13, item 3): 503 forever, an 8 s outage
// mid-turn, a day-long Retry-After, a dripping body. Kept in one module so it merges cleanly.
// ============================================================================================

mod poll_outages {
    use std::future::Future;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use nomic_agent::{Backoff, Error, LaunchRequest, RetryAfterPolicy, RetryConfig};
    use nomic_agent_emulator::{Fault, FaultRule};
    use nomic_agent_tests::hostile::Reply;
    use nomic_agent_tests::{Wire, builder, config, scaled, start};
    use tracing_subscriber::util::SubscriberInitExt;

    use super::{KEY, client, id, server};

    /// Only a guard against a hang: every case here ends long before it.
    async fn guard<T>(f: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(30), f)
            .await
            .expect("ended within the hang guard")
    }

    /// The most requests a client can send within `span` of an outage when each wait lasts at
    /// least its backoff step's floor (`(1 - jitter) × nominal`): bursts of `attempts`
    /// transport attempts (steps 0 … attempts-2) between the turn's waits, which continue the
    /// curve (steps attempts-1, attempts, …). Slow machines only make waits longer; a storm —
    /// a request without its wait — goes over it.
    fn max_requests(span: Duration, attempts: u32, b: &Backoff) -> usize {
        let floor = |step: u32| {
            let nominal = b.initial.mul_f64(b.factor.powi(step as i32)).min(b.max);
            nominal.mul_f64(1.0 - b.jitter)
        };
        let (mut t, mut count) = (Duration::ZERO, 1);
        for burst in 0.. {
            for step in (0..attempts - 1).chain([attempts - 1 + burst]) {
                t += floor(step);
                if t > span {
                    return count;
                }
                count += 1;
            }
        }
        unreachable!()
    }

    fn rule(route: &str, fault: Fault) -> FaultRule {
        FaultRule {
            route: route.into(),
            method: Some("GET".into()),
            fault,
            probability: None,
            count: None,
        }
    }

    /// The SDK's DEBUG lines on this thread (the test runtime is single-threaded, so the
    /// client's and the emulator's tasks all log here) until the guard drops.
    fn capture_debug() -> (Arc<Mutex<Vec<u8>>>, impl Sized) {
        #[derive(Clone)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        let sink = Sink(Arc::clone(&buf));
        let guard = tracing_subscriber::fmt()
            .with_env_filter("nomic_agent=debug")
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .set_default();
        (buf, guard)
    }

    #[tokio::test]
    async fn a_503_forever_ends_at_the_wait_deadline_naming_the_503() {
        let h = server(|_, _| {
            Reply::json(
                503,
                r#"{"error":"Service unavailable","code":"service_unavailable"}"#,
            )
        })
        .await;
        let wait = Duration::from_millis(600);
        let backoff = Backoff::default()
            .with_initial(Duration::from_millis(20))
            .with_max(Duration::from_millis(200));
        let c = nomic_agent::Client::builder()
            .api_key(KEY)
            .base_url(h.base_url())
            .request_deadline(wait)
            .wait_deadline(wait)
            .retry(
                RetryConfig::default()
                    .with_max_attempts(2)
                    .with_backoff(backoff.clone()),
            )
            .build()
            .unwrap();
        let t = Instant::now();
        let e = guard(c.agent(id()).wait()).await.unwrap_err();
        // Not before the deadline: the outage was ridden out up to it.
        assert!(t.elapsed() >= wait, "gave up after {:?}", t.elapsed());
        let text = e.to_string();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        assert!(
            text.contains("0.6 s wait deadline") && text.contains("last error: server error 503"),
            "{text}"
        );
        // More than one poll's two attempts, and no more than one request per backoff step up
        // to the deadline plus the last poll at it (cut short to land there) with its retry.
        let n = h.seen().len();
        let bound = max_requests(wait, 2, &backoff) + 2;
        assert!(n > 2 && n <= bound, "{n} requests (bound {bound})");
    }

    #[tokio::test]
    async fn an_8_s_outage_mid_turn_ends_in_the_right_answer_one_poll_per_backoff_step() {
        // Time scale 0.01: 8 s of outage is 80 ms, the 200 ms → 10 s backoff 2 ms → 100 ms.
        const SCALE: f64 = 0.01;
        let emu = start(config(Wire::Tcp, SCALE)).await;
        let backoff = Backoff::default()
            .with_initial(scaled(Duration::from_millis(200), SCALE))
            .with_max(scaled(Duration::from_secs(10), SCALE));
        // One transport attempt per request, so every request the server sees is one step of
        // the turn's own backoff and "one request per step" can be counted exactly.
        let c = builder(&emu, SCALE)
            .retry(
                RetryConfig::default()
                    .with_max_attempts(1)
                    .with_backoff(backoff.clone())
                    .with_retry_after(RetryAfterPolicy::with_cap(Duration::from_millis(50))),
            )
            .build()
            .unwrap();
        let (logs, _logging) = capture_debug();
        let agent = c
            .launch(LaunchRequest::prompt("[never] through the outage"))
            .await
            .unwrap();
        let waiting = tokio::spawn({
            let agent = agent.clone();
            async move { agent.wait().await }
        });
        // The outage starts with the first poll it refuses (so it falls mid-turn) and lasts
        // 8 scaled seconds; then the agent finishes.
        let began = Instant::now();
        emu.set_faults(vec![
            rule("/agents/{id}", Fault::ServerError { status: 503 }),
            rule(
                "/agents/{id}/conversation",
                Fault::ServerError { status: 503 },
            ),
        ])
        .unwrap();
        guard(async {
            while emu.counters().faults_injected == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        tokio::time::sleep(scaled(Duration::from_secs(8), SCALE)).await;
        emu.set_faults(Vec::new()).unwrap();
        let span = began.elapsed();
        emu.complete_agent(*agent.id().as_uuid()).unwrap();

        let out = guard(waiting)
            .await
            .unwrap()
            .expect("the wait outlives the outage");
        assert!(out.is_finished(), "{out:?}");
        assert!(
            out.answer
                .as_deref()
                .is_some_and(|a| a.contains("through the outage")),
            "{out:?}"
        );
        let refused = emu
            .request_log()
            .iter()
            .filter(|r| r.fault.is_some())
            .count();
        let bound = max_requests(span, 1, &backoff);
        assert!(
            (1..=bound).contains(&refused),
            "{refused} requests refused in a {span:?} outage: more than one per backoff step ({bound})"
        );
        // One DEBUG line per retried poll, numbered 1, 2, … in order.
        let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        let attempts: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("poll failed; polling again"))
            .filter_map(|l| l.split("attempt=").nth(1)?.split(' ').next())
            .collect();
        let want: Vec<String> = (1..=refused).map(|n| n.to_string()).collect();
        assert_eq!(attempts, want, "{logs}");
        emu.shutdown().await;
    }

    #[tokio::test]
    async fn a_day_long_retry_after_ends_promptly_with_the_rate_limit_error() {
        let h = server(|_, _| Reply::Full {
            status: 429,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("retry-after".into(), "86400".into()),
            ],
            body: br#"{"error":"Rate limit exceeded","code":"rate_limited"}"#.to_vec(),
        })
        .await;
        // A 2 s wait: the hang guard (30 s) is what "not after a day" means here.
        let e = guard(client(&h).agent(id()).wait()).await.unwrap_err();
        assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
        // Nothing was sent before the Retry-After: one poll, then the error.
        assert_eq!(h.seen().len(), 1);
    }

    #[tokio::test]
    async fn a_body_dripping_a_byte_every_half_second_is_bounded_by_the_wait_deadline() {
        const SCALE: f64 = 0.01;
        let emu = start(config(Wire::Tcp, SCALE)).await;
        let agent = builder(&emu, SCALE)
            .build()
            .unwrap()
            .launch(LaunchRequest::prompt("[never] dripping"))
            .await
            .unwrap();
        emu.set_faults(vec![rule(
            "/agents/{id}",
            Fault::SlowBody {
                chunk_bytes: 1,
                interval_ms: 500,
            },
        )])
        .unwrap();
        // The request deadline (60 s) would let one poll drip past the hang guard; the wait's
        // 700 ms deadline must end it.
        let wait = Duration::from_millis(700);
        let c = builder(&emu, SCALE)
            .request_deadline(Duration::from_secs(60))
            .wait_deadline(wait)
            .build()
            .unwrap();
        let t = Instant::now();
        let e = guard(c.agent(agent.id()).wait()).await.unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        assert!(t.elapsed() >= wait, "{:?}", t.elapsed());
        emu.shutdown().await;
    }
}
