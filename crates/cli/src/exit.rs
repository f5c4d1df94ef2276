//! Exit codes (a contract, see `docs/cli.md`) and the one error type every command returns.

use std::fmt;
use std::process::ExitCode;

use nomic_agent::{AgentStatus, Error};

/// What a run of the command amounted to, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success (the agent finished).
    Success,
    /// 1: the agent failed.
    AgentFailed,
    /// 2: usage or validation error; nothing was sent.
    Usage,
    /// 3: the agent was stopped.
    AgentStopped,
    /// 4: the API answered with an error (auth, not found, rate or spend limit, server).
    Api,
    /// 5: transport error or timeout (also a wait whose deadline passed during an API outage;
    /// the message then names the last error).
    Transport,
    /// 6: the launch may have been received; its outcome is unknown.
    OutcomeUnknown,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::AgentFailed => 1,
            Exit::Usage => 2,
            Exit::AgentStopped => 3,
            Exit::Api => 4,
            Exit::Transport => 5,
            Exit::OutcomeUnknown => 6,
        }
    }

    /// A short machine-readable name, used in `--json` error documents.
    pub fn name(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::AgentFailed => "agent_failed",
            Exit::Usage => "usage",
            Exit::AgentStopped => "agent_stopped",
            Exit::Api => "api",
            Exit::Transport => "transport",
            Exit::OutcomeUnknown => "outcome_unknown",
        }
    }

    /// The exit for a turn that ended in `status` (an unknown terminal status counts as failed).
    pub fn for_status(status: &AgentStatus) -> Exit {
        match status {
            AgentStatus::Finished => Exit::Success,
            AgentStatus::Stopped => Exit::AgentStopped,
            _ => Exit::AgentFailed,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// A failed command: the exit code and a message saying what to do about it.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// One or more lines for stderr; never contains the API key.
    pub message: String,
}

impl CliError {
    /// A usage or validation error (exit 2): nothing was sent.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    /// A local I/O failure after something was sent (exit 5).
    pub fn io(message: impl Into<String>) -> CliError {
        CliError {
            exit: Exit::Transport,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        let exit = match &e {
            Error::Config { .. } | Error::Invalid { .. } | Error::Store { .. } => Exit::Usage,
            // Reading a local file happens before anything is sent for it.
            Error::Io { .. } => Exit::Usage,
            Error::Timeout { .. } | Error::Transport { .. } => Exit::Transport,
            Error::LaunchOutcomeUnknown | Error::FollowUpOutcomeUnknown { .. } => {
                Exit::OutcomeUnknown
            }
            Error::Cancelled => Exit::AgentStopped,
            _ => Exit::Api,
        };
        let mut message = e.to_string();
        match &e {
            Error::LaunchOutcomeUnknown => message.push_str(
                "\nhint: run `nomic-agent list --limit 5` to see whether the agent was created before launching again",
            ),
            Error::FollowUpOutcomeUnknown { agent } => message.push_str(&format!(
                "\nhint: run `nomic-agent status {agent}` to see whether the follow-up started"
            )),
            _ => {}
        }
        CliError { exit, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomic_agent::{ApiError, ErrorKind};

    #[test]
    fn codes_are_the_documented_ones() {
        let all = [
            (Exit::Success, 0),
            (Exit::AgentFailed, 1),
            (Exit::Usage, 2),
            (Exit::AgentStopped, 3),
            (Exit::Api, 4),
            (Exit::Transport, 5),
            (Exit::OutcomeUnknown, 6),
        ];
        for (exit, code) in all {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }

    #[test]
    fn terminal_statuses_map_to_exits() {
        assert_eq!(Exit::for_status(&AgentStatus::Finished), Exit::Success);
        assert_eq!(Exit::for_status(&AgentStatus::Failed), Exit::AgentFailed);
        assert_eq!(Exit::for_status(&AgentStatus::Stopped), Exit::AgentStopped);
    }

    #[test]
    fn sdk_errors_map_to_exits() {
        let api = |kind, status| ApiError::new(kind, status);
        let cases: Vec<(Error, Exit)> = vec![
            (
                Error::Invalid {
                    issues: vec!["prompt: empty".into()],
                    api: None,
                },
                Exit::Usage,
            ),
            (
                Error::Auth {
                    api: api(ErrorKind::Unauthorized, 401),
                },
                Exit::Api,
            ),
            (
                Error::NotFound {
                    what: "agent x".into(),
                    api: Some(api(ErrorKind::NotFound, 404)),
                },
                Exit::Api,
            ),
            (
                Error::SpendLimit {
                    api: api(ErrorKind::SpendLimited, 429).with_message("cap"),
                },
                Exit::Api,
            ),
            (
                Error::RateLimited {
                    api: api(ErrorKind::RateLimited, 429),
                },
                Exit::Api,
            ),
            (
                Error::Timeout {
                    message: "slow".into(),
                },
                Exit::Transport,
            ),
            (Error::LaunchOutcomeUnknown, Exit::OutcomeUnknown),
        ];
        for (e, want) in cases {
            let got = CliError::from(e);
            assert_eq!(got.exit, want, "{}", got.message);
        }
    }

    #[test]
    fn a_rate_limit_says_how_long_the_server_asked_to_wait() {
        let wait = Some(std::time::Duration::from_secs(90));
        let e = CliError::from(Error::RateLimited {
            api: ApiError::new(ErrorKind::RateLimited, 429).with_retry_after(wait),
        });
        assert!(
            e.message.ends_with("the server asked to wait 90 s"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_launch_says_how_to_check() {
        let e = CliError::from(Error::LaunchOutcomeUnknown);
        assert!(e.message.contains("nomic-agent list"), "{}", e.message);
    }
}
