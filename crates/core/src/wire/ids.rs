//! UUID newtypes for the API's identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// A string that is not a UUID in the hyphenated form the API uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {kind} id: expected a hyphenated UUID ({reason})")]
pub struct InvalidId {
    kind: &'static str,
    reason: &'static str,
}

impl InvalidId {
    /// Which identifier was being parsed, e.g. `"agent"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// Parses the canonical 36-character hyphenated form only: the API issues nothing else, and
/// accepting braces or URNs would let malformed ids through client-side validation.
pub(crate) fn parse_hyphenated(s: &str, kind: &'static str) -> Result<Uuid, InvalidId> {
    let bytes = s.as_bytes();
    if bytes.len() != 36 {
        return Err(InvalidId {
            kind,
            reason: "length is not 36",
        });
    }
    for (i, b) in bytes.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) {
            *b == b'-'
        } else {
            b.is_ascii_hexdigit()
        };
        if !ok {
            return Err(InvalidId {
                kind,
                reason: "unexpected character",
            });
        }
    }
    Uuid::try_parse(s).map_err(|_| InvalidId {
        kind,
        reason: "not a UUID",
    })
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hyphenated(s, $kind).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0.hyphenated())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

uuid_id!(
    /// The id of a background agent.
    AgentId,
    "agent"
);
uuid_id!(
    /// The id of an uploaded file or folder.
    FileId,
    "file"
);
uuid_id!(
    /// The id of a workflow template.
    WorkflowId,
    "workflow"
);
uuid_id!(
    /// The id of a project.
    ProjectId,
    "project"
);
uuid_id!(
    /// The id of an artifact produced by an agent.
    ArtifactId,
    "artifact"
);

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";

    #[test]
    fn parses_and_displays_hyphenated() {
        let id: AgentId = ID.parse().unwrap();
        assert_eq!(id.to_string(), ID);
        assert_eq!(format!("{id:?}"), format!("AgentId({ID})"));
    }

    #[test]
    fn upper_case_is_accepted_and_normalised() {
        let id: FileId = ID.to_uppercase().parse().unwrap();
        assert_eq!(id.to_string(), ID);
    }

    #[test]
    fn rejects_other_forms() {
        for bad in [
            "",
            "019abc1234567890abcdef1234567890",
            "{019abc12-3456-7890-abcd-ef1234567890}",
            "019abc12-3456-7890-abcd-ef123456789g",
            "019abc12-3456-7890-abcd_ef1234567890",
            "019abc12-3456-7890-abcd-ef12345678900",
        ] {
            let err = bad.parse::<WorkflowId>().unwrap_err();
            assert_eq!(err.kind(), "workflow", "{bad}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let id: ArtifactId = ID.parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{ID}\""));
        let back: ArtifactId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<ProjectId>("\"nope\"").is_err());
        assert!(serde_json::from_str::<ProjectId>("12").is_err());
    }
}
