//! `wire::decode_agent`: decode → encode → decode is stable, and the decoded agent is
//! internally consistent.

use nomic_agent_core::wire::{Agent, AgentStatus, DataEnvelope, decode_agent};

use crate::timestamp::check_timestamp;
use crate::{check_decode_error, to_json};

/// Decodes `data` as `{data: Agent}`.
pub fn check(data: &[u8]) {
    match decode_agent(data) {
        Ok(agent) => check_agent(&agent),
        Err(err) => check_decode_error(&err, data),
    }
}

/// Invariants of any decoded agent, shared with the page target.
pub(crate) fn check_agent(agent: &Agent) {
    // Re-encode inside the envelope, decode again: the same agent, and the same bytes.
    let encoded = to_json(&DataEnvelope {
        data: agent.clone(),
    });
    let again = decode_agent(&encoded).expect("a re-encoded agent decodes");
    assert_eq!(&again, agent, "agent changed across a round trip");
    let encoded_again = to_json(&DataEnvelope { data: again });
    assert_eq!(encoded, encoded_again, "agent encoding is not stable");

    check_status(&agent.status);
    check_timestamp(&agent.created_at);
    check_timestamp(&agent.updated_at);
    for artifact in &agent.artifacts {
        check_timestamp(&artifact.created_at);
        check_timestamp(&artifact.updated_at);
    }
}

pub(crate) fn check_status(status: &AgentStatus) {
    assert_eq!(status.is_active(), !status.is_terminal());
    assert_eq!(
        &AgentStatus::parse(status.as_str()),
        status,
        "status re-parse"
    );
    if let AgentStatus::Unknown(raw) = status {
        // A known name in any case is never kept as unknown, and unknown stays active.
        assert!(
            !matches!(
                raw.to_ascii_lowercase().as_str(),
                "waiting" | "running" | "awaiting_tool" | "finished" | "stopped" | "failed"
            ),
            "known status kept as unknown: {raw:?}"
        );
        assert!(status.is_active());
    }
}
