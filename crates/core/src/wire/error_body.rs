//! The API's error body.

use std::fmt;

use serde::{Deserialize, Serialize};

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

/// One validation issue.
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
