//! The emulator's state and every operation on it. Callers hold the state lock only for one
//! of these calls: no IO, no awaiting, no large copies.

pub mod agents;
pub mod files;
pub mod keys;
pub mod script;
pub mod validate;
pub mod workflows;

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::{EmulatorConfig, WorkflowConfig};
use crate::faults::FaultSet;
use crate::http::{ApiError, Issue};
use crate::introspection::{Counters, RequestLog};
use crate::issue_path;
use crate::ratelimit::RateLimiter;
use crate::rng::Rng;
use crate::time_scale::TimeScale;
use agents::{Agent, FileRef, Status, Turn};
use files::FileRec;
use keys::{KeyEntry, Keys};
use validate::{LaunchIn, PromptIn};
use workflows::Workflow;

/// A user's spend cap and usage.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SpendState {
    /// Most runs (launches + follow-ups); unlimited when `None`.
    pub max_runs: Option<u64>,
    /// Runs started so far.
    pub runs: u64,
    /// Forced "cap reached" state.
    pub reached: bool,
}

impl SpendState {
    fn blocked(&self) -> bool {
        self.reached || self.max_runs.is_some_and(|m| self.runs >= m)
    }
}

/// Query of `GET /agents`.
#[derive(Debug, Clone, Default)]
pub struct AgentListQuery {
    /// Page size.
    pub limit: usize,
    /// Id of the last agent of the previous page.
    pub cursor: Option<Uuid>,
    /// Allowed statuses (empty: all).
    pub statuses: Vec<Status>,
    /// Workflow filter.
    pub workflow_id: Option<Uuid>,
}

/// An upload after its body was streamed.
#[derive(Debug, Clone, Default)]
pub struct UploadIn {
    /// Multipart file name.
    pub filename: Option<String>,
    /// Multipart part Content-Type.
    pub content_type: Option<String>,
    /// `path` field.
    pub path: Option<String>,
    /// `parentId` field.
    pub parent_id: Option<String>,
    /// Bytes received.
    pub size: u64,
    /// FNV-1a of the bytes.
    pub checksum: u64,
}

/// All mutable emulator state.
#[derive(Debug)]
pub struct State {
    /// Live configuration (lifecycle, limits, rate limits).
    pub config: EmulatorConfig,
    /// Current time scale.
    pub time_scale: TimeScale,
    rng: Rng,
    /// API keys.
    pub keys: Keys,
    agents: HashMap<Uuid, Agent>,
    agent_order: HashMap<String, BTreeSet<(u64, Uuid)>>,
    files: HashMap<Uuid, FileRec>,
    file_order: HashMap<String, BTreeSet<(u64, Uuid)>>,
    folders: HashMap<(String, Vec<String>), Uuid>,
    workflows: Vec<Workflow>,
    projects: HashMap<String, Uuid>,
    spend: HashMap<String, SpendState>,
    /// Rate limiter.
    pub rate: RateLimiter,
    /// Fault rules.
    pub faults: FaultSet,
    /// Request log.
    pub log: RequestLog,
    /// Counters.
    pub counters: Counters,
}

impl State {
    /// Fresh state from config, at emulator time `now`.
    pub fn new(config: &EmulatorConfig, now: u64) -> Self {
        let mut s = Self {
            config: config.clone(),
            // `EmulatorConfig::validate` refused a bad scale before any state is built.
            time_scale: TimeScale::new(config.time_scale).unwrap_or(TimeScale::REAL),
            rng: Rng::new(config.seed),
            keys: Keys::from_config(config.include_default_key, &config.keys),
            agents: HashMap::new(),
            agent_order: HashMap::new(),
            files: HashMap::new(),
            file_order: HashMap::new(),
            folders: HashMap::new(),
            workflows: Vec::new(),
            projects: HashMap::new(),
            spend: HashMap::new(),
            rate: RateLimiter::default(),
            faults: FaultSet::new(config.faults.clone(), config.seed),
            log: RequestLog::new(config.limits.request_log_capacity),
            counters: Counters::default(),
        };
        let mut wfs = if config.seed_workflows {
            workflows::seeded()
        } else {
            Vec::new()
        };
        wfs.extend(config.workflows.iter().cloned());
        for w in &wfs {
            s.add_workflow(w, now);
        }
        s
    }

