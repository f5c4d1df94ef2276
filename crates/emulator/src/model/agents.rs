//! Agents and their turns. Status, `updatedAt`, conversation and artifacts are computed from
//! each turn's scheduled times and the clock at read time, so idle agents cost nothing.

use serde_json::{Value, json};
use uuid::Uuid;

use super::script::{AnswerInput, Markers, answer};
use crate::clock::format_rfc3339_ms;
use crate::config::LifecycleConfig;
use crate::rng::derived_uuid;
use crate::time_scale::TimeScale;

/// Agent status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Queued.
    Waiting,
    /// Working.
    Running,
    /// Paused on a tool.
    AwaitingTool,
    /// Done.
    Finished,
    /// Stopped by the user.
    Stopped,
    /// Ended with an error.
    Failed,
}

impl Status {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Running => "running",
            Status::AwaitingTool => "awaiting_tool",
            Status::Finished => "finished",
            Status::Stopped => "stopped",
            Status::Failed => "failed",
        }
    }

    /// Parses a wire string.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Waiting,
            Status::Running,
            Status::AwaitingTool,
            Status::Finished,
            Status::Stopped,
            Status::Failed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether no more work happens in this turn.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Finished | Status::Stopped | Status::Failed)
    }
}

/// A file attached to an agent.
#[derive(Debug, Clone)]
pub struct FileRef {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
}

/// One turn: a launch or a follow-up, with its scheduled times (unix ms).
#[derive(Debug, Clone)]
pub struct Turn {
    /// 1-based.
    pub number: u32,
    /// Prompt text.
    pub prompt: Option<String>,
    /// Media types of the prompt's images.
    pub image_types: Vec<String>,
    /// Markers read from the prompt.
    pub markers: Markers,
    /// When the turn starts (`waiting`).
    pub start_ms: u64,
    /// When it starts running.
    pub running_ms: u64,
    /// The `awaiting_tool` interval, for `[tool]` prompts.
    pub tool_ms: Option<(u64, u64)>,
    /// The scripted end; `None` for `[never]`.
    pub end_ms: Option<u64>,
    /// When it was stopped.
    pub stopped_ms: Option<u64>,
    /// When it was forced to finish.
    pub forced_ms: Option<u64>,
}

impl Turn {
    /// Schedules a turn starting at `start_ms`, durations scaled by `scale`.
    pub fn schedule(
        number: u32,
        prompt: Option<String>,
        image_types: Vec<String>,
        start_ms: u64,
        lc: &LifecycleConfig,
        scale: TimeScale,
    ) -> Self {
        let markers = Markers::parse(prompt.as_deref().unwrap_or(""));
        let mult = if markers.slow { 10 } else { 1 };
        let d = |nominal: u64| scale.phase_ms(nominal * mult);
        let running_ms = start_ms + d(lc.waiting_ms);
        let run = d(lc.running_ms);
        let (tool_ms, end) = if markers.tool {
            let a = running_ms + run / 2;
            let b = a + d(lc.awaiting_tool_ms).max(1);
            (Some((a, b)), b + (run - run / 2))
        } else {
            (None, running_ms + run)
        };
        Self {
            number,
            prompt,
            image_types,
            markers,
            start_ms,
            running_ms,
            tool_ms,
            end_ms: if markers.never { None } else { Some(end) },
            stopped_ms: None,
            forced_ms: None,
        }
    }

    /// Status changes in time order, cut short by a stop or a forced completion.
    pub fn transitions(&self) -> Vec<(u64, Status)> {
        let mut v = vec![
            (self.start_ms, Status::Waiting),
            (self.running_ms, Status::Running),
        ];
        if let Some((a, b)) = self.tool_ms {
            v.push((a, Status::AwaitingTool));
            v.push((b, Status::Running));
        }
        if let Some(e) = self.end_ms {
            v.push((
                e,
                if self.markers.fail {
                    Status::Failed
                } else {
                    Status::Finished
                },
            ));
        }
        let cut = match (self.stopped_ms, self.forced_ms) {
            (Some(s), _) => Some((s, Status::Stopped)),
            (None, Some(f)) => Some((f, Status::Finished)),
            (None, None) => None,
        };
        if let Some((at, status)) = cut {
            let first = v[0];
            v.retain(|(t, _)| *t < at);
            if v.is_empty() {
                v.push(first);
            }
            v.push((at, status));
        }
        v
    }

