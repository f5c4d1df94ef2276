//! The JSON layout of a [`FileStore`](crate::FileStore) file: one entry per thread key.
//!
//! A thread with only an agent id is `"key": "agent id"` (the original layout, still written
//! when nothing else is recorded); otherwise the value is an object
//! `{"agent": "agent id" | absent, "turn": {TurnRecord} | absent, "claim": {claim} | absent}`.
//! Both forms are read; unknown object fields are ignored, so an older SDK still reads a file
//! with claims.

use std::collections::BTreeMap;
use std::path::Path;

use nomic_agent_core::wire::AgentId;
use serde_json::{Map, Value};

use crate::Error;
use crate::claim::ClaimRecord;
use crate::journal::TurnRecord;

/// What the store keeps for one thread key.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Entry {
    pub(crate) agent: Option<AgentId>,
    pub(crate) turn: Option<TurnRecord>,
    pub(crate) claim: Option<ClaimRecord>,
}

/// The whole file.
pub(crate) type FileMap = BTreeMap<String, Entry>;

/// Reads a store file; blank content is an empty map.
pub(crate) fn parse_map(bytes: &[u8], path: &Path) -> Result<FileMap, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(BTreeMap::new());
    }
    let raw: Map<String, Value> = serde_json::from_slice(bytes).map_err(|e| Error::Store {
        message: format!(
            "{} is not a JSON object of thread keys to agent ids ({e}); fix or delete it",
            path.display()
        ),
    })?;
    let bad = |k: &str, what: String| Error::Store {
        message: format!("{}: key {k:?}: {what}", path.display()),
    };
    let id = |k: &str, v: &str| v.parse::<AgentId>().map_err(|e| bad(k, e.to_string()));
    raw.into_iter()
        .map(|(k, v)| {
            let entry = match &v {
                Value::String(s) => Entry {
                    agent: Some(id(&k, s)?),
                    ..Entry::default()
                },
                Value::Object(o) => Entry {
                    agent: match o.get("agent") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => Some(id(&k, s)?),
                        Some(_) => return Err(bad(&k, "`agent` is not a string".into())),
                    },
                    turn: match o.get("turn") {
                        None | Some(Value::Null) => None,
                        Some(t) => Some(
                            TurnRecord::from_json_value(t).map_err(|e| bad(&k, e.to_string()))?,
                        ),
                    },
                    claim: match o.get("claim") {
                        None | Some(Value::Null) => None,
                        Some(c) => Some(
                            ClaimRecord::from_json_value(c).map_err(|e| bad(&k, e.to_string()))?,
                        ),
                    },
                },
                _ => return Err(bad(&k, "not an agent id".into())),
            };
            Ok((k, entry))
        })
        .collect()
}

/// Writes the map in the layout [`parse_map`] reads.
pub(crate) fn encode_map(map: &FileMap) -> Result<Vec<u8>, Error> {
    let raw: Map<String, Value> = map
        .iter()
        .map(|(k, e)| {
            let v = match (&e.agent, &e.turn, &e.claim) {
                (Some(a), None, None) => Value::String(a.to_string()),
                _ => {
                    let mut o = Map::new();
                    if let Some(a) = e.agent {
                        o.insert("agent".into(), a.to_string().into());
                    }
                    if let Some(t) = &e.turn {
                        o.insert("turn".into(), t.to_json_value());
                    }
                    if let Some(c) = &e.claim {
                        o.insert("claim".into(), c.to_json_value());
                    }
                    Value::Object(o)
                }
            };
            (k.clone(), v)
        })
        .collect();
    serde_json::to_vec_pretty(&raw).map_err(|e| Error::Store {
        message: format!("could not encode the session map: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::ClaimOwner;

    fn id(n: u8) -> AgentId {
        format!("019abc12-3456-7890-abcd-ef12345678{n:02x}")
            .parse()
            .unwrap()
    }

    #[test]
    fn every_entry_shape_round_trips() {
        let claim = ClaimRecord {
            owner: ClaimOwner::new(),
            expires_at_ms: 42,
        };
        let turn = TurnRecord::launch("q", Some("m"));
        let mut map = FileMap::new();
        map.insert(
            "plain".into(),
            Entry {
                agent: Some(id(1)),
                ..Entry::default()
            },
        );
        map.insert(
            "claimed only".into(),
            Entry {
                claim: Some(claim.clone()),
                ..Entry::default()
            },
        );
        map.insert(
            "everything".into(),
            Entry {
                agent: Some(id(2)),
                turn: Some(turn),
                claim: Some(claim),
            },
        );
        let bytes = encode_map(&map).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        // An entry with only an agent keeps the original layout.
        assert!(
            text.contains(&format!("\"plain\": \"{}\"", id(1))),
            "{text}"
        );
        let back = parse_map(&bytes, Path::new("s.json")).unwrap();
        assert_eq!(back, map);
        // The claim's owner and expiry are written out; the id identifies the owner.
        assert_eq!(
            back["claimed only"].claim.as_ref().unwrap().expires_at_ms,
            42
        );
    }

    #[test]
    fn a_bad_claim_names_its_key() {
        let text = format!(
            r#"{{"k": {{"agent": "{}", "claim": {{"pid": 1}}}}}}"#,
            id(1)
        );
        let err = parse_map(text.as_bytes(), Path::new("s.json")).unwrap_err();
        assert!(matches!(err, Error::Store { .. }));
        let msg = err.to_string();
        assert!(msg.contains("\"k\"") && msg.contains("owner"), "{msg}");
        // Unknown fields are ignored (a newer SDK may add some).
        let text = format!(r#"{{"k": {{"agent": "{}", "later": 1}}}}"#, id(1));
        let map = parse_map(text.as_bytes(), Path::new("s.json")).unwrap();
        assert_eq!(map["k"].agent, Some(id(1)));
    }
}
