//! Sorting a response into what the caller should do about it.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::retry_after::RetryAfterPolicy;

/// What a response means for the request that produced it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Classification {
    /// 2xx.
    Success,
    /// A request-rate 429: retry after `retry_after` (already capped) or a backoff.
    RateLimited {
        /// The capped `Retry-After`, if the server sent a usable one.
        retry_after: Option<Duration>,
    },
    /// A spend-cap 429: retrying does not help.
    SpendLimited {
        /// The server's message, or a generic one.
        message: String,
    },
    /// 500, 502, 503 or 504.
    ServerError {
        /// The status code.
        status: u16,
        /// The capped `Retry-After` (usually only on 503).
        retry_after: Option<Duration>,
    },
    /// 404: the agent (or other resource) does not exist for this key.
    NotFound,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 400 or 422, with the server's issues as `path: message` strings.
    Invalid {
        /// The status code.
        status: u16,
        /// One entry per problem; the top-level error message when the server listed none.
        issues: Vec<String>,
    },
    /// 409.
    Conflict,
    /// 413.
    PayloadTooLarge,
    /// 3xx. Never followed automatically.
    Redirect {
        /// The status code.
        status: u16,
        /// The `Location` header, if it was text.
        location: Option<String>,
    },
    /// Anything else.
    Other {
        /// The status code.
        status: u16,
    },
}

/// Settings for [`classify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassifyConfig {
    /// How `Retry-After` is read and capped.
    pub retry_after: RetryAfterPolicy,
}

/// The documented error body, read leniently (every field optional, unknown fields ignored).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) issues: Option<Vec<Issue>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Issue {
    #[serde(default)]
    path: Vec<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
}

