//! The API error envelope `{error, code, issues?}`.

use http::{HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

use super::RespBody;

/// One validation problem: a path into the request and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Path segments: strings for keys, numbers for array indexes.
    pub path: Vec<Value>,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    /// An issue at `path`.
    pub fn new(path: Vec<Value>, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }
}

/// Builds an issue path from string and number segments: `path!["prompt", "images", 0]`.
#[macro_export]
#[doc(hidden)]
macro_rules! issue_path {
    ($($seg:expr),* $(,)?) => { vec![$(serde_json::Value::from($seg)),*] };
}

/// An error response of the Nomic API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Validation issues (400 only).
    pub issues: Vec<Issue>,
    /// Whether to send `Retry-After` (and its value).
    pub retry_after: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            issues: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 with issues.
    pub fn invalid(issues: Vec<Issue>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Invalid request body",
        );
        e.issues = issues;
        e
    }

    /// 400 with one issue.
    pub fn bad_request(path: Vec<Value>, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::new(StatusCode::BAD_REQUEST, "bad_request", message.clone());
        e.issues = vec![Issue::new(path, message)];
        e
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or invalid API key",
        )
    }

    /// 401 from a control route that requires the control token.
    pub fn control_unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or invalid emulator control token",
        )
    }

    /// 403 naming the missing scope.
    pub fn forbidden(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("API key lacks the {scope} scope"),
        )
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        )
    }

    /// A conflict with a configurable status.
    pub fn conflict(status: u16, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT);
        Self::new(status, "conflict", message)
    }

    /// 413.
    pub fn payload_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("Request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 429 request rate, with a `Retry-After` value.
    pub fn rate_limited(retry_after: String) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Rate limit exceeded",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 429 spend cap, without `Retry-After`.
    pub fn spend_limit() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "spend_limit_reached",
            "Spend limit reached: new runs are blocked until the cap is raised",
        )
    }

    /// A server error with the usual code for the status.
    pub fn server(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            503 => "service_unavailable",
            502 => "bad_gateway",
            _ => "internal_error",
        };
        Self::new(
            status,
            code,
            status.canonical_reason().unwrap_or("Server error"),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut v = json!({ "error": self.message, "code": self.code });
        if !self.issues.is_empty() {
            v["issues"] = Value::Array(
                self.issues
                    .iter()
                    .map(|i| json!({ "path": i.path, "message": i.message }))
                    .collect(),
            );
        }
        v
    }

    /// The full response.
    pub fn into_response(self) -> Response<RespBody> {
        let mut resp = super::json_response(self.status, &self.body());
        if let Some(ra) = &self.retry_after
            && let Ok(v) = HeaderValue::from_str(ra)
        {
            resp.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        resp
    }
}
