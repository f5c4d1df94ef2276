//! [`TransportConfig`]: everything [`Transport::new`](crate::Transport::new) needs.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nomic_agent_core::policy::budget::RetryBudget;
use nomic_agent_core::policy::gcra::TierLimits;
use nomic_agent_core::policy::retry::RetryConfig;
use nomic_agent_core::request::ApiBase;

use crate::secret::ApiKey;
use crate::stages::auth::RedirectMode;

/// The wall clock, needed only to read an HTTP-date `Retry-After` and `X-RateLimit-Reset`.
/// Injected so tests control it; defaults to `SystemTime::now`.
#[derive(Clone)]
pub struct WallClock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl WallClock {
    /// The system clock.
    pub fn system() -> WallClock {
        WallClock(Arc::new(SystemTime::now))
    }

    /// A clock reading `f`.
    pub fn new(f: impl Fn() -> SystemTime + Send + Sync + 'static) -> WallClock {
        WallClock(Arc::new(f))
    }

    /// The current wall-clock time.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl fmt::Debug for WallClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WallClock")
    }
}

/// Settings for a [`Transport`](crate::Transport). Built with [`TransportConfig::new`] and the
/// chained setters; every setting but the key and base has a default.
///
/// `Debug` is safe to log: the key prints as `<redacted>`.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    pub(crate) api_key: ApiKey,
    pub(crate) base: ApiBase,
    pub(crate) attempt_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) deadline: Duration,
    pub(crate) retry: RetryConfig,
    pub(crate) retry_budget: RetryBudget,
    pub(crate) tier_limits: TierLimits,
    pub(crate) extra_roots_pem: Vec<Vec<u8>>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) redirect: RedirectMode,
    pub(crate) json_body_limit: u64,
    pub(crate) error_body_limit: u64,
    pub(crate) user_agent: String,
    pub(crate) seed: Option<u64>,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) wall_clock: WallClock,
}

impl TransportConfig {
    /// A configuration with defaults: per-attempt timeout 30 s, connect timeout 10 s, overall
    /// deadline 120 s, core's default retry policy and budget, the documented tier rates,
    /// webpki roots, redirects refused, a 16 MiB JSON body limit, pool idle timeout 90 s.
    pub fn new(api_key: ApiKey, base: ApiBase) -> TransportConfig {
        TransportConfig {
            api_key,
            base,
            attempt_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
            retry: RetryConfig::default(),
            retry_budget: RetryBudget::default(),
            tier_limits: TierLimits::default(),
            extra_roots_pem: Vec::new(),
            allow_insecure_http: false,
            redirect: RedirectMode::default(),
            json_body_limit: 16 * 1024 * 1024,
            error_body_limit: 64 * 1024,
            user_agent: concat!("nomic-agent-rust/", env!("CARGO_PKG_VERSION")).to_owned(),
            seed: None,
            pool_idle_timeout: Duration::from_secs(90),
            wall_clock: WallClock::system(),
        }
    }

    /// Time allowed for one attempt to produce a response head.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = d;
        self
    }

    /// Time allowed for DNS and TCP connect (failures here are "not sent", so retryable).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The default overall deadline of a request: pacing waits, every attempt, backoff sleeps
    /// and reading the body. Override per request with the [`Deadline`](crate::Deadline)
    /// extension.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// Attempts, backoff and the `Retry-After` cap.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The retry budget (default: retries up to 20% of first attempts plus 10 per 10 s).
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.retry_budget = budget;
        self
    }

    /// Client-side pacing per tier. Transports sharing a base URL and key share one limiter;
    /// the first one created sets its limits.
    pub fn tier_limits(mut self, limits: TierLimits) -> Self {
        self.tier_limits = limits;
        self
    }

    /// Trusts the certificates in a PEM document in addition to the default roots (for the
    /// emulator's self-signed root). May be called more than once.
    pub fn add_root_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots_pem.push(pem.into());
        self
    }

    /// Allows `http://` to hosts that are not loopback. Off by default: the key would travel in
    /// clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// What to do with 3xx responses (default: refuse).
    pub fn redirect(mut self, mode: RedirectMode) -> Self {
        self.redirect = mode;
        self
    }

    /// The body limit `Transport::send_buffered` applies (default 16 MiB).
    pub fn json_body_limit(mut self, bytes: u64) -> Self {
        self.json_body_limit = bytes;
        self
    }

    /// How much of a 400, 422 or 429 body the retry stage reads to classify it (default
    /// 64 KiB). A larger one fails with a body-too-large error; other bodies are not read.
    pub fn error_body_limit(mut self, bytes: u64) -> Self {
        self.error_body_limit = bytes;
        self
    }

    /// The `User-Agent` header sent unless a request sets its own.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Seeds the backoff jitter, for reproducible runs (default: random per transport).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// How long an idle pooled connection is kept.
    pub fn pool_idle_timeout(mut self, d: Duration) -> Self {
        self.pool_idle_timeout = d;
        self
    }

    /// The wall clock used for HTTP-date `Retry-After` and `X-RateLimit-Reset`.
    pub fn wall_clock(mut self, clock: WallClock) -> Self {
        self.wall_clock = clock;
        self
    }
}
