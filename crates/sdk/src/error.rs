//! The one public error type of the SDK, and the conversions into it.
//!
//! Every message says what the user can do about the failure. No message, `Debug` output or
//! source ever contains the API key: the key lives only inside the transport's redacted
//! `ApiKey`, and nothing here formats a request's headers.

use std::time::Duration;

use nomic_agent_core::policy::classify::Classification;
use nomic_agent_core::turn::TurnError;
use nomic_agent_core::validate::InvalidRequest;
use nomic_agent_core::wire::{AgentId, DecodeError};

/// Everything that can go wrong in the SDK.
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
    Auth,
    /// 403: the key lacks the needed scope.
    #[error(
        "the API key lacks the needed scope (403): create a key with the `developer:agent` (or `developer`) scope"
    )]
    Forbidden,
    /// 404: the agent, workflow or artifact does not exist for this key.
    #[error("{what} was not found (404): it was deleted, belongs to another user or never existed")]
    NotFound {
        /// What was looked up, e.g. `agent 019…`.
        what: String,
    },
    /// A request-rate 429 that outlasted the retries.
    #[error("rate limited (429) after retrying: slow down or raise the tier limits{}",
        retry_after.map(|d| format!("; the server asked to wait {} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The server's last `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// A spend-limit 429: new runs are blocked until the cap is raised or the period resets.
    /// Never retried.
    #[error(
        "spend limit reached: new runs are blocked until the spend cap is raised or the billing period resets ({message})"
    )]
    SpendLimit {
        /// The server's message.
        message: String,
    },
    /// The request breaks a rule (found before sending, or reported by the server as 400/422).
    #[error("invalid request: {}", issues.join("; "))]
    Invalid {
        /// One entry per problem, `path: message`.
        issues: Vec<String>,
    },
    /// 409: the agent is in the wrong state (a follow-up while it is active, a stop after it ended).
    #[error("conflict (409): {message}")]
    Conflict {
        /// What conflicted.
        message: String,
    },
    /// 413: the upload is larger than the server accepts (500 MB).
    #[error("the upload is too large (413): the server accepts at most 500 MB per file")]
    PayloadTooLarge,
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
    /// The connection failed (DNS, connect, TLS, reset) and retrying did not help.
    #[error("transport error: {message}")]
    Transport {
        /// What failed; never contains the key.
        message: String,
        /// The underlying error, type-erased (no hyper or tower types are exposed).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Any other error status from the server (5xx after retries, unexpected 4xx, 3xx).
    #[error("server error {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Server {
        /// The HTTP status.
        status: u16,
        /// The `code` field of the error body.
        code: Option<String>,
        /// The `error` field of the error body, or the status reason.
        message: String,
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
}

