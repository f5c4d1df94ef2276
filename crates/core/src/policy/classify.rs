//! Sorting a response, once, into what the caller should do about it.
//!
//! [`classify`] turns a response into a [`Classification`]: a success, or one [`ApiError`]
//! (kind, status, capped `Retry-After`, request id, the server's message, code and field
//! issues). That value is made once and travels up unchanged: the transport's retry stage
//! decides on it and hands it on in the response's extensions, a
//! [`Turn`](crate::turn::Turn) ends with it in [`TurnError::Api`](crate::turn::TurnError::Api),
//! and the SDK's error is a view of it. Nobody above reads the status or the body again to
//! decide what a response meant.
//!
//! The kind of an error depends on the body only for a 429 (a spend or a rate limit?), so a
//! caller that streams other error bodies may classify from the head and let whoever reads the
//! body add the server's message, code and issues with [`ApiError::with_body`].

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use super::retry_after::RetryAfterPolicy;
use crate::wire::{ApiErrorBody, ApiIssue, decode_error_body};

/// The header a request id is read from when the server sends one (the API documents none).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What a response means for the request that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// 2xx.
    Success,
    /// Anything else, classified.
    Error(ApiError),
}

impl Classification {
    /// The error, unless this is a success.
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Classification::Success => None,
            Classification::Error(e) => Some(e),
        }
    }

    /// The error's kind, unless this is a success.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.error().map(ApiError::kind)
    }
}

/// What sort of error a response is: what retry rules and callers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A request-rate 429: retry after `retry_after` or a backoff.
    RateLimited,
    /// A spend-cap 429: retrying does not help.
    SpendLimited,
    /// 500, 502, 503 or 504.
    ServerError,
    /// 404: the agent (or other resource) does not exist for this key.
    NotFound,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 400 or 422, usually with field issues.
    Invalid,
    /// 409.
    Conflict,
    /// 413.
    PayloadTooLarge,
    /// 3xx. Never followed automatically.
    Redirect,
    /// Any other status.
    Other,
}

impl ErrorKind {
    /// What a response of this kind says when the server gave no message.
    pub const fn describe(self) -> &'static str {
        match self {
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::SpendLimited => "spend limit reached",
            ErrorKind::ServerError => "server error",
            ErrorKind::NotFound => "not found",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Invalid => "invalid request",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload too large",
            ErrorKind::Redirect => "unexpected redirect",
            ErrorKind::Other => "unexpected status",
        }
    }
}

/// One error response, classified once by [`classify`].
///
/// Cheap to move (one pointer); compare, clone and show it like any value.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use http::{HeaderMap, HeaderValue, StatusCode};
/// use nomic_agent_core::policy::classify::{ClassifyConfig, ErrorKind, classify};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", HeaderValue::from_static("7"));
/// headers.insert("x-request-id", HeaderValue::from_static("req-42"));
/// let body = br#"{"error":"Rate limit exceeded","code":"rate_limited"}"#;
/// let c = classify(
///     StatusCode::TOO_MANY_REQUESTS,
///     &headers,
///     body,
///     SystemTime::UNIX_EPOCH,
///     &ClassifyConfig::default(),
/// );
/// let e = c.error().unwrap();
/// assert_eq!(e.kind(), ErrorKind::RateLimited);
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
/// assert_eq!(e.request_id(), Some("req-42"));
/// assert_eq!(e.to_string(), "429 (rate_limited): Rate limit exceeded");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    // Boxed: errors travel inside `Result`s and events, which should stay small.
    inner: Box<Detail>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Detail {
    kind: ErrorKind,
    status: u16,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    location: Option<String>,
    /// `None` until a body in the documented shape was read.
    body: Option<ApiErrorBody>,
}

impl ApiError {
    /// An error of `kind` with HTTP `status` and nothing else known (tests, custom callers).
    pub fn new(kind: ErrorKind, status: u16) -> ApiError {
        ApiError {
            inner: Box::new(Detail {
                kind,
                status,
                retry_after: None,
                request_id: None,
                location: None,
                body: None,
            }),
        }
    }

    /// Sets the (already capped) `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> ApiError {
        self.inner.retry_after = retry_after;
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> ApiError {
        self.inner.request_id = Some(id.into());
        self
    }

    /// Sets the server's message.
    pub fn with_message(mut self, message: impl Into<String>) -> ApiError {
        self.body_mut().error = message.into();
        self
    }

    /// Sets the server's machine-readable code.
    pub fn with_code(mut self, code: impl Into<String>) -> ApiError {
        self.body_mut().code = Some(code.into());
        self
    }

