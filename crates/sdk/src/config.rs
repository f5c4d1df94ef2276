//! [`ClientBuilder`]: the key, the API root, timeouts, polling, retries, pacing and TLS roots;
//! and reading them from the environment.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use nomic_agent_core::policy::gcra::TierLimits;
use nomic_agent_core::policy::poll::PollSchedule;
use nomic_agent_core::policy::retry::RetryConfig;
use nomic_agent_core::request::ApiBase;
use nomic_agent_core::turn::{PollErrorPolicy, TurnConfig};
use nomic_agent_transport::{ApiKey, Transport, TransportConfig};

use crate::Error;
use crate::client::Client;

/// The environment variable holding the API key.
pub const ENV_API_KEY: &str = "NOMIC_API_KEY";
/// The environment variable holding the API root (`https://acme.nomic.ai/api/v0`, or a bare
/// origin, to which `/api/v0` is appended).
pub const ENV_BASE_URL: &str = "NOMIC_BASE_URL";

/// How long a stale terminal status is tolerated after a follow-up, by default: longer than
/// the 30 s poll cap, so an instance that is slow to start the new turn is still waited out.
pub const DEFAULT_FOLLOWUP_WINDOW: Duration = Duration::from_secs(60);

type ServiceFactory =
    Box<dyn FnOnce(TransportConfig) -> Result<Transport, nomic_agent_transport::BuildError> + Send>;

