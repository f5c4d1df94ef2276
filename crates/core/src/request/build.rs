//! The request builders.

use bytes::Bytes;
use http::Request;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};

use super::query::{QueryString, percent_encode};
use super::{ApiBase, Endpoint};
use crate::multipart::Boundary;
use crate::validate::{InvalidRequest, Problem, ProblemKind, validate_follow_up, validate_launch};
use crate::wire::{
    AgentId, ArtifactId, FileSearchQuery, FollowUpRequest, LaunchRequest, ListAgentsQuery,
    ListWorkflowsQuery,
};

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The skeleton every builder shares: method, URI, `Accept`, and the extensions.
fn request<B>(
    base: &ApiBase,
    endpoint: Endpoint,
    path_and_query: &str,
    agent: Option<AgentId>,
    body: B,
) -> Request<B> {
    with_uri(base.uri(path_and_query), endpoint, agent, body)
}

/// [`request`] for `/agents/{id}{suffix}`: the id is encoded without the formatting
/// machinery (this is the polling hot path).
fn agent_request<B>(
    base: &ApiBase,
    endpoint: Endpoint,
    id: &AgentId,
    suffix: &str,
    body: B,
) -> Request<B> {
    with_uri(base.agent_uri(id, suffix), endpoint, Some(*id), body)
}

fn with_uri<B>(uri: http::Uri, endpoint: Endpoint, agent: Option<AgentId>, body: B) -> Request<B> {
    let mut req = Request::new(body);
    *req.method_mut() = endpoint.method();
    *req.uri_mut() = uri;
    req.headers_mut().insert(ACCEPT, JSON);
    req.extensions_mut().insert(endpoint);
    if let Some(id) = agent {
        req.extensions_mut().insert(id);
    }
    req
}

fn json_body<T: serde::Serialize>(value: &T) -> Bytes {
    // Our wire types have string keys and no fallible Serialize impls.
    Bytes::from(serde_json::to_vec(value).expect("wire types always serialize"))
}

fn with_json(mut req: Request<Bytes>) -> Request<Bytes> {
    req.headers_mut().insert(CONTENT_TYPE, JSON);
    req
}

fn check_limit(limit: Option<u32>, max: u32) -> Option<Problem> {
    limit
        .filter(|l| !(1..=max).contains(l))
        .map(|value| Problem::new("limit", ProblemKind::LimitOutOfRange { value, min: 1, max }))
}

/// `POST /agents`, after [`validate_launch`].
pub fn launch(base: &ApiBase, body: &LaunchRequest) -> Result<Request<Bytes>, InvalidRequest> {
    validate_launch(body)?;
    Ok(with_json(request(
        base,
        Endpoint::LaunchAgent,
        "/agents",
        None,
        json_body(body),
    )))
}

/// `POST /agents/{id}/followup`, after [`validate_follow_up`].
pub fn follow_up(
    base: &ApiBase,
    id: &AgentId,
    body: &FollowUpRequest,
) -> Result<Request<Bytes>, InvalidRequest> {
    validate_follow_up(body)?;
    Ok(with_json(agent_request(
        base,
        Endpoint::FollowUp,
        id,
        "/followup",
        json_body(body),
    )))
}

/// `GET /agents/{id}`.
pub fn get_agent(base: &ApiBase, id: &AgentId) -> Request<Bytes> {
    agent_request(base, Endpoint::GetAgent, id, "", Bytes::new())
}

/// `GET /agents?limit&cursor&status&workflowId`; `limit` must be 1–100.
pub fn list_agents(
    base: &ApiBase,
    query: &ListAgentsQuery,
) -> Result<Request<Bytes>, InvalidRequest> {
    if let Some(problem) = check_limit(query.limit, 100) {
        return Err(InvalidRequest::new(vec![problem]));
    }
    let mut q = QueryString::default();
    q.push_page(query.limit, query.cursor.as_deref());
    if !query.status.is_empty() {
        let joined: Vec<String> = query
            .status
            .iter()
            .map(|s| percent_encode(s.as_str()))
            .collect();
        q.push_raw("status", &joined.join(","));
    }
    if let Some(workflow) = &query.workflow_id {
        q.push("workflowId", &workflow.to_string());
    }
    Ok(get_with_query(base, Endpoint::ListAgents, "/agents", &q))
}