impl Error {
    /// True when retrying the same call later might succeed (rate limits, timeouts, transport
    /// failures, 5xx). Never true for a spend limit or an unknown launch outcome.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Timeout { .. } | Error::Transport { .. } => true,
            Error::Server { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// True for 404 (`NotFound`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
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

    /// Maps a classified error response. `what` names the resource for a 404; `body` is the
    /// error body, for the server's `code` and message.
    pub(crate) fn from_classification(c: Classification, what: &str, body: &[u8]) -> Error {
        let parsed = nomic_agent_core::wire::decode_error_body(body);
        let code = parsed.as_ref().and_then(|b| b.code.clone());
        let message = parsed
            .as_ref()
            .map(|b| b.error.clone())
            .filter(|m| !m.is_empty());
        match c {
            Classification::Unauthorized => Error::Auth,
            Classification::Forbidden => Error::Forbidden,
            Classification::NotFound => Error::NotFound {
                what: what.to_owned(),
            },
            Classification::RateLimited { retry_after } => Error::RateLimited { retry_after },
            Classification::SpendLimited { message } => Error::SpendLimit { message },
            Classification::Invalid { issues, .. } => Error::Invalid { issues },
            Classification::Conflict => Error::Conflict {
                message: message.unwrap_or_else(|| format!("{what} is in the wrong state")),
            },
            Classification::PayloadTooLarge => Error::PayloadTooLarge,
            Classification::ServerError { status, .. } | Classification::Other { status } => {
                Error::Server {
                    status,
                    code,
                    message: message.unwrap_or_else(|| reason(status)),
                }
            }
            Classification::Redirect { status, location } => Error::Server {
                status,
                code: None,
                message: format!(
                    "unexpected redirect{}: check NOMIC_BASE_URL (it should end in /api/v0)",
                    location.map(|l| format!(" to {l}")).unwrap_or_default()
                ),
            },
            Classification::Success => Error::Decode {
                message: "a success status was treated as an error".into(),
            },
            _ => Error::Server {
                status: 0,
                code,
                message: message.unwrap_or_else(|| "unrecognized response".into()),
            },
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
            TurnError::AgentGone => Error::NotFound {
                // Before the agent exists, a 404 can only be about the launch's workflow.
                what: agent
                    .map(|a| format!("agent {a}"))
                    .unwrap_or_else(|| "the workflow named in the launch".into()),
            },
            TurnError::Api { status: 429, .. } => Error::RateLimited { retry_after: None },
            TurnError::Api { status: 413, .. } => Error::PayloadTooLarge,
            TurnError::StaleAfterFollowUp => Error::StaleAfterFollowUp,
            TurnError::Api {
                status,
                code,
                message,
            } => Error::Server {
                status,
                code,
                message,
            },
            TurnError::SpendLimited { message } => Error::SpendLimit { message },
            TurnError::Unauthorized => Error::Auth,
            TurnError::Forbidden => Error::Forbidden,
            TurnError::Invalid { issues } => Error::Invalid { issues },
            TurnError::Decode(message) => Error::Decode { message },
            TurnError::Conflict => Error::Conflict {
                message: "the agent is still active; wait for it or stop it first".into(),
            },
            TurnError::Cancelled => Error::Cancelled,
            TurnError::PollsFailedUntilDeadline {
                deadline,
                failed_polls,
                last,
            } => {
                let last = Error::from_turn(*last, agent);
                Error::poll_outage_timeout(agent, deadline, failed_polls, &last)
            }
            other => Error::Server {
                status: 0,
                code: None,
                message: other.to_string(),
            },
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
        } else {
            "the connection failed"
        };
        Error::Transport {
            message: format!("{hint} ({e})"),
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

    #[test]
    fn auth_message_names_the_variable() {
        let e = Error::from_classification(Classification::Unauthorized, "agent x", b"");
        assert!(matches!(e, Error::Auth));
        assert!(e.to_string().contains("NOMIC_API_KEY"));
    }

    #[test]
    fn server_error_keeps_code_and_message() {
        let body = br#"{"error":"boom","code":"internal_error"}"#;
        let e = Error::from_classification(
            Classification::ServerError {
                status: 500,
                retry_after: None,
            },
            "agent x",
            body,
        );
        match &e {
            Error::Server {
                status,
                code,
                message,
            } => {
                assert_eq!(*status, 500);
                assert_eq!(code.as_deref(), Some("internal_error"));
                assert_eq!(message, "boom");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.is_retryable());
        assert_eq!(e.to_string(), "server error 500 (internal_error): boom");
    }

    #[test]
    fn spend_limit_is_not_retryable() {
        let e = Error::from_classification(
            Classification::SpendLimited {
                message: "cap".into(),
            },
            "launch",
            b"",
        );
        assert!(matches!(e, Error::SpendLimit { .. }));
        assert!(!e.is_retryable());
    }

    #[test]
    fn turn_errors_keep_their_meaning() {
        let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let e = Error::from_turn(
            TurnError::Api {
                status: 429,
                code: Some("rate_limited".into()),
                message: "slow down".into(),
            },
            Some(id),
        );
        assert!(matches!(e, Error::RateLimited { .. }), "{e}");
        let e = Error::from_turn(TurnError::AgentGone, Some(id));
        assert!(e.to_string().contains(&id.to_string()), "{e}");
        let e = Error::from_turn(TurnError::FollowUpOutcomeUnknown, Some(id));
        assert!(matches!(e, Error::FollowUpOutcomeUnknown { agent } if agent == id));
        let e = Error::from_turn(TurnError::DeadlineExceeded, None);
        assert!(matches!(e, Error::Timeout { .. }));
    }

    #[test]
    fn an_outage_timeout_names_the_deadline_and_the_last_error() {
        let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let e = Error::from_turn(
            TurnError::PollsFailedUntilDeadline {
                deadline: Duration::from_secs(30),
                failed_polls: 7,
                last: Box::new(TurnError::Api {
                    status: 503,
                    code: Some("service_unavailable".into()),
                    message: "Service unavailable".into(),
                }),
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
        let e = Error::from_classification(Classification::NotFound, "agent 42", b"");
        assert!(e.is_not_found());
        assert!(e.to_string().starts_with("agent 42 was not found"));
    }
}
