//! The API's error body and its one decoder. Every layer that wants the server's message, code
//! or field issues reads them through [`decode_error_body`], so a field path is formatted one
//! way everywhere: `prompt.images[2].data`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{error, code, issues?}` as sent with every 4xx/5xx.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiErrorBody {
    /// Human-readable message.
    #[serde(default)]
    pub error: String,
    /// Machine-readable code, e.g. `rate_limited`.
    #[serde(default)]
    pub code: Option<String>,
    /// Validation details on 400.
    #[serde(default)]
    pub issues: Vec<ApiIssue>,
}

/// One validation issue. Its `Display` is `path: message`, the path written as
/// `prompt.images[2].data`.
///
/// ```
/// use nomic_agent_core::wire::decode_error_body;
/// let body = decode_error_body(
///     br#"{"error":"Invalid request body","code":"bad_request",
///          "issues":[{"path":["prompt","images",2,"data"],"message":"Invalid base64"}]}"#,
/// )
/// .unwrap();
/// assert_eq!(body.issues[0].to_string(), "prompt.images[2].data: Invalid base64");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiIssue {
    /// Where in the request body, e.g. `["prompt", "images", 2, "data"]`.
    #[serde(default)]
    pub path: Vec<PathSegment>,
    /// What is wrong.
    #[serde(default)]
    pub message: String,
}

impl ApiIssue {
    /// An issue at `path` (empty for the whole body).
    pub fn new(path: Vec<PathSegment>, message: impl Into<String>) -> ApiIssue {
        ApiIssue {
            path,
            message: message.into(),
        }
    }
}

/// One step of an issue path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// An object key.
    Key(String),
    /// An array index.
    Index(u64),
}

impl fmt::Display for ApiIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.path.iter().enumerate() {
            match seg {
                PathSegment::Key(k) if i == 0 => f.write_str(k)?,
                PathSegment::Key(k) => write!(f, ".{k}")?,
                PathSegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, ": {}", self.message)
        }
    }
}

/// Reads an error body, `{error, code, issues?}`, also inside `{data: …}`. Returns `None` for
/// anything that is not a JSON object with an `error` or `code` string (an HTML page from a
/// proxy, an empty body, …). Malformed `issues` are dropped rather than losing the message.
pub fn decode_error_body(body: &[u8]) -> Option<ApiErrorBody> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut obj = value.as_object()?;
    let is_error = |o: &serde_json::Map<String, Value>| {
        o.get("error").is_some_and(Value::is_string) || o.get("code").is_some_and(Value::is_string)
    };
    if !is_error(obj)
        && let Some(inner) = obj.get("data").and_then(Value::as_object)
    {
        obj = inner;
    }
    let error = obj.get("error").and_then(Value::as_str);
    let code = obj.get("code").and_then(Value::as_str);
    if error.is_none() && code.is_none() {
        return None;
    }
    let issues = obj
        .get("issues")
        .and_then(|v| serde_json::from_value::<Vec<ApiIssue>>(v.clone()).ok())
        .unwrap_or_default();
    Some(ApiErrorBody {
        error: error.unwrap_or_default().to_owned(),
        code: code.map(str::to_owned),
        issues,
    })
}