    /// Registers a workflow (replacing one with the same id).
    pub fn add_workflow(&mut self, w: &WorkflowConfig, now: u64) -> Value {
        let id = w.id.unwrap_or_else(|| self.rng.uuid_v7(now));
        let wf = Workflow {
            id,
            name: w.name.clone(),
            description: w.description.clone(),
            inputs: w.inputs.clone(),
        };
        let json = wf.to_json();
        match self.workflows.iter_mut().find(|x| x.id == id) {
            Some(slot) => *slot = wf,
            None => self.workflows.push(wf),
        }
        json
    }

    /// Changes the time scale. Rate buckets restart, since their state is in the old scale;
    /// running turns keep the timeline they were scheduled with.
    pub fn set_time_scale(&mut self, scale: TimeScale) {
        self.time_scale = scale;
        self.rate = RateLimiter::default();
    }

    /// A user's spend state.
    pub fn spend_state(&mut self, user: &str) -> &mut SpendState {
        let default = self.config.spend.default_max_runs;
        self.spend
            .entry(user.to_owned())
            .or_insert_with(|| SpendState {
                max_runs: default,
                ..SpendState::default()
            })
    }

    fn take_run(&mut self, user: &str) -> Result<(), ApiError> {
        let s = self.spend_state(user);
        if s.blocked() {
            return Err(ApiError::spend_limit());
        }
        s.runs += 1;
        Ok(())
    }

    fn file_ref(&self, user: &str, id: Uuid) -> Option<FileRef> {
        self.files
            .get(&id)
            .filter(|f| f.owner == user)
            .map(|f| FileRef {
                id: f.id,
                name: f.name.clone(),
                mime_type: f.mime_type.clone(),
            })
    }

