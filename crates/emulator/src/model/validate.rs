//! Request body validation that needs no state: shapes, UUIDs, prompt and image rules, and the
//! field combinations that are invalid whatever the workflow.

use base64::Engine as _;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::http::Issue;
use crate::issue_path;

/// Most images per prompt.
pub const MAX_IMAGES: usize = 4;
/// Largest decoded image.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// A checked prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptIn {
    /// Text (not blank).
    pub text: String,
    /// Media types of the images.
    pub image_types: Vec<String>,
}

/// A launch body after shape checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaunchIn {
    /// `prompt`, when present.
    pub prompt: Option<PromptIn>,
    /// `workflowId`.
    pub workflow_id: Option<Uuid>,
    /// `projectId`.
    pub project_id: Option<Uuid>,
    /// `fileIds`.
    pub file_ids: Option<Vec<Uuid>>,
    /// `inputs`, in body order.
    pub inputs: Option<Vec<(String, Vec<Uuid>)>>,
}

fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn as_object<'a>(v: &'a Value, issues: &mut Vec<Issue>) -> Option<&'a Map<String, Value>> {
    let o = v.as_object();
    if o.is_none() {
        issues.push(Issue::new(vec![], "Request body must be a JSON object"));
    }
    o
}

fn uuid_at(v: &Value, path: Vec<Value>, issues: &mut Vec<Issue>) -> Option<Uuid> {
    match v.as_str().map(Uuid::try_parse) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            issues.push(Issue::new(path, "Invalid uuid"));
            None
        }
        None => {
            issues.push(Issue::new(path, "Expected a uuid string"));
            None
        }
    }
}

fn uuid_list(v: &Value, path: Vec<Value>, issues: &mut Vec<Issue>) -> Vec<Uuid> {
    let Some(items) = v.as_array() else {
        issues.push(Issue::new(path, "Expected an array of uuid strings"));
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let mut p = path.clone();
            p.push(Value::from(i));
            uuid_at(item, p, issues)
        })
        .collect()
}

/// Checks one image; returns its media type when valid.
pub fn check_image(v: &Value, path: Vec<Value>, issues: &mut Vec<Issue>) -> Option<String> {
    let at = |k: &str| {
        let mut p = path.clone();
        p.push(Value::from(k));
        p
    };
    let Some(obj) = v.as_object() else {
        issues.push(Issue::new(
            path,
            "Expected an image object {media_type, data}",
        ));
        return None;
    };
    let media = match obj.get("media_type").and_then(Value::as_str) {
        Some(m @ ("image/jpeg" | "image/png" | "image/webp" | "image/gif")) => m,
        Some(_) => {
            issues.push(Issue::new(
                at("media_type"),
                "media_type must be image/jpeg, image/png, image/webp or image/gif",
            ));
            return None;
        }
        None => {
            issues.push(Issue::new(at("media_type"), "Required"));
            return None;
        }
    };
    let Some(data) = obj.get("data").and_then(Value::as_str) else {
        issues.push(Issue::new(at("data"), "Required"));
        return None;
    };
    if data.trim_start().to_ascii_lowercase().starts_with("data:") {
        issues.push(Issue::new(at("data"), "Send raw base64, not a data: URL"));
        return None;
    }
    // Refuse oversized images before decoding them.
    if data.len() / 4 * 3 > MAX_IMAGE_BYTES + 3 {
        issues.push(Issue::new(
            at("data"),
            "Image larger than 20 MB after decoding",
        ));
        return None;
    }
    let bytes = match base64::engine::general_purpose::STANDARD.decode(data) {
        Ok(b) => b,
        Err(_) => {
            issues.push(Issue::new(
                at("data"),
                "data is not valid padded standard base64",
            ));
            return None;
        }
    };
    if bytes.len() > MAX_IMAGE_BYTES {
        issues.push(Issue::new(
            at("data"),
            "Image larger than 20 MB after decoding",
        ));
        return None;
    }
    if !magic_matches(media, &bytes) {
        issues.push(Issue::new(
            at("data"),
            format!("Image bytes are not {media}"),
        ));
        return None;
    }
    Some(media.to_owned())
}

/// Whether the bytes start with the magic number of `media`.
pub fn magic_matches(media: &str, b: &[u8]) -> bool {
    match media {
        "image/jpeg" => b.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        "image/gif" => b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
        "image/webp" => b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP",
        _ => false,
    }
}

