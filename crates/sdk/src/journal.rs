//! [`TurnRecord`]: what a [`Session`](crate::Session) writes to its store *before* it sends a
//! launch or a follow-up, so a process that crashes mid-turn can pick the turn up again
//! without sending it twice.
//!
//! The record is a small JSON object (see [`TurnRecord::to_json`]); stores keep it next to the
//! thread's agent id. It holds a fingerprint of the prompt text (never the key; the prompt text
//! itself only for follow-ups, which may have to be resent), when the intent was recorded, and
//! for a follow-up the agent's status and `updatedAt` right before sending.

use nomic_agent_core::turn::Ticket;
use nomic_agent_core::wire::{AgentId, AgentStatus, Timestamp};
use serde_json::{Map, Value, json};

use crate::Error;

/// How far a recorded turn got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnStage {
    /// Recorded before the request was sent: the server may or may not have received it.
    Intent,
    /// The server accepted it (201 for a launch, 202 for a follow-up); its answer was not read yet.
    Accepted,
    /// The turn ended and its outcome was returned.
    Done,
}

impl TurnStage {
    fn as_str(self) -> &'static str {
        match self {
            TurnStage::Intent => "intent",
            TurnStage::Accepted => "accepted",
            TurnStage::Done => "done",
        }
    }

    fn parse(s: &str) -> Option<TurnStage> {
        Some(match s {
            "intent" => TurnStage::Intent,
            "accepted" => TurnStage::Accepted,
            "done" => TurnStage::Done,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Launch,
    FollowUp {
        prompt: String,
        prior_status: AgentStatus,
        prior_updated_at: Timestamp,
    },
}

/// The latest turn of one session thread, as recorded in its [`SessionStore`](crate::SessionStore).
///
/// Opaque on purpose: a custom store persists it with [`to_json`](TurnRecord::to_json) and
/// reads it back with [`from_json`](TurnRecord::from_json).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnRecord {
    pub(crate) kind: Kind,
    pub(crate) stage: TurnStage,
    pub(crate) agent: Option<AgentId>,
    pub(crate) fingerprint: String,
    pub(crate) message: Option<String>,
    pub(crate) started_at_ms: i64,
    /// The turn's ticket once the server accepted it, so any process sharing the store can
    /// wait on exactly this turn ([`Session::reply`](crate::Session::reply)).
    pub(crate) ticket: Option<Ticket>,
}

/// A stable fingerprint of a prompt's text: FNV-1a 64 over the trimmed text, plus its length.
/// Servers may trim the prompt, so the comparison ignores leading and trailing white space.
pub(crate) fn fingerprint(text: &str) -> String {
    let t = text.trim();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in t.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}:{}", t.len())
}

