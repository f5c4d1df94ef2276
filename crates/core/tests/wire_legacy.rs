//! The pre-documentation shape (bare objects, UPPER-CASE statuses) decodes to the same values
//! as the documented one (`{data: …}`, lower-case), from recorded bodies and generated ones.

use nomic_agent_core::wire::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/legacy/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The documented spelling of a legacy body: `status` and `type` values lower-cased.
fn lower_cased(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("status" | "type", Value::String(s)) => json!(s.to_lowercase()),
                        _ => lower_cased(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(lower_cased).collect()),
        other => other.clone(),
    }
}

/// The documented form of a legacy object body: lower-case, inside `{data: …}`.
fn documented(v: &Value) -> Value {
    json!({ "data": lower_cased(v) })
}

/// The documented form of a legacy page (`{<noun>: [...], nextCursor}`).
fn documented_page(v: &Value, noun: &str) -> Value {
    let mut m = v.as_object().unwrap().clone();
    let list = m.remove(noun).unwrap_or_else(|| panic!("no {noun}"));
    m.insert("data".into(), lower_cased(&list));
    Value::Object(m)
}

#[test]
fn recorded_agents_decode_bare_and_wrapped_alike() {
    let cases = [
        ("agent_launch", AgentStatus::Waiting),
        ("agent_running", AgentStatus::Running),
        ("agent_awaiting_tool", AgentStatus::AwaitingTool),
        ("agent_finished", AgentStatus::Finished),
        ("agent_failed", AgentStatus::Failed),
        ("agent_stopped", AgentStatus::Stopped),
    ];
    for (name, status) in cases {
        let legacy = fixture(name);
        let bare = decode_agent(&bytes(&legacy)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(bare.status, status, "{name}");
        assert_eq!(bare.id.to_string(), "019abc12-3456-7890-abcd-ef1234567890");
        let wrapped = decode_agent(&bytes(&json!({ "data": legacy }))).unwrap();
        assert_eq!(wrapped, bare, "{name}");
        let doc = decode_agent(&bytes(&documented(&legacy))).unwrap();
        assert_eq!(doc, bare, "{name}");
    }
    let finished = decode_agent(&bytes(&fixture("agent_finished"))).unwrap();
    assert_eq!(
        finished.summary.as_deref(),
        Some("Checked 14 sheets; 3 egress widths below code minimum.")
    );
    assert_eq!(finished.artifacts[1].kind, ArtifactKind::Table);
    assert!(finished.url.unwrap().ends_with("ef1234567890"));
    let failed = decode_agent(&bytes(&fixture("agent_failed"))).unwrap();
    assert_eq!(failed.error.as_deref(), Some("model overloaded"));
}

#[test]
fn recorded_text_is_decoded_as_sent_not_re_serialized() {
    // The fixture files' own bytes (pretty-printed, key order as recorded), not a re-encoding.
    for name in ["agent_launch", "agent_finished"] {
        let path = format!(
            "{}/tests/fixtures/legacy/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw = std::fs::read(path).unwrap();
        let mut wrapped = b"{\"data\":".to_vec();
        wrapped.extend_from_slice(&raw);
        wrapped.push(b'}');
        assert_eq!(decode_agent(&raw).unwrap(), decode_agent(&wrapped).unwrap());
    }
}

#[test]
fn recorded_pages_decode_like_documented_pages() {
    let legacy = fixture("agent_page");
    let page = decode_agent_page(&bytes(&legacy)).unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].status, AgentStatus::Running);
    assert_eq!(page.data[1].status, AgentStatus::Finished);
    assert_eq!(
        page.next_cursor.as_deref(),
        Some("019abc12-3456-7890-abcd-ef1234567890")
    );
    let doc = decode_agent_page(&bytes(&documented_page(&legacy, "agents"))).unwrap();
    assert_eq!(doc, page);
    // A bare array is one, last, page.
    let array = decode_agent_page(&bytes(&legacy["agents"])).unwrap();
    assert_eq!(array.data, page.data);
    assert_eq!(array.next_cursor, None);

    let legacy = fixture("file_page");
    let files = decode_file_page(&bytes(&legacy)).unwrap();
    assert_eq!(files.data[0].path, "Tower%20B/A-101%20floor%20plan.pdf");
    let doc = decode_file_page(&bytes(&documented_page(&legacy, "files"))).unwrap();
    assert_eq!(doc, files);

    let legacy = fixture("workflow_page");
    let wfs = decode_workflow_page(&bytes(&legacy)).unwrap();
    assert!(wfs.data[0].is_file_slot());
    let doc = decode_workflow_page(&bytes(&documented_page(&legacy, "workflows"))).unwrap();
    assert_eq!(doc, wfs);
}

