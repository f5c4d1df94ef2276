//! The server: accept loop (plain or TLS, HTTP/1.1 and HTTP/2), per-request fault injection,
//! logging, and the [`RunningEmulator`] handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::{Clock, format_rfc3339_ms};
use crate::config::{DEFAULT_KEY, EmulatorConfig, KeyConfig, WorkflowConfig};
use crate::control;
use crate::control_token::ENV_CONTROL_TOKEN;
use crate::faults::{Fault, FaultRule};
use crate::http::{ApiError, RespBody};
use crate::introspection::{Counters, RequestLogEntry};
use crate::model::SpendState;
use crate::routes::{self, Matched};
use crate::shared::Shared;
use crate::time_scale::TimeScale;
use crate::{EmulatorError, tls};

/// Closing the connection without a response (an injected reset).
#[derive(Debug)]
pub struct ConnectionDropped;

impl std::fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for ConnectionDropped {}

/// Entry point.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Starts an emulator on a real clock.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        let clock = Arc::new(Clock::real(config.start_time_ms));
        Self::start_with_clock(config, clock).await
    }

    /// Starts an emulator on the given clock (e.g. [`Clock::manual`] for stepped tests).
    pub async fn start_with_clock(
        config: EmulatorConfig,
        clock: Arc<Clock>,
    ) -> Result<RunningEmulator, EmulatorError> {
        config.validate()?;
        let tls = config.tls.as_ref().map(tls::build).transpose()?;
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let control_warning = config
            .control_routes_exposed()
            .then(|| exposed_control_warning(local_addr));
        if let Some(w) = &control_warning {
            tracing::warn!(target: WARNING_TARGET, "{w}");
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        let host = match local_addr {
            SocketAddr::V4(a) if tls.is_some() && a.ip().is_loopback() => {
                format!("localhost:{}", a.port())
            }
            SocketAddr::V6(a) if tls.is_some() && a.ip().is_loopback() => {
                format!("localhost:{}", a.port())
            }
            other => other.to_string(),
        };
        let origin = format!("{scheme}://{host}");
        let public_origin = config
            .public_origin
            .clone()
            .unwrap_or_else(|| origin.clone());
        let shared = Arc::new(Shared::new(config.clone(), clock, public_origin));
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(config.limits.header_read_timeout_ms));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(config.limits.http2_max_concurrent_streams);
        let (stop_tx, stop_rx) = watch::channel(false);
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let task = tokio::spawn(accept_loop(
            listener,
            builder,
            shared.clone(),
            acceptor,
            stop_rx,
        ));
        Ok(RunningEmulator {
            shared,
            local_addr,
            origin,
            ca_pem: tls.map(|t| t.ca_pem),
            include_default_key: config.include_default_key,
            control_warning,
            stop_tx,
            task: Some(task),
        })
    }
}

/// The target of the emulator's start-up warnings, so a command can ask whether a subscriber
/// shows them before printing them itself.
pub(crate) const WARNING_TARGET: &str = "nomic_agent_emulator";

fn exposed_control_warning(addr: SocketAddr) -> String {
    format!(
        "the emulator listens on {addr}, beyond loopback, and its /_emulator/ control routes are \
         unauthenticated: anyone who can reach it can reset it, add API keys and inject faults; \
         set a control token (--control-token or {ENV_CONTROL_TOKEN}) to require one"
    )
}