    /// The terminal transition, if the turn has one scheduled or forced.
    pub fn terminal(&self) -> Option<(u64, Status)> {
        self.transitions()
            .into_iter()
            .rev()
            .find(|(_, s)| s.is_terminal())
    }
}

/// A conversation row.
#[derive(Debug, Clone)]
pub struct Row {
    /// When it appears.
    pub at: u64,
    /// `user`, `assistant`, `tool` or `error`.
    pub kind: &'static str,
    /// Tool name on tool rows.
    pub name: Option<&'static str>,
    /// Text.
    pub text: String,
}

/// An agent.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Id.
    pub id: Uuid,
    /// Owning user.
    pub owner: String,
    /// Workflow id and name.
    pub workflow: Option<(Uuid, String)>,
    /// Project id.
    pub project_id: Uuid,
    /// Attached files (fileIds and slot inputs).
    pub files: Vec<FileRef>,
    /// Slot inputs: slot name and file names.
    pub inputs: Vec<(String, Vec<String>)>,
    /// Creation time.
    pub created_ms: u64,
    /// Turns in order; the last may not have started yet (the follow-up stale window).
    pub turns: Vec<Turn>,
    /// Deleted agents answer 404 but keep their place for cursors.
    pub deleted: bool,
    /// Ids of the document and table artifacts.
    pub artifact_ids: (Uuid, Uuid),
}

/// What an agent looks like at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Status.
    pub status: Status,
    /// `updatedAt`, unix ms.
    pub updated_ms: u64,
    /// Whether a follow-up turn is accepted but not started.
    pub pending: bool,
}

impl Agent {
    /// Status and `updatedAt` at `t`. `updatedAt` strictly increases with every visible
    /// transition (+1 ms when two fall in the same millisecond), so clients can rely on it moving.
    pub fn snapshot(&self, t: u64) -> Snapshot {
        let mut status = Status::Waiting;
        let mut shown: Option<u64> = None;
        for turn in self.turns.iter().filter(|x| x.start_ms <= t) {
            for (at, s) in turn.transitions().into_iter().filter(|(at, _)| *at <= t) {
                shown = Some(match shown {
                    Some(prev) => at.max(prev + 1),
                    None => at,
                });
                status = s;
            }
        }
        let pending = self.turns.last().is_some_and(|x| x.start_ms > t);
        Snapshot {
            status,
            updated_ms: shown.unwrap_or(self.created_ms),
            pending,
        }
    }

    fn answer_for(&self, turn: &Turn) -> String {
        let files: Vec<String> = if self.inputs.is_empty() {
            self.files.iter().map(|f| f.name.clone()).collect()
        } else {
            Vec::new()
        };
        answer(&AnswerInput {
            turn: turn.number,
            prompt: turn.prompt.as_deref(),
            image_types: &turn.image_types,
            files: &files,
            workflow: self.workflow.as_ref().map(|(_, n)| n.as_str()),
            inputs: &self.inputs,
        })
    }

    /// Rows of one turn (all of them, with their appearance times).
    pub fn rows(&self, turn: &Turn) -> Vec<Row> {
        let user_text = match (&turn.prompt, &self.workflow) {
            (Some(p), _) => p.clone(),
            (None, Some((_, name))) => format!("Run workflow {name}"),
            (None, None) => String::new(),
        };
        let mut rows = vec![Row {
            at: turn.start_ms,
            kind: "user",
            name: None,
            text: user_text,
        }];
        let mut running_seen = false;
        for (at, s) in turn.transitions() {
            match s {
                Status::Running if !running_seen => {
                    running_seen = true;
                    rows.push(Row {
                        at,
                        kind: "tool",
                        name: Some("plan"),
                        text: String::new(),
                    });
                    if !self.files.is_empty() {
                        let names: Vec<&str> = self.files.iter().map(|f| f.name.as_str()).collect();
                        let text = format!("Read {}", names.join(", "));
                        rows.push(Row {
                            at,
                            kind: "tool",
                            name: Some("read_files"),
                            text,
                        });
                    }
                }
                Status::AwaitingTool => rows.push(Row {
                    at,
                    kind: "tool",
                    name: Some("external_lookup"),
                    text: "Waiting for an external tool result".into(),
                }),
                Status::Finished => {
                    rows.push(Row {
                        at,
                        kind: "assistant",
                        name: None,
                        text: self.answer_for(turn),
                    });
                    self.push_trailing(turn, at, &mut rows);
                }
                Status::Failed => {
                    rows.push(Row {
                        at,
                        kind: "error",
                        name: None,
                        text: "The agent failed: scripted failure ([fail] marker)".into(),
                    });
                    self.push_trailing(turn, at, &mut rows);
                }
                _ => {}
            }
        }
        rows
    }

