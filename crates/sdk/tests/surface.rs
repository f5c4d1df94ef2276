//! The Rust-native surface: the core types the SDK's API mentions are nameable from
//! `nomic_agent`, and results serialize to the CLI's camelCase JSON.

use futures_util::StreamExt;
use nomic_agent::{
    Client, DecodeError, InvalidRequest, ListWorkflowsQuery, Session, SessionReply, StatusChange,
    Tier, Timestamp, TurnOutcome,
};
use nomic_agent_emulator::{Emulator, EmulatorConfig};

/// Compiles only while each type is nameable from the SDK alone.
#[test]
fn core_types_are_nameable_from_the_sdk() {
    let _tier: Option<Tier> = None;
    let _at: Option<Timestamp> = None;
    let _invalid: Option<InvalidRequest> = None;
    let _decode: Option<DecodeError> = None;
    let _query: Option<ListWorkflowsQuery> = None;
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn results_serialize_to_camel_case_json() {
    let emu = Emulator::start(EmulatorConfig {
        time_scale: 0.005,
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let client = Client::builder()
        .api_key(emu.default_key().expect("default key enabled"))
        .base_url(emu.base_url())
        .poll_schedule(
            nomic_agent::PollSchedule::default()
                .with_initial(std::time::Duration::from_millis(10))
                .with_max(std::time::Duration::from_millis(100)),
        )
        .build()
        .unwrap();
    let reply: SessionReply = Session::in_memory(client.clone())
        .send("t", "What is open?")
        .await
        .unwrap();
    let v = serde_json::to_value(&reply).unwrap();
    assert_eq!(keys(&v), ["agentId", "outcome", "start"]);
    assert_eq!(v["agentId"], reply.agent_id.to_string());
    assert_eq!(v["start"], serde_json::json!({"kind": "launched"}));

    let outcome: &TurnOutcome = &reply.outcome;
    let o = &v["outcome"];
    assert_eq!(
        keys(o),
        [
            "agent",
            "answer",
            "artifacts",
            "conversation",
            "error",
            "status"
        ]
    );
    assert_eq!(o["status"], "finished");
    assert_eq!(o["answer"].as_str(), outcome.answer.as_deref());
    assert_eq!(o["agent"]["id"], reply.agent_id.to_string());

    let changes: Vec<StatusChange> = client
        .agent(reply.agent_id)
        .watch()
        .map(Result::unwrap)
        .collect()
        .await;
    let first = serde_json::to_value(&changes[0]).unwrap();
    assert_eq!(first, serde_json::json!({"from": null, "to": "finished"}));
    emu.shutdown().await;
}