    /// `POST /agents`.
    pub fn launch(
        &mut self,
        key: &KeyEntry,
        body: LaunchIn,
        now: u64,
        origin: &str,
    ) -> Result<Value, ApiError> {
        let user = key.user.as_str();
        let mut issues = Vec::new();
        let workflow = match body.workflow_id {
            Some(id) => Some(
                self.workflows
                    .iter()
                    .find(|w| w.id == id)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found("Workflow"))?,
            ),
            None => None,
        };
        if let Some(w) = &workflow {
            if w.inputs.is_empty() {
                if body.inputs.is_some() {
                    issues.push(Issue::new(
                        issue_path!["inputs"],
                        "This workflow takes no inputs",
                    ));
                }
                if body.prompt.is_none() {
                    issues.push(Issue::new(
                        issue_path!["prompt", "text"],
                        "Required for this workflow",
                    ));
                }
            } else {
                if body.prompt.is_some() {
                    issues.push(Issue::new(
                        issue_path!["prompt"],
                        "This workflow declares file input slots: send inputs, not prompt",
                    ));
                }
                match &body.inputs {
                    None => issues.push(Issue::new(
                        issue_path!["inputs"],
                        "Required for this workflow",
                    )),
                    Some(given) => {
                        for (k, _) in given {
                            if !w.inputs.iter().any(|s| &s.name == k) {
                                issues.push(Issue::new(
                                    issue_path!["inputs", k.as_str()],
                                    "Unknown slot",
                                ));
                            }
                        }
                        for slot in &w.inputs {
                            let ids = given.iter().find(|(k, _)| k == &slot.name).map(|(_, v)| v);
                            let path = issue_path!["inputs", slot.name.as_str()];
                            match ids {
                                Some(v) if v.len() > 1 && !slot.multiple => {
                                    issues.push(Issue::new(path, "This slot takes one id"))
                                }
                                Some(v) if !v.is_empty() => {}
                                _ if slot.required => issues
                                    .push(Issue::new(path, "Required slot is missing or empty")),
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        let mut files = Vec::new();
        for (i, id) in body.file_ids.iter().flatten().enumerate() {
            match self.file_ref(user, *id) {
                Some(f) => files.push(f),
                None => issues.push(Issue::new(
                    issue_path!["fileIds", i],
                    "File not found or not accessible",
                )),
            }
        }
        let mut inputs = Vec::new();
        for (slot, ids) in body.inputs.iter().flatten() {
            let mut names = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                match self.file_ref(user, *id) {
                    Some(f) => {
                        names.push(f.name.clone());
                        files.push(f);
                    }
                    None => issues.push(Issue::new(
                        issue_path!["inputs", slot.as_str(), i],
                        "File not found or not accessible",
                    )),
                }
            }
            inputs.push((slot.clone(), names));
        }
        if !issues.is_empty() {
            return Err(ApiError::invalid(issues));
        }
        self.take_run(user)?;
        let id = self.rng.uuid_v7(now);
        let project_id = match body.project_id {
            Some(p) => p,
            None => match self.projects.get(user) {
                Some(p) => *p,
                None => {
                    let p = self.rng.uuid_v7(now);
                    self.projects.insert(user.to_owned(), p);
                    p
                }
            },
        };
        let artifact_ids = (self.rng.uuid_v7(now), self.rng.uuid_v7(now));
        let (prompt, image_types) = match body.prompt {
            Some(p) => (Some(p.text), p.image_types),
            None => (None, Vec::new()),
        };
        let turn = Turn::schedule(
            1,
            prompt,
            image_types,
            now,
            &self.config.lifecycle,
            self.time_scale,
        );
        let agent = Agent {
            id,
            owner: user.to_owned(),
            workflow: workflow.map(|w| (w.id, w.name)),
            project_id,
            files,
            inputs,
            created_ms: now,
            turns: vec![turn],
            deleted: false,
            artifact_ids,
        };
        let json = agent.to_json(now, origin);
        self.agent_order
            .entry(user.to_owned())
            .or_default()
            .insert((now, id));
        self.agents.insert(id, agent);
        *self
            .counters
            .agents_created_per_key
            .entry(key.name.clone())
            .or_default() += 1;
        *self
            .counters
            .agents_created_per_user
            .entry(user.to_owned())
            .or_default() += 1;
        Ok(json)
    }

    fn agent(&self, user: &str, id: Uuid) -> Result<&Agent, ApiError> {
        self.agents
            .get(&id)
            .filter(|a| a.owner == user && !a.deleted)
            .ok_or_else(|| ApiError::not_found("Agent"))
    }

    fn agent_mut(&mut self, user: &str, id: Uuid) -> Result<&mut Agent, ApiError> {
        self.agents
            .get_mut(&id)
            .filter(|a| a.owner == user && !a.deleted)
            .ok_or_else(|| ApiError::not_found("Agent"))
    }

    /// `GET /agents/{id}`.
    pub fn get_agent(
        &self,
        user: &str,
        id: Uuid,
        now: u64,
        origin: &str,
    ) -> Result<Value, ApiError> {
        Ok(self.agent(user, id)?.to_json(now, origin))
    }

    /// `GET /agents`.
    pub fn list_agents(
        &self,
        user: &str,
        q: &AgentListQuery,
        now: u64,
        origin: &str,
    ) -> Result<Value, ApiError> {
        let empty = BTreeSet::new();
        let order = self.agent_order.get(user).unwrap_or(&empty);
        let upper = match q.cursor {
            Some(c) => match self.agents.get(&c).filter(|a| a.owner == user) {
                Some(a) => Some((a.created_ms, c)),
                None => {
                    return Err(ApiError::bad_request(
                        issue_path!["cursor"],
                        "Unknown cursor",
                    ));
                }
            },
            None => None,
        };
        let iter: Box<dyn Iterator<Item = &(u64, Uuid)>> = match upper {
            Some(u) => Box::new(order.range(..u).rev()),
            None => Box::new(order.iter().rev()),
        };
        let mut page = Vec::new();
        let mut more = false;
        for (_, id) in iter {
            let Some(a) = self.agents.get(id).filter(|a| !a.deleted) else {
                continue;
            };
            if q.workflow_id.is_some() && a.workflow.as_ref().map(|w| w.0) != q.workflow_id {
                continue;
            }
            if !q.statuses.is_empty() && !q.statuses.contains(&a.snapshot(now).status) {
                continue;
            }
            if page.len() == q.limit {
                more = true;
                break;
            }
            page.push(a);
        }
        let next = if more {
            page.last().map(|a| a.id.to_string())
        } else {
            None
        };
        let data: Vec<Value> = page.iter().map(|a| a.to_json(now, origin)).collect();
        Ok(json!({ "data": data, "nextCursor": next }))
    }

    /// `GET /agents/{id}/conversation`.
    pub fn conversation(&self, user: &str, id: Uuid, now: u64) -> Result<Value, ApiError> {
        Ok(self.agent(user, id)?.conversation_json(now))
    }

    /// `GET /agents/{id}/artifacts/{artifactId}`.
    pub fn artifact(
        &self,
        user: &str,
        id: Uuid,
        artifact: Uuid,
        now: u64,
    ) -> Result<(&'static str, Vec<u8>), ApiError> {
        self.agent(user, id)?
            .artifact_content(artifact, now)
            .ok_or_else(|| ApiError::not_found("Artifact"))
    }

    /// `POST /agents/{id}/followup`: returns the agent as it was before (the stale view).
    pub fn follow_up(
        &mut self,
        user: &str,
        id: Uuid,
        prompt: PromptIn,
        now: u64,
        origin: &str,
    ) -> Result<Value, ApiError> {
        let conflict = self.config.lifecycle.follow_up_conflict_status;
        let snap = self.agent(user, id)?.snapshot(now);
        if !snap.status.is_terminal() || snap.pending {
            return Err(ApiError::conflict(
                conflict,
                "The agent is still active; follow up once it is terminal",
            ));
        }
        self.take_run(user)?;
        let lc = self.config.lifecycle.clone();
        let scale = self.time_scale;
        let agent = self.agent_mut(user, id)?;
        let before = agent.render(now, snap, origin);
        let stale = scale.phase_ms(lc.stale_window_ms);
        let number = agent.turns.len() as u32 + 1;
        let turn = Turn::schedule(
            number,
            Some(prompt.text),
            prompt.image_types,
            now + stale,
            &lc,
            scale,
        );
        agent.turns.push(turn);
        *self
            .counters
            .follow_ups_per_agent
            .entry(id.to_string())
            .or_default() += 1;
        Ok(before)
    }

    /// `POST /agents/{id}/stop`.
    pub fn stop(
        &mut self,
        user: &str,
        id: Uuid,
        now: u64,
        origin: &str,
    ) -> Result<Value, ApiError> {
        let conflict = self.config.lifecycle.stop_conflict_status;
        let agent = self.agent_mut(user, id)?;
        let snap = agent.snapshot(now);
        let Some(turn) = agent.turns.last_mut() else {
            return Err(ApiError::server(http::StatusCode::INTERNAL_SERVER_ERROR));
        };
        if snap.pending {
            // Stopping inside the stale window: the new turn starts and stops at once.
            turn.start_ms = now;
            turn.running_ms = turn.running_ms.max(now);
            turn.stopped_ms = Some(now);
        } else if snap.status.is_terminal() {
            return Err(ApiError::conflict(conflict, "The agent is not running"));
        } else {
            turn.stopped_ms = Some(now);
        }
        Ok(agent.to_json(now, origin))
    }

    /// `DELETE /agents/{id}` (a running agent is stopped implicitly).
    pub fn delete(&mut self, user: &str, id: Uuid) -> Result<(), ApiError> {
        self.agent_mut(user, id)?.deleted = true;
        Ok(())
    }

    /// Control: finish the agent's current turn now.
    pub fn complete(&mut self, id: Uuid, now: u64, origin: &str) -> Result<Value, ApiError> {
        let agent = self
            .agents
            .get_mut(&id)
            .filter(|a| !a.deleted)
            .ok_or_else(|| ApiError::not_found("Agent"))?;
        let snap = agent.snapshot(now);
        let Some(turn) = agent.turns.last_mut() else {
            return Err(ApiError::not_found("Agent"));
        };
        if snap.pending {
            turn.start_ms = now;
            turn.running_ms = turn.running_ms.max(now);
        } else if snap.status.is_terminal() {
            return Err(ApiError::conflict(409, "The agent is not active"));
        }
        turn.forced_ms = Some(now);
        Ok(agent.to_json(now, origin))
    }

    /// `POST /files/upload`, after the body was streamed.
    pub fn commit_upload(&mut self, user: &str, u: UploadIn, now: u64) -> Result<Value, ApiError> {
        if u.size == 0 {
            return Err(ApiError::bad_request(issue_path!["file"], "File is empty"));
        }
        let mut base: Vec<String> = Vec::new();
        let mut parent = None;
        if let Some(p) = &u.parent_id {
            let id = Uuid::try_parse(p.trim())
                .map_err(|_| ApiError::bad_request(issue_path!["parentId"], "Invalid uuid"))?;
            let folder = self
                .files
                .get(&id)
                .filter(|f| f.owner == user && f.folder)
                .ok_or_else(|| {
                    ApiError::bad_request(issue_path!["parentId"], "Folder not found")
                })?;
            base = folder.segments.clone();
            parent = Some(id);
        }
        let rel = match (&u.path, &u.filename) {
            (Some(p), _) => {
                files::split_path(p).map_err(|m| ApiError::bad_request(issue_path!["path"], m))?
            }
            (None, Some(name)) if !name.is_empty() => vec![name.clone()],
            _ => {
                return Err(ApiError::bad_request(
                    issue_path!["file"],
                    "The file part needs a file name",
                ));
            }
        };
        let name = rel.last().cloned().unwrap_or_default();
        let mut segs = base;
        for dir in &rel[..rel.len() - 1] {
            segs.push(dir.clone());
            let key = (user.to_owned(), segs.clone());
            parent = Some(match self.folders.get(&key) {
                Some(id) => *id,
                None => {
                    let id = self.rng.uuid_v7(now);
                    self.files.insert(
                        id,
                        FileRec {
                            id,
                            owner: user.to_owned(),
                            name: dir.clone(),
                            mime_type: "inode/directory".into(),
                            size: 0,
                            parent_id: parent,
                            segments: segs.clone(),
                            version_id: id,
                            created_ms: now,
                            checksum: 0,
                            folder: true,
                        },
                    );
                    self.folders.insert(key, id);
                    id
                }
            });
        }
        segs.push(name.clone());
        let mime = match u.content_type.as_deref() {
            Some(ct) if !ct.is_empty() && ct != "application/octet-stream" => ct.to_owned(),
            _ => files::guess_mime(&name).to_owned(),
        };
        let id = self.rng.uuid_v7(now);
        let rec = FileRec {
            id,
            owner: user.to_owned(),
            name,
            mime_type: mime,
            size: u.size,
            parent_id: parent,
            segments: segs,
            version_id: self.rng.uuid_v7(now),
            created_ms: now,
            checksum: u.checksum,
            folder: false,
        };
        let json = rec.upload_json();
        self.file_order
            .entry(user.to_owned())
            .or_default()
            .insert((now, id));
        self.files.insert(id, rec);
        Ok(json)
    }

    /// `GET /files/search`.
    pub fn search_files(
        &self,
        user: &str,
        query: &str,
        limit: usize,
        cursor: Option<Uuid>,
        integration: Option<Uuid>,
    ) -> Result<Value, ApiError> {
        let empty = BTreeSet::new();
        let order = self.file_order.get(user).unwrap_or(&empty);
        let upper = match cursor {
            Some(c) => match self.files.get(&c).filter(|f| f.owner == user) {
                Some(f) => Some((f.created_ms, c)),
                None => {
                    return Err(ApiError::bad_request(
                        issue_path!["cursor"],
                        "Unknown cursor",
                    ));
                }
            },
            None => None,
        };
        let iter: Box<dyn Iterator<Item = &(u64, Uuid)>> = match upper {
            Some(u) => Box::new(order.range(..u).rev()),
            None => Box::new(order.iter().rev()),
        };
        let needle = query.to_lowercase();
        let mut page = Vec::new();
        let mut more = false;
        // Uploaded files belong to no integration, so an integration filter matches none.
        if integration.is_none() {
            for (_, id) in iter {
                let Some(f) = self.files.get(id) else {
                    continue;
                };
                if !f.name.to_lowercase().contains(&needle) {
                    continue;
                }
                if page.len() == limit {
                    more = true;
                    break;
                }
                page.push(f);
            }
        }
        let next = if more {
            page.last().map(|f| f.id.to_string())
        } else {
            None
        };
        let data: Vec<Value> = page.iter().map(|f| f.hit_json()).collect();
        Ok(json!({ "data": data, "nextCursor": next }))
    }

    /// `GET /workflows`.
    pub fn list_workflows(&self, limit: usize, cursor: Option<Uuid>) -> Result<Value, ApiError> {
        let start = match cursor {
            Some(c) => {
                self.workflows
                    .iter()
                    .position(|w| w.id == c)
                    .ok_or_else(|| ApiError::bad_request(issue_path!["cursor"], "Unknown cursor"))?
                    + 1
            }
            None => 0,
        };
        let rest = &self.workflows[start..];
        let page = &rest[..rest.len().min(limit)];
        let next = (rest.len() > limit)
            .then(|| page.last().map(|w| w.id.to_string()))
            .flatten();
        let data: Vec<Value> = page.iter().map(Workflow::to_json).collect();
        Ok(json!({ "data": data, "nextCursor": next }))
    }

    /// Control: every stored file (metadata and checksum).
    pub fn files_json(&self) -> Value {
        let mut all: Vec<&FileRec> = self.files.values().collect();
        all.sort_by_key(|f| (f.created_ms, f.id));
        Value::Array(all.iter().map(|f| f.control_json()).collect())
    }
}
