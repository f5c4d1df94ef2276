//! Conversation rows.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Timestamp;

/// An agent's conversation: a linear list of rows, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Conversation {
    /// The rows.
    #[serde(default)]
    pub messages: Vec<Message>,
}

impl Conversation {
    /// Wraps rows.
    pub fn new(messages: Vec<Message>) -> Self {
        Conversation { messages }
    }
}

/// Who wrote a conversation row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// The user's prompt.
    User,
    /// The agent's reply.
    Assistant,
    /// A tool call or result.
    Tool,
    /// An error row.
    Error,
    /// Any other type, as sent.
    Unknown(String),
}

impl Role {
    /// Parses a role, ignoring ASCII case.
    pub fn parse(s: &str) -> Role {
        // Compared in place, without a lower-cased copy.
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if is("user") {
            Role::User
        } else if is("assistant") {
            Role::Assistant
        } else if is("tool") {
            Role::Tool
        } else if is("error") {
            Role::Error
        } else {
            Role::Unknown(s.to_owned())
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Error => "error",
            Role::Unknown(raw) => raw,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::str_de::deserialize_str_with(deserializer, |s| {
            Ok::<_, std::convert::Infallible>(Role::parse(s))
        })
    }
}

/// One conversation row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Message {
    /// The row id (empty when absent).
    #[serde(default)]
    pub id: String,
    /// Who wrote it (JSON field `type`).
    #[serde(rename = "type")]
    pub role: Role,
    /// Its text; may be empty on tool rows.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub text: String,
    /// The tool name on tool rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was written.
    #[serde(default)]
    pub created_at: Timestamp,
}

impl Message {
    /// A row with the given role and text.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Message {
            id: String::new(),
            role,
            text: text.into(),
            name: None,
            created_at: Timestamp::default(),
        }
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_parse_ignores_ascii_case_only() {
        assert_eq!(Role::parse("USER"), Role::User);
        assert_eq!(Role::parse("Assistant"), Role::Assistant);
        assert_eq!(Role::parse("tOOL"), Role::Tool);
        assert_eq!(Role::parse("Error"), Role::Error);
        for other in ["", "users", "ùser", "reasoning"] {
            assert_eq!(Role::parse(other), Role::Unknown(other.into()));
        }
        let r: Role = serde_json::from_str(r#""\u0074ool""#).unwrap();
        assert_eq!(r, Role::Tool);
        assert!(serde_json::from_str::<Role>("null").is_err());
    }
}
