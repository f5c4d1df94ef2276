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
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "took {:?}",
        t.elapsed()
    );
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
        matches!(e, Error::Server { status: 502, .. }),
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
    assert!(t.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn an_unknown_status_is_active_until_the_deadline() {
    let h = server(|_, _| Reply::json(200, agent_json("pondering", "t"))).await;
    let t = Instant::now();
    let e = client(&h).agent(id()).wait().await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
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