async fn accept_loop(
    listener: TcpListener,
    builder: auto::Builder<TokioExecutor>,
    shared: Arc<Shared>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { handle(&shared, req).await }
            });
            let result = match acceptor {
                Some(acc) => match acc.accept(tcp).await {
                    Ok(stream) => {
                        let conn = builder
                            .serve_connection(TokioIo::new(stream), svc)
                            .into_owned();
                        watcher.watch(conn).await
                    }
                    Err(e) => {
                        tracing::debug!("TLS handshake failed: {e}");
                        return;
                    }
                },
                None => {
                    let conn = builder
                        .serve_connection(TokioIo::new(tcp), svc)
                        .into_owned();
                    watcher.watch(conn).await
                }
            };
            if let Err(e) = result {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    // Let in-flight requests finish, but never hang shutdown on a stuck client.
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

fn fault_name(f: &Fault) -> &'static str {
    match f {
        Fault::RateLimit { .. } => "rateLimit",
        Fault::ServerError { .. } => "serverError",
        Fault::ResetBefore => "resetBefore",
        Fault::ResetAfter => "resetAfter",
        Fault::Truncate => "truncate",
        Fault::Latency { .. } => "latency",
        Fault::SlowBody { .. } => "slowBody",
        Fault::Redirect { .. } => "redirect",
    }
}

/// Handles one request: control routes, or faults around an API route.
pub async fn handle(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, ConnectionDropped> {
    let path = req.uri().path().to_owned();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(control::handle(shared, req).await);
    }
    let received_ms = shared.clock.now_ms();
    let method = req.method().clone();
    let auth_present = req.headers().contains_key(header::AUTHORIZATION);
    let matched = routes::match_route(&method, &path);
    let template = match &matched {
        Matched::Route(r) => Some(r.template()),
        Matched::WrongMethod(t) => Some(*t),
        Matched::NotFound => None,
    };
    let fault = match &matched {
        Matched::Route(r) => shared.lock().faults.decide(method.as_str(), r.template()),
        _ => None,
    };
    let log = |status: Option<u16>, fault: Option<&Fault>| {
        let mut st = shared.lock();
        let key = format!("{} {}", method, template.unwrap_or("?"));
        *st.counters.requests_per_route.entry(key).or_default() += 1;
        if status == Some(429) {
            st.counters.too_many_requests_sent += 1;
        }
        if fault.is_some() {
            st.counters.faults_injected += 1;
        }
        st.log.push(RequestLogEntry {
            method: method.to_string(),
            path: path.clone(),
            route: template.map(str::to_owned),
            status,
            authorization_present: auth_present,
            received_at: format_rfc3339_ms(received_ms),
            fault: fault.map(|f| fault_name(f).to_owned()),
        });
    };

    // Faults that replace the handler.
    let early = match &fault {
        Some(Fault::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            None
        }
        Some(Fault::ResetBefore) => {
            log(None, fault.as_ref());
            return Err(ConnectionDropped);
        }
        Some(Fault::RateLimit {
            retry_after_secs,
            http_date,
        }) => {
            let value = if *http_date {
                let at = shared.clock.now_nanos() / 1_000_000_000 + retry_after_secs;
                httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(at))
            } else {
                retry_after_secs.to_string()
            };
            Some(ApiError::rate_limited(value).into_response())
        }
        Some(Fault::ServerError { status }) => Some(
            ApiError::server(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            )
            .into_response(),
        ),
        Some(Fault::Redirect { location }) => {
            let target = format!(
                "{}{}",
                location.trim_end_matches('/'),
                req.uri()
                    .path_and_query()
                    .map_or(path.as_str(), |p| p.as_str())
            );
            let mut r = crate::http::empty_response(StatusCode::TEMPORARY_REDIRECT);
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Some(r)
        }
        _ => None,
    };
    if let Some(resp) = early {
        log(Some(resp.status().as_u16()), fault.as_ref());
        return Ok(resp);
    }

    let resp = match matched {
        Matched::Route(route) => routes::handle(shared, route, req).await,
        Matched::WrongMethod(_) => ApiError::method_not_allowed().into_response(),
        Matched::NotFound => ApiError::not_found("Route").into_response(),
    };

    // Faults that act after the handler committed.
    let status = resp.status().as_u16();
    match &fault {
        Some(Fault::ResetAfter) => {
            log(None, fault.as_ref());
            Err(ConnectionDropped)
        }
        Some(Fault::Truncate) => {
            let (mut parts, body) = resp.into_parts();
            let full = body.into_full_bytes().unwrap_or_default();
            let declared = full.len().max(1);
            let sent = Bytes::copy_from_slice(&full[..full.len() / 2]);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
            log(Some(status), fault.as_ref());
            Ok(Response::from_parts(parts, RespBody::truncated(sent)))
        }
        Some(Fault::SlowBody {
            chunk_bytes,
            interval_ms,
        }) => {
            let (mut parts, body) = resp.into_parts();
            let full = body.into_full_bytes().unwrap_or_default();
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            log(Some(status), fault.as_ref());
            let body = RespBody::drip(full, *chunk_bytes, Duration::from_millis(*interval_ms));
            Ok(Response::from_parts(parts, body))
        }
        _ => {
            log(Some(status), fault.as_ref());
            Ok(resp)
        }
    }
}

