//! [`Ticket`]: one turn, named so that another handle, process or machine can wait on it
//! later exactly as race-safely as the handle that sent it (`docs/lifecycle.md`, "Tickets").

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::race::{self, Snapshot};
use crate::wire::{AgentId, AgentStatus, Timestamp};

/// The version prefix of the encoded form; a ticket with another prefix is refused.
const PREFIX: &str = "t1.";

/// Longest encoded ticket accepted, so a hostile string cannot make the decoder allocate much.
const MAX_ENCODED: usize = 4096;

/// One turn of one agent — a launch or a follow-up — as an opaque, versioned, URL-safe value.
///
/// It holds the agent id, the API origin, when the turn was accepted (unix ms) and, for a
/// follow-up, the turn's baseline: the agent's status and `updatedAt` seen before the send and
/// a fingerprint of the prompt. Never the API key, nor the prompt text.
/// [`Turn::resume`](super::Turn::resume) waits on it in any process.
///
/// The string form (`Display`/`FromStr`, and `Serialize`/`Deserialize`) is `t1.` followed by
/// URL-safe base64 without padding of a compact JSON body and its checksum; treat it as opaque.
///
/// ```
/// use nomic_agent_core::turn::{Ticket, TicketError};
///
/// let err = "t9.abc".parse::<Ticket>().unwrap_err();
/// assert!(matches!(err, TicketError::UnsupportedVersion { .. }));
/// assert!(matches!("".parse::<Ticket>(), Err(TicketError::Malformed { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    agent_id: AgentId,
    origin: String,
    sent_at_ms: u64,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Launch,
    FollowUp { prior: Snapshot, prompt_fp: u64 },
}

impl Ticket {
    /// The ticket of agent `agent_id`'s launch, accepted at `sent_at_ms` (Unix ms) by the API at
    /// `origin` ([`ApiBase::origin`](crate::request::ApiBase::origin)). Waiting on it waits on
    /// the agent's current turn, like [`Turn::attach`](super::Turn::attach): for an agent
    /// whose launch was found after a crash rather than seen accepted.
    pub fn launch(agent_id: AgentId, origin: &str, sent_at_ms: u64) -> Ticket {
        Ticket {
            agent_id,
            origin: origin.to_owned(),
            sent_at_ms,
            kind: Kind::Launch,
        }
    }

    pub(super) fn follow_up(
        agent_id: AgentId,
        origin: &str,
        sent_at_ms: u64,
        prior: Snapshot,
        prompt: &str,
    ) -> Ticket {
        Ticket {
            agent_id,
            origin: origin.to_owned(),
            sent_at_ms,
            kind: Kind::FollowUp {
                prior,
                prompt_fp: race::fingerprint(prompt),
            },
        }
    }

    pub(super) fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The agent the turn belongs to.
    pub fn agent_id(&self) -> AgentId {
        self.agent_id
    }

    /// The API origin (`scheme://host[:port]`) the turn was sent to.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// When the server accepted the turn, in unix milliseconds (the sender's clock).
    pub fn sent_at_ms(&self) -> u64 {
        self.sent_at_ms
    }

    /// True for a follow-up's ticket, false for a launch's.
    pub fn is_follow_up(&self) -> bool {
        matches!(self.kind, Kind::FollowUp { .. })
    }

