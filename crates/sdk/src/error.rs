//! The one public error type of the SDK, and the conversions into it.
//!
//! An error the server answered with is a thin view of core's [`ApiError`]: the response was
//! classified once (by the transport's retry stage, or by core's turn), and the variant that
//! says what to do about it holds that value unchanged — kind, status, `Retry-After`, request
//! id, the server's message, code and field issues ([`Error::api`], [`Error::retry_after`]).
//!
//! Every message says what the user can do about the failure. No message, `Debug` output or
//! source ever contains the API key: the key lives only inside the transport's redacted
//! `ApiKey`, and nothing here formats a request's headers.

use std::time::Duration;

use bytes::Bytes;
use nomic_agent_core::policy::classify::{ApiError, ErrorKind};
use nomic_agent_core::turn::TurnError;
use nomic_agent_core::validate::InvalidRequest;
use nomic_agent_core::wire::{AgentId, DecodeError};

/// Everything that can go wrong in the SDK.
///
/// The variants for an answer from the server hold its [`ApiError`]:
///
/// ```
/// use std::time::Duration;
/// use nomic_agent::{ApiError, Error, ErrorKind};
///
/// let api = ApiError::new(ErrorKind::RateLimited, 429).with_retry_after(Some(Duration::from_secs(7)));
/// let e = Error::RateLimited { api };
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
/// assert_eq!(e.status(), Some(429));
/// assert!(e.to_string().ends_with("the server asked to wait 7 s"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client could not be configured (missing or malformed `NOMIC_API_KEY`,
    /// `NOMIC_BASE_URL`, builder values).
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// 401: the API key was rejected.
    #[error(
        "the API key was rejected (401): check NOMIC_API_KEY and that the key was created on this instance"
    )]
    Auth {
        /// The server's answer.
        api: ApiError,
    },
    /// 403: the key lacks the needed scope.
    #[error(
        "the API key lacks the needed scope (403): create a key with the `developer:agent` (or `developer`) scope"
    )]
    Forbidden {
        /// The server's answer.
        api: ApiError,
    },
    /// 404: the agent, workflow or artifact does not exist for this key.
    #[error("{what} was not found (404): it was deleted, belongs to another user or never existed")]
    NotFound {
        /// What was looked up, e.g. `agent 019…`.
        what: String,
        /// The server's answer; `None` when the SDK found it missing itself.
        api: Option<ApiError>,
    },
    /// A request-rate 429 that outlasted the retries (or whose `Retry-After` reached past the
    /// deadline). [`Error::retry_after`] is how long the server asked to wait.
    #[error("rate limited (429) after retrying: slow down or raise the tier limits{}",
        api.retry_after().map(|d| format!("; the server asked to wait {} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The server's last answer, with its (capped) `Retry-After`.
        api: ApiError,
    },
    /// A spend-limit 429: new runs are blocked until the cap is raised or the period resets.
    /// Never retried.
    #[error(
        "spend limit reached: new runs are blocked until the spend cap is raised or the billing period resets ({})",
        api.message().unwrap_or(ErrorKind::SpendLimited.describe())
    )]
    SpendLimit {
        /// The server's answer.
        api: ApiError,
    },
    /// The request breaks a rule (found before sending, or reported by the server as 400/422).
    #[error("invalid request: {}", issues.join("; "))]
    Invalid {
        /// One entry per problem, `path: message` (paths written `prompt.images[2].data`).
        issues: Vec<String>,
        /// The server's answer; `None` when the SDK found the problems before sending.
        api: Option<ApiError>,
    },
    /// 409: the agent is in the wrong state (a follow-up while it is active, a stop after it ended).
    #[error("conflict (409): {message}")]
    Conflict {
        /// What conflicted.
        message: String,
        /// The server's answer; `None` when the SDK saw the conflict itself.
        api: Option<ApiError>,
    },
    /// 413: the upload is larger than the server accepts (500 MB).
    #[error("the upload is too large (413): the server accepts at most 500 MB per file")]
    PayloadTooLarge {
        /// The server's answer.
        api: ApiError,
    },
    /// The launch may have created an agent but no response arrived. It was **not** resent, to
    /// avoid a duplicate; list agents (`Client::list_agents`) to find it.
    #[error(
        "the launch may or may not have created an agent (the connection failed after sending); it was not resent: list agents to check"
    )]
    LaunchOutcomeUnknown,
    /// The follow-up may have started a new turn but no response arrived. It was not resent;
    /// `Agent::wait` on the agent shows what happened.
    #[error(
        "the follow-up to agent {agent} may or may not have been accepted; it was not resent: check the agent's status"
    )]
    FollowUpOutcomeUnknown {
        /// The agent the follow-up was for.
        agent: AgentId,
    },
    /// After a follow-up the agent kept showing the previous turn and no answer to the new
    /// prompt appeared; the previous answer is never returned in its place.
    #[error(
        "after the follow-up the agent kept showing the previous turn's state; wait again or check the agent in the UI"
    )]
    StaleAfterFollowUp,
    /// The deadline (of a request, or of `wait`) passed.
    #[error("timed out: {message}")]
    Timeout {
        /// Which deadline.
        message: String,
    },
    /// The connection failed (DNS, connect, TLS, reset), or the server's answer could not be
    /// read, and retrying did not help.
    ///
    /// `sent: false` means the request certainly never reached the server (DNS failure,
    /// connection refused: nothing was written), so it was not acted on and sending it again
    /// cannot make a duplicate — even for a launch or a follow-up.
    #[error("transport error: {message}")]
    Transport {
        /// What failed; never contains the key.
        message: String,
        /// False when the request certainly never reached the server; true when it may have.
        sent: bool,
        /// The underlying error, type-erased (no hyper or tower types are exposed).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Any other error status from the server (5xx after retries, unexpected 4xx, 3xx).
    #[error("{}", server_text(api))]
    Server {
        /// The server's answer.
        api: ApiError,
    },
    /// A success response whose body could not be decoded.
    #[error("could not decode the server's response: {message}")]
    Decode {
        /// What could not be decoded.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{message}: {source}")]
    Io {
        /// Which file and what was being done.
        message: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A session store failed.
    #[error("session store error: {message}")]
    Store {
        /// What failed.
        message: String,
    },
    /// The operation was cancelled before the agent existed.
    #[error("cancelled before the agent existed")]
    Cancelled,
    /// A turn ticket could not be used: malformed, from another version, or for another
    /// API origin than this client's.
    #[error(transparent)]
    Ticket(#[from] nomic_agent_core::turn::TicketError),
    /// A bug in the SDK (a state it should never reach); please report it.
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

/// `server error STATUS (code): message`; a redirect says where it pointed and what to check.
fn server_text(api: &ApiError) -> String {
    let status = api.status();
    if api.kind() == ErrorKind::Redirect {
        return format!(
            "server error {status}: unexpected redirect{}: check NOMIC_BASE_URL (it should end in /api/v0)",
            api.location()
                .map(|l| format!(" to {l}"))
                .unwrap_or_default()
        );
    }
    let code = api.code().map(|c| format!(" ({c})")).unwrap_or_default();
    let message = api.message().map_or_else(|| reason(status), str::to_owned);
    format!("server error {status}{code}: {message}")
}

impl Error {
    /// True when retrying the same call later might succeed (rate limits, timeouts, transport
    /// failures, 5xx). Never true for a spend limit or an unknown launch outcome.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Timeout { .. } | Error::Transport { .. } => true,
            Error::Server { api } => api.status() >= 500,
            _ => false,
        }
    }

    /// True when the server certainly did not act on the request: it never reached the server
    /// (a [`Error::Transport`] with `sent: false`), or the server refused it before acting
    /// (a request-rate or spend-limit 429, 400/422, 401, 403, 404, 409, 413), or it was
    /// rejected before sending. Sending a launch or follow-up again after such an error cannot
    /// make a duplicate; after any other error it may have been acted on.
    ///
    /// ```
    /// use nomic_agent::Error;
    ///
    /// let refused = Error::Transport { message: "connection refused".into(), sent: false, source: None };
    /// assert!(refused.is_certainly_not_sent());
    /// assert!(!Error::LaunchOutcomeUnknown.is_certainly_not_sent());
    /// ```
    pub fn is_certainly_not_sent(&self) -> bool {
        matches!(
            self,
            Error::Transport { sent: false, .. }
                | Error::Invalid { .. }
                | Error::Auth { .. }
                | Error::Forbidden { .. }
                | Error::Config { .. }
                | Error::RateLimited { .. }
                | Error::SpendLimit { .. }
                | Error::Conflict { .. }
                | Error::NotFound { .. }
                | Error::PayloadTooLarge { .. }
        )
    }

    /// True for 404 (`NotFound`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// The server's answer, when the error is one: the value core classified, unchanged.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Auth { api }
            | Error::Forbidden { api }
            | Error::RateLimited { api }
            | Error::SpendLimit { api }
            | Error::PayloadTooLarge { api }
            | Error::Server { api } => Some(api),
            Error::NotFound { api, .. }
            | Error::Invalid { api, .. }
            | Error::Conflict { api, .. } => api.as_ref(),
            _ => None,
        }
    }

    /// The HTTP status of the server's answer, when the error is one.
    pub fn status(&self) -> Option<u16> {
        self.api().map(ApiError::status)
    }

    /// How long the server asked to wait (its `Retry-After`, capped by the client's
    /// `RetryAfterPolicy`): set on a rate limit, and on a 5xx that sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(ApiError::retry_after)
    }

    /// The request id of the server's answer (its `x-request-id` header), for support.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(ApiError::request_id)
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
        }
    }

    pub(crate) fn io(message: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            message: message.into(),
            source,
        }
    }

    /// The view of a classified error. `what` names the resource for a 404 or a 409.
    pub(crate) fn from_api(api: ApiError, what: impl FnOnce() -> String) -> Error {
        match api.kind() {
            ErrorKind::Unauthorized => Error::Auth { api },
            ErrorKind::Forbidden => Error::Forbidden { api },
            ErrorKind::NotFound => Error::NotFound {
                what: what(),
                api: Some(api),
            },
            ErrorKind::RateLimited => Error::RateLimited { api },
            ErrorKind::SpendLimited => Error::SpendLimit { api },
            ErrorKind::Invalid => Error::Invalid {
                issues: api.issue_lines(),
                api: Some(api),
            },
            ErrorKind::Conflict => Error::Conflict {
                message: api.message().map_or_else(
                    || format!("{} is in the wrong state", what()),
                    str::to_owned,
                ),
                api: Some(api),
            },
            ErrorKind::PayloadTooLarge => Error::PayloadTooLarge { api },
            _ => Error::Server { api },
        }
    }

    /// The error for a non-2xx response the transport returned, whose body has been read:
    /// the transport's verdict on it ([`ApiError`], classified once in its retry stage) with
    /// the body's words added. `what` names the resource for a 404.
    pub(crate) fn from_response(resp: &http::Response<Bytes>, what: &str) -> Error {
        match resp.extensions().get::<ApiError>() {
            Some(api) => Error::from_api(api.clone().with_body(resp.body()), || what.to_owned()),
            // The transport hands every error response on with its verdict; one without it did
            // not come through the retry stage, which no SDK call allows.
            None => Error::internal(format!(
                "an error response ({}) for {what} arrived unclassified",
                resp.status()
            )),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::Internal {
            message: message.into(),
        }
    }

    /// The wait's deadline passed while polls kept failing: says how long, how many polls failed
    /// and the last error (`last`, already mapped), so the user sees the cause, not just a
    /// timeout.
    pub(crate) fn poll_outage_timeout(
        agent: Option<AgentId>,
        deadline: Duration,
        failed_polls: u32,
        last: &Error,
    ) -> Error {
        let who = agent.map_or_else(|| "the agent".to_owned(), |a| format!("agent {a}"));
        let polls = if failed_polls == 1 {
            "the last poll".to_owned()
        } else {
            format!("the last {failed_polls} polls")
        };
        Error::Timeout {
            message: format!(
                "no terminal status from {who} within the {} s wait deadline: {polls} failed; last error: {last}",
                deadline.as_secs_f64()
            ),
        }
    }

    /// Maps how a turn ended without a terminal status.
    pub(crate) fn from_turn(e: TurnError, agent: Option<AgentId>) -> Error {
        match e {
            TurnError::LaunchOutcomeUnknown => Error::LaunchOutcomeUnknown,
            TurnError::FollowUpOutcomeUnknown => match agent {
                Some(agent) => Error::FollowUpOutcomeUnknown { agent },
                None => Error::LaunchOutcomeUnknown,
            },
            TurnError::DeadlineExceeded => Error::Timeout {
                message: "the agent did not reach a terminal status before the wait deadline"
                    .into(),
            },
            TurnError::StaleAfterFollowUp => Error::StaleAfterFollowUp,
            // A turn's only conflict is a follow-up sent while the agent is active.
            TurnError::Api(api) if api.kind() == ErrorKind::Conflict => Error::Conflict {
                message: "the agent is still active; wait for it or stop it first".into(),
                api: Some(api),
            },
            TurnError::Api(api) => Error::from_api(api, || {
                // Before the agent exists, a 404 can only be about the launch's workflow.
                agent
                    .map(|a| format!("agent {a}"))
                    .unwrap_or_else(|| "the workflow named in the launch".into())
            }),
            TurnError::Decode(message) => Error::Decode { message },
            TurnError::Cancelled => Error::Cancelled,
            TurnError::PollsFailedUntilDeadline {
                deadline,
                failed_polls,
                last,
            } => {
                let last = Error::from_turn(*last, agent);
                Error::poll_outage_timeout(agent, deadline, failed_polls, &last)
            }
            TurnError::Transport(f) => Error::Transport {
                message: TurnError::Transport(f).to_string(),
                sent: f.maybe_received(),
                source: None,
            },
            other => Error::internal(other.to_string()),
        }
    }

    /// Maps a transport failure (after the transport's own retries).
    pub(crate) fn from_transport(e: nomic_agent_transport::Error, launch: bool) -> Error {
        if launch && (e.outcome_unknown() || e.was_sent()) {
            return Error::LaunchOutcomeUnknown;
        }
        if e.is_timeout() || e.is_deadline() {
            return Error::Timeout {
                message: format!("{e}: raise the client's timeouts or deadline if this persists"),
            };
        }
        let hint = if e.is_tls() {
            "TLS failed: check the server certificate or add its CA with `extra_root_pem`"
        } else if e.is_connect() {
            "could not connect: check NOMIC_BASE_URL and your network"
        } else if e.is_redirect() {
            "the server redirected: check NOMIC_BASE_URL (it should end in /api/v0)"
        } else if e.is_response_header_too_large() || e.is_malformed_response() {
            // The connection worked; what came back over it did not parse.
            return Error::Transport {
                message: format!("the server's answer could not be read: {e}"),
                sent: true,
                source: Some(Box::new(e)),
            };
        } else {
            "the connection failed"
        };
        Error::Transport {
            message: format!("{hint} ({e})"),
            sent: e.was_sent(),
            source: Some(Box::new(e)),
        }
    }
}