    /// Sets the server's field issues.
    pub fn with_issues(mut self, issues: Vec<ApiIssue>) -> ApiError {
        self.body_mut().issues = issues;
        self
    }

    /// Adds the server's message, code and issues from the response body, for an error
    /// classified from its head while the body was still streaming. A body already read keeps
    /// what it said; the kind, status and `Retry-After` never change.
    pub fn with_body(mut self, body: &[u8]) -> ApiError {
        if self.inner.body.is_none() {
            self.inner.body = decode_error_body(body);
        }
        self
    }

    fn body_mut(&mut self) -> &mut ApiErrorBody {
        self.inner.body.get_or_insert_with(ApiErrorBody::default)
    }

    /// What sort of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.inner.status
    }

    /// The server's `Retry-After`, capped by [`ClassifyConfig::retry_after`]; only for a
    /// request-rate 429 or a 5xx that sent a usable one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The `x-request-id` response header, when the server sent one, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// A redirect's `Location`, if it was text.
    pub fn location(&self) -> Option<&str> {
        self.inner.location.as_deref()
    }

    /// The server's human-readable message (`error`), when it sent a non-empty one.
    pub fn message(&self) -> Option<&str> {
        self.inner
            .body
            .as_ref()
            .map(|b| b.error.as_str())
            .filter(|m| !m.is_empty())
    }

    /// The server's machine-readable `code`, e.g. `rate_limited`.
    pub fn code(&self) -> Option<&str> {
        self.inner.body.as_ref().and_then(|b| b.code.as_deref())
    }

    /// The server's field issues (validation details), in its order.
    pub fn issues(&self) -> &[ApiIssue] {
        self.inner
            .body
            .as_ref()
            .map_or(&[], |b| b.issues.as_slice())
    }

    /// One line per problem, `prompt.images[2].data: message`; the server's message when it
    /// listed no issues; empty when it said nothing.
    pub fn issue_lines(&self) -> Vec<String> {
        if self.issues().is_empty() {
            return self.message().map(str::to_owned).into_iter().collect();
        }
        self.issues().iter().map(ToString::to_string).collect()
    }

    /// The server's message, else the issues, else what the kind means.
    fn detail(&self) -> String {
        match self.message() {
            Some(m) if self.issues().is_empty() => m.to_owned(),
            _ if !self.issues().is_empty() => self.issue_lines().join("; "),
            _ => self.kind().describe().to_owned(),
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.inner;
        f.debug_struct("ApiError")
            .field("kind", &d.kind)
            .field("status", &d.status)
            .field("retry_after", &d.retry_after)
            .field("request_id", &d.request_id)
            .field("location", &d.location)
            .field("body", &d.body)
            .finish()
    }
}

/// `STATUS (code): message`, e.g. `503 (service_unavailable): down`; the issues for a 400
/// that lists them; what the kind means when the server said nothing.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status())?;
        if let Some(code) = self.code() {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.detail())
    }
}

impl std::error::Error for ApiError {}

/// Settings for [`classify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassifyConfig {
    /// How `Retry-After` is read and capped.
    pub retry_after: RetryAfterPolicy,
}

impl ClassifyConfig {
    /// Settings that cap `Retry-After` with `retry_after`.
    pub fn new(retry_after: RetryAfterPolicy) -> ClassifyConfig {
        ClassifyConfig { retry_after }
    }
}

fn says_spend(text: &str) -> bool {
    text.to_ascii_lowercase().contains("spend")
}

fn mentions_spend_or_usage_limit(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("spend") || (t.contains("usage") && t.contains("limit"))
}

/// A 429 is a **spend** limit when its `code` is `spend_limit_reached` or its code or message
/// mentions "spend", or when it has no `Retry-After` and its body mentions a spend or usage
/// limit. Every other 429 is a request-rate limit.
fn is_spend_limit(headers: &HeaderMap, body: &[u8], parsed: Option<&ApiErrorBody>) -> bool {
    let by_code = parsed
        .and_then(|b| b.code.as_deref())
        .is_some_and(|c| c.eq_ignore_ascii_case("spend_limit_reached") || says_spend(c));
    let by_message = parsed.is_some_and(|b| says_spend(&b.error));
    let has_retry_after = headers.contains_key(http::header::RETRY_AFTER);
    let by_body = !has_retry_after && mentions_spend_or_usage_limit(&String::from_utf8_lossy(body));
    by_code || by_message || by_body
}