fn check_prompt(v: &Value, issues: &mut Vec<Issue>) -> Option<PromptIn> {
    let Some(obj) = v.as_object() else {
        issues.push(Issue::new(
            issue_path!["prompt"],
            "Expected an object {text, images?}",
        ));
        return None;
    };
    let before = issues.len();
    let text = match field(obj, "text") {
        Some(Value::String(s)) if s.trim().is_empty() => {
            issues.push(Issue::new(
                issue_path!["prompt", "text"],
                "Must not be empty",
            ));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            issues.push(Issue::new(
                issue_path!["prompt", "text"],
                "Expected a string",
            ));
            None
        }
        None => {
            issues.push(Issue::new(issue_path!["prompt", "text"], "Required"));
            None
        }
    };
    let mut image_types = Vec::new();
    match field(obj, "images") {
        None => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_IMAGES {
                issues.push(Issue::new(
                    issue_path!["prompt", "images"],
                    format!("At most {MAX_IMAGES} images per prompt"),
                ));
            } else {
                for (i, item) in items.iter().enumerate() {
                    if let Some(t) = check_image(item, issue_path!["prompt", "images", i], issues) {
                        image_types.push(t);
                    }
                }
            }
        }
        Some(_) => issues.push(Issue::new(
            issue_path!["prompt", "images"],
            "Expected an array",
        )),
    }
    (issues.len() == before).then(|| PromptIn {
        text: text.unwrap_or_default(),
        image_types,
    })
}

/// Checks a launch body's shape and the workflow-independent combination rules.
pub fn parse_launch(v: &Value) -> Result<LaunchIn, Vec<Issue>> {
    let mut issues = Vec::new();
    let Some(obj) = as_object(v, &mut issues) else {
        return Err(issues);
    };
    let mut out = LaunchIn::default();
    let prompt_present = field(obj, "prompt").is_some();
    if let Some(p) = field(obj, "prompt") {
        out.prompt = check_prompt(p, &mut issues);
    }
    if let Some(w) = field(obj, "workflowId") {
        out.workflow_id = uuid_at(w, issue_path!["workflowId"], &mut issues);
    }
    if let Some(p) = field(obj, "projectId") {
        out.project_id = uuid_at(p, issue_path!["projectId"], &mut issues);
    }
    if let Some(f) = field(obj, "fileIds") {
        out.file_ids = Some(uuid_list(f, issue_path!["fileIds"], &mut issues));
    }
    if let Some(i) = field(obj, "inputs") {
        match i.as_object() {
            Some(map) => {
                out.inputs = Some(
                    map.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                uuid_list(v, issue_path!["inputs", k.as_str()], &mut issues),
                            )
                        })
                        .collect(),
                )
            }
            None => issues.push(Issue::new(
                issue_path!["inputs"],
                "Expected an object of id arrays",
            )),
        }
    }
    let workflow_present = field(obj, "workflowId").is_some();
    if !prompt_present && !workflow_present {
        issues.push(Issue::new(
            issue_path!["prompt", "text"],
            "Provide either prompt.text or workflowId",
        ));
    }
    if workflow_present && field(obj, "fileIds").is_some() {
        issues.push(Issue::new(
            issue_path!["fileIds"],
            "fileIds is not valid when workflowId is provided",
        ));
    }
    if field(obj, "inputs").is_some() && !workflow_present {
        issues.push(Issue::new(
            issue_path!["inputs"],
            "inputs requires workflowId",
        ));
    }
    if field(obj, "inputs").is_some() && prompt_present {
        issues.push(Issue::new(
            issue_path!["inputs"],
            "inputs cannot be combined with prompt",
        ));
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}

