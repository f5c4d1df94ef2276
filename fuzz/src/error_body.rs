//! `wire::decode_error_body`: `Some` only for a JSON object with an `error` or `code` string,
//! and the result round-trips.

use nomic_agent_core::wire::decode_error_body;
use serde_json::Value;

use crate::to_json;

/// Reads `data` as an API error body.
pub fn check(data: &[u8]) {
    let decoded = decode_error_body(data);
    let value: Option<Value> = serde_json::from_slice(data).ok();
    let obj = value.as_ref().and_then(Value::as_object);
    let has_text = |key: &str| obj.and_then(|o| o.get(key)).is_some_and(Value::is_string);
    assert_eq!(
        decoded.is_some(),
        has_text("error") || has_text("code"),
        "Some exactly for an object with an error or code string"
    );
    let Some(body) = decoded else { return };
    let obj = obj.expect("checked above");
    assert_eq!(
        body.error,
        obj.get("error").and_then(Value::as_str).unwrap_or("")
    );
    assert_eq!(
        body.code.as_deref(),
        obj.get("code").and_then(Value::as_str)
    );
    for issue in &body.issues {
        let shown = issue.to_string();
        assert!(
            shown.ends_with(&issue.message),
            "issue display ends with its message"
        );
    }
    let again = decode_error_body(&to_json(&body)).expect("re-encoded error body decodes");
    assert_eq!(again, body, "error body round trip");
}
