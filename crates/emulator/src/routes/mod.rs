//! The Nomic API routes: matching, authentication, rate limiting, then one handler per
//! resource.

mod agents;
mod files;
mod shape;
mod workflows;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use uuid::Uuid;

use crate::http::{ApiError, RespBody};
use crate::issue_path;
use crate::model::keys::KeyEntry;
use crate::ratelimit::{Decision, Tier};
use crate::shared::Shared;

/// The API root every Nomic route lives under.
pub const API_PREFIX: &str = "/api/v0";

/// A matched API route with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /agents`
    Launch,
    /// `GET /agents`
    List,
    /// `GET /agents/{id}`
    Get(String),
    /// `DELETE /agents/{id}`
    Delete(String),
    /// `GET /agents/{id}/conversation`
    Conversation(String),
    /// `GET /agents/{id}/artifacts/{artifactId}`
    Artifact(String, String),
    /// `POST /agents/{id}/followup`
    FollowUp(String),
    /// `POST /agents/{id}/stop`
    Stop(String),
    /// `POST /files/upload`
    Upload,
    /// `GET /files/search`
    Search,
    /// `GET /workflows`
    Workflows,
}

/// The outcome of matching a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// A route.
    Route(Route),
    /// The path exists but not for this method.
    WrongMethod(&'static str),
    /// No such path.
    NotFound,
}

impl Route {
    /// The route template relative to the API root.
    pub fn template(&self) -> &'static str {
        match self {
            Route::Launch | Route::List => "/agents",
            Route::Get(_) | Route::Delete(_) => "/agents/{id}",
            Route::Conversation(_) => "/agents/{id}/conversation",
            Route::Artifact(..) => "/agents/{id}/artifacts/{artifactId}",
            Route::FollowUp(_) => "/agents/{id}/followup",
            Route::Stop(_) => "/agents/{id}/stop",
            Route::Upload => "/files/upload",
            Route::Search => "/files/search",
            Route::Workflows => "/workflows",
        }
    }

    /// The rate tier.
    pub fn tier(&self) -> Tier {
        match self {
            Route::Launch | Route::FollowUp(_) | Route::Upload => Tier::Heavy,
            Route::Stop(_) | Route::Delete(_) => Tier::Write,
            _ => Tier::Standard,
        }
    }

    /// The scope a key needs.
    pub fn scope(&self) -> &'static str {
        match self {
            Route::Upload | Route::Search => "developer:files",
            _ => "developer:agent",
        }
    }
}

/// Matches a method and path (with the `/api/v0` prefix).
pub fn match_route(method: &Method, path: &str) -> Matched {
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return Matched::NotFound;
    };
    let rest = rest.trim_end_matches('/');
    let segs: Vec<&str> = rest.split('/').skip(1).collect();
    let m = method.clone();
    let pick = |template: &'static str, options: Vec<(Method, Route)>| {
        options
            .into_iter()
            .find(|(x, _)| *x == m)
            .map_or(Matched::WrongMethod(template), |(_, r)| Matched::Route(r))
    };
    match segs.as_slice() {
        ["agents"] => pick(
            "/agents",
            vec![(Method::POST, Route::Launch), (Method::GET, Route::List)],
        ),
        ["agents", id] => pick(
            "/agents/{id}",
            vec![
                (Method::GET, Route::Get(id.to_string())),
                (Method::DELETE, Route::Delete(id.to_string())),
            ],
        ),
        ["agents", id, "conversation"] => pick(
            "/agents/{id}/conversation",
            vec![(Method::GET, Route::Conversation(id.to_string()))],
        ),
        ["agents", id, "artifacts", aid] => pick(
            "/agents/{id}/artifacts/{artifactId}",
            vec![(
                Method::GET,
                Route::Artifact(id.to_string(), aid.to_string()),
            )],
        ),
        ["agents", id, "followup"] => pick(
            "/agents/{id}/followup",
            vec![(Method::POST, Route::FollowUp(id.to_string()))],
        ),
        ["agents", id, "stop"] => pick(
            "/agents/{id}/stop",
            vec![(Method::POST, Route::Stop(id.to_string()))],
        ),
        ["files", "upload"] => pick("/files/upload", vec![(Method::POST, Route::Upload)]),
        ["files", "search"] => pick("/files/search", vec![(Method::GET, Route::Search)]),
        ["workflows"] => pick("/workflows", vec![(Method::GET, Route::Workflows)]),
        _ => Matched::NotFound,
    }
}

/// Parses a path id.
pub(crate) fn path_uuid(s: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(s).map_err(|_| ApiError::bad_request(issue_path![name], "Invalid uuid"))
}

