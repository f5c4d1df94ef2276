//! Waits that ride out API outages, in paused tokio time over an in-memory `tower::Service`:
//! the server's behaviour is a function of virtual time, so "an 8 s outage" takes 8 virtual
//! seconds and no real ones, and every figure below is exact or a bound the code promises.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use nomic_agent::custom_service::{Body, Error as TransportError};
use nomic_agent::{AgentStatus, Backoff, Client, ClientBuilder, Error, PollErrorPolicy};
use tokio::time::Instant;

const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";

/// What the server does at a moment of virtual time (from the test's start).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Running,
    Finished,
    /// Every request gets this status (503, 429 …), with this `Retry-After` if any.
    Failing(u16, Option<u64>),
    /// A 200 whose body comes one byte every 500 ms.
    Drip,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
#[allow(dead_code)] // `path` is for the failure messages
struct Seen {
    at: Duration,
    path: String,
    status: u16,
}

type Plan = Arc<dyn Fn(Duration) -> Mode + Send + Sync>;

fn agent_json(status: &str) -> String {
    format!(
        r#"{{"data":{{"id":"{ID}","status":"{status}","createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:0{}.000Z"}}}}"#,
        if status == "finished" { 2 } else { 1 }
    )
}

const CONVERSATION: &str = r#"{"data":{"messages":[{"id":"1","type":"user","text":"q","createdAt":"2026-01-01T00:00:00.000Z"},{"id":"2","type":"assistant","text":"the right answer","createdAt":"2026-01-01T00:00:02.000Z"}]}}"#;

