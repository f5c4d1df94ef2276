//! Control and introspection endpoints under `/_emulator/` (JSON; not the Nomic API). Open, or
//! behind the configured control token.

use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{KeyConfig, WorkflowConfig};
use crate::faults::FaultRule;
use crate::http::json::read_json;
use crate::http::{ApiError, RespBody, json_response};
use crate::routes::{bearer, path_uuid};
use crate::shared::Shared;
use crate::time_scale::TimeScale;

const MAX_CONTROL_BODY: u64 = 1024 * 1024;

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsBody {
    Many(Vec<FaultRule>),
    Wrapped { rules: Vec<FaultRule> },
    One(FaultRule),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SpendBody {
    user: String,
    #[serde(default)]
    max_runs: Option<u64>,
    #[serde(default)]
    reached: bool,
    #[serde(default)]
    reset_usage: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimeScaleBody {
    time_scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    ms: u64,
}

fn parse<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v)
        .map_err(|e| ApiError::bad_request(vec![], format!("Invalid control body: {e}")))
}

async fn body(req: Request<Incoming>) -> Result<Value, ApiError> {
    read_json(req.into_body(), MAX_CONTROL_BODY, 32).await
}

fn ok(v: Value) -> Result<Response<RespBody>, ApiError> {
    Ok(json_response(StatusCode::OK, &v))
}

/// Handles one control request.
pub async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<RespBody> {
    if let Some(token) = &shared.initial.control_token
        && !bearer(&req).is_some_and(|presented| token.matches(presented))
    {
        // Never the presented value: it may be a near miss of the real token.
        tracing::debug!(
            path = req.uri().path(),
            "control request refused: no valid control token"
        );
        return ApiError::control_unauthorized().into_response();
    }
    match route(shared, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Result<Response<RespBody>, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let segs: Vec<&str> = path.split('/').skip(2).collect();
    let method = req.method().clone();
    match (method, segs.as_slice()) {
        (Method::POST, ["reset"]) => {
            shared.reset();
            ok(json!({ "ok": true }))
        }
        (Method::GET, ["faults"]) => ok(json!({ "rules": shared.lock().faults.rules })),
        (Method::POST, ["faults"]) => {
            let rules = match parse::<FaultsBody>(body(req).await?)? {
                FaultsBody::Many(r) | FaultsBody::Wrapped { rules: r } => r,
                FaultsBody::One(r) => vec![r],
            };
            for r in &rules {
                r.validate().map_err(|m| ApiError::bad_request(vec![], m))?;
            }
            let mut st = shared.lock();
            st.faults.rules.extend(rules);
            ok(json!({ "rules": st.faults.rules }))
        }
        (Method::DELETE, ["faults"]) => {
            shared.lock().faults.rules.clear();
            ok(json!({ "rules": [] }))
        }
        (Method::POST, ["keys"]) => {
            let k: KeyConfig = parse(body(req).await?)?;
            k.validate().map_err(|m| ApiError::bad_request(vec![], m))?;
            shared.lock().keys.add(&k);
            // Never echo the secret.
            ok(json!({ "name": k.name, "user": k.user, "scopes": k.scopes }))
        }
        (Method::POST, ["workflows"]) => {
            let w: WorkflowConfig = parse(body(req).await?)?;
            let now = shared.clock.now_ms();
            let v = shared.lock().add_workflow(&w, now);
            Ok(json_response(StatusCode::CREATED, &v))
        }
        (Method::POST, ["spend"]) => {
            let s: SpendBody = parse(body(req).await?)?;
            let mut st = shared.lock();
            let state = st.spend_state(&s.user);
            state.max_runs = s.max_runs;
            state.reached = s.reached;
            if s.reset_usage {
                state.runs = 0;
            }
            ok(serde_json::to_value(state.clone()).unwrap_or_default())
        }
        (Method::POST, ["time-scale"]) => {
            let t: TimeScaleBody = parse(body(req).await?)?;
            let scale = TimeScale::new(t.time_scale).map_err(|_| {
                ApiError::bad_request(vec!["timeScale".into()], "must be finite and > 0")
            })?;
            shared.lock().set_time_scale(scale);
            ok(json!({ "timeScale": t.time_scale }))
        }
        (Method::POST, ["clock", "advance"]) => {
            let a: AdvanceBody = parse(body(req).await?)?;
            shared.clock.advance(Duration::from_millis(a.ms));
            ok(json!({ "nowMs": shared.clock.now_ms() }))
        }
        (Method::GET, ["requests"]) => ok(json!({ "data": shared.lock().log.snapshot() })),
        (Method::GET, ["counters"]) => {
            ok(serde_json::to_value(&shared.lock().counters).unwrap_or_default())
        }
        (Method::GET, ["files"]) => ok(json!({ "data": shared.lock().files_json() })),
        (Method::POST, ["agents", id, "complete"]) => {
            let id = path_uuid(id, "id")?;
            let now = shared.clock.now_ms();
            let v = shared.lock().complete(id, now, &shared.public_origin)?;
            ok(json!({ "data": v }))
        }
        _ => Err(ApiError::not_found("Control route")),
    }
}
