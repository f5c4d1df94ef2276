//! Reading a JSON request body within a size and nesting-depth budget.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use super::ApiError;

/// Reads the whole body (at most `max_bytes`) and parses it as JSON no deeper than `max_depth`.
pub async fn read_json<B>(body: B, max_bytes: u64, max_depth: u32) -> Result<Value, ApiError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let limit = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(ApiError::payload_too_large(max_bytes));
        }
        Err(_) => {
            return Err(ApiError::bad_request(
                vec![],
                "Could not read the request body",
            ));
        }
    };
    parse_json(&bytes, max_depth)
}

/// Parses bytes as JSON after a cheap depth scan, so deep nesting is refused before serde
/// recurses into it.
pub fn parse_json(bytes: &[u8], max_depth: u32) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            vec![],
            "Request body must be a JSON object",
        ));
    }
    if nesting_depth(bytes) > max_depth as usize {
        return Err(ApiError::bad_request(
            vec![],
            format!("JSON nesting deeper than {max_depth} levels"),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(vec![], format!("Malformed JSON: {e}")))
}

/// Maximum bracket depth outside strings.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(nesting_depth(br#"{"a":"[[[{{{\"]]"}"#), 1);
        assert_eq!(nesting_depth(br#"{"a":[[1]]}"#), 3);
    }

    #[test]
    fn too_deep_is_refused() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let err = parse_json(deep.as_bytes(), 64).unwrap_err();
        assert_eq!(err.status, http::StatusCode::BAD_REQUEST);
        assert!(parse_json(deep.as_bytes(), 100).is_ok());
    }

    #[test]
    fn malformed_and_empty_are_bad_requests() {
        assert_eq!(parse_json(b"{", 8).unwrap_err().code, "bad_request");
        assert_eq!(parse_json(b"  ", 8).unwrap_err().code, "bad_request");
    }
}