/// Builds a [`Client`]. Every setting but the key and the base URL has a default.
///
/// `Debug` never shows the key.
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    attempt_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    request_deadline: Option<Duration>,
    poll: PollSchedule,
    followup_window: Option<Duration>,
    followup_poll_interval: Option<Duration>,
    wait_deadline: Option<Duration>,
    poll_errors: PollErrorPolicy,
    retry: Option<RetryConfig>,
    tier_limits: Option<TierLimits>,
    extra_roots: Vec<Vec<u8>>,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    seed: Option<u64>,
    service: Option<ServiceFactory>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("poll", &self.poll)
            .field("wait_deadline", &self.wait_deadline)
            .field("poll_errors", &self.poll_errors)
            .field("tier_limits", &self.tier_limits)
            .field("custom_service", &self.service.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// An empty builder: set [`api_key`](Self::api_key) and [`base_url`](Self::base_url), or
    /// call [`from_env`](Self::from_env).
    pub fn new() -> ClientBuilder {
        ClientBuilder {
            api_key: None,
            base_url: None,
            attempt_timeout: None,
            connect_timeout: None,
            request_deadline: None,
            poll: PollSchedule::default(),
            followup_window: None,
            followup_poll_interval: None,
            wait_deadline: None,
            poll_errors: PollErrorPolicy::default(),
            retry: None,
            tier_limits: None,
            extra_roots: Vec::new(),
            user_agent: None,
            allow_insecure_http: false,
            seed: None,
            service: None,
        }
    }

    /// Fills the key and base URL from `NOMIC_API_KEY` and `NOMIC_BASE_URL` (values already set
    /// on the builder win).
    pub fn from_env(self) -> ClientBuilder {
        self.from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env) with a custom variable lookup (for tests and for
    /// configuration systems that are not the process environment).
    pub fn from_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> ClientBuilder {
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        if self.api_key.is_none() {
            self.api_key = nonempty(lookup(ENV_API_KEY)).map(|k| k.trim().to_owned());
        }
        if self.base_url.is_none() {
            self.base_url = nonempty(lookup(ENV_BASE_URL)).map(|u| u.trim().to_owned());
        }
        self
    }

    /// The API key (`npk_…`), sent as a bearer token.
    pub fn api_key(mut self, key: impl Into<String>) -> ClientBuilder {
        self.api_key = Some(key.into());
        self
    }

    /// The API root, e.g. `https://acme.nomic.ai/api/v0`; a bare origin gets `/api/v0`.
    pub fn base_url(mut self, url: impl Into<String>) -> ClientBuilder {
        self.base_url = Some(url.into());
        self
    }

    /// Time allowed for one HTTP attempt to produce a response head (default 30 s).
    pub fn attempt_timeout(mut self, d: Duration) -> ClientBuilder {
        self.attempt_timeout = Some(d);
        self
    }

    /// Time allowed for DNS, TCP and TLS setup (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> ClientBuilder {
        self.connect_timeout = Some(d);
        self
    }

    /// Overall deadline of one request, retries and pacing waits included (default 120 s).
    pub fn request_deadline(mut self, d: Duration) -> ClientBuilder {
        self.request_deadline = Some(d);
        self
    }

    /// The status-poll schedule (default 2 s, doubling, capped at 30 s, 10% jitter).
    pub fn poll_schedule(mut self, poll: PollSchedule) -> ClientBuilder {
        self.poll = poll;
        self
    }

    /// After a follow-up, how long a stale terminal status is tolerated (default 60 s), and
    /// how often the agent is polled inside that window (default 500 ms).
    pub fn followup_window(mut self, window: Duration, poll_interval: Duration) -> ClientBuilder {
        self.followup_window = Some(window);
        self.followup_poll_interval = Some(poll_interval);
        self
    }

    /// How long `wait()` waits for a turn before failing with [`Error::Timeout`]
    /// (default: as long as the agent runs).
    pub fn wait_deadline(mut self, d: Duration) -> ClientBuilder {
        self.wait_deadline = Some(d);
        self
    }

    /// How long a wait keeps polling through errors a retry can cure — 5xx, rate 429s, resets,
    /// connect failures, timeouts — once the transport's own retries of a poll are spent.
    ///
    /// The default, [`PollErrorPolicy::UntilDeadline`], polls again with capped, jittered
    /// backoff (the [`retry`](Self::retry) backoff, continued where the transport's attempts
    /// stopped: 1.6 s, 3.2 s, 6.4 s, then every 10 s by default) until the
    /// [`wait_deadline`](Self::wait_deadline), so a short outage of the API does not end a long
    /// turn; the deadline then ends the wait with [`Error::Timeout`] naming the last error.
    /// Without a wait deadline an outage of any length is waited out.
    /// [`PollErrorPolicy::MaxConsecutive`] ends the wait with the last poll's own error once
    /// that many polls in a row have failed.
    ///
    /// Only polls (the agent's status, its conversation) are affected: launches, follow-ups,
    /// stops and uploads keep their resend rules.
    ///
    /// ```
    /// use std::time::Duration;
    /// use nomic_agent::{Client, PollErrorPolicy};
    ///
    /// // Ride out outages for up to ten minutes per wait (the default policy)…
    /// let patient = Client::builder()
    ///     .api_key("npk_example")
    ///     .base_url("https://acme.nomic.ai")
    ///     .wait_deadline(Duration::from_secs(600))
    ///     .poll_errors(PollErrorPolicy::UntilDeadline)
    ///     .build()?;
    /// // …or give up once five polls in a row have failed.
    /// let impatient = Client::builder()
    ///     .api_key("npk_example")
    ///     .base_url("https://acme.nomic.ai")
    ///     .poll_errors(PollErrorPolicy::MaxConsecutive(5))
    ///     .build()?;
    /// # let _ = (patient, impatient);
    /// // Zero would allow no poll at all: a configuration error.
    /// let err = Client::builder()
    ///     .api_key("npk_example")
    ///     .base_url("https://acme.nomic.ai")
    ///     .poll_errors(PollErrorPolicy::MaxConsecutive(0))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("poll_errors"), "{err}");
    /// # Ok::<(), nomic_agent::Error>(())
    /// ```
    pub fn poll_errors(mut self, policy: PollErrorPolicy) -> ClientBuilder {
        self.poll_errors = policy;
        self
    }

    /// Retry rules of single requests (attempts, backoff, `Retry-After` cap).
    pub fn retry(mut self, retry: RetryConfig) -> ClientBuilder {
        self.retry = Some(retry);
        self
    }

    /// Per-tier request rates the client paces itself to (default: the documented
    /// 300/60/30/60 per minute). Clones of the client, and every client with the same base URL
    /// and key in the process, share one pacing state.
    pub fn tier_limits(mut self, limits: TierLimits) -> ClientBuilder {
        self.tier_limits = Some(limits);
        self
    }

    /// Trusts one more root certificate (PEM), e.g. a private CA or the emulator's.
    pub fn extra_root_pem(mut self, pem: impl Into<Vec<u8>>) -> ClientBuilder {
        self.extra_roots.push(pem.into());
        self
    }

    /// Appended to the `User-Agent` (after `nomic-agent-rust/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> ClientBuilder {
        self.user_agent = Some(ua.into());
        self
    }

    /// Allows plain `http://` to a host that is not loopback (refused by default).
    pub fn allow_insecure_http(mut self, allow: bool) -> ClientBuilder {
        self.allow_insecure_http = allow;
        self
    }

    /// Seeds every jitter source, for reproducible timing in tests.
    pub fn seed(mut self, seed: u64) -> ClientBuilder {
        self.seed = Some(seed);
        self
    }

    /// Sends requests through a custom `tower::Service` (a proxy client, a test double) instead
    /// of the built-in hyper client. The retry, pacing, timeout and auth stages still apply.
    pub fn service<S>(mut self, service: S) -> ClientBuilder
    where
        S: tower::Service<
                http::Request<nomic_agent_transport::Body>,
                Response = http::Response<nomic_agent_transport::Body>,
                Error = nomic_agent_transport::Error,
            > + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.service = Some(Box::new(move |cfg| Transport::with_service(cfg, service)));
        self
    }

    /// Builds the client. Fails with [`Error::Config`] when the key or base URL is missing or
    /// malformed, or a setting is out of range.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.api_key.ok_or_else(|| {
            Error::config(format!(
                "no API key: set {ENV_API_KEY} (a key with the developer:agent scope from the Developer Console) or call ClientBuilder::api_key"
            ))
        })?;
        let key = ApiKey::new(key).map_err(|e| {
            Error::config(format!(
                "the API key is malformed ({e}); check {ENV_API_KEY}"
            ))
        })?;
        let raw_base = self.base_url.ok_or_else(|| {
            Error::config(format!(
                "no base URL: set {ENV_BASE_URL} to your instance's API root, e.g. https://acme.nomic.ai/api/v0"
            ))
        })?;
        let base = ApiBase::parse(&raw_base)
            .map_err(|e| Error::config(format!("{ENV_BASE_URL} is invalid: {e}")))?;

        let retry = self.retry.unwrap_or_default();
        let mut tcfg = TransportConfig::new(key, base.clone())
            .retry(retry.clone())
            .allow_insecure_http(self.allow_insecure_http);
        if let Some(d) = self.attempt_timeout {
            tcfg = tcfg.attempt_timeout(d);
        }
        if let Some(d) = self.connect_timeout {
            tcfg = tcfg.connect_timeout(d);
        }
        if let Some(d) = self.request_deadline {
            tcfg = tcfg.deadline(d);
        }
        if let Some(l) = self.tier_limits {
            tcfg = tcfg.tier_limits(l);
        }
        for pem in self.extra_roots {
            tcfg = tcfg.add_root_pem(pem);
        }
        if let Some(ua) = self.user_agent {
            tcfg = tcfg.user_agent(format!(
                "nomic-agent-rust/{} {ua}",
                env!("CARGO_PKG_VERSION")
            ));
        }
        if let Some(seed) = self.seed {
            tcfg = tcfg.seed(seed);
        }
        let transport = match self.service {
            Some(factory) => factory(tcfg),
            None => Transport::new(tcfg),
        }
        .map_err(|e| Error::config(e.to_string()))?;

        // The transport is the one owner of per-request retries (connection failures, 429s,
        // 5xx); the turn only polls and handles the follow-up race. A turn that also retried
        // each request would multiply attempts, so it gives up on a request at its first final
        // failure. A *poll* that fails so is polled again later (the poll-error policy), on the
        // same backoff curve continued past the transport's attempts, so the two retriers
        // together never restart it.
        let poll_error_backoff = retry
            .backoff
            .clone()
            .advanced(retry.max_attempts.max(1) - 1);
        let mut turn = TurnConfig::new(base.clone())
            .with_poll(self.poll)
            .with_poll_errors(self.poll_errors)
            .with_poll_error_backoff(poll_error_backoff)
            .with_retry(retry.clone().with_max_attempts(1))
            .with_deadline(self.wait_deadline)
            // The client's seed source starts here (`Shared::next_seed`); each turn, boundary
            // and planner draws its own seed from it.
            .with_seed(self.seed.unwrap_or_else(random_seed));
        turn = turn.with_followup_window(self.followup_window.unwrap_or(DEFAULT_FOLLOWUP_WINDOW));
        if let Some(i) = self.followup_poll_interval {
            turn = turn.with_followup_poll_interval(i);
        }
        turn.validate()
            .map_err(|e| Error::config(format!("invalid polling settings: {e}")))?;
        Ok(Client::assemble(transport, base, Arc::new(turn), retry))
    }
}