    fn push_trailing(&self, turn: &Turn, at: u64, rows: &mut Vec<Row>) {
        if turn.markers.trailing && turn.forced_ms.is_none() {
            rows.push(Row {
                at,
                kind: "tool",
                name: Some("cleanup"),
                text: String::new(),
            });
            rows.push(Row {
                at,
                kind: "error",
                name: None,
                text: "Post-processing warning after the answer (scripted [trailing] row)".into(),
            });
        }
    }

    /// `{messages: [...]}` at `t`.
    pub fn conversation_json(&self, t: u64) -> Value {
        let mut messages = Vec::new();
        for turn in self.turns.iter().filter(|x| x.start_ms <= t) {
            for (i, row) in self.rows(turn).into_iter().enumerate() {
                if row.at > t {
                    continue;
                }
                let id = derived_uuid(self.id, u64::from(turn.number) * 1000 + i as u64, row.at);
                let mut m = json!({
                    "id": id, "type": row.kind, "text": row.text,
                    "createdAt": format_rfc3339_ms(row.at),
                });
                if let Some(n) = row.name {
                    m["name"] = json!(n);
                }
                messages.push(m);
            }
        }
        json!({ "messages": messages })
    }

    /// Turns that finished by `t`, with their finish times.
    fn finished_turns(&self, t: u64) -> Vec<(&Turn, u64)> {
        self.turns
            .iter()
            .filter(|x| x.start_ms <= t)
            .filter_map(|x| match x.terminal() {
                Some((at, Status::Finished)) if at <= t => Some((x, at)),
                _ => None,
            })
            .collect()
    }

    /// Artifact metadata at `t`: a document and a table once any turn has finished.
    pub fn artifacts_json(&self, t: u64) -> Vec<Value> {
        let done = self.finished_turns(t);
        let (Some((_, first)), Some((_, last))) = (done.first(), done.last()) else {
            return Vec::new();
        };
        let meta = |id: Uuid, kind: &str, title: &str| {
            json!({
                "id": id, "type": kind, "title": title, "version": done.len(),
                "createdAt": format_rfc3339_ms(*first), "updatedAt": format_rfc3339_ms(*last),
            })
        };
        vec![
            meta(self.artifact_ids.0, "document", "Answer"),
            meta(self.artifact_ids.1, "table", "Turns"),
        ]
    }

    /// Artifact content at `t`: (content type, bytes), or `None` when not (yet) there.
    pub fn artifact_content(&self, artifact: Uuid, t: u64) -> Option<(&'static str, Vec<u8>)> {
        let done = self.finished_turns(t);
        let (last, _) = done.last()?;
        if artifact == self.artifact_ids.0 {
            let mut md = format!(
                "# Answer (turn {})\n\n{}\n",
                last.number,
                self.answer_for(last)
            );
            if !self.files.is_empty() {
                md.push_str("\n## Files\n\n");
                for f in &self.files {
                    md.push_str(&format!("- {}\n", f.name));
                }
            }
            Some(("text/markdown; charset=utf-8", md.into_bytes()))
        } else if artifact == self.artifact_ids.1 {
            let rows: Vec<Value> = done
                .iter()
                .map(|(x, _)| json!([x.number, x.prompt, self.files.len(), x.image_types.len()]))
                .collect();
            let v = json!({ "columns": ["turn", "prompt", "files", "images"], "rows": rows });
            Some((
                "application/json",
                serde_json::to_vec(&v).unwrap_or_default(),
            ))
        } else {
            None
        }
    }

