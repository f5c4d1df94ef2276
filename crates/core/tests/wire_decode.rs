//! Decoding realistic bodies from docs/wire.md and AGENT_API.md, and hostile ones.

use nomic_agent_core::wire::*;
use proptest::prelude::*;

const AGENT_ID: &str = "019abc12-3456-7890-abcd-ef1234567890";

#[test]
fn launch_response_from_the_docs() {
    let body = br#"{
      "data": {
        "id": "019abc12-3456-7890-abcd-ef1234567890",
        "status": "waiting",
        "workflowId": null,
        "projectId": "019abc12-3456-7890-abcd-ef1234567891",
        "artifacts": [],
        "files": [],
        "createdAt": "2026-04-25T12:00:00.000Z",
        "updatedAt": "2026-04-25T12:00:00.000Z"
      }
    }"#;
    let agent = decode_agent(body).unwrap();
    assert_eq!(agent.id.to_string(), AGENT_ID);
    assert_eq!(agent.status, AgentStatus::Waiting);
    assert_eq!(agent.workflow_id, None);
    assert_eq!(
        agent.project_id.unwrap().to_string(),
        "019abc12-3456-7890-abcd-ef1234567891"
    );
    assert_eq!(agent.updated_at.unix_millis(), Some(1_777_118_400_000));
    assert_eq!(agent.url, None);
}

#[test]
fn full_agent_with_artifacts_files_and_unknown_fields() {
    let body = br#"{"data": {
        "id": "019abc12-3456-7890-abcd-ef1234567890",
        "status": "FINISHED",
        "workflowId": "019abc12-3456-7890-abcd-ef1234567892",
        "projectId": null,
        "artifacts": [
          {"id": "019abc12-3456-7890-abcd-ef1234567893", "type": "document", "title": "Report",
           "version": 1, "createdAt": "2026-04-25T12:00:01.000Z", "updatedAt": "2026-04-25T12:00:02.000Z"},
          {"id": "019abc12-3456-7890-abcd-ef1234567894", "type": "drawing_review", "title": "Review",
           "version": 3, "createdAt": "2026-04-25T12:00:01.000Z", "updatedAt": "2026-04-25T12:00:02.000Z",
           "pages": 12}
        ],
        "files": [{"id": "019abc12-3456-7890-abcd-ef1234567895", "name": "plan.pdf", "mimeType": "application/pdf"}],
        "createdAt": "2026-04-25T12:00:00.000Z",
        "updatedAt": "2026-04-25T12:05:00.000Z",
        "url": "https://acme.nomic.ai/assistant/019abc12-3456-7890-abcd-ef1234567890",
        "summary": "Done.",
        "error": null,
        "costCents": 12,
        "nested": {"deep": [1, 2, {"x": null}]}
    }}"#;
    let agent = decode_agent(body).unwrap();
    assert_eq!(agent.status, AgentStatus::Finished);
    assert!(agent.status.is_terminal());
    assert_eq!(agent.artifacts.len(), 2);
    assert_eq!(agent.artifacts[0].kind, ArtifactKind::Document);
    assert_eq!(
        agent.artifacts[1].kind,
        ArtifactKind::Other("drawing_review".into())
    );
    assert_eq!(agent.artifacts[1].version, 3);
    assert_eq!(agent.files[0].name, "plan.pdf");
    assert_eq!(agent.files[0].mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(agent.summary.as_deref(), Some("Done."));
    assert_eq!(agent.error, None);
}

