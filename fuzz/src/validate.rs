//! Validation on arbitrary JSON (`validate_launch_json`, `validate_follow_up_json`) and on
//! typed requests deserialized from the same bytes (`validate_launch`, `validate_follow_up`):
//! where both apply they must agree problem for problem, and the request builders must agree
//! with validation.

use nomic_agent_core::request::{self, ApiBase};
use nomic_agent_core::validate::{
    InvalidRequest, validate_follow_up, validate_follow_up_json, validate_image, validate_launch,
    validate_launch_json,
};
use nomic_agent_core::wire::{AgentId, FollowUpRequest, LaunchRequest};
use serde_json::Value;

use crate::to_json;

/// `data` is a request body.
pub fn check(data: &[u8]) {
    let value = serde_json::from_slice::<Value>(data).ok();
    if let Some(value) = &value {
        check_problems(&validate_launch_json(value));
        check_problems(&validate_follow_up_json(value));
    }
    if let Ok(req) = serde_json::from_slice::<LaunchRequest>(data) {
        check_launch(&req, &typed_as_value(value.as_ref(), data));
    }
    if let Ok(req) = serde_json::from_slice::<FollowUpRequest>(data) {
        check_follow_up(&req, &typed_as_value(value.as_ref(), data));
    }
}

/// The JSON value a typed decode saw. serde_json skips ignored values (unknown fields) without
/// checking the UTF-8 of their strings, so a typed decode can succeed where a `Value` parse
/// refuses (found by fuzzing: `regressions/validate/crash-5099a203…`). That is only allowed for
/// bytes that are not UTF-8, and the invalid sequences can only sit in ignored strings (known
/// strings and keys are checked), so the lossy text parses and means the same request.
fn typed_as_value(value: Option<&Value>, data: &[u8]) -> Value {
    if let Some(value) = value {
        return value.clone();
    }
    assert!(
        std::str::from_utf8(data).is_err(),
        "a typed decode accepted UTF-8 that is not JSON"
    );
    serde_json::from_str(&String::from_utf8_lossy(data))
        .expect("typed JSON is JSON once ignored invalid UTF-8 is replaced")
}

fn check_launch(req: &LaunchRequest, value: &Value) {
    let typed = validate_launch(req);
    check_problems(&typed);
    assert_eq!(
        summary(&typed),
        summary(&validate_launch_json(value)),
        "typed and JSON launch validation disagree"
    );
    // Round trip through the exact encoding: the same request and the same verdict.
    let encoded = to_json(req);
    let again: LaunchRequest = serde_json::from_slice(&encoded).expect("launch re-decodes");
    assert_eq!(&again, req, "launch round trip");
    let encoded_value: Value = serde_json::from_slice(&encoded).expect("JSON");
    assert_eq!(
        summary(&typed),
        summary(&validate_launch_json(&encoded_value))
    );
    // The builder validates the same way and sends the same body.
    let base = ApiBase::parse("https://acme.nomic.ai").expect("valid base");
    match request::launch(&base, req) {
        Ok(built) => {
            assert!(typed.is_ok(), "builder sent an invalid launch");
            let sent: LaunchRequest =
                serde_json::from_slice(built.body()).expect("sent body decodes");
            assert_eq!(&sent, req, "builder changed the body");
        }
        Err(err) => assert_eq!(summary(&Err(err)), summary(&typed)),
    }
    for image in req.prompt.iter().flat_map(|p| &p.images) {
        check_problems(&validate_image(image));
    }
}

fn check_follow_up(req: &FollowUpRequest, value: &Value) {
    let typed = validate_follow_up(req);
    check_problems(&typed);
    // A typed follow-up cannot carry `fileIds`; otherwise both checks see the same body.
    let has_file_ids = value.get("fileIds").is_some_and(|v| !v.is_null());
    if !has_file_ids {
        assert_eq!(
            summary(&typed),
            summary(&validate_follow_up_json(value)),
            "typed and JSON follow-up validation disagree"
        );
    }
    let base = ApiBase::parse("https://acme.nomic.ai").expect("valid base");
    let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().expect("id");
    match request::follow_up(&base, &id, req) {
        Ok(built) => {
            assert!(typed.is_ok(), "builder sent an invalid follow-up");
            let sent: FollowUpRequest =
                serde_json::from_slice(built.body()).expect("sent body decodes");
            assert_eq!(&sent, req, "builder changed the body");
        }
        Err(err) => assert_eq!(summary(&Err(err)), summary(&typed)),
    }
}

/// An error lists at least one problem, and every problem can be shown.
fn check_problems(result: &Result<(), InvalidRequest>) {
    if let Err(err) = result {
        assert!(!err.problems().is_empty(), "an error without problems");
        assert!(!err.to_string().is_empty());
        for p in err.problems() {
            assert!(!p.to_string().is_empty());
        }
    }
}

/// The problems as sorted `path: kind` strings (order is not part of the contract).
fn summary(result: &Result<(), InvalidRequest>) -> Vec<String> {
    let mut out: Vec<String> = match result {
        Ok(()) => Vec::new(),
        Err(err) => err.problems().iter().map(|p| format!("{p:?}")).collect(),
    };
    out.sort();
    out
}