#[test]
fn recorded_conversation_upload_and_error_decode_both_ways() {
    let legacy = fixture("conversation");
    let c = decode_conversation(&bytes(&legacy)).unwrap();
    let roles: Vec<_> = c.messages.iter().map(|m| m.role.clone()).collect();
    assert_eq!(roles, [Role::User, Role::Tool, Role::Assistant]);
    assert_eq!(
        decode_conversation(&bytes(&documented(&legacy))).unwrap(),
        c
    );
    assert_eq!(
        nomic_agent_core::answer::final_answer(&c).as_deref(),
        Some("Three corridors are below 44 in.")
    );

    let legacy = fixture("uploaded_file");
    let f = decode_uploaded_file(&bytes(&legacy)).unwrap();
    assert_eq!(f.size, Some(2_483_117));
    assert_eq!(
        decode_uploaded_file(&bytes(&json!({ "data": legacy }))).unwrap(),
        f
    );

    let legacy = fixture("error");
    let e = decode_error_body(&bytes(&legacy)).unwrap();
    assert_eq!(e.code.as_deref(), Some("not_found"));
    assert_eq!(
        decode_error_body(&bytes(&json!({ "data": legacy }))),
        Some(e)
    );
}

#[test]
fn the_envelope_need_not_come_first_and_extra_keys_are_ignored() {
    let legacy = fixture("agent_finished");
    let expected = decode_agent(&bytes(&legacy)).unwrap();
    // `serde_json::Map` keeps keys sorted, so `"abc"` is written before `"data"`.
    let late = json!({ "abc": {"id": 1}, "data": legacy });
    assert_eq!(decode_agent(&bytes(&late)).unwrap(), expected);
    let trailing = format!(r#"{{"data":{},"meta":{{"x":[1]}}}}"#, legacy);
    assert_eq!(decode_agent(trailing.as_bytes()).unwrap(), expected);
    // A bare body with a broken field reports that field, not the envelope.
    let mut broken = legacy.clone();
    broken["projectId"] = json!("nope");
    let err = decode_agent(&bytes(&broken)).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::Shape);
    assert!(err.reason().contains("project id"), "{err}");
}

#[test]
fn statuses_in_any_case_and_unknown_ones_kept() {
    let id = "019abc12-3456-7890-abcd-ef1234567890";
    for (raw, status) in [
        ("AWAITING_TOOL", AgentStatus::AwaitingTool),
        ("Awaiting_Tool", AgentStatus::AwaitingTool),
        ("awaiting_tool", AgentStatus::AwaitingTool),
        ("FINISHED", AgentStatus::Finished),
        // The docs spell statuses in snake_case only; a hyphen is another word, kept as sent
        // (and treated as active, like every unknown status).
        (
            "awaiting-tool",
            AgentStatus::Unknown("awaiting-tool".into()),
        ),
        ("PAUSED", AgentStatus::Unknown("PAUSED".into())),
    ] {
        for body in [
            format!(r#"{{"id":"{id}","status":"{raw}"}}"#),
            format!(r#"{{"data":{{"id":"{id}","status":"{raw}"}}}}"#),
        ] {
            let agent = decode_agent(body.as_bytes()).unwrap();
            assert_eq!(agent.status, status, "{body}");
            assert_eq!(agent.status.is_active(), !status.is_terminal());
        }
    }
}

fn arb_id() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(uuid_text)
}

fn uuid_text(n: u128) -> String {
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A status name with each letter's case chosen at random.
fn arb_status() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "waiting",
        "running",
        "awaiting_tool",
        "finished",
        "stopped",
        "failed",
        "hibernating",
    ]);
    (names, prop::collection::vec(any::<bool>(), 13)).prop_map(|(n, up)| {
        n.chars()
            .zip(up.iter().cycle())
            .map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A valid bare agent body, with optional fields present or absent and unknown extras.
fn arb_bare_agent() -> impl Strategy<Value = Value> {
    (
        arb_id(),
        arb_status(),
        prop::option::of(arb_id()),
        prop::option::of("[ -~]{0,20}"),
        prop::collection::vec(
            (arb_id(), prop::sample::select(vec!["DOCUMENT", "table"])),
            0..3,
        ),
        prop::option::of(0i64..4_000_000_000_000),
        any::<bool>(),
    )
        .prop_map(|(id, status, project, summary, artifacts, millis, extra)| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), json!(id));
            m.insert("status".into(), json!(status));
            if let Some(p) = project {
                m.insert("projectId".into(), json!(p));
            }
            if let Some(s) = summary {
                m.insert("summary".into(), json!(s));
            }
            let arts: Vec<Value> = artifacts
                .into_iter()
                .map(|(id, kind)| json!({"id": id, "type": kind, "title": "t", "version": 1}))
                .collect();
            m.insert("artifacts".into(), Value::Array(arts));
            if let Some(ms) = millis {
                let t = Timestamp::from_unix_millis(ms).unwrap();
                m.insert("updatedAt".into(), json!(t.as_str()));
            }
            if extra {
                m.insert("zNested".into(), json!({"a": [1, {"b": null}]}));
                m.insert("costCents".into(), json!(3));
            }
            Value::Object(m)
        })
}

