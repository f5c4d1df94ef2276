//! Real sockets against small local servers: TLS with an rcgen root, ALPN, connection reuse,
//! redirects, body limits, streaming uploads, and servers that stall or drip.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use nomic_agent_core::policy::gcra::{TierLimit, TierLimits};
use nomic_agent_transport::{Body, RedirectMode, Transport, TransportConfig};
use support::servers::{self, Server, handler};

/// Fast pacing so the socket tests measure the network, not the limiter.
fn fast(c: TransportConfig) -> TransportConfig {
    c.tier_limits(TierLimits {
        standard: TierLimit::new(60_000, 100),
        heavy: TierLimit::new(60_000, 100),
        ..TierLimits::default()
    })
}

fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

fn text(s: impl Into<String>) -> Response<Body> {
    Response::new(Body::from(s.into()))
}

async fn ok_server_tls() -> Server {
    servers::https(handler(|req| async move {
        let auth = req.headers().contains_key(http::header::AUTHORIZATION);
        text(format!("{:?} auth={auth}", req.version()))
    }))
    .await
}

#[tokio::test]
async fn tls_with_the_added_root_is_accepted_over_h2() {
    let server = ok_server_tls().await;
    let c = fast(support::config("tls_ok", &server.https_base()))
        .add_root_pem(server.root_pem.clone().unwrap());
    let t = Transport::new(c).unwrap();
    for _ in 0..3 {
        let resp = t.send_buffered(get("/agents")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.version(), Version::HTTP_2, "ALPN should pick h2");
        assert_eq!(resp.body(), "HTTP/2.0 auth=true");
    }
    assert_eq!(server.connections(), 1, "one multiplexed connection");
    support::assert_no_secret("");
}

#[tokio::test]
async fn tls_without_the_root_is_rejected() {
    let server = ok_server_tls().await;
    let t = Transport::new(fast(support::config("tls_reject", &server.https_base()))).unwrap();
    let start = Instant::now();
    let err = t.send_buffered(get("/agents")).await.unwrap_err();
    assert!(
        err.is_tls() && err.is_connect() && !err.was_sent(),
        "{err:?}"
    );
    // A certificate rejection is not retried: it would fail the same way.
    assert_eq!(server.connections(), 1);
    assert!(start.elapsed() < HANG_GUARD);
    support::assert_no_secret(&format!("{err:?} {err}"));
}

#[tokio::test]
async fn a_different_root_is_still_rejected() {
    let server = ok_server_tls().await;
    let other = ok_server_tls().await;
    let c = fast(support::config("tls_wrong_root", &server.https_base()))
        .add_root_pem(other.root_pem.clone().unwrap());
    let err = Transport::new(c)
        .unwrap()
        .send_buffered(get("/agents"))
        .await
        .unwrap_err();
    assert!(err.is_tls(), "{err:?}");
}

#[test]
fn garbage_pem_is_a_build_error() {
    let c = support::config("bad_pem", "https://127.0.0.1:1/api/v0").add_root_pem("not a pem");
    let err = Transport::new(c).unwrap_err();
    assert!(err.to_string().contains("root"), "{err}");
}