pub(crate) fn unix_millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl TurnRecord {
    pub(crate) fn launch(text: &str, message: Option<&str>) -> TurnRecord {
        TurnRecord {
            kind: Kind::Launch,
            stage: TurnStage::Intent,
            agent: None,
            fingerprint: fingerprint(text),
            message: message.map(str::to_owned),
            started_at_ms: unix_millis_now(),
            ticket: None,
        }
    }

    pub(crate) fn follow_up(
        snapshot: &nomic_agent_core::wire::Agent,
        text: &str,
        message: Option<&str>,
    ) -> TurnRecord {
        TurnRecord {
            kind: Kind::FollowUp {
                prompt: text.to_owned(),
                prior_status: snapshot.status.clone(),
                prior_updated_at: snapshot.updated_at.clone(),
            },
            stage: TurnStage::Intent,
            agent: Some(snapshot.id),
            fingerprint: fingerprint(text),
            message: message.map(str::to_owned),
            started_at_ms: unix_millis_now(),
            ticket: None,
        }
    }

    pub(crate) fn with(mut self, stage: TurnStage, agent: Option<AgentId>) -> TurnRecord {
        self.stage = stage;
        if agent.is_some() {
            self.agent = agent;
        }
        self
    }

    /// The record once the server accepted the turn `ticket` names.
    pub(crate) fn accepted(mut self, ticket: Option<Ticket>) -> TurnRecord {
        self.stage = TurnStage::Accepted;
        self.agent = ticket.as_ref().map(Ticket::agent_id).or(self.agent);
        self.ticket = ticket.or(self.ticket);
        self
    }

    /// The turn's ticket, once the server accepted it.
    pub fn ticket(&self) -> Option<&Ticket> {
        self.ticket.as_ref()
    }

    /// How far the turn got.
    pub fn stage(&self) -> TurnStage {
        self.stage
    }

    /// True for a launch, false for a follow-up.
    pub fn is_launch(&self) -> bool {
        self.kind == Kind::Launch
    }

    /// The agent the turn belongs to, once known (a launch's agent is known after the 201).
    pub fn agent(&self) -> Option<AgentId> {
        self.agent
    }

    /// The application's message id ([`Session::send_message`](crate::Session::send_message)).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// When the intent was recorded, in milliseconds since the Unix epoch (local clock).
    pub fn started_at_ms(&self) -> i64 {
        self.started_at_ms
    }

    pub(crate) fn matches(&self, text: &str, message: Option<&str>) -> bool {
        self.fingerprint == fingerprint(text)
            && (message.is_none() || self.message.as_deref() == message)
    }

    /// The record as a JSON value (what [`FileStore`](crate::FileStore) writes).
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("stage".into(), json!(self.stage.as_str()));
        m.insert("fingerprint".into(), json!(self.fingerprint));
        m.insert("startedAtMs".into(), json!(self.started_at_ms));
        if let Some(a) = self.agent {
            m.insert("agent".into(), json!(a.to_string()));
        }
        if let Some(msg) = &self.message {
            m.insert("message".into(), json!(msg));
        }
        if let Some(t) = &self.ticket {
            m.insert("ticket".into(), json!(t.to_string()));
        }
        match &self.kind {
            Kind::Launch => {
                m.insert("kind".into(), json!("launch"));
            }
            Kind::FollowUp {
                prompt,
                prior_status,
                prior_updated_at,
            } => {
                m.insert("kind".into(), json!("followUp"));
                m.insert("prompt".into(), json!(prompt));
                m.insert("priorStatus".into(), json!(prior_status.as_str()));
                m.insert("priorUpdatedAt".into(), json!(prior_updated_at.as_str()));
            }
        }
        Value::Object(m)
    }

    /// The record as a JSON string.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// Reads a record written by [`to_json`](TurnRecord::to_json).
    pub fn from_json(s: &str) -> Result<TurnRecord, Error> {
        let v: Value = serde_json::from_str(s).map_err(|e| Error::Store {
            message: format!("a turn record is not JSON ({e})"),
        })?;
        TurnRecord::from_json_value(&v)
    }

    /// Reads a record from a JSON value.
    pub fn from_json_value(v: &Value) -> Result<TurnRecord, Error> {
        let bad = |what: &str| Error::Store {
            message: format!("a turn record has a missing or invalid `{what}`"),
        };
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        let stage = s("stage")
            .and_then(TurnStage::parse)
            .ok_or_else(|| bad("stage"))?;
        let fingerprint = s("fingerprint")
            .ok_or_else(|| bad("fingerprint"))?
            .to_owned();
        let started_at_ms = v
            .get("startedAtMs")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("startedAtMs"))?;
        let agent = match s("agent") {
            Some(a) => Some(a.parse::<AgentId>().map_err(|_| bad("agent"))?),
            None => None,
        };
        let kind = match s("kind") {
            Some("launch") => Kind::Launch,
            Some("followUp") => Kind::FollowUp {
                prompt: s("prompt").ok_or_else(|| bad("prompt"))?.to_owned(),
                prior_status: AgentStatus::parse(
                    s("priorStatus").ok_or_else(|| bad("priorStatus"))?,
                ),
                prior_updated_at: Timestamp::new(
                    s("priorUpdatedAt").ok_or_else(|| bad("priorUpdatedAt"))?,
                ),
            },
            _ => return Err(bad("kind")),
        };
        if matches!(kind, Kind::FollowUp { .. }) && agent.is_none() {
            return Err(bad("agent"));
        }
        Ok(TurnRecord {
            kind,
            stage,
            agent,
            fingerprint,
            message: s("message").map(str::to_owned),
            started_at_ms,
            ticket: match s("ticket") {
                Some(t) => Some(t.parse::<Ticket>().map_err(|_| bad("ticket"))?),
                None => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomic_agent_core::wire::Agent;

    /// A launch ticket for `id()`, made by the core the way the SDK gets one (a 201).
    fn ticket_text() -> String {
        use nomic_agent_core::turn::{Turn, TurnConfig};
        use nomic_agent_core::wire::LaunchRequest;
        let cfg = std::sync::Arc::new(TurnConfig::new(
            nomic_agent_core::request::ApiBase::parse("https://acme.nomic.ai").unwrap(),
        ));
        let now = std::time::Instant::now();
        let mut t = Turn::launch(LaunchRequest::prompt("q"), cfg, now).unwrap();
        let tx = t.poll_transmit(now).unwrap();
        let body = json!({"data": {"id": id().to_string(), "status": "running",
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}});
        let resp = http::Response::builder()
            .status(201)
            .body(bytes::Bytes::from(body.to_string()))
            .unwrap();
        t.handle_response(now, std::time::SystemTime::now(), tx.id, resp);
        t.ticket().expect("a ticket after the 201").to_string()
    }

    fn id() -> AgentId {
        "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap()
    }

    #[test]
    fn fingerprint_ignores_outer_white_space_only() {
        assert_eq!(fingerprint(" hello \n"), fingerprint("hello"));
        assert_ne!(fingerprint("hello"), fingerprint("hell o"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }

    #[test]
    fn records_round_trip_through_json() {
        let l = TurnRecord::launch("q1", Some("m1"));
        assert_eq!(TurnRecord::from_json(&l.to_json()).unwrap(), l);
        let l = l.with(TurnStage::Accepted, Some(id()));
        assert_eq!(TurnRecord::from_json(&l.to_json()).unwrap(), l);
        let t: Ticket = ticket_text().parse().unwrap();
        let l = l.accepted(Some(t.clone()));
        let back = TurnRecord::from_json(&l.to_json()).unwrap();
        assert_eq!(back.ticket(), Some(&t));
        assert_eq!(back, l);
        let mut snap = Agent::new(id(), AgentStatus::Finished);
        snap.updated_at = Timestamp::new("2026-01-01T00:00:00.000Z");
        let f = TurnRecord::follow_up(&snap, "q2", None);
        let back = TurnRecord::from_json(&f.to_json()).unwrap();
        assert_eq!(back, f);
        assert!(!back.is_launch());
        assert_eq!(back.agent(), Some(id()));
        assert!(back.matches(" q2", None));
        assert!(!back.matches("q3", None));
    }

    #[test]
    fn garbage_is_a_store_error() {
        assert!(matches!(
            TurnRecord::from_json("{\"stage\":\"nope\"}"),
            Err(Error::Store { .. })
        ));
        assert!(matches!(
            TurnRecord::from_json("[]"),
            Err(Error::Store { .. })
        ));
        // A follow-up without its agent cannot be recovered.
        let v = json!({"stage":"intent","fingerprint":"x","startedAtMs":1,"kind":"followUp",
            "prompt":"p","priorStatus":"finished","priorUpdatedAt":""});
        assert!(TurnRecord::from_json_value(&v).is_err());
    }
}