fn reason(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unexpected status")
        .to_owned()
}

impl From<InvalidRequest> for Error {
    fn from(e: InvalidRequest) -> Error {
        Error::Invalid {
            issues: e.problems().iter().map(ToString::to_string).collect(),
            api: None,
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Error {
        Error::Decode {
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> AgentId {
        "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap()
    }

    fn what() -> String {
        "agent x".to_owned()
    }

    #[test]
    fn auth_message_names_the_variable() {
        let e = Error::from_api(ApiError::new(ErrorKind::Unauthorized, 401), what);
        assert!(matches!(e, Error::Auth { .. }));
        assert!(e.to_string().contains("NOMIC_API_KEY"));
        assert_eq!(e.status(), Some(401));
    }

    #[test]
    fn server_error_keeps_code_and_message() {
        let api = ApiError::new(ErrorKind::ServerError, 500)
            .with_request_id("req-9")
            .with_body(br#"{"error":"boom","code":"internal_error"}"#);
        let e = Error::from_api(api.clone(), what);
        assert_eq!(e.api(), Some(&api), "the value travels unchanged");
        assert_eq!(e.request_id(), Some("req-9"));
        assert!(e.is_retryable());
        assert_eq!(e.to_string(), "server error 500 (internal_error): boom");
        // No body in the documented shape: the status's reason.
        let bare = Error::from_api(ApiError::new(ErrorKind::ServerError, 502), what);
        assert_eq!(bare.to_string(), "server error 502: Bad Gateway");
    }

    #[test]
    fn spend_limit_is_not_retryable() {
        let api = ApiError::new(ErrorKind::SpendLimited, 429).with_message("cap");
        let e = Error::from_api(api, what);
        assert!(matches!(e, Error::SpendLimit { .. }));
        assert!(!e.is_retryable());
        assert!(e.to_string().ends_with("(cap)"), "{e}");
    }

    #[test]
    fn server_issues_are_listed_in_the_one_path_format() {
        let api = ApiError::new(ErrorKind::Invalid, 400).with_body(
            br#"{"error":"Invalid request body","code":"bad_request",
                 "issues":[{"path":["prompt","images",2,"data"],"message":"Invalid base64"}]}"#,
        );
        let e = Error::from_api(api, what);
        let Error::Invalid { issues, api } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            issues,
            &["prompt.images[2].data: Invalid base64".to_owned()]
        );
        assert_eq!(api.as_ref().map(ApiError::code), Some(Some("bad_request")));
    }

    #[test]
    fn turn_errors_keep_their_meaning() {
        let id = id();
        let rate = ApiError::new(ErrorKind::RateLimited, 429)
            .with_retry_after(Some(Duration::from_secs(30)))
            .with_code("rate_limited")
            .with_message("slow down");
        let e = Error::from_turn(TurnError::Api(rate), Some(id));
        assert!(matches!(e, Error::RateLimited { .. }), "{e}");
        // The server's wait survives the trip through the turn.
        assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
        assert!(
            e.to_string().ends_with("the server asked to wait 30 s"),
            "{e}"
        );
        let gone = ApiError::new(ErrorKind::NotFound, 404);
        let e = Error::from_turn(TurnError::Api(gone.clone()), Some(id));
        assert!(e.to_string().contains(&id.to_string()), "{e}");
        let e = Error::from_turn(TurnError::Api(gone), None);
        assert!(e.to_string().contains("workflow"), "{e}");
        let busy = ApiError::new(ErrorKind::Conflict, 409).with_message("busy");
        let e = Error::from_turn(TurnError::Api(busy), Some(id));
        assert!(e.to_string().contains("still active"), "{e}");
        let e = Error::from_turn(TurnError::FollowUpOutcomeUnknown, Some(id));
        assert!(matches!(e, Error::FollowUpOutcomeUnknown { agent } if agent == id));
        let e = Error::from_turn(TurnError::DeadlineExceeded, None);
        assert!(matches!(e, Error::Timeout { .. }));
    }

    #[test]
    fn an_outage_timeout_names_the_deadline_and_the_last_error() {
        let id = id();
        let e = Error::from_turn(
            TurnError::PollsFailedUntilDeadline {
                deadline: Duration::from_secs(30),
                failed_polls: 7,
                last: Box::new(TurnError::Api(
                    ApiError::new(ErrorKind::ServerError, 503)
                        .with_code("service_unavailable")
                        .with_message("Service unavailable"),
                )),
            },
            Some(id),
        );
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            format!(
                "timed out: no terminal status from agent {id} within the 30 s wait deadline: the last 7 polls failed; last error: server error 503 (service_unavailable): Service unavailable"
            )
        );
    }

    #[test]
    fn not_found_names_the_resource() {
        let e = Error::from_api(ApiError::new(ErrorKind::NotFound, 404), || {
            "agent 42".to_owned()
        });
        assert!(e.is_not_found());
        assert!(e.to_string().starts_with("agent 42 was not found"));
    }

    #[test]
    fn a_response_carries_its_verdict_and_the_body_adds_the_words() {
        let verdict = ApiError::new(ErrorKind::Conflict, 409);
        let mut resp = http::Response::new(Bytes::from_static(br#"{"error":"already stopped"}"#));
        *resp.status_mut() = http::StatusCode::CONFLICT;
        resp.extensions_mut().insert(verdict);
        let e = Error::from_response(&resp, "agent x");
        assert_eq!(e.to_string(), "conflict (409): already stopped");
        // Without the transport's verdict nothing is guessed.
        let mut bare = http::Response::new(Bytes::new());
        *bare.status_mut() = http::StatusCode::CONFLICT;
        assert!(matches!(
            Error::from_response(&bare, "agent x"),
            Error::Internal { .. }
        ));
    }
}