impl ErrorBody {
    /// Parses an error body; anything that is not the documented JSON gives an empty body.
    pub(crate) fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    fn issue_strings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .issues
            .iter()
            .flatten()
            .map(|i| {
                let path: Vec<String> = i
                    .path
                    .iter()
                    .map(|p| match p {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                let msg = i.message.clone().unwrap_or_else(|| "invalid".to_owned());
                if path.is_empty() {
                    msg
                } else {
                    format!("{}: {msg}", path.join("."))
                }
            })
            .collect();
        if out.is_empty()
            && let Some(e) = &self.error
        {
            out.push(e.clone());
        }
        out
    }
}

fn says_spend(text: &str) -> bool {
    text.to_ascii_lowercase().contains("spend")
}

fn mentions_spend_or_usage_limit(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("spend") || (t.contains("usage") && t.contains("limit"))
}

/// Sorts a response.
///
/// A 429 is a **spend** limit when its `code` is `spend_limit_reached` or its code or message
/// mentions "spend", or when it has no `Retry-After` and its body mentions a spend or usage
/// limit. Every other 429 is a request-rate limit.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    wall_now: SystemTime,
    cfg: &ClassifyConfig,
) -> Classification {
    let code = status.as_u16();
    let retry_after = || cfg.retry_after.resolve(headers, wall_now);
    match code {
        200..=299 => Classification::Success,
        300..=399 => Classification::Redirect {
            status: code,
            location: headers
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        },
        429 => {
            let parsed = ErrorBody::parse(body);
            let by_code = parsed
                .code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("spend_limit_reached") || says_spend(c));
            let by_message = parsed.error.as_deref().is_some_and(says_spend);
            let has_retry_after = headers.contains_key(http::header::RETRY_AFTER);
            let by_body =
                !has_retry_after && mentions_spend_or_usage_limit(&String::from_utf8_lossy(body));
            if by_code || by_message || by_body {
                Classification::SpendLimited {
                    message: parsed
                        .error
                        .unwrap_or_else(|| "spend limit reached".to_owned()),
                }
            } else {
                Classification::RateLimited {
                    retry_after: retry_after(),
                }
            }
        }
        500 | 502 | 503 | 504 => Classification::ServerError {
            status: code,
            retry_after: retry_after(),
        },
        404 => Classification::NotFound,
        401 => Classification::Unauthorized,
        403 => Classification::Forbidden,
        400 | 422 => Classification::Invalid {
            status: code,
            issues: ErrorBody::parse(body).issue_strings(),
        },
        409 => Classification::Conflict,
        413 => Classification::PayloadTooLarge,
        _ => Classification::Other { status: code },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::{LOCATION, RETRY_AFTER};

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

    #[test]
    fn status_table() {
        use Classification as C;
        assert_eq!(run(200, &[], ""), C::Success);
        assert_eq!(run(201, &[], ""), C::Success);
        assert_eq!(run(202, &[], ""), C::Success);
        assert_eq!(run(204, &[], ""), C::Success);
        assert_eq!(run(404, &[], "{}"), C::NotFound);
        assert_eq!(run(401, &[], ""), C::Unauthorized);
        assert_eq!(run(403, &[], ""), C::Forbidden);
        assert_eq!(run(409, &[], ""), C::Conflict);
        assert_eq!(run(413, &[], ""), C::PayloadTooLarge);
        assert_eq!(run(418, &[], ""), C::Other { status: 418 });
        assert_eq!(run(501, &[], ""), C::Other { status: 501 });
        assert_eq!(run(101, &[], ""), C::Other { status: 101 });
        for s in [500, 502, 503, 504] {
            assert_eq!(
                run(s, &[], ""),
                C::ServerError {
                    status: s,
                    retry_after: None
                }
            );
        }
        assert_eq!(
            run(503, &[("retry-after", "7")], ""),
            C::ServerError {
                status: 503,
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            run(302, &[("location", "https://elsewhere/")], ""),
            C::Redirect {
                status: 302,
                location: Some("https://elsewhere/".into())
            }
        );
        assert_eq!(
            run(307, &[], ""),
            C::Redirect {
                status: 307,
                location: None
            }
        );
        let _ = LOCATION;
    }

    #[test]
    fn invalid_lists_issues() {
        let body = r#"{"error":"Invalid request","code":"bad_request","issues":[
            {"path":["prompt","images",0,"data"],"message":"not base64"},
            {"path":[],"message":"need a prompt or a workflow"}]}"#;
        assert_eq!(
            run(400, &[], body),
            Classification::Invalid {
                status: 400,
                issues: vec![
                    "prompt.images.0.data: not base64".into(),
                    "need a prompt or a workflow".into()
                ]
            }
        );
        assert_eq!(
            run(
                422,
                &[],
                r#"{"error":"nope","code":"unprocessable_entity"}"#
            ),
            Classification::Invalid {
                status: 422,
                issues: vec!["nope".into()]
            }
        );
        assert_eq!(
            run(400, &[], "<html>"),
            Classification::Invalid {
                status: 400,
                issues: vec![]
            }
        );
    }

    #[test]
    fn rate_versus_spend_429() {
        use Classification as C;
        // The documented rate limit.
        assert_eq!(
            run(
                429,
                &[("retry-after", "3")],
                r#"{"error":"Rate limit exceeded","code":"rate_limited"}"#
            ),
            C::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        // HTTP-date form, relative to the injected wall clock (10 s before the date).
        assert_eq!(
            run(
                429,
                &[(RETRY_AFTER.as_str(), "Sun, 06 Nov 1994 08:49:37 GMT")],
                ""
            ),
            C::RateLimited {
                retry_after: Some(Duration::from_secs(10))
            }
        );
        // Capped.
        assert_eq!(
            run(429, &[("retry-after", "100000")], ""),
            C::RateLimited {
                retry_after: Some(Duration::from_secs(120))
            }
        );
        // A bare 429 with no hint is still a rate limit; garbage Retry-After is dropped.
        assert_eq!(run(429, &[], ""), C::RateLimited { retry_after: None });
        assert_eq!(
            run(429, &[("retry-after", "soon")], "{}"),
            C::RateLimited { retry_after: None }
        );
        // The documented spend code, with or without Retry-After.
        let spend = r#"{"error":"Spend limit reached","code":"spend_limit_reached"}"#;
        assert_eq!(
            run(429, &[], spend),
            C::SpendLimited {
                message: "Spend limit reached".into()
            }
        );
        assert_eq!(
            run(429, &[("retry-after", "5")], spend),
            C::SpendLimited {
                message: "Spend limit reached".into()
            }
        );
        // Another code mentioning spend.
        assert_eq!(
            run(429, &[("retry-after", "5")], r#"{"code":"SPEND_CAP"}"#),
            C::SpendLimited {
                message: "spend limit reached".into()
            }
        );
        // No code, message mentions the usage limit, no Retry-After.
        assert_eq!(
            run(429, &[], r#"{"error":"Monthly usage limit exceeded"}"#),
            C::SpendLimited {
                message: "Monthly usage limit exceeded".into()
            }
        );
        // Non-JSON body mentioning spend, no Retry-After.
        assert_eq!(
            run(429, &[], "spend cap hit"),
            C::SpendLimited {
                message: "spend limit reached".into()
            }
        );
        // "usage limit" without "spend" counts only when there is no Retry-After.
        assert_eq!(
            run(
                429,
                &[("retry-after", "2")],
                r#"{"error":"Monthly usage limit exceeded"}"#
            ),
            C::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        // Same non-JSON text but with Retry-After: a rate limit.
        assert_eq!(
            run(429, &[("retry-after", "2")], "usage limit"),
            C::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
    }
}