/// A seed for a client built without [`ClientBuilder::seed`]: the clock's nanoseconds mixed
/// with a per-process counter, so two clients built in the same instant still differ.
fn random_seed() -> u64 {
    static CLIENTS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5eed);
    let n = CLIENTS.fetch_add(1, Ordering::Relaxed);
    nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(std::process::id()).rotate_left(32)
}

impl Client {
    /// A client from `NOMIC_API_KEY` and `NOMIC_BASE_URL`, with default settings.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::new().from_env().build()
    }

    /// A builder for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn missing_key_names_the_variable() {
        let err = ClientBuilder::new()
            .from_lookup(env(&[(ENV_BASE_URL, "https://acme.nomic.ai")]))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config { .. }));
        assert!(err.to_string().contains("NOMIC_API_KEY"), "{err}");
    }

    #[test]
    fn missing_or_bad_base_url() {
        let err = ClientBuilder::new()
            .from_lookup(env(&[(ENV_API_KEY, "npk_x")]))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("NOMIC_BASE_URL"), "{err}");
        let err = ClientBuilder::new()
            .from_lookup(env(&[(ENV_API_KEY, "npk_x"), (ENV_BASE_URL, "ftp://x")]))
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("NOMIC_BASE_URL is invalid"),
            "{err}"
        );
    }

    #[test]
    fn bare_origin_gets_api_root_and_key_stays_secret() {
        let b = ClientBuilder::new().from_lookup(env(&[
            (ENV_API_KEY, " npk_secret_value "),
            (ENV_BASE_URL, "https://acme.nomic.ai/"),
        ]));
        assert!(!format!("{b:?}").contains("npk_secret_value"));
        let c = b.build().unwrap();
        assert_eq!(c.base_url(), "https://acme.nomic.ai/api/v0");
        assert!(!format!("{c:?}").contains("npk_secret_value"));
    }

    #[test]
    fn builder_values_win_over_env() {
        let c = ClientBuilder::new()
            .base_url("https://mine.example/api/v0")
            .from_lookup(env(&[
                (ENV_API_KEY, "npk_x"),
                (ENV_BASE_URL, "https://other.example"),
            ]))
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "https://mine.example/api/v0");
    }

    #[test]
    fn insecure_http_refused_for_remote_hosts() {
        let err = ClientBuilder::new()
            .api_key("npk_x")
            .base_url("http://acme.nomic.ai")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err}");
    }
}
