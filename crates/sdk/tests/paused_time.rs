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