fn respond(mode: Mode, path: &str) -> (u16, Body) {
    let conversation = path.ends_with("/conversation");
    match mode {
        Mode::Failing(status, _) => (
            status,
            Body::from(r#"{"error":"Service unavailable","code":"service_unavailable"}"#),
        ),
        Mode::Drip => {
            let body = agent_json("running").into_bytes();
            let stream = futures_util::stream::unfold(0usize, move |i| {
                let body = body.clone();
                async move {
                    if i >= body.len() {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    Some((Ok(Bytes::copy_from_slice(&body[i..=i])), i + 1))
                }
            });
            (200, Body::from_stream(stream))
        }
        _ if conversation => (200, Body::from(CONVERSATION)),
        Mode::Running => (200, Body::from(agent_json("running"))),
        Mode::Finished => (200, Body::from(agent_json("finished"))),
    }
}

/// A client over a service that answers by `plan`, recording what it saw, with the given
/// builder settings on top of the defaults. `key` must differ per test: pacing is shared by
/// every client of one (origin, key) in the process, and each test has its own paused clock.
fn client(
    key: &str,
    plan: impl Fn(Duration) -> Mode + Send + Sync + 'static,
    settings: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> (Client, Arc<Mutex<Vec<Seen>>>) {
    let start = Instant::now();
    let plan: Plan = Arc::new(plan);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = Arc::clone(&seen);
    let svc = tower::service_fn(move |req: Request<Body>| {
        let at = start.elapsed();
        let mode = plan(at);
        let path = req.uri().path().to_owned();
        let (status, body) = respond(mode, &path);
        log.lock().unwrap().push(Seen { at, path, status });
        let mut resp = Response::new(body);
        *resp.status_mut() = StatusCode::from_u16(status).unwrap();
        if let Mode::Failing(_, Some(secs)) = mode {
            resp.headers_mut()
                .insert("retry-after", secs.to_string().parse().unwrap());
        }
        async move { Ok::<_, TransportError>(resp) }
    });
    let b = settings(
        Client::builder()
            .api_key(key)
            .base_url("https://outage.example")
            .seed(11)
            .service(svc),
    );
    (b.build().unwrap(), seen)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The most requests a client can send within `span` of an outage when every wait lasts at
/// least the floor of its backoff step (`(1 - jitter) × nominal`): bursts of `attempts`
/// transport attempts (steps 0 … attempts-2) separated by the turn's waits, which continue the
/// curve (steps attempts-1, attempts, …). A storm — any request without its wait — exceeds it.
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

#[tokio::test(start_paused = true)]
async fn an_8_s_outage_mid_turn_ends_in_the_right_answer_without_a_storm() {
    // Running, then 503s from 5 s to 13 s, then running again, finished from 20 s.
    let (c, seen) = client(
        "npk_outage_8s",
        |t| match t {
            t if t >= secs(5) && t < secs(13) => Mode::Failing(503, None),
            t if t >= secs(20) => Mode::Finished,
            _ => Mode::Running,
        },
        |b| b,
    );
    let out = c.agent(ID.parse().unwrap()).wait().await.unwrap();
    assert_eq!(out.status, AgentStatus::Finished);
    assert_eq!(out.answer.as_deref(), Some("the right answer"));

    let seen = seen.lock().unwrap().clone();
    let failed: Vec<&Seen> = seen.iter().filter(|s| s.status == 503).collect();
    assert!(!failed.is_empty(), "the outage was never hit: {seen:?}");
    let span = failed.last().unwrap().at - failed[0].at;
    let bound = max_requests(span, 4, &Backoff::default());
    assert!(
        failed.len() <= bound,
        "{} requests in a {span:?} outage, more than one per backoff step ({bound}): {failed:?}",
        failed.len()
    );
    // Recovered within one capped backoff step (10 s) of the outage's end, plus the transport's
    // short burst: not after a poll-schedule gap, and not never.
    let back = seen
        .iter()
        .find(|s| s.at >= secs(13))
        .expect("polled after the outage");
    assert!(
        back.at <= secs(13) + secs(10) + Duration::from_millis(1_700),
        "{back:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_503_forever_ends_at_the_wait_deadline_naming_the_503() {
    let (c, seen) = client(
        "npk_outage_forever",
        |_| Mode::Failing(503, None),
        |b| b.wait_deadline(secs(30)),
    );
    let started = Instant::now();
    let err = c.agent(ID.parse().unwrap()).wait().await.unwrap_err();
    let waited = started.elapsed();
    let text = err.to_string();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        text.contains("30 s wait deadline") && text.contains("503"),
        "{text}"
    );
    // It kept polling until the deadline (the last poll is at it), then ended: at most the
    // transport's burst on that last poll later (0.2 + 0.4 + 0.8 s, +20 % jitter).
    assert!(waited >= secs(30), "gave up early: {waited:?}");
    assert!(
        waited <= secs(30) + Duration::from_millis(1_680),
        "{waited:?}"
    );
    // One request per backoff step up to the deadline, plus the last poll at it (cut short to
    // land there) with its transport burst.
    let seen = seen.lock().unwrap();
    let bound = max_requests(secs(30), 4, &Backoff::default()) + 4;
    assert!(
        seen.len() <= bound,
        "{} requests > {bound}: {seen:?}",
        seen.len()
    );
}

#[tokio::test(start_paused = true)]
async fn max_consecutive_ends_with_the_servers_error() {
    let (c, seen) = client(
        "npk_outage_max",
        |_| Mode::Failing(503, None),
        |b| b.poll_errors(PollErrorPolicy::MaxConsecutive(2)),
    );
    let err = c.agent(ID.parse().unwrap()).wait().await.unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert_eq!(err.status(), Some(503));
    // Two polls, each retried three times by the transport.
    assert_eq!(seen.lock().unwrap().len(), 8);
}

#[tokio::test(start_paused = true)]
async fn a_day_long_retry_after_ends_promptly_with_the_rate_limit_error() {
    let (c, seen) = client(
        "npk_outage_429",
        |_| Mode::Failing(429, Some(86_400)),
        |b| b.wait_deadline(secs(30)),
    );
    let started = Instant::now();
    let err = c.agent(ID.parse().unwrap()).wait().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(started.elapsed() < secs(30), "{:?}", started.elapsed());
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "no poll before the Retry-After"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dripping_body_is_cut_at_the_wait_deadline() {
    // The request deadline (120 s by default) would let one poll drip for two minutes; the
    // wait's 5 s deadline ends it.
    let (c, _) = client(
        "npk_outage_drip",
        |_| Mode::Drip,
        |b| b.wait_deadline(secs(5)),
    );
    let started = Instant::now();
    let err = c.agent(ID.parse().unwrap()).wait().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(started.elapsed(), secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_refused_redirect_is_not_ridden_out() {
    let (c, seen) = client(
        "npk_outage_307",
        |_| Mode::Failing(307, None),
        |b| b.wait_deadline(secs(30)),
    );
    let started = Instant::now();
    let err = c.agent(ID.parse().unwrap()).wait().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(seen.lock().unwrap().len(), 1);
}