#[test]
fn minimal_agent_defaults_missing_fields() {
    let body = format!(r#"{{"data":{{"id":"{AGENT_ID}","status":"hibernating"}}}}"#);
    let agent = decode_agent(body.as_bytes()).unwrap();
    assert_eq!(agent.status, AgentStatus::Unknown("hibernating".into()));
    assert!(agent.status.is_active());
    assert!(agent.artifacts.is_empty());
    assert!(agent.files.is_empty());
    assert_eq!(agent.updated_at.unix_millis(), None);
}

#[test]
fn failed_agent_carries_error() {
    let body =
        format!(r#"{{"data":{{"id":"{AGENT_ID}","status":"failed","error":"model overloaded"}}}}"#);
    let agent = decode_agent(body.as_bytes()).unwrap();
    assert_eq!(agent.status, AgentStatus::Failed);
    assert_eq!(agent.error.as_deref(), Some("model overloaded"));
}

#[test]
fn agent_requires_an_object_and_a_valid_id() {
    // The pre-documentation shape: no envelope, upper-case status.
    let bare = format!(r#"{{"id":"{AGENT_ID}","status":"RUNNING"}}"#);
    assert_eq!(
        decode_agent(bare.as_bytes()).unwrap().status,
        AgentStatus::Running
    );
    for not_an_agent in [&b"[]"[..], b"null", b"\"x\"", b"{}", br#"{"data":null}"#] {
        assert_eq!(
            decode_agent(not_an_agent).unwrap_err().kind(),
            DecodeErrorKind::Shape
        );
    }
    let bad_id = br#"{"data":{"id":"not-a-uuid","status":"running"}}"#;
    assert_eq!(
        decode_agent(bad_id).unwrap_err().kind(),
        DecodeErrorKind::Shape
    );
    let truncated = format!(r#"{{"data":{{"id":"{AGENT_ID}","stat"#);
    assert_eq!(
        decode_agent(truncated.as_bytes()).unwrap_err().kind(),
        DecodeErrorKind::Eof
    );
    assert_eq!(
        decode_agent(b"<html>502 Bad Gateway</html>")
            .unwrap_err()
            .kind(),
        DecodeErrorKind::Syntax
    );
}

#[test]
fn agent_page() {
    let body = format!(
        r#"{{"data":[{{"id":"{AGENT_ID}","status":"running"}},{{"id":"{AGENT_ID}","status":"Awaiting_Tool"}}],"nextCursor":"{AGENT_ID}"}}"#
    );
    let page = decode_agent_page(body.as_bytes()).unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[1].status, AgentStatus::AwaitingTool);
    assert_eq!(page.next_cursor.as_deref(), Some(AGENT_ID));
    let last = decode_agent_page(br#"{"data":[],"nextCursor":null}"#).unwrap();
    assert!(last.data.is_empty());
    assert_eq!(last.next_cursor, None);
    let no_cursor = decode_agent_page(br#"{"data":[]}"#).unwrap();
    assert_eq!(no_cursor.next_cursor, None);
}

#[test]
fn conversation_wrapped_and_bare() {
    let wrapped = br#"{"data": {"messages": [
      {"id": "m1", "type": "user", "text": "Summarize.", "createdAt": "2026-04-25T12:00:00.000Z"},
      {"id": "m2", "type": "tool", "name": "search_files", "text": "", "createdAt": "2026-04-25T12:00:01.000Z"},
      {"id": "m3", "type": "ASSISTANT", "text": "Here it is.", "createdAt": "2026-04-25T12:00:02.000Z"},
      {"id": "m4", "type": "error", "text": null},
      {"id": "m5", "type": "reasoning", "text": "hmm", "extra": true}
    ]}}"#;
    let c = decode_conversation(wrapped).unwrap();
    assert_eq!(c.messages.len(), 5);
    assert_eq!(c.messages[1].role, Role::Tool);
    assert_eq!(c.messages[1].name.as_deref(), Some("search_files"));
    assert_eq!(c.messages[2].role, Role::Assistant);
    assert_eq!(c.messages[3].text, "");
    assert_eq!(c.messages[4].role, Role::Unknown("reasoning".into()));
    let bare = decode_conversation(br#"{"messages":[{"type":"user","text":"q"}]}"#).unwrap();
    assert_eq!(bare.messages[0].role, Role::User);
    assert!(decode_conversation(br#"{"data":{"messages":"no"}}"#).is_err());
}

#[test]
fn uploaded_file_bare_and_wrapped() {
    let bare = br#"{ "id": "019abc12-3456-7890-abcd-ef1234567890", "name": "quarterly.pdf",
        "mimeType": "application/pdf", "size": 1048576, "fileType": "DOCUMENT", "parentId": null,
        "fileVersionId": "019abc12-3456-7890-abcd-ef1234567891", "createdAt": "2026-04-05T12:00:00.000Z" }"#;
    let f = decode_uploaded_file(bare).unwrap();
    assert_eq!(f.name, "quarterly.pdf");
    assert_eq!(f.size, Some(1_048_576));
    assert_eq!(f.file_type.as_deref(), Some("DOCUMENT"));
    assert_eq!(f.parent_id, None);
    let wrapped = format!(r#"{{"data":{}}}"#, std::str::from_utf8(bare).unwrap());
    assert_eq!(decode_uploaded_file(wrapped.as_bytes()).unwrap(), f);
    assert!(decode_uploaded_file(br#"{"data":{"name":"x"}}"#).is_err());
    assert!(decode_uploaded_file(b"[]").is_err());
}

#[test]
fn file_and_workflow_pages() {
    let files = br#"{ "data": [ { "id": "019abc12-3456-7890-abcd-ef1234567890", "name": "quarterly.pdf",
        "mimeType": "application/pdf", "parentId": null, "path": "Project%20Alpha/reports/quarterly.pdf" } ],
        "nextCursor": null }"#;
    let page = decode_file_page(files).unwrap();
    assert_eq!(page.data[0].path, "Project%20Alpha/reports/quarterly.pdf");
    let wfs = br#"{"data":[
        {"id":"019abc12-3456-7890-abcd-ef1234567890","name":"Drawing review","description":"Checks drawings",
         "inputs":[{"name":"drawings","description":"PDF sheets","required":true,"multiple":true},{"name":"spec"}]},
        {"id":"019abc12-3456-7890-abcd-ef1234567891","name":"Summarize","inputs":[]}
    ],"nextCursor":"019abc12-3456-7890-abcd-ef1234567891"}"#;
    let page = decode_workflow_page(wfs).unwrap();
    assert!(page.data[0].is_file_slot());
    assert!(page.data[0].inputs[0].required && page.data[0].inputs[0].multiple);
    assert!(!page.data[0].inputs[1].required);
    assert!(!page.data[1].is_file_slot());
}

#[test]
fn error_bodies() {
    let e = decode_error_body(
        br#"{"error": "Invalid request body", "code": "bad_request",
             "issues": [{"path": ["prompt", "images", 2, "data"], "message": "Invalid base64"}]}"#,
    )
    .unwrap();
    assert_eq!(e.code.as_deref(), Some("bad_request"));
    assert_eq!(
        e.issues[0].path,
        vec![
            PathSegment::Key("prompt".into()),
            PathSegment::Key("images".into()),
            PathSegment::Index(2),
            PathSegment::Key("data".into())
        ]
    );
    assert_eq!(
        e.issues[0].to_string(),
        "prompt.images[2].data: Invalid base64"
    );
    let old = decode_error_body(br#"{"error":"File version not found"}"#).unwrap();
    assert_eq!(old.code, None);
    let spend = decode_error_body(br#"{"code":"spend_limit_reached"}"#).unwrap();
    assert_eq!(spend.error, "");
    let bad_issues =
        decode_error_body(br#"{"error":"x","code":"bad_request","issues":"oops"}"#).unwrap();
    assert!(bad_issues.issues.is_empty());
    for junk in [
        &b"<html><body>502 Bad Gateway</body></html>"[..],
        b"",
        b"null",
        b"[]",
        b"{}",
        br#"{"message":"hi"}"#,
    ] {
        assert_eq!(decode_error_body(junk), None);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let mut body = format!(r#"{{"data":{{"id":"{AGENT_ID}","status":"running","x":"#);
    body.push_str(&"[".repeat(depth));
    body.push_str(&"]".repeat(depth));
    body.push_str("}}");
    // An unknown field is skipped without recursing: accepted, no stack overflow.
    assert!(decode_agent(body.as_bytes()).is_ok());
    let mut body = format!(r#"{{"data":{{"id":"{AGENT_ID}","status":"running","artifacts":"#);
    body.push_str(&"[".repeat(depth));
    body.push_str(&"]".repeat(depth));
    body.push_str("}}");
    assert!(decode_agent(body.as_bytes()).is_err());
    // Streamed decodes stop at the first value of the wrong type, long before any limit.
    let deep = format!("{{\"data\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    let err = decode_conversation(deep.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::Shape);
    let deep_bare = format!(
        "{{\"messages\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert!(decode_conversation(deep_bare.as_bytes()).is_err());
    // Bodies parsed into a JSON tree first hit serde_json's recursion limit.
    let deep_error = format!("{{\"data\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(decode_error_body(deep_error.as_bytes()), None);
    let nested_objects = "{\"a\":".repeat(depth);
    assert!(decode_conversation(nested_objects.as_bytes()).is_err());
    assert!(decode_uploaded_file(nested_objects.as_bytes()).is_err());
    assert_eq!(decode_error_body("[".repeat(depth).as_bytes()), None);
    let table = ArtifactContent::new("application/json", bytes::Bytes::from("[".repeat(depth)));
    assert!(table.as_table().is_err());
}

#[test]
fn launch_request_json_shape() {
    let wf: WorkflowId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
    let f: FileId = "019abc12-3456-7890-abcd-ef1234567891".parse().unwrap();
    let simple = LaunchRequest::prompt("Summarize.").file(f);
    assert_eq!(
        serde_json::to_string(&simple).unwrap(),
        r#"{"prompt":{"text":"Summarize."},"fileIds":["019abc12-3456-7890-abcd-ef1234567891"]}"#
    );
    let slots = LaunchRequest::workflow_inputs(wf).input("drawings", f);
    assert_eq!(
        serde_json::to_string(&slots).unwrap(),
        r#"{"workflowId":"019abc12-3456-7890-abcd-ef1234567890","inputs":{"drawings":["019abc12-3456-7890-abcd-ef1234567891"]}}"#
    );
    let back: LaunchRequest =
        serde_json::from_str(&serde_json::to_string(&slots).unwrap()).unwrap();
    assert_eq!(back, slots);
    let follow = FollowUpRequest::new("And now?");
    assert_eq!(
        serde_json::to_string(&follow).unwrap(),
        r#"{"prompt":{"text":"And now?"}}"#
    );
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "running",
            "FINISHED",
            "waiting",
            "user",
            "assistant",
            "id",
            "data",
            "019abc12-3456-7890-abcd-ef1234567890",
            "",
            "document",
            "table",
        ])
        .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        let keys = prop::sample::select(vec![
            "data",
            "id",
            "status",
            "messages",
            "type",
            "text",
            "artifacts",
            "files",
            "nextCursor",
            "error",
            "code",
            "issues",
            "path",
            "message",
            "inputs",
            "name",
            "updatedAt",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys, inner, 0..8).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn decode_everything(body: &[u8]) {
    let _ = decode_agent(body);
    let _ = decode_agent_page(body);
    let _ = decode_conversation(body);
    let _ = decode_uploaded_file(body);
    let _ = decode_file_page(body);
    let _ = decode_workflow_page(body);
    let _ = decode_error_body(body);
    let _ =
        ArtifactContent::new("application/json", bytes::Bytes::copy_from_slice(body)).as_table();
    if let Err(e) = decode_agent(body) {
        assert!(e.to_string().len() < 200);
    }
}

proptest! {
    #[test]
    fn decoders_never_panic_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&body);
    }

    #[test]
    fn decoders_never_panic_on_json(value in arb_json()) {
        decode_everything(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn timestamps_round_trip(millis in -62_135_596_800_000i64..253_402_300_799_999) {
        let t = Timestamp::from_unix_millis(millis).unwrap();
        prop_assert_eq!(t.unix_millis(), Some(millis));
    }

    #[test]
    fn timestamp_parser_never_panics(s in ".{0,40}") {
        let _ = Timestamp::new(s).unix_millis();
    }
}
