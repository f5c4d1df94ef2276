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
        // Compared in place: lower-casing into a new `String` would allocate on every poll.
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if is("running") {
            AgentStatus::Running
        } else if is("waiting") {
            AgentStatus::Waiting
        } else if is("awaiting_tool") {
            AgentStatus::AwaitingTool
        } else if is("finished") {
            AgentStatus::Finished
        } else if is("stopped") {
            AgentStatus::Stopped
        } else if is("failed") {
            AgentStatus::Failed
        } else {
            AgentStatus::Unknown(s.to_owned())
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
        super::str_de::deserialize_str_with(deserializer, |s| {
            Ok::<_, std::convert::Infallible>(AgentStatus::parse(s))
        })
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

    /// The plain definition `parse` must agree with: lower-case, then match.
    fn reference(s: &str) -> AgentStatus {
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

    #[test]
    fn parse_ignores_ascii_case_only() {
        for s in [
            "RuNnInG",
            "AWAITING_TOOL",
            "awaiting-tool",
            "",
            "ſtopped",
            "FİNISHED",
            "failed ",
        ] {
            assert_eq!(AgentStatus::parse(s), reference(s), "{s:?}");
        }
        // Non-ASCII look-alikes stay unknown, as with `to_ascii_lowercase`.
        assert_eq!(
            AgentStatus::parse("ſtopped"),
            AgentStatus::Unknown("ſtopped".into())
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_matches_reference(
            name in proptest::sample::select(vec![
                "waiting", "running", "awaiting_tool", "finished", "stopped", "failed",
            ]),
            flips in proptest::collection::vec(proptest::bool::ANY, 13),
            junk in "\\PC{0,3}",
        ) {
            let mixed: String = name
                .chars()
                .zip(flips.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            proptest::prop_assert_eq!(AgentStatus::parse(&mixed), reference(&mixed));
            let other = format!("{mixed}{junk}");
            proptest::prop_assert_eq!(AgentStatus::parse(&other), reference(&other));
        }
    }

    #[test]
    fn deserializes_without_a_string_and_errors_as_before() {
        use serde::de::value::{BytesDeserializer, Error};
        // Escaped text arrives through serde_json's scratch buffer rather than borrowed.
        let s: AgentStatus = serde_json::from_str(r#""run\u006eing""#).unwrap();
        assert_eq!(s, AgentStatus::Running);
        let s: AgentStatus = serde_json::from_value(serde_json::json!("Hibernating")).unwrap();
        assert_eq!(s, AgentStatus::Unknown("Hibernating".into()));
        let s = AgentStatus::deserialize(BytesDeserializer::<Error>::new(b"FAILED")).unwrap();
        assert_eq!(s, AgentStatus::Failed);
        let err = AgentStatus::deserialize(BytesDeserializer::<Error>::new(b"\xff")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value: byte array, expected a string"
        );
        let err = serde_json::from_str::<AgentStatus>("5").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: integer `5`, expected a string at line 1 column 1"
        );
        assert!(serde_json::from_str::<AgentStatus>("null").is_err());
    }
}