#[tokio::test]
async fn http1_connections_are_reused() {
    let server = servers::http(handler(|_| async { text("hello") })).await;
    let t = Transport::new(fast(support::config("reuse", &server.http_base()))).unwrap();
    for _ in 0..3 {
        let resp = t.clone().send_buffered(get("/agents")).await.unwrap();
        assert_eq!(resp.version(), Version::HTTP_11);
        assert_eq!(resp.body(), "hello");
    }
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn cross_origin_redirects_never_reach_the_other_origin() {
    let other = servers::http(handler(|_| async { text("should never be asked") })).await;
    let target = format!("http://{}/api/v0/agents", other.addr);
    let loc = target.clone();
    let server = servers::http(handler(move |_| {
        let loc = loc.clone();
        async move {
            let mut r = text("");
            *r.status_mut() = StatusCode::FOUND;
            r.headers_mut()
                .insert(http::header::LOCATION, loc.parse().unwrap());
            r
        }
    }))
    .await;
    for mode in [RedirectMode::Refuse, RedirectMode::FollowSameOrigin] {
        let c = fast(support::config("xorigin", &server.http_base())).redirect(mode);
        let err = Transport::new(c)
            .unwrap()
            .send_buffered(get("/agents"))
            .await
            .unwrap_err();
        assert!(err.is_redirect(), "{err:?}");
        assert_eq!(err.redirect_status(), Some(StatusCode::FOUND));
        assert_eq!(err.redirect_location(), Some(target.as_str()));
        assert!(err.to_string().contains(&target));
    }
    assert_eq!(other.connections(), 0);
    support::assert_no_secret("");
}

#[tokio::test]
async fn same_origin_redirects_are_followed_only_when_asked() {
    let server = servers::http(handler(|req| async move {
        if req.uri().path() == "/api/v0/old" {
            let mut r = text("");
            *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            r.headers_mut()
                .insert(http::header::LOCATION, "/api/v0/new".parse().unwrap());
            return r;
        }
        let auth = req.headers().contains_key(http::header::AUTHORIZATION);
        let body = req.into_body().collect().await.unwrap().to_bytes();
        text(format!(
            "new auth={auth} body={}",
            String::from_utf8_lossy(&body)
        ))
    }))
    .await;
    let post = || {
        Request::post("/old")
            .body(Bytes::from_static(b"payload"))
            .unwrap()
    };
    let follow = fast(support::config("same_origin", &server.http_base()))
        .redirect(RedirectMode::FollowSameOrigin);
    let resp = Transport::new(follow)
        .unwrap()
        .send_buffered(post())
        .await
        .unwrap();
    assert_eq!(resp.body(), "new auth=true body=payload");
    let refuse = fast(support::config("same_origin", &server.http_base()));
    let err = Transport::new(refuse)
        .unwrap()
        .send_buffered(post())
        .await
        .unwrap_err();
    assert_eq!(err.redirect_status(), Some(StatusCode::TEMPORARY_REDIRECT));
    assert_eq!(err.redirect_location(), Some("/api/v0/new"));
}

#[tokio::test]
async fn body_limit_applies_to_declared_and_streamed_lengths() {
    let server = servers::http(handler(|req| async move {
        let size = 2 * 1024 * 1024;
        match req.uri().path() {
            "/api/v0/declared" => text("x".repeat(size)),
            "/api/v0/small" => text("{}"),
            _ => {
                // No Content-Length: the limit must trip while reading.
                let chunks = (0..32).map(move |_| Ok(Bytes::from(vec![b'y'; size / 32])));
                Response::new(Body::from_stream(futures_stream(chunks)))
            }
        }
    }))
    .await;
    let c = fast(support::config("limit", &server.http_base())).json_body_limit(1024 * 1024);
    let t = Transport::new(c).unwrap();
    let err = t.send_buffered(get("/declared")).await.unwrap_err();
    assert!(err.is_body_too_large(), "{err:?}");
    let err = t.send_buffered(get("/chunked")).await.unwrap_err();
    assert!(err.is_body_too_large(), "{err:?}");
    assert!(err.to_string().contains("1048576"), "{err}");
    assert_eq!(t.send_buffered(get("/small")).await.unwrap().body(), "{}");
    // Streaming responses are not limited unless asked.
    let resp = t
        .send(Request::get("/chunked").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        resp.into_body().bytes().await.unwrap().len(),
        2 * 1024 * 1024
    );
}

#[tokio::test]
async fn uploads_stream() {
    let server = servers::http(handler(|req| async move {
        let mut body = req.into_body();
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            total += frame.unwrap().into_data().map_or(0, |d| d.len());
        }
        text(total.to_string())
    }))
    .await;
    let t = Transport::new(fast(support::config("upload", &server.http_base()))).unwrap();
    let chunks = (0..128).map(|_| Ok(Bytes::from(vec![0u8; 64 * 1024])));
    let req = Request::post("/files/upload")
        .body(Body::from_stream(futures_stream(chunks)))
        .unwrap();
    let resp = t.send(req).await.unwrap();
    assert_eq!(
        resp.into_body().bytes().await.unwrap(),
        (128 * 64 * 1024).to_string()
    );
}

