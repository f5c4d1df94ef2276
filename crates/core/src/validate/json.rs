//! The rules applied to raw JSON bodies, for callers that send their own JSON.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::rules::{images_rules, launch_rules, text_rule};
use super::{InvalidRequest, Problem, ProblemKind};
use crate::wire::{FileId, Image, LaunchRequest, MediaType, ProjectId, Prompt, WorkflowId};

/// Checks a raw launch body with every rule of [`super::validate_launch`], plus the type
/// errors and malformed UUIDs (in `workflowId`, `projectId`, `fileIds`, `inputs`) that a typed
/// request cannot contain. `null` counts as absent; unknown fields are ignored.
pub fn validate_launch_json(body: &Value) -> Result<(), InvalidRequest> {
    let mut problems = Vec::new();
    let Some(obj) = body.as_object() else {
        return Err(InvalidRequest::single(
            "",
            ProblemKind::WrongType { expected: "object" },
        ));
    };
    // A typed stand-in that keeps which fields are present, so the combination rules apply
    // even when a field itself is malformed (malformed ids become the nil UUID).
    let mut req = LaunchRequest::default();
    if let Some(v) = present(obj, "prompt") {
        prompt_json(v, &mut problems);
        req.prompt = Some(Prompt::new("checked separately"));
    }
    if let Some(v) = present(obj, "workflowId") {
        req.workflow_id = Some(WorkflowId::from_uuid(uuid_json(
            v,
            "workflowId",
            &mut problems,
        )));
    }
    if let Some(v) = present(obj, "projectId") {
        req.project_id = Some(ProjectId::from_uuid(uuid_json(
            v,
            "projectId",
            &mut problems,
        )));
    }
    if let Some(v) = present(obj, "fileIds") {
        req.file_ids = id_list_json(v, "fileIds", &mut problems);
    }
    if let Some(v) = present(obj, "inputs") {
        match v.as_object() {
            Some(slots) => {
                for (slot, ids) in slots {
                    let ids = id_list_json(ids, &format!("inputs.{slot}"), &mut problems);
                    req.inputs.insert(slot.clone(), ids);
                }
            }
            None => {
                problems.push(Problem::new(
                    "inputs",
                    ProblemKind::WrongType { expected: "object" },
                ));
                req.inputs.insert(String::new(), Vec::new());
            }
        }
    }
    launch_rules(&req, &mut problems);
    InvalidRequest::check(problems)
}

/// Checks a raw follow-up body: a `prompt` with non-empty text and valid images, and no
/// `fileIds` (follow-ups do not accept files).
pub fn validate_follow_up_json(body: &Value) -> Result<(), InvalidRequest> {
    let mut problems = Vec::new();
    let Some(obj) = body.as_object() else {
        return Err(InvalidRequest::single(
            "",
            ProblemKind::WrongType { expected: "object" },
        ));
    };
    match present(obj, "prompt") {
        Some(v) => prompt_json(v, &mut problems),
        None => problems.push(Problem::new("prompt", ProblemKind::MissingPrompt)),
    }
    if present(obj, "fileIds").is_some() {
        problems.push(Problem::new("fileIds", ProblemKind::FileIdsOnFollowUp));
    }
    InvalidRequest::check(problems)
}

fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn wrong_type(path: impl Into<String>, expected: &'static str) -> Problem {
    Problem::new(path, ProblemKind::WrongType { expected })
}

fn prompt_json(v: &Value, problems: &mut Vec<Problem>) {
    let Some(prompt) = v.as_object() else {
        problems.push(wrong_type("prompt", "object"));
        return;
    };
    match present(prompt, "text") {
        None => text_rule("", problems),
        Some(Value::String(text)) => text_rule(text, problems),
        Some(_) => problems.push(wrong_type("prompt.text", "string")),
    }
    let Some(images) = present(prompt, "images") else {
        return;
    };
    let Some(images) = images.as_array() else {
        problems.push(wrong_type("prompt.images", "array"));
        return;
    };
    let mut typed = Vec::new();
    for (i, raw) in images.iter().enumerate() {
        let field = |name: &str| raw.get(name).and_then(Value::as_str);
        match (raw.is_object(), field("media_type"), field("data")) {
            (true, Some(media_type), Some(data)) => typed.push((
                i,
                Image {
                    media_type: MediaType::parse(media_type),
                    data: data.to_owned(),
                },
            )),
            (false, _, _) => problems.push(wrong_type(format!("prompt.images[{i}]"), "object")),
            (true, media_type, data) => {
                if media_type.is_none() {
                    problems.push(wrong_type(
                        format!("prompt.images[{i}].media_type"),
                        "string",
                    ));
                }
                if data.is_none() {
                    problems.push(wrong_type(format!("prompt.images[{i}].data"), "string"));
                }
            }
        }
    }
    images_rules(
        typed.iter().map(|(i, img)| (*i, img)),
        images.len(),
        problems,
    );
}

fn uuid_json(v: &Value, path: &str, problems: &mut Vec<Problem>) -> Uuid {
    match v.as_str() {
        Some(s) => match s.parse::<FileId>() {
            Ok(id) => *id.as_uuid(),
            Err(_) => {
                problems.push(Problem::new(
                    path,
                    ProblemKind::MalformedUuid(s.chars().take(64).collect()),
                ));
                Uuid::nil()
            }
        },
        None => {
            problems.push(wrong_type(path, "string"));
            Uuid::nil()
        }
    }
}

/// An array of UUID strings; a wrong type still yields one stand-in id so presence is kept.
fn id_list_json(v: &Value, path: &str, problems: &mut Vec<Problem>) -> Vec<FileId> {
    match v.as_array() {
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| FileId::from_uuid(uuid_json(item, &format!("{path}[{i}]"), problems)))
            .collect(),
        None => {
            problems.push(wrong_type(path, "array"));
            vec![FileId::from_uuid(Uuid::nil())]
        }
    }
}