/// Decodes `application/x-www-form-urlencoded` query pairs.
pub(crate) fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads `limit` within `1..=max`.
pub(crate) fn parse_limit(v: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                issue_path!["limit"],
                format!("limit must be an integer from 1 to {max}"),
            )),
        },
    }
}

/// Reads an optional uuid query parameter.
pub(crate) fn query_uuid(v: Option<&str>, name: &str) -> Result<Option<Uuid>, ApiError> {
    v.map(|s| {
        Uuid::try_parse(s).map_err(|_| ApiError::bad_request(issue_path![name], "Invalid uuid"))
    })
    .transpose()
}

/// The token of an `Authorization: Bearer <token>` header.
pub(crate) fn bearer(req: &Request<Incoming>) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn rate_headers(resp: &mut Response<RespBody>, d: &Decision) {
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        ("x-ratelimit-reset", d.reset_unix.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

/// Authenticates, rate-limits and runs one API request.
pub async fn handle(shared: &Shared, route: Route, req: Request<Incoming>) -> Response<RespBody> {
    let key = {
        let st = shared.lock();
        bearer(&req).and_then(|t| st.keys.get(t).cloned())
    };
    let Some(key) = key else {
        return ApiError::unauthorized().into_response();
    };
    if !key.allows(route.scope()) {
        return ApiError::forbidden(route.scope()).into_response();
    }
    let decision = {
        let mut st = shared.lock();
        if st.config.rate_limits.enabled {
            let now = shared.clock.now_nanos();
            let (cfg, scale) = (st.config.rate_limits.clone(), st.time_scale);
            Some(st.rate.check(&key.user, route.tier(), now, &cfg, scale))
        } else {
            None
        }
    };
    let mut resp = match decision {
        Some(d) if !d.allowed => {
            ApiError::rate_limited(d.retry_after_secs.unwrap_or(1).to_string()).into_response()
        }
        _ => match run(shared, &key, route, req).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        },
    };
    if let Some(d) = &decision {
        rate_headers(&mut resp, d);
    }
    resp
}

async fn run(
    shared: &Shared,
    key: &KeyEntry,
    route: Route,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    match route {
        Route::Launch => agents::launch(shared, key, req).await,
        Route::List => agents::list(shared, key, &req),
        Route::Get(id) => agents::get(shared, key, &id),
        Route::Delete(id) => agents::delete(shared, key, &id),
        Route::Conversation(id) => agents::conversation(shared, key, &id),
        Route::Artifact(id, aid) => agents::artifact(shared, key, &id, &aid),
        Route::FollowUp(id) => agents::follow_up(shared, key, &id, req).await,
        Route::Stop(id) => agents::stop(shared, key, &id),
        Route::Upload => files::upload(shared, key, req).await,
        Route::Search => files::search(shared, key, &req),
        Route::Workflows => workflows::list(shared, &req),
    }
}

/// The status a handler returns for created resources.
pub(crate) const CREATED: StatusCode = StatusCode::CREATED;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_every_route() {
        let id = "019a0000-0000-7000-8000-000000000001";
        let r = |m: Method, p: &str| match_route(&m, p);
        assert_eq!(
            r(Method::POST, "/api/v0/agents"),
            Matched::Route(Route::Launch)
        );
        assert_eq!(
            r(Method::GET, "/api/v0/agents/"),
            Matched::Route(Route::List)
        );
        assert_eq!(
            r(Method::GET, &format!("/api/v0/agents/{id}")),
            Matched::Route(Route::Get(id.into()))
        );
        assert_eq!(
            r(Method::GET, &format!("/api/v0/agents/{id}/artifacts/x")),
            Matched::Route(Route::Artifact(id.into(), "x".into()))
        );
        assert_eq!(
            r(Method::PUT, "/api/v0/agents"),
            Matched::WrongMethod("/agents")
        );
        assert_eq!(r(Method::GET, "/api/v1/agents"), Matched::NotFound);
        assert_eq!(r(Method::GET, "/api/v0/nope"), Matched::NotFound);
    }

    #[test]
    fn query_decoding() {
        let q = query_pairs(Some("query=a%20b+c&status=running,waiting&x&bad=%zz"));
        assert_eq!(q[0], ("query".into(), "a b c".into()));
        assert_eq!(q[1].1, "running,waiting");
        assert_eq!(q[2], ("x".into(), "".into()));
        assert_eq!(q[3].1, "%zz");
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None, 20, 100).unwrap(), 20);
        assert_eq!(parse_limit(Some("100"), 20, 100).unwrap(), 100);
        assert!(parse_limit(Some("0"), 20, 100).is_err());
        assert!(parse_limit(Some("101"), 20, 100).is_err());
        assert!(parse_limit(Some("x"), 20, 100).is_err());
    }
}
