//! `/workflows` handler.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

use super::shape::Shape;
use super::{parse_limit, query_pairs, query_uuid};
use crate::http::{ApiError, RespBody, json_response};
use crate::shared::Shared;

pub(super) fn list(
    shared: &Shared,
    req: &Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    let pairs = query_pairs(req.uri().query());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let limit = parse_limit(get("limit"), 20, 100)?;
    let cursor = query_uuid(get("cursor"), "cursor")?;
    let v = shared.lock().list_workflows(limit, cursor)?;
    Ok(json_response(
        StatusCode::OK,
        &Shape::of(shared).page(v, "workflows"),
    ))
}