    /// The wire `Agent` at `t`.
    pub fn to_json(&self, t: u64, origin: &str) -> Value {
        self.render(t, self.snapshot(t), origin)
    }

    /// The wire `Agent` as it was before the last turn was added (the 202 of a follow-up).
    pub fn render(&self, t: u64, snap: Snapshot, origin: &str) -> Value {
        let summary = self
            .finished_turns(t)
            .last()
            .map(|(x, _)| self.answer_for(x));
        let error = (snap.status == Status::Failed)
            .then_some("The agent failed: scripted failure ([fail] marker)");
        json!({
            "id": self.id,
            "status": snap.status.as_str(),
            "workflowId": self.workflow.as_ref().map(|(id, _)| *id),
            "projectId": self.project_id,
            "artifacts": self.artifacts_json(t),
            "files": self.files.iter().map(|f| json!({
                "id": f.id, "name": f.name, "mimeType": f.mime_type,
            })).collect::<Vec<_>>(),
            "createdAt": format_rfc3339_ms(self.created_ms),
            "updatedAt": format_rfc3339_ms(snap.updated_ms),
            "url": format!("{origin}/assistant/{}", self.id),
            "summary": summary,
            "error": error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc() -> LifecycleConfig {
        LifecycleConfig::default()
    }

    fn agent(prompt: &str) -> Agent {
        Agent {
            id: Uuid::from_u128(1),
            owner: "u".into(),
            workflow: None,
            project_id: Uuid::from_u128(2),
            files: vec![],
            inputs: vec![],
            created_ms: 1000,
            turns: vec![Turn::schedule(
                1,
                Some(prompt.into()),
                vec![],
                1000,
                &lc(),
                TimeScale::REAL,
            )],
            deleted: false,
            artifact_ids: (Uuid::from_u128(3), Uuid::from_u128(4)),
        }
    }

    #[test]
    fn plain_timeline() {
        let a = agent("hi");
        assert_eq!(a.snapshot(1000).status, Status::Waiting);
        assert_eq!(a.snapshot(1499).status, Status::Waiting);
        assert_eq!(a.snapshot(1500).status, Status::Running);
        assert_eq!(a.snapshot(3499).status, Status::Running);
        let s = a.snapshot(3500);
        assert_eq!((s.status, s.updated_ms), (Status::Finished, 3500));
        assert_eq!(a.artifacts_json(3499).len(), 0);
        assert_eq!(a.artifacts_json(3500).len(), 2);
    }

    #[test]
    fn markers_shape_the_timeline() {
        let a = agent("x [tool]");
        assert_eq!(a.snapshot(2500).status, Status::AwaitingTool);
        assert_eq!(a.snapshot(3500).status, Status::Running);
        assert_eq!(a.snapshot(4500).status, Status::Finished);
        let f = agent("x [fail]");
        assert_eq!(f.snapshot(3500).status, Status::Failed);
        assert!(f.to_json(3500, "o")["error"].is_string());
        let n = agent("x [never]");
        assert_eq!(n.snapshot(10_000_000).status, Status::Running);
        let s = agent("x [slow]");
        assert_eq!(s.snapshot(5999).status, Status::Waiting);
    }

    #[test]
    fn stop_and_force_cut_the_timeline() {
        let mut a = agent("x [never]");
        a.turns[0].stopped_ms = Some(2000);
        assert_eq!(a.snapshot(1999).status, Status::Running);
        assert_eq!(a.snapshot(2000).status, Status::Stopped);
        let mut b = agent("x [never]");
        b.turns[0].forced_ms = Some(1000);
        let s = b.snapshot(1000);
        assert_eq!(s.status, Status::Finished);
        assert_eq!(
            s.updated_ms, 1001,
            "updatedAt moves past the waiting transition"
        );
    }

    #[test]
    fn trailing_rows_follow_the_answer() {
        let a = agent("x [trailing]");
        let c = a.conversation_json(10_000);
        let kinds: Vec<&str> = c["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["user", "tool", "assistant", "tool", "error"]);
        assert_eq!(c, a.conversation_json(10_000), "ids are stable");
    }
}
