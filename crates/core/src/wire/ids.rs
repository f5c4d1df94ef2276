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
    if s.len() != 36 {
        return Err(InvalidId {
            kind,
            reason: "length is not 36",
        });
    }
    // At length 36 `try_parse` accepts exactly hyphens at 8, 13, 18 and 23 and hex digits
    // elsewhere (the braced and URN forms have other lengths), so one pass validates and
    // decodes.
    Uuid::try_parse(s).map_err(|_| InvalidId {
        kind,
        reason: "unexpected character",
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
                super::str_de::deserialize_str_with(deserializer, |s| {
                    parse_hyphenated(s, $kind).map(Self)
                })
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

    #[test]
    fn parse_reasons() {
        let reason = |s: &str| s.parse::<AgentId>().unwrap_err().to_string();
        let short = "malformed agent id: expected a hyphenated UUID (length is not 36)";
        let bad = "malformed agent id: expected a hyphenated UUID (unexpected character)";
        assert_eq!(reason("019abc12-3456-7890-abcd-ef123456789"), short);
        // The braced and URN forms `Uuid::try_parse` knows have other lengths.
        assert_eq!(reason("{019abc12-3456-7890-abcd-ef1234567890}"), short);
        assert_eq!(
            reason("urn:uuid:019abc12-3456-7890-abcd-ef1234567890"),
            short
        );
        // 36 bytes, not 36 characters.
        assert_eq!(reason("019abc12-3456-7890-abcd-ef12345678é"), bad);
        assert_eq!(reason("019abc12-3456-7890-abcd-ef123456789G"), bad);
        assert_eq!(reason("019abc1234567890abcdef1234567890----"), bad);
        assert_eq!(reason("019abc12-3456-7890-abcd-+f1234567890"), bad);
    }

    #[test]
    fn deserialize_parses_in_place_and_errors_as_before() {
        use serde::de::value::{BytesDeserializer, Error};
        let escaped = format!("\"{}\"", ID.replacen('-', "\\u002d", 1));
        let id: AgentId = serde_json::from_str(&escaped).unwrap();
        assert_eq!(id.to_string(), ID);
        let id: FileId = serde_json::from_value(serde_json::json!(ID.to_uppercase())).unwrap();
        assert_eq!(id.to_string(), ID);
        let id = AgentId::deserialize(BytesDeserializer::<Error>::new(ID.as_bytes())).unwrap();
        assert_eq!(id.to_string(), ID);
        let err = AgentId::deserialize(BytesDeserializer::<Error>::new(b"\xff")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value: byte array, expected a string"
        );
        let err = serde_json::from_str::<AgentId>("12").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: integer `12`, expected a string at line 1 column 2"
        );
        // The parse error is raised after the string is read, as when it was read into a
        // `String`: at the top level serde_json adds no position.
        let err = serde_json::from_str::<AgentId>("\"nope\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed agent id: expected a hyphenated UUID (length is not 36)"
        );
    }

    proptest::proptest! {
        /// `parse_hyphenated` accepts exactly what the explicit per-position check it replaced
        /// accepted.
        #[test]
        fn accepts_exactly_hyphenated_hex(
            s in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\
                  |[0-9a-fA-Fg]{8}[-_][0-9a-fA-F]{4}-[0-9a-fA-F]{4}[-+][0-9a-fA-F]{4}-[0-9a-fé]{11,12}\
                  |[0-9a-fA-F_gG{}:-]{36}|\\PC{0,40}"
        ) {
            let reference = s.len() == 36
                && s.bytes().enumerate().all(|(i, b)| {
                    if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() }
                });
            let parsed = parse_hyphenated(&s, "agent");
            proptest::prop_assert_eq!(parsed.is_ok(), reference);
            if let Ok(uuid) = parsed {
                proptest::prop_assert_eq!(uuid.hyphenated().to_string(), s.to_ascii_lowercase());
            }
        }
    }
}
