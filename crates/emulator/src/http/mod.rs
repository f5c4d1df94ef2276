//! HTTP plumbing: response bodies, error envelopes, bounded JSON reading.

pub mod body;
pub mod errors;
pub mod json;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

pub use body::RespBody;
pub use errors::{ApiError, Issue};

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<RespBody> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(RespBody::full(Bytes::from(bytes)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A response with raw content and a content type.
pub fn raw_response(status: StatusCode, content_type: &str, body: Bytes) -> Response<RespBody> {
    let mut resp = Response::new(RespBody::full(body));
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// An empty response.
pub fn empty_response(status: StatusCode) -> Response<RespBody> {
    let mut resp = Response::new(RespBody::empty());
    *resp.status_mut() = status;
    resp
}