/// Checks a follow-up body.
pub fn parse_follow_up(v: &Value) -> Result<PromptIn, Vec<Issue>> {
    let mut issues = Vec::new();
    let Some(obj) = as_object(v, &mut issues) else {
        return Err(issues);
    };
    if obj.contains_key("fileIds") {
        issues.push(Issue::new(
            issue_path!["fileIds"],
            "Follow-ups do not accept fileIds",
        ));
    }
    let prompt = match field(obj, "prompt") {
        Some(p) => check_prompt(p, &mut issues),
        None => {
            issues.push(Issue::new(issue_path!["prompt", "text"], "Required"));
            None
        }
    };
    match prompt {
        Some(p) if issues.is_empty() => Ok(p),
        _ => Err(issues),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn paths(issues: &[Issue]) -> Vec<String> {
        issues
            .iter()
            .map(|i| serde_json::to_string(&i.path).unwrap())
            .collect()
    }

    #[test]
    fn combinations() {
        let w = "019a0000-0000-7000-8000-000000000001";
        let f = "019a0000-0000-7000-8000-0000000000ff";
        assert!(parse_launch(&json!({"prompt": {"text": "hi"}})).is_ok());
        assert!(parse_launch(&json!({"workflowId": w})).is_ok());
        let e = parse_launch(&json!({})).unwrap_err();
        assert_eq!(paths(&e), [r#"["prompt","text"]"#]);
        let e = parse_launch(&json!({"workflowId": w, "fileIds": [f]})).unwrap_err();
        assert_eq!(paths(&e), [r#"["fileIds"]"#]);
        let e = parse_launch(&json!({"prompt": {"text": "x"}, "inputs": {"a": [f]}})).unwrap_err();
        assert_eq!(paths(&e), [r#"["inputs"]"#, r#"["inputs"]"#]);
        let e = parse_launch(&json!({"prompt": {"text": "  "}})).unwrap_err();
        assert_eq!(paths(&e), [r#"["prompt","text"]"#]);
        let e =
            parse_launch(&json!({"prompt": {"text": "x"}, "fileIds": ["nope", f]})).unwrap_err();
        assert_eq!(paths(&e), [r#"["fileIds",0]"#]);
        let ok = parse_launch(&json!({"prompt": {"text": "x"}, "mode": "ignored"})).unwrap();
        assert_eq!(ok.prompt.unwrap().text, "x");
        assert!(parse_launch(&json!([1])).is_err());
    }

    #[test]
    fn image_rules() {
        let png = b64(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]);
        let ok =
            json!({"prompt": {"text": "x", "images": [{"media_type": "image/png", "data": png}]}});
        assert_eq!(
            parse_launch(&ok).unwrap().prompt.unwrap().image_types,
            ["image/png"]
        );
        let cases = [
            json!({"media_type": "image/jpeg", "data": png}),
            json!({"media_type": "image/bmp", "data": png}),
            json!({"media_type": "image/png", "data": format!("data:image/png;base64,{png}")}),
            json!({"media_type": "image/png", "data": "!!!"}),
            json!({"media_type": "image/png"}),
        ];
        for img in cases {
            let body = json!({"prompt": {"text": "x", "images": [img]}});
            assert!(parse_launch(&body).is_err(), "{body}");
        }
        let five: Vec<Value> = (0..5)
            .map(|_| json!({"media_type": "image/png", "data": png}))
            .collect();
        assert!(parse_launch(&json!({"prompt": {"text": "x", "images": five}})).is_err());
        let mut big = vec![0xFF, 0xD8, 0xFF];
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        let img = json!({"media_type": "image/jpeg", "data": b64(&big)});
        assert!(parse_launch(&json!({"prompt": {"text": "x", "images": [img]}})).is_err());
        big.truncate(MAX_IMAGE_BYTES);
        let img = json!({"media_type": "image/jpeg", "data": b64(&big)});
        assert!(parse_launch(&json!({"prompt": {"text": "x", "images": [img]}})).is_ok());
    }

    #[test]
    fn magic_numbers() {
        assert!(magic_matches("image/gif", b"GIF89a.."));
        assert!(magic_matches("image/webp", b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(!magic_matches("image/webp", b"RIFF\0\0\0\0WAVE"));
        assert!(!magic_matches("image/jpeg", &[0xFF, 0xD8]));
    }

    #[test]
    fn follow_up_rules() {
        assert_eq!(
            parse_follow_up(&json!({"prompt": {"text": "more"}}))
                .unwrap()
                .text,
            "more"
        );
        assert!(parse_follow_up(&json!({"prompt": {"text": "m"}, "fileIds": []})).is_err());
        assert!(parse_follow_up(&json!({})).is_err());
        assert!(parse_follow_up(&json!({"prompt": {"text": ""}})).is_err());
    }
}
