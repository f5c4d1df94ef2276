//! The agent status enum.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where an agent is in its lifecycle.
///
/// Deserialized case-insensitively; a value this client does not know is kept as
/// [`AgentStatus::Unknown`] and treated as still active, so a new server status never ends a
/// wait early.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    /// Queued, not yet running.
    Waiting,
    /// Working on the current turn.
    Running,
    /// Paused until a tool result arrives.
    AwaitingTool,
    /// The turn completed successfully.
    Finished,
    /// The user or an integration stopped the agent.
    Stopped,
    /// The turn failed.
    Failed,
    /// A status this client does not know, exactly as the server sent it.
    Unknown(String),
}

impl AgentStatus {
    /// Parses a status string, ignoring ASCII case.
    pub fn parse(s: &str) -> AgentStatus {
        match s.to_ascii_lowercase().as_str() {
            "waiting" => AgentStatus::Waiting,
            "running" => AgentStatus::Running,
            "awaiting_tool" => AgentStatus::AwaitingTool,
            "finished" => AgentStatus::Finished,
            "stopped" => AgentStatus::Stopped,
            "failed" => AgentStatus::Failed,
            _ => AgentStatus::Unknown(s.to_owned()),
        }
    }

    /// True for `finished`, `stopped` and `failed`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            AgentStatus::Finished | AgentStatus::Stopped | AgentStatus::Failed
        )
    }

    /// True for every status that is not terminal, unknown ones included.
    pub fn is_active(&self) -> bool {
        !self.is_terminal()
    }

    /// The snake_case wire name (the raw string for unknown values).
    pub fn as_str(&self) -> &str {
        match self {
            AgentStatus::Waiting => "waiting",
            AgentStatus::Running => "running",
            AgentStatus::AwaitingTool => "awaiting_tool",
            AgentStatus::Finished => "finished",
            AgentStatus::Stopped => "stopped",
            AgentStatus::Failed => "failed",
            AgentStatus::Unknown(raw) => raw,
        }
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AgentStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AgentStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(AgentStatus::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_and_unknown_kept() {
        let s: AgentStatus = serde_json::from_str("\"FINISHED\"").unwrap();
        assert_eq!(s, AgentStatus::Finished);
        let s: AgentStatus = serde_json::from_str("\"Awaiting_Tool\"").unwrap();
        assert_eq!(s, AgentStatus::AwaitingTool);
        let s: AgentStatus = serde_json::from_str("\"Paused\"").unwrap();
        assert_eq!(s, AgentStatus::Unknown("Paused".into()));
        assert!(s.is_active());
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"Paused\"");
    }

    #[test]
    fn terminal_set() {
        let all = [
            AgentStatus::Waiting,
            AgentStatus::Running,
            AgentStatus::AwaitingTool,
            AgentStatus::Finished,
            AgentStatus::Stopped,
            AgentStatus::Failed,
        ];
        let terminal: Vec<&str> = all
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(terminal, ["finished", "stopped", "failed"]);
        for s in &all {
            assert_eq!(s.is_active(), !s.is_terminal());
            assert_eq!(&AgentStatus::parse(s.as_str()), s);
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
    }
}
