//! The response shape: the documented one, or the pre-documentation one (`legacyShape`).
//!
//! Documented: objects inside `{data: …}`, lists as `{data: [...], nextCursor}`, lower-case
//! statuses. Pre-documentation (what Nomic's own agent client read in 2026-04, AGENT_API.md
//! §8.6): bare objects, UPPER-CASE statuses, and lists under the resource's noun
//! (`{agents: [...], nextCursor}`; the client looked under `agents` first). Handlers build the
//! documented body's payload and this module wraps it, so the two shapes cannot drift apart.

use serde_json::{Map, Value, json};

use crate::shared::Shared;

/// Which shape this emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    legacy: bool,
}

impl Shape {
    /// The shape the emulator was started with.
    pub(super) fn of(shared: &Shared) -> Self {
        Shape {
            legacy: shared.initial.legacy_shape,
        }
    }

    /// An agent object (launch, get, follow-up, stop).
    pub(super) fn agent(self, mut agent: Value) -> Value {
        if !self.legacy {
            return json!({ "data": agent });
        }
        upper_case_status(&mut agent);
        agent
    }

    /// Any other single object (the conversation).
    pub(super) fn object(self, v: Value) -> Value {
        if self.legacy { v } else { json!({ "data": v }) }
    }

    /// A page the model built as `{data: [...], nextCursor}`; `noun` names the list in the
    /// pre-documentation shape, and agent statuses are upper-cased there.
    pub(super) fn page(self, page: Value, noun: &str) -> Value {
        if !self.legacy {
            return page;
        }
        let Value::Object(mut m) = page else {
            return page;
        };
        let mut list = m.remove("data").unwrap_or_else(|| json!([]));
        if noun == "agents"
            && let Value::Array(items) = &mut list
        {
            items.iter_mut().for_each(upper_case_status);
        }
        let mut out = Map::new();
        out.insert(noun.to_owned(), list);
        out.extend(m);
        Value::Object(out)
    }
}

fn upper_case_status(agent: &mut Value) {
    if let Some(Value::String(s)) = agent.get_mut("status") {
        s.make_ascii_uppercase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shape_wraps_and_keeps_case() {
        let s = Shape { legacy: false };
        let a = json!({"id": "x", "status": "awaiting_tool"});
        assert_eq!(s.agent(a.clone()), json!({ "data": a }));
        let p = json!({"data": [a], "nextCursor": null});
        assert_eq!(s.page(p.clone(), "agents"), p);
    }

    #[test]
    fn legacy_shape_is_bare_and_upper_case() {
        let s = Shape { legacy: true };
        let a = json!({"id": "x", "status": "awaiting_tool"});
        assert_eq!(
            s.agent(a.clone()),
            json!({"id": "x", "status": "AWAITING_TOOL"})
        );
        assert_eq!(s.object(json!({"messages": []})), json!({"messages": []}));
        let p = s.page(json!({"data": [a], "nextCursor": "c"}), "agents");
        assert_eq!(
            p,
            json!({"agents": [{"id": "x", "status": "AWAITING_TOOL"}], "nextCursor": "c"})
        );
        let w = s.page(
            json!({"data": [{"id": "w"}], "nextCursor": null}),
            "workflows",
        );
        assert_eq!(w, json!({"workflows": [{"id": "w"}], "nextCursor": null}));
    }
}