    /// The opaque string form (same as `to_string()`).
    pub fn encode(&self) -> String {
        let body = Body {
            a: self.agent_id,
            o: self.origin.clone(),
            s: self.sent_at_ms,
            f: match &self.kind {
                Kind::Launch => None,
                Kind::FollowUp { prior, prompt_fp } => Some(FollowUpBody {
                    st: prior.status.clone(),
                    u: prior.updated_at.clone(),
                    p: format!("{prompt_fp:016x}"),
                }),
            },
        };
        let mut bytes = serde_json::to_vec(&body).expect("a ticket body always serializes");
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum.to_be_bytes());
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Parses the string form; see [`TicketError`] for what is refused.
    pub fn decode(s: &str) -> Result<Ticket, TicketError> {
        let s = s.trim();
        if s.len() > MAX_ENCODED {
            return Err(TicketError::Malformed {
                reason: format!("longer than {MAX_ENCODED} characters"),
            });
        }
        let Some(rest) = s.strip_prefix(PREFIX) else {
            return match s.split_once('.') {
                Some((v, _)) if v.starts_with('t') && v.len() <= 8 => {
                    Err(TicketError::UnsupportedVersion {
                        version: v.to_owned(),
                    })
                }
                _ => Err(TicketError::Malformed {
                    reason: format!("does not start with `{PREFIX}`"),
                }),
            };
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(rest)
            .map_err(|e| TicketError::Malformed {
                reason: format!("not URL-safe base64: {e}"),
            })?;
        let Some((json, sum)) = bytes.split_last_chunk::<4>() else {
            return Err(TicketError::Malformed {
                reason: "too short".to_owned(),
            });
        };
        if checksum(json) != u32::from_be_bytes(*sum) {
            return Err(TicketError::Malformed {
                reason: "checksum mismatch (truncated or altered)".to_owned(),
            });
        }
        let body: Body = serde_json::from_slice(json).map_err(|e| TicketError::Malformed {
            reason: format!("unreadable body: {e}"),
        })?;
        let kind = match body.f {
            None => Kind::Launch,
            Some(f) => Kind::FollowUp {
                prior: Snapshot {
                    status: f.st,
                    updated_at: f.u,
                },
                prompt_fp: u64::from_str_radix(&f.p, 16)
                    .ok()
                    .filter(|_| f.p.len() == 16)
                    .ok_or_else(|| TicketError::Malformed {
                        reason: "bad prompt fingerprint".to_owned(),
                    })?,
            },
        };
        Ok(Ticket {
            agent_id: body.a,
            origin: body.o,
            sent_at_ms: body.s,
            kind,
        })
    }
}

/// FNV-1a (32 bits) of the body: any one altered byte changes it, so a damaged ticket is
/// refused rather than read as another turn.
fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// `wall_now` in unix milliseconds (0 before the epoch).
pub(super) fn unix_ms(wall_now: std::time::SystemTime) -> u64 {
    wall_now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The compact JSON inside the base64 (short keys keep tickets short).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    a: AgentId,
    o: String,
    s: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    f: Option<FollowUpBody>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowUpBody {
    st: AgentStatus,
    u: Timestamp,
    p: String,
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for Ticket {
    type Err = TicketError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ticket::decode(s)
    }
}

impl Serialize for Ticket {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Ticket {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ticket::decode(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a ticket was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// Not a ticket: no `t1.` prefix, bad base64, an unreadable or truncated body.
    #[error("not a turn ticket ({reason})")]
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// A ticket from another version of this library.
    #[error("turn ticket version `{version}` is not supported (expected `t1`)")]
    UnsupportedVersion {
        /// The version prefix found.
        version: String,
    },
    /// The ticket names a turn on another API origin than the client's.
    #[error("the ticket is for {ticket}, but this client talks to {client}")]
    ForeignOrigin {
        /// The ticket's origin.
        ticket: String,
        /// The client's origin.
        client: String,
    },
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn id() -> AgentId {
        "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap()
    }

    fn sample(follow: bool, sent: u64, prompt: &str) -> Ticket {
        if follow {
            let prior = Snapshot {
                status: AgentStatus::Finished,
                updated_at: Timestamp::new("2026-04-25T12:00:00.000Z"),
            };
            Ticket::follow_up(id(), "https://acme.nomic.ai", sent, prior, prompt)
        } else {
            Ticket::launch(id(), "http://127.0.0.1:8080", sent)
        }
    }

    #[test]
    fn kinds_of_refusal() {
        let t = sample(true, 1, "q").encode();
        assert!(t.starts_with("t1."));
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
        let foreign = t.replacen("t1.", "t2.", 1);
        assert_eq!(
            Ticket::decode(&foreign),
            Err(TicketError::UnsupportedVersion {
                version: "t2".into()
            })
        );
        assert!(matches!(
            Ticket::decode("hello"),
            Err(TicketError::Malformed { .. })
        ));
        assert!(matches!(
            Ticket::decode(&t[..t.len() - 5]),
            Err(TicketError::Malformed { .. })
        ));
        // The key-free JSON inside: no field but the documented ones.
        let extra = format!(
            "t1.{}",
            URL_SAFE_NO_PAD.encode({
                let mut b =
                    br#"{"a":"019abc12-3456-7890-abcd-ef1234567890","o":"x","s":1,"k":"s"}"#
                        .to_vec();
                let sum = checksum(&b);
                b.extend_from_slice(&sum.to_be_bytes());
                b
            })
        );
        assert!(matches!(
            Ticket::decode(&extra),
            Err(TicketError::Malformed { .. })
        ));
        // Serde goes through the string form.
        let json = serde_json::to_string(&sample(false, 7, "")).unwrap();
        assert_eq!(json, format!("\"{}\"", sample(false, 7, "").encode()));
        let back: Ticket = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample(false, 7, ""));
    }

    proptest! {
        #[test]
        fn round_trips(follow: bool, sent: u64, prompt in ".{0,40}") {
            let t = sample(follow, sent, &prompt);
            prop_assert_eq!(Ticket::decode(&t.encode()), Ok(t.clone()));
            prop_assert_eq!(t.to_string().parse::<Ticket>(), Ok(t));
        }

        #[test]
        fn damage_is_an_error_or_the_same_ticket(
            follow: bool,
            sent: u64,
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let t = sample(follow, sent, "what changed?");
            let s = t.encode();
            let truncated = &s[..cut.index(s.len())];
            if let Ok(back) = Ticket::decode(truncated) {
                prop_assert_eq!(back, t.clone());
            }
            let mut bytes = s.into_bytes();
            let i = flip.index(bytes.len());
            bytes[i] ^= 1 << bit;
            if let Ok(flipped) = String::from_utf8(bytes)
                && let Ok(back) = Ticket::decode(&flipped)
            {
                prop_assert_eq!(back, t);
            }
        }
    }
}