fn header_text(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Classifies a response: the one place that reads what a status, its headers and its error
/// body mean.
///
/// `body` is the error body, or empty when it was not read (it matters for the kind of a 429
/// only; [`ApiError::with_body`] adds the message later). The `Retry-After` of a request-rate
/// 429 or a 5xx is resolved against `wall_now` and capped by `cfg`; a spend-limit 429's is
/// ignored, since waiting does not lift the cap.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> Classification {
    let code = status.as_u16();
    if (200..=299).contains(&code) {
        return Classification::Success;
    }
    let parsed = decode_error_body(body);
    let kind = match code {
        300..=399 => ErrorKind::Redirect,
        429 if is_spend_limit(headers, body, parsed.as_ref()) => ErrorKind::SpendLimited,
        429 => ErrorKind::RateLimited,
        500 | 502 | 503 | 504 => ErrorKind::ServerError,
        404 => ErrorKind::NotFound,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        400 | 422 => ErrorKind::Invalid,
        409 => ErrorKind::Conflict,
        413 => ErrorKind::PayloadTooLarge,
        _ => ErrorKind::Other,
    };
    let retry_after = match kind {
        ErrorKind::RateLimited | ErrorKind::ServerError => {
            cfg.retry_after.resolve(headers, wall_now)
        }
        _ => None,
    };
    let location = match kind {
        ErrorKind::Redirect => header_text(headers, http::header::LOCATION),
        _ => None,
    };
    Classification::Error(ApiError {
        inner: Box::new(Detail {
            kind,
            status: code,
            retry_after,
            request_id: header_text(headers, REQUEST_ID_HEADER),
            location,
            body: parsed,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::PathSegment;
    use http::HeaderValue;
    use http::header::RETRY_AFTER;

    fn run(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> Classification {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(*k, HeaderValue::from_static(v));
        }
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777 - 10);
        classify(
            StatusCode::from_u16(status).unwrap(),
            &h,
            body.as_bytes(),
            wall,
            &ClassifyConfig::default(),
        )
    }

    fn err(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> ApiError {
        match run(status, headers, body) {
            Classification::Error(e) => e,
            Classification::Success => panic!("{status} classified as a success"),
        }
    }

    fn kind(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> ErrorKind {
        err(status, headers, body).kind()
    }

    #[test]
    fn status_table() {
        use ErrorKind as K;
        for s in [200, 201, 202, 204] {
            assert_eq!(run(s, &[], "{}"), Classification::Success, "{s}");
        }
        assert_eq!(kind(404, &[], "{}"), K::NotFound);
        assert_eq!(kind(401, &[], ""), K::Unauthorized);
        assert_eq!(kind(403, &[], ""), K::Forbidden);
        assert_eq!(kind(409, &[], ""), K::Conflict);
        assert_eq!(kind(413, &[], ""), K::PayloadTooLarge);
        assert_eq!(kind(400, &[], ""), K::Invalid);
        assert_eq!(kind(422, &[], ""), K::Invalid);
        for s in [418, 501, 101] {
            let e = err(s, &[], "");
            assert_eq!((e.kind(), e.status()), (K::Other, s));
        }
        for s in [500, 502, 503, 504] {
            let e = err(s, &[], "");
            assert_eq!(
                (e.kind(), e.status(), e.retry_after()),
                (K::ServerError, s, None)
            );
        }
        let e = err(503, &[("retry-after", "7")], "");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        let e = err(302, &[("location", "https://elsewhere/")], "");
        assert_eq!(e.kind(), K::Redirect);
        assert_eq!(e.location(), Some("https://elsewhere/"));
        assert_eq!(err(307, &[], "").location(), None);
        // Retry-After is read only where waiting helps.
        assert_eq!(err(404, &[("retry-after", "7")], "").retry_after(), None);
    }

    #[test]
    fn every_error_carries_the_body_and_the_request_id() {
        let body = r#"{"error":"Agent not found","code":"not_found"}"#;
        let e = err(404, &[("x-request-id", "req-1")], body);
        assert_eq!(e.message(), Some("Agent not found"));
        assert_eq!(e.code(), Some("not_found"));
        assert_eq!(e.request_id(), Some("req-1"));
        assert_eq!(e.to_string(), "404 (not_found): Agent not found");
        // No request id header, a body that is not the documented JSON: nothing invented.
        let e = err(502, &[], "<html>502 Bad Gateway</html>");
        assert_eq!((e.message(), e.code(), e.request_id()), (None, None, None));
        assert_eq!(e.to_string(), "502: server error");
    }

    #[test]
    fn invalid_lists_issues_in_the_one_path_format() {
        let body = r#"{"error":"Invalid request","code":"bad_request","issues":[
            {"path":["prompt","images",0,"data"],"message":"not base64"},
            {"path":[],"message":"need a prompt or a workflow"}]}"#;
        let e = err(400, &[], body);
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(e.issues()[0].path[2], PathSegment::Index(0));
        assert_eq!(
            e.issue_lines(),
            vec![
                "prompt.images[0].data: not base64".to_owned(),
                "need a prompt or a workflow".to_owned()
            ]
        );
        assert_eq!(
            e.to_string(),
            "400 (bad_request): prompt.images[0].data: not base64; need a prompt or a workflow"
        );
        let e = err(
            422,
            &[],
            r#"{"error":"nope","code":"unprocessable_entity"}"#,
        );
        assert_eq!(e.issue_lines(), vec!["nope".to_owned()]);
        assert!(err(400, &[], "<html>").issue_lines().is_empty());
    }

    #[test]
    fn a_body_read_later_adds_the_details_but_never_changes_the_verdict() {
        let body = br#"{"error":"down for maintenance","code":"service_unavailable"}"#;
        let head_only = err(503, &[("retry-after", "9")], "");
        assert_eq!(head_only.message(), None);
        let full = head_only.clone().with_body(body);
        assert_eq!(full.message(), Some("down for maintenance"));
        assert_eq!(full.code(), Some("service_unavailable"));
        assert_eq!(
            (full.kind(), full.status(), full.retry_after()),
            (
                head_only.kind(),
                head_only.status(),
                head_only.retry_after()
            )
        );
        // A body already read keeps what it said.
        let read = err(
            429,
            &[],
            r#"{"error":"Spend limit reached","code":"spend_limit_reached"}"#,
        );
        let again = read
            .clone()
            .with_body(br#"{"error":"other","code":"rate_limited"}"#);
        assert_eq!(again, read);
    }

    #[test]
    fn rate_versus_spend_429() {
        use ErrorKind as K;
        let rate = |h: &[(&'static str, &'static str)], b: &str| {
            let e = err(429, h, b);
            assert_eq!(e.kind(), K::RateLimited, "{h:?} {b}");
            e.retry_after()
        };
        let spend = |h: &[(&'static str, &'static str)], b: &str| {
            let e = err(429, h, b);
            assert_eq!(e.kind(), K::SpendLimited, "{h:?} {b}");
            assert_eq!(e.retry_after(), None, "a spend cap is not waited out");
            e.message().map(str::to_owned)
        };
        // The documented rate limit.
        assert_eq!(
            rate(
                &[("retry-after", "3")],
                r#"{"error":"Rate limit exceeded","code":"rate_limited"}"#
            ),
            Some(Duration::from_secs(3))
        );
        // HTTP-date form, relative to the injected wall clock (10 s before the date).
        assert_eq!(
            rate(
                &[(RETRY_AFTER.as_str(), "Sun, 06 Nov 1994 08:49:37 GMT")],
                ""
            ),
            Some(Duration::from_secs(10))
        );
        // Capped.
        assert_eq!(
            rate(&[("retry-after", "100000")], ""),
            Some(Duration::from_secs(120))
        );
        // A bare 429 with no hint is still a rate limit; garbage Retry-After is dropped.
        assert_eq!(rate(&[], ""), None);
        assert_eq!(rate(&[("retry-after", "soon")], "{}"), None);
        // The documented spend code, with or without Retry-After.
        let body = r#"{"error":"Spend limit reached","code":"spend_limit_reached"}"#;
        assert_eq!(spend(&[], body).as_deref(), Some("Spend limit reached"));
        assert_eq!(
            spend(&[("retry-after", "5")], body).as_deref(),
            Some("Spend limit reached")
        );
        // Another code mentioning spend.
        assert_eq!(
            spend(&[("retry-after", "5")], r#"{"code":"SPEND_CAP"}"#),
            None
        );
        // No code, message mentions the usage limit, no Retry-After.
        assert_eq!(
            spend(&[], r#"{"error":"Monthly usage limit exceeded"}"#).as_deref(),
            Some("Monthly usage limit exceeded")
        );
        // Non-JSON body mentioning spend, no Retry-After.
        assert_eq!(spend(&[], "spend cap hit"), None);
        // "usage limit" without "spend" counts only when there is no Retry-After.
        assert_eq!(
            rate(
                &[("retry-after", "2")],
                r#"{"error":"Monthly usage limit exceeded"}"#
            ),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            rate(&[("retry-after", "2")], "usage limit"),
            Some(Duration::from_secs(2))
        );
    }
}