proptest! {
    #[test]
    fn wrapping_a_bare_agent_changes_nothing(bare in arb_bare_agent()) {
        let decoded = decode_agent(&bytes(&bare)).unwrap();
        prop_assert_eq!(decoded.id.to_string(), bare["id"].as_str().unwrap());
        prop_assert_eq!(
            decoded.status.clone(),
            AgentStatus::parse(bare["status"].as_str().unwrap())
        );
        prop_assert_eq!(decoded.summary.as_deref(), bare["summary"].as_str());
        for body in [
            json!({ "data": bare }),
            json!({ "data": bare, "meta": 1 }),
            json!({ "aMeta": {"id": 5}, "data": bare }),
        ] {
            prop_assert_eq!(&decode_agent(&bytes(&body)).unwrap(), &decoded);
        }
    }

    #[test]
    fn every_page_shape_gives_the_same_page(
        agents in prop::collection::vec(arb_bare_agent(), 0..4),
        cursor in prop::option::of(arb_id()),
        key in prop::sample::select(vec!["agents", "items", "results"]),
    ) {
        let documented = json!({ "data": agents, "nextCursor": cursor });
        let page = decode_agent_page(&bytes(&documented)).unwrap();
        prop_assert_eq!(page.data.len(), agents.len());
        prop_assert_eq!(page.next_cursor.as_deref(), cursor.as_deref());
        let legacy = json!({ key: agents, "nextCursor": cursor });
        prop_assert_eq!(&decode_agent_page(&bytes(&legacy)).unwrap(), &page);
        let array = decode_agent_page(&bytes(&Value::Array(agents.clone()))).unwrap();
        prop_assert_eq!(array.data, page.data);
    }

    #[test]
    fn wrapping_a_bare_conversation_or_upload_changes_nothing(
        texts in prop::collection::vec(("[ -~]{0,12}", prop::sample::select(vec!["USER", "assistant", "Tool"])), 0..4),
        id in arb_id(),
        size in prop::option::of(any::<u64>()),
    ) {
        let messages: Vec<Value> =
            texts.iter().map(|(t, r)| json!({"type": r, "text": t})).collect();
        let bare = json!({ "messages": messages });
        let c = decode_conversation(&bytes(&bare)).unwrap();
        prop_assert_eq!(c.messages.len(), texts.len());
        prop_assert_eq!(&decode_conversation(&bytes(&json!({ "data": bare }))).unwrap(), &c);
        let bare = json!({ "id": id, "name": "a.pdf", "size": size });
        let f = decode_uploaded_file(&bytes(&bare)).unwrap();
        prop_assert_eq!(f.size, size);
        prop_assert_eq!(&decode_uploaded_file(&bytes(&json!({ "data": bare }))).unwrap(), &f);
    }
}