/// One buffered `GET /agents` to `server` under an attempt timeout and a deadline; the result
/// and how long it took.
async fn timed_get(
    server: &Server,
    test: &str,
    attempt_timeout: Duration,
    deadline: Duration,
) -> (
    Result<Response<Bytes>, nomic_agent_transport::Error>,
    Duration,
) {
    let c = fast(support::config(test, &server.http_base()))
        .attempt_timeout(attempt_timeout)
        .deadline(deadline);
    let start = Instant::now();
    let result = Transport::new(c)
        .unwrap()
        .send_buffered(get("/agents"))
        .await;
    (result, start.elapsed())
}

/// An upper bound that only catches a hang: the error's kind (deadline, timeout, one
/// connection) is what proves the bound held; a wall-clock figure near the deadline would
/// fail on a busy machine for no fault of the code (docs/reliability.md, loaded machines).
const HANG_GUARD: Duration = Duration::from_secs(30);

/// The default attempt timeout, for tests where only the deadline should fire.
const NO_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = servers::silent().await;
    let (result, took) = timed_get(
        &server,
        "silent",
        Duration::from_millis(150),
        Duration::from_millis(300),
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.is_timeout() && err.was_sent(), "{err:?}");
    assert!(
        took >= Duration::from_millis(150) && took < HANG_GUARD,
        "{took:?}"
    );
    support::assert_no_secret(&format!("{err:?}"));
}

#[tokio::test]
async fn a_dripping_body_cannot_outlast_the_deadline() {
    // Headers at once, then one body byte every 20 ms: 4 s for the whole body.
    let server = servers::drip(
        "HTTP/1.1 200 OK\r\ncontent-length: 200\r\n\r\n",
        200,
        Duration::from_millis(20),
    )
    .await;
    let (result, took) = timed_get(
        &server,
        "drip_body",
        NO_ATTEMPT_TIMEOUT,
        Duration::from_millis(300),
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.is_deadline(), "{err:?}");
    assert!(
        took >= Duration::from_millis(280) && took < HANG_GUARD,
        "{took:?}"
    );
}

#[tokio::test]
async fn a_dripping_head_cannot_outlast_the_deadline() {
    let server = servers::drip(
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-padding: aaaaaaaaaaaaaaaa\r\n\r\nok",
        0,
        Duration::from_millis(50),
    )
    .await;
    let (result, took) = timed_get(
        &server,
        "drip_head",
        NO_ATTEMPT_TIMEOUT,
        Duration::from_millis(300),
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.is_deadline(), "{err:?}");
    assert!(took < HANG_GUARD, "{took:?}");
}