/// `GET /agents/{id}/conversation`.
pub fn conversation(base: &ApiBase, id: &AgentId) -> Request<Bytes> {
    agent_request(
        base,
        Endpoint::Conversation,
        id,
        "/conversation",
        Bytes::new(),
    )
}

/// `GET /agents/{id}/artifacts/{artifactId}`; accepts any content type (markdown, JSON, …).
pub fn artifact_content(base: &ApiBase, id: &AgentId, artifact: &ArtifactId) -> Request<Bytes> {
    let mut req = request(
        base,
        Endpoint::ArtifactContent,
        &format!("/agents/{id}/artifacts/{artifact}"),
        Some(*id),
        Bytes::new(),
    );
    req.headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("*/*"));
    req
}

/// `POST /agents/{id}/stop` (no body).
pub fn stop(base: &ApiBase, id: &AgentId) -> Request<Bytes> {
    agent_request(base, Endpoint::Stop, id, "/stop", Bytes::new())
}

/// `DELETE /agents/{id}`.
pub fn delete(base: &ApiBase, id: &AgentId) -> Request<Bytes> {
    agent_request(base, Endpoint::Delete, id, "", Bytes::new())
}

/// `GET /files/search?query&limit&cursor&integrationId`; `query` must not be blank and
/// `limit` must be 1–50.
pub fn search_files(
    base: &ApiBase,
    query: &FileSearchQuery,
) -> Result<Request<Bytes>, InvalidRequest> {
    let mut problems = Vec::new();
    if query.query.trim().is_empty() {
        problems.push(Problem::new("query", ProblemKind::EmptyQuery));
    }
    problems.extend(check_limit(query.limit, 50));
    if !problems.is_empty() {
        return Err(InvalidRequest::new(problems));
    }
    let mut q = QueryString::default();
    q.push("query", &query.query);
    q.push_page(query.limit, query.cursor.as_deref());
    if let Some(integration) = &query.integration_id {
        q.push("integrationId", integration);
    }
    Ok(get_with_query(
        base,
        Endpoint::SearchFiles,
        "/files/search",
        &q,
    ))
}

/// `GET /workflows?limit&cursor`; `limit` must be 1–100.
pub fn list_workflows(
    base: &ApiBase,
    query: &ListWorkflowsQuery,
) -> Result<Request<Bytes>, InvalidRequest> {
    if let Some(problem) = check_limit(query.limit, 100) {
        return Err(InvalidRequest::new(vec![problem]));
    }
    let mut q = QueryString::default();
    q.push_page(query.limit, query.cursor.as_deref());
    Ok(get_with_query(
        base,
        Endpoint::ListWorkflows,
        "/workflows",
        &q,
    ))
}

/// A bodiless request to `path` with the query string `q` appended.
fn get_with_query(
    base: &ApiBase,
    endpoint: Endpoint,
    path: &str,
    q: &QueryString,
) -> Request<Bytes> {
    let path_and_query = format!("{path}{}", q.as_str());
    request(base, endpoint, &path_and_query, None, Bytes::new())
}

/// The head of `POST /files/upload`: method, URI, `Content-Type: multipart/form-data;
/// boundary=…`, and `Content-Length` when known (see
/// [`Encoder::encoded_len`](crate::multipart::Encoder::encoded_len)). The body is streamed by
/// the caller from a [`crate::multipart::Encoder`] using the same boundary.
pub fn upload_head(
    base: &ApiBase,
    boundary: &Boundary,
    content_length: Option<u64>,
) -> Request<()> {
    let mut req = request(base, Endpoint::UploadFile, "/files/upload", None, ());
    req.headers_mut()
        .insert(CONTENT_TYPE, boundary.content_type_header());
    if let Some(len) = content_length {
        req.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    req
}
