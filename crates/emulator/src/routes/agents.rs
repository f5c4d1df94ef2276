//! `/agents` handlers.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

use super::shape::Shape;
use super::{CREATED, parse_limit, path_uuid, query_pairs, query_uuid};
use crate::http::json::read_json;
use crate::http::{ApiError, RespBody, empty_response, json_response, raw_response};
use crate::issue_path;
use crate::model::AgentListQuery;
use crate::model::agents::Status;
use crate::model::keys::KeyEntry;
use crate::model::validate::{parse_follow_up, parse_launch};
use crate::shared::Shared;

async fn body_json(shared: &Shared, req: Request<Incoming>) -> Result<serde_json::Value, ApiError> {
    let (max, depth) = {
        let st = shared.lock();
        (
            st.config.limits.max_json_bytes,
            st.config.limits.max_json_depth,
        )
    };
    read_json(req.into_body(), max, depth).await
}

pub(super) async fn launch(
    shared: &Shared,
    key: &KeyEntry,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    let v = body_json(shared, req).await?;
    let plan = parse_launch(&v).map_err(ApiError::invalid)?;
    let now = shared.clock.now_ms();
    let agent = shared
        .lock()
        .launch(key, plan, now, &shared.public_origin)?;
    Ok(json_response(CREATED, &Shape::of(shared).agent(agent)))
}

pub(super) fn list(
    shared: &Shared,
    key: &KeyEntry,
    req: &Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    let pairs = query_pairs(req.uri().query());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut q = AgentListQuery {
        limit: parse_limit(get("limit"), 20, 100)?,
        cursor: query_uuid(get("cursor"), "cursor")?,
        statuses: Vec::new(),
        workflow_id: query_uuid(get("workflowId"), "workflowId")?,
    };
    if let Some(s) = get("status") {
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let st = Status::parse(&part.to_ascii_lowercase()).ok_or_else(|| {
                ApiError::bad_request(issue_path!["status"], format!("Unknown status {part:?}"))
            })?;
            q.statuses.push(st);
        }
    }
    let now = shared.clock.now_ms();
    let v = shared
        .lock()
        .list_agents(&key.user, &q, now, &shared.public_origin)?;
    Ok(json_response(
        StatusCode::OK,
        &Shape::of(shared).page(v, "agents"),
    ))
}

pub(super) fn get(
    shared: &Shared,
    key: &KeyEntry,
    id: &str,
) -> Result<Response<RespBody>, ApiError> {
    let id = path_uuid(id, "id")?;
    let now = shared.clock.now_ms();
    let a = shared
        .lock()
        .get_agent(&key.user, id, now, &shared.public_origin)?;
    Ok(json_response(StatusCode::OK, &Shape::of(shared).agent(a)))
}

pub(super) fn delete(
    shared: &Shared,
    key: &KeyEntry,
    id: &str,
) -> Result<Response<RespBody>, ApiError> {
    let id = path_uuid(id, "id")?;
    shared.lock().delete(&key.user, id)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub(super) fn conversation(
    shared: &Shared,
    key: &KeyEntry,
    id: &str,
) -> Result<Response<RespBody>, ApiError> {
    let id = path_uuid(id, "id")?;
    let now = shared.clock.now_ms();
    let c = shared.lock().conversation(&key.user, id, now)?;
    Ok(json_response(StatusCode::OK, &Shape::of(shared).object(c)))
}

pub(super) fn artifact(
    shared: &Shared,
    key: &KeyEntry,
    id: &str,
    aid: &str,
) -> Result<Response<RespBody>, ApiError> {
    let id = path_uuid(id, "id")?;
    let aid = path_uuid(aid, "artifactId")?;
    let now = shared.clock.now_ms();
    let (ct, bytes) = shared.lock().artifact(&key.user, id, aid, now)?;
    Ok(raw_response(StatusCode::OK, ct, Bytes::from(bytes)))
}

pub(super) async fn follow_up(
    shared: &Shared,
    key: &KeyEntry,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    let id = path_uuid(id, "id")?;
    let v = body_json(shared, req).await?;
    let prompt = parse_follow_up(&v).map_err(ApiError::invalid)?;
    let now = shared.clock.now_ms();
    let a = shared
        .lock()
        .follow_up(&key.user, id, prompt, now, &shared.public_origin)?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &Shape::of(shared).agent(a),
    ))
}

pub(super) fn stop(
    shared: &Shared,
    key: &KeyEntry,
    id: &str,
) -> Result<Response<RespBody>, ApiError> {
    let id = path_uuid(id, "id")?;
    let now = shared.clock.now_ms();
    let a = shared
        .lock()
        .stop(&key.user, id, now, &shared.public_origin)?;
    Ok(json_response(StatusCode::OK, &Shape::of(shared).agent(a)))
}