/// A running emulator. Dropping it stops the accept loop; [`RunningEmulator::shutdown`] also
/// waits for in-flight requests.
#[derive(Debug)]
pub struct RunningEmulator {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    origin: String,
    ca_pem: Option<String>,
    include_default_key: bool,
    control_warning: Option<String>,
    stop_tx: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningEmulator {
    /// The API root, `{origin}/api/v0`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.origin, routes::API_PREFIX)
    }

    /// `http(s)://host:port`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The built-in key (`npk_emulator_local`), when enabled.
    pub fn default_key(&self) -> Option<&'static str> {
        self.include_default_key.then_some(DEFAULT_KEY)
    }

    /// The warning given at start when the control routes are open beyond loopback (no
    /// control token, a non-loopback listening address); `None` otherwise.
    pub fn control_warning(&self) -> Option<&str> {
        self.control_warning.as_deref()
    }

    /// The CA certificate (PEM) to trust, when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The emulator clock (advance it to move every agent's timeline).
    pub fn clock(&self) -> &Arc<Clock> {
        &self.shared.clock
    }

    /// A copy of the counters.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    /// A copy of the request log.
    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        self.shared.lock().log.snapshot()
    }

    /// Replaces the fault rules.
    pub fn set_faults(&self, rules: Vec<FaultRule>) -> Result<(), EmulatorError> {
        for r in &rules {
            r.validate().map_err(EmulatorError::Config)?;
        }
        self.shared.lock().faults.rules = rules;
        Ok(())
    }

    /// Changes the time scale for turns and rate limits from now on.
    pub fn set_time_scale(&self, scale: f64) -> Result<(), EmulatorError> {
        let scale = TimeScale::new(scale)?;
        self.shared.lock().set_time_scale(scale);
        Ok(())
    }

    /// The current time scale: scale a client's poll delays, windows and tier rates by it to
    /// match this emulator (see [`TimeScale`]).
    pub fn time_scale(&self) -> TimeScale {
        self.shared.lock().time_scale
    }

    /// Sets a user's spend cap (`None`: unlimited) and whether it counts as reached.
    pub fn set_spend_cap(&self, user: &str, max_runs: Option<u64>, reached: bool) -> SpendState {
        let mut st = self.shared.lock();
        let s = st.spend_state(user);
        s.max_runs = max_runs;
        s.reached = reached;
        s.clone()
    }

    /// Adds (or replaces) an API key.
    pub fn add_key(&self, key: KeyConfig) -> Result<(), EmulatorError> {
        key.validate().map_err(EmulatorError::Config)?;
        self.shared.lock().keys.add(&key);
        Ok(())
    }

    /// Registers a workflow; returns its wire object.
    pub fn add_workflow(&self, w: WorkflowConfig) -> serde_json::Value {
        let now = self.shared.clock.now_ms();
        self.shared.lock().add_workflow(&w, now)
    }

    /// Forces the agent's current turn to finish now.
    pub fn complete_agent(&self, id: uuid::Uuid) -> Result<serde_json::Value, ApiError> {
        let now = self.shared.clock.now_ms();
        self.shared
            .lock()
            .complete(id, now, &self.shared.public_origin)
    }

    /// Back to the state at start.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops accepting, lets in-flight requests finish (bounded), and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop_tx.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop_tx.send(true);
    }
}
