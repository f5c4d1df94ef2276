//! The SDK over a custom in-memory `tower::Service` under paused tokio time: a turn that
//! polls for minutes of (virtual) time finishes instantly, and the follow-up race is handled.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use nomic_agent::custom_service::{Body, Error as TransportError};
use nomic_agent::{AgentStatus, Client, Error, LaunchRequest};

const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";

/// A scripted server: the agent runs for `polls_until_done` polls per turn; after a
/// follow-up, the first `stale_polls` polls still show the previous turn (same `updatedAt`).
#[derive(Default)]
struct Script {
    turn: u32,
    polls: u32,
    stale_polls: u32,
    requests: Vec<String>,
}

fn agent_json(status: &str, turn: u32) -> String {
    format!(
        r#"{{"data":{{"id":"{ID}","status":"{status}","artifacts":[],"files":[],
        "createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:0{turn}:00.000Z"}}}}"#
    )
}

fn conversation_json(turns: u32) -> String {
    let mut rows = Vec::new();
    for t in 1..=turns {
        rows.push(format!(r#"{{"id":"u{t}","type":"user","text":"prompt {t}","createdAt":"2026-01-01T00:00:00.000Z"}}"#));
        rows.push(format!(r#"{{"id":"a{t}","type":"assistant","text":"answer {t}","createdAt":"2026-01-01T00:00:00.000Z"}}"#));
    }
    format!(r#"{{"data":{{"messages":[{}]}}}}"#, rows.join(","))
}

fn respond(script: &Mutex<Script>, req: &Request<Body>) -> Response<Body> {
    let mut s = script.lock().unwrap();
    let path = req.uri().path().trim_start_matches("/api/v0").to_owned();
    s.requests.push(format!("{} {path}", req.method()));
    let (status, body) = match (req.method().as_str(), path.as_str()) {
        ("POST", "/agents") => {
            s.turn = 1;
            s.polls = 0;
            (StatusCode::CREATED, agent_json("waiting", 1))
        }
        ("POST", p) if p.ends_with("/followup") => {
            s.turn += 1;
            s.polls = 0;
            s.stale_polls = 3;
            (StatusCode::ACCEPTED, agent_json("finished", s.turn - 1))
        }
        ("GET", p) if p.ends_with("/conversation") => (StatusCode::OK, conversation_json(s.turn)),
        ("GET", _) => {
            if s.stale_polls > 0 {
                s.stale_polls -= 1;
                (StatusCode::OK, agent_json("finished", s.turn - 1))
            } else {
                s.polls += 1;
                let status = if s.polls < 5 { "running" } else { "finished" };
                (StatusCode::OK, agent_json(status, s.turn))
            }
        }
        _ => (
            StatusCode::NOT_FOUND,
            r#"{"error":"nope","code":"not_found"}"#.into(),
        ),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp
}

fn client(script: Arc<Mutex<Script>>) -> Client {
    let svc = tower::service_fn(move |req: Request<Body>| {
        let script = Arc::clone(&script);
        async move { Ok::<_, TransportError>(respond(&script, &req)) }
    });
    Client::builder()
        .api_key("npk_test")
        .base_url("https://acme.example")
        .service(svc)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn launch_wait_and_follow_up_in_virtual_time() {
    let script = Arc::new(Mutex::new(Script::default()));
    let c = client(Arc::clone(&script));
    let started = tokio::time::Instant::now();
    let agent = c.launch(LaunchRequest::prompt("prompt 1")).await.unwrap();
    assert_eq!(agent.url(), format!("https://acme.example/assistant/{ID}"));
    let out = agent.wait().await.unwrap();
    assert_eq!(out.status, AgentStatus::Finished);
    assert_eq!(out.answer.as_deref(), Some("answer 1"));
    // Five polls on the 2 s, 4 s, 8 s, … schedule: about a minute of virtual time.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(30), "{waited:?}");

    // Three stale `finished` polls after the 202 are not taken for the new turn.
    let out = agent.ask("prompt 2").await.unwrap();
    assert_eq!(out.answer.as_deref(), Some("answer 2"));
    let s = script.lock().unwrap();
    let follow_ups = s
        .requests
        .iter()
        .filter(|r| r.ends_with("/followup"))
        .count();
    assert_eq!(follow_ups, 1);
}

#[tokio::test(start_paused = true)]
async fn wait_deadline_is_a_typed_timeout() {
    let script = Arc::new(Mutex::new(Script::default()));
    let svc_script = Arc::clone(&script);
    let c = Client::builder()
        .api_key("npk_test")
        .base_url("https://acme.example")
        .wait_deadline(Duration::from_secs(5))
        .service(tower::service_fn(move |req: Request<Body>| {
            let script = Arc::clone(&svc_script);
            async move { Ok::<_, TransportError>(respond(&script, &req)) }
        }))
        .build()
        .unwrap();
    let agent = c.launch(LaunchRequest::prompt("prompt 1")).await.unwrap();
    let err = agent.wait().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
}

/// What a recording service saw: each request's method and path, and when it came.
type Seen = Arc<Mutex<Vec<(String, tokio::time::Instant)>>>;

/// A service that answers every launch with `launch_reply` and records when each request came.
fn recording(
    launch_reply: fn() -> Response<Body>,
) -> (
    impl tower::Service<
        Request<Body>,
        Response = Response<Body>,
        Error = TransportError,
        Future = impl Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static,
    Seen,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let script = Arc::new(Mutex::new(Script::default()));
    let svc = tower::service_fn(move |req: Request<Body>| {
        let log = Arc::clone(&log);
        let script = Arc::clone(&script);
        async move {
            let what = format!("{} {}", req.method(), req.uri().path());
            log.lock()
                .unwrap()
                .push((what.clone(), tokio::time::Instant::now()));
            if what.ends_with("/agents") && req.method() == http::Method::POST {
                return Ok::<_, TransportError>(launch_reply());
            }
            Ok(respond(&script, &req))
        }
    });
    (svc, seen)
}

#[tokio::test(start_paused = true)]
async fn launches_are_paced_on_the_heavy_tier() {
    // The turn hands the transport copies of its launch request; they must still be Heavy
    // (30/min: 2 s apart), not the Standard tier of an unknown call (300/min: 200 ms apart).
    let (svc, seen) = recording(|| {
        let mut resp = Response::new(Body::from(agent_json("waiting", 1)));
        *resp.status_mut() = StatusCode::CREATED;
        resp
    });
    let c = Client::builder()
        .api_key("npk_test_heavy")
        .base_url("https://heavy.example")
        .service(svc)
        .build()
        .unwrap();
    let (a, b, d) = tokio::join!(
        c.launch(LaunchRequest::prompt("one")),
        c.launch(LaunchRequest::prompt("two")),
        c.launch(LaunchRequest::prompt("three")),
    );
    a.unwrap();
    b.unwrap();
    d.unwrap();
    let times: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(w, _)| w.starts_with("POST"))
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(times.len(), 3);
    for w in times.windows(2) {
        assert_eq!(w[1] - w[0], Duration::from_secs(2));
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_launch_whose_retry_misses_the_deadline_is_rate_limited_not_unknown() {
    let (svc, seen) = recording(|| {
        let mut resp = Response::new(Body::from(r#"{"error":"slow down","code":"rate_limited"}"#));
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        resp.headers_mut()
            .insert("retry-after", http::HeaderValue::from_static("1"));
        resp
    });
    // Heavy at 10/min: the retry's permit (6 s) falls after the 3 s request deadline.
    let limits = nomic_agent::TierLimits {
        heavy: nomic_agent::TierLimit::new(10, 1),
        ..nomic_agent::TierLimits::default()
    };
    let c = Client::builder()
        .api_key("npk_test_429_deadline")
        .base_url("https://ratelimited.example")
        .tier_limits(limits)
        .request_deadline(Duration::from_secs(3))
        .service(svc)
        .build()
        .unwrap();
    let err = c.launch(LaunchRequest::prompt("one")).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing but the one launch");
}