#[tokio::test]
async fn a_body_slower_than_the_attempt_timeout_is_read_within_the_deadline() {
    // The attempt's timeout covers the head only: the one timer that served it is re-armed
    // for the deadline while the body (10 bytes, one every 30 ms) is read.
    let server = servers::drip(
        "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n",
        10,
        Duration::from_millis(30),
    )
    .await;
    let (result, _) = timed_get(
        &server,
        "slow_body",
        Duration::from_millis(100),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(result.unwrap().body().as_ref(), b"xxxxxxxxxx");
}

#[tokio::test]
async fn a_dripping_429_body_cannot_outlast_the_deadline() {
    // The classifier reads a 429's body (spend or rate?); that read is bounded too.
    let server = servers::drip(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 200\r\n\r\n",
        200,
        Duration::from_millis(20),
    )
    .await;
    let (result, took) = timed_get(
        &server,
        "drip_429",
        Duration::from_millis(100),
        Duration::from_millis(300),
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.is_deadline(), "{err:?}");
    assert!(
        took >= Duration::from_millis(280) && took < HANG_GUARD,
        "{took:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    // Bind then drop, so the port is (almost certainly) closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let c = fast(support::config("closed", &format!("http://{addr}/api/v0")))
        .deadline(Duration::from_millis(500));
    let err = Transport::new(c)
        .unwrap()
        .send_buffered(get("/agents"))
        .await
        .unwrap_err();
    assert!(
        err.is_connect() && !err.was_sent() && !err.is_tls(),
        "{err:?}"
    );
}

fn futures_stream<I>(
    iter: I,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send
where
    I: Iterator<Item = Result<Bytes, std::io::Error>> + Send + Unpin,
{
    struct S<I>(I);
    impl<I: Iterator + Unpin> futures_core::Stream for S<I> {
        type Item = I::Item;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<I::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    S(iter)
}

// ---------------------------------------------------------------------------------------------
// Malformed responses and failed connections: the error names the cause a user can act on,
// is typed (a predicate matches it), and is retried only when a retry can help (issue 13).
// ---------------------------------------------------------------------------------------------

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use nomic_agent_core::policy::backoff::Backoff;
use nomic_agent_core::policy::retry::RetryConfig;
use nomic_agent_core::request::Endpoint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that reads each request head, counts it, and answers `reply` (then, with `close`,
/// closes; with `reset`, resets the connection without answering).
struct Scripted {
    base: String,
    heads: Arc<AtomicUsize>,
}

#[derive(Clone, Copy, PartialEq)]
enum After {
    Close,
    Reset,
}

async fn scripted(reply: Vec<u8>, after: After) -> Scripted {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v0", listener.local_addr().unwrap());
    let heads = Arc::new(AtomicUsize::new(0));
    let count = heads.clone();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let count = count.clone();
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                if after == After::Reset {
                    // SO_LINGER 0: closing sends RST instead of FIN (and never blocks).
                    #[allow(deprecated, reason = "a zero linger does not block on drop")]
                    let _ = sock.set_linger(Some(Duration::ZERO));
                    return;
                }
                // The client may hang up mid-way (it stops reading a head over its limit).
                let _ = sock.write_all(&reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Scripted { base, heads }
}

/// A transport for `s` that retries fast (two attempts, 10 ms apart).
fn quick(s: &Scripted, test: &str) -> Transport {
    let retry = RetryConfig::default()
        .with_max_attempts(2)
        .with_backoff(Backoff::default().with_initial(Duration::from_millis(10)));
    let c = fast(support::config(test, &s.base))
        .retry(retry)
        .deadline(Duration::from_secs(20));
    Transport::new(c).unwrap()
}

fn launch() -> Request<Bytes> {
    let mut req = Request::post("/agents")
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"{\"prompt\":{\"text\":\"hi\"}}"))
        .unwrap();
    req.extensions_mut().insert(Endpoint::LaunchAgent);
    req
}

/// The message names the cause and not hyper-util's wrapper; nothing leaks the key.
fn says(err: &nomic_agent_transport::Error, cause: &str) {
    let text = err.to_string();
    assert!(text.starts_with(cause), "{text:?} should start {cause:?}");
    assert!(!text.contains("client error ("), "{text:?}");
    support::assert_no_secret(&format!("{err:?} {err}"));
}

fn head_with(lines: &str) -> Vec<u8> {
    format!("{lines}content-length: 2\r\n\r\n{{}}").into_bytes()
}

#[tokio::test]
async fn an_oversized_response_head_is_reported_as_such_and_not_retried() {
    let big = "a".repeat(2 << 20);
    let cases = [
        (
            "2 MiB header",
            head_with(&format!("HTTP/1.1 200 OK\r\nx-big: {big}\r\n")),
        ),
        (
            "2 MiB status line",
            head_with(&format!("HTTP/1.1 200 {big}\r\n")),
        ),
        (
            "150 headers",
            head_with(&format!(
                "HTTP/1.1 200 OK\r\n{}",
                (0..150)
                    .map(|i| format!("x-h{i}: v\r\n"))
                    .collect::<String>()
            )),
        ),
    ];
    for (name, reply) in cases {
        let s = scripted(reply, After::Close).await;
        let t = quick(&s, "head_too_large");
        let err = t.send_buffered(get("/agents/x")).await.unwrap_err();
        assert!(err.is_response_header_too_large(), "{name}: {err:?}");
        assert!(err.was_sent() && !err.is_connect(), "{name}: {err:?}");
        says(
            &err,
            "the response header was too large (over 100 fields or 408 KiB): message head is too large",
        );
        // The same server would answer the same way: one request, no retry.
        assert_eq!(s.heads.load(Ordering::SeqCst), 1, "{name}");

        // A launch: sent (the server answered), so never resent, and the caller knows.
        let err = t.send_buffered(launch()).await.unwrap_err();
        assert!(
            err.is_response_header_too_large() && err.was_sent(),
            "{name}: {err:?}"
        );
        assert_eq!(s.heads.load(Ordering::SeqCst), 2, "{name}");
    }
}

#[tokio::test]
async fn a_response_that_is_not_http_is_malformed_not_a_connection_failure() {
    for (reply, detail) in [
        (
            &b"HTTP/1.1 2x0 OK\r\n\r\n"[..],
            "invalid HTTP status-code parsed",
        ),
        (
            b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            "invalid HTTP header parsed",
        ),
        (
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
            "invalid HTTP version parsed",
        ),
    ] {
        let s = scripted(reply.to_vec(), After::Close).await;
        let err = quick(&s, "malformed")
            .send_buffered(get("/agents/x"))
            .await
            .unwrap_err();
        assert!(err.is_malformed_response() && err.was_sent(), "{err:?}");
        says(
            &err,
            &format!("the server's response was not valid HTTP: {detail}"),
        );
        assert_eq!(s.heads.load(Ordering::SeqCst), 1, "not retried");
    }
}

#[tokio::test]
async fn a_connection_closed_or_reset_before_the_answer_says_so_and_is_retried() {
    let s = scripted(Vec::new(), After::Close).await;
    let err = quick(&s, "closed_early")
        .send_buffered(get("/agents/x"))
        .await
        .unwrap_err();
    assert!(err.was_sent() && !err.is_malformed_response(), "{err:?}");
    says(
        &err,
        "the server closed the connection before answering: connection closed before message completed",
    );
    // A dropped connection may be a blip: an idempotent read is tried again.
    assert_eq!(s.heads.load(Ordering::SeqCst), 2);

    let s = scripted(Vec::new(), After::Reset).await;
    let err = quick(&s, "reset")
        .send_buffered(get("/agents/x"))
        .await
        .unwrap_err();
    assert!(err.was_sent(), "{err:?}");
    says(&err, "the connection was reset before the response arrived");
    assert_eq!(s.heads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_body_cut_short_says_the_body_broke_off() {
    let s = scripted(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"data\":".to_vec(),
        After::Close,
    )
    .await;
    let err = quick(&s, "body_cut")
        .send_buffered(get("/agents/x"))
        .await
        .unwrap_err();
    says(
        &err,
        "the response body broke off: the server closed the connection",
    );
}

#[tokio::test]
async fn a_refused_connection_says_nothing_listens() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let c = fast(support::config("refused", &format!("http://{addr}/api/v0")))
        .retry(RetryConfig::default().with_max_attempts(1));
    let err = Transport::new(c)
        .unwrap()
        .send_buffered(get("/agents"))
        .await
        .unwrap_err();
    assert!(err.is_connect() && !err.was_sent(), "{err:?}");
    says(
        &err,
        "the server refused the connection (nothing listens there?): tcp connect error: ",
    );
}
