//! The optional token that guards the `/_emulator/` control routes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::EmulatorError;

/// The environment variable both emulator commands read the control token from.
pub const ENV_CONTROL_TOKEN: &str = "NOMIC_EMULATOR_CONTROL_TOKEN";

/// A secret that the `/_emulator/` control routes require, sent as
/// `Authorization: Bearer <token>`. Its `Debug` output never shows it.
///
/// ```
/// use nomic_agent_emulator::ControlToken;
///
/// let token: ControlToken = "s3cret-control".parse()?;
/// assert!(token.matches("s3cret-control"));
/// assert!(!token.matches("s3cret"));
/// assert_eq!(format!("{token:?}"), "ControlToken(<redacted>)");
/// assert!("two words".parse::<ControlToken>().is_err());
/// # Ok::<(), nomic_agent_emulator::EmulatorError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ControlToken(String);

impl ControlToken {
    /// A token: non-empty visible ASCII without spaces (it travels in a header).
    pub fn new(token: impl Into<String>) -> Result<Self, EmulatorError> {
        let token = token.into();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(EmulatorError::Config(
                "the control token must be non-empty visible ASCII without spaces".into(),
            ));
        }
        Ok(Self(token))
    }

    /// The token, to put in a request's `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is the token. The time taken depends only on `presented`'s length,
    /// never on how much of it matches.
    pub fn matches(&self, presented: &str) -> bool {
        let (want, got) = (self.0.as_bytes(), presented.as_bytes());
        let mut diff = u8::from(want.len() != got.len());
        for (i, b) in got.iter().enumerate() {
            diff |= b ^ want[i % want.len()];
        }
        diff == 0
    }
}

impl fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ControlToken(<redacted>)")
    }
}

impl FromStr for ControlToken {
    type Err = EmulatorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for ControlToken {
    type Error = EmulatorError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<ControlToken> for String {
    fn from(t: ControlToken) -> Self {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_token() {
        let t = ControlToken::new("abc123").unwrap();
        assert!(t.matches("abc123"));
        for wrong in ["", "abc12", "abc1234", "abc124", "ABC123", "abc123abc123"] {
            assert!(!t.matches(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn refuses_what_cannot_travel_in_a_header() {
        for bad in ["", "a b", "tab\there", "new\nline", "é"] {
            assert!(ControlToken::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_round_trip_checks_the_value() {
        let t: ControlToken = serde_json::from_str("\"tok\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"tok\"");
        assert!(serde_json::from_str::<ControlToken>("\"a b\"").is_err());
    }
}
