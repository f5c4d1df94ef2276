//! Commands on existing agents: `status`, `conversation`, `answer`, `artifacts`, `stop`,
//! `delete`, `list`. With `--json` each prints the API object(s) as returned.

use futures_util::TryStreamExt;
use nomic_agent::{AgentId, AgentInfo, AgentStatus, ListAgentsQuery, Role};
use nomic_agent_core::answer::final_answer;
use serde_json::json;

use super::Ctx;
use crate::args::{ArtifactsArgs, ListArgs};
use crate::exit::{CliError, Exit};
use crate::inputs;
use crate::save;

/// The statuses `--status` accepts.
const STATUSES: [&str; 6] = [
    "waiting",
    "running",
    "awaiting_tool",
    "finished",
    "stopped",
    "failed",
];

fn agent_id(raw: &str) -> Result<AgentId, CliError> {
    inputs::id("agent id", raw)
}

/// One human-readable line per agent.
fn agent_line(a: &AgentInfo) -> String {
    format!("{}  {:<13}  {}", a.id, a.status.as_str(), a.created_at)
}

/// `status`.
pub async fn status(ctx: &Ctx, raw: &str) -> Result<Exit, CliError> {
    let id = agent_id(raw)?;
    let a = ctx.client().get_agent(id).await?;
    ctx.console.document(&a)?;
    let c = &ctx.console;
    c.out(&format!("agent:     {}", a.id));
    c.out(&format!("status:    {}", a.status));
    if let Some(w) = &a.workflow_id {
        c.out(&format!("workflow:  {w}"));
    }
    c.out(&format!("created:   {}", a.created_at));
    c.out(&format!("updated:   {}", a.updated_at));
    c.out(&format!(
        "url:       {}",
        a.url.clone().unwrap_or_else(|| ctx.client().agent_url(&id))
    ));
    for f in &a.files {
        c.out(&format!("file:      {}  {}", f.id, f.name));
    }
    for m in &a.artifacts {
        c.out(&format!("artifact:  {}  {}  {}", m.id, m.kind, m.title));
    }
    if let Some(e) = &a.error {
        c.out(&format!("error:     {e}"));
    }
    Ok(Exit::Success)
}

/// `conversation`.
pub async fn conversation(ctx: &Ctx, raw: &str) -> Result<Exit, CliError> {
    let id = agent_id(raw)?;
    let conv = ctx.client().conversation(id).await?;
    ctx.console.document(&conv)?;
    for m in &conv.messages {
        let who = match (&m.role, &m.name) {
            (Role::Tool, Some(name)) => format!("tool {name}"),
            (role, _) => role.as_str().to_owned(),
        };
        ctx.console.out(&format!("[{who}] {}", m.text));
    }
    Ok(Exit::Success)
}

/// `answer`: the assistant text after the last user row.
pub async fn answer(ctx: &Ctx, raw: &str) -> Result<Exit, CliError> {
    let id = agent_id(raw)?;
    let conv = ctx.client().conversation(id).await?;
    let answer = final_answer(&conv);
    ctx.console
        .document(&json!({"agentId": id.to_string(), "answer": answer}))?;
    match &answer {
        Some(text) => ctx.console.out(text),
        None => ctx.console.note(&format!(
            "agent {id} has no answer to its latest prompt yet (see `nomic-agent status {id}`)"
        )),
    }
    Ok(Exit::Success)
}

/// `artifacts`: list them, or save them into `--out DIR`.
pub async fn artifacts(ctx: &Ctx, a: ArtifactsArgs) -> Result<Exit, CliError> {
    let id = agent_id(&a.agent_id)?;
    if let Some(dir) = &a.out {
        save::prepare_dir(dir)?;
    }
    let info = ctx.client().get_agent(id).await?;
    let saved = match &a.out {
        Some(dir) => Some(save::save_all(ctx.client(), id, &info.artifacts, dir).await?),
        None => None,
    };
    ctx.console.document(&info.artifacts)?;
    match saved {
        Some(paths) => {
            for (m, p) in info.artifacts.iter().zip(&paths) {
                ctx.console.out(&format!("{}  {}", m.title, p.display()));
            }
            if paths.is_empty() {
                ctx.console.note(&format!("agent {id} has no artifacts"));
            }
        }
        None => {
            for m in &info.artifacts {
                ctx.console
                    .out(&format!("{}  {:<8}  {}", m.id, m.kind, m.title));
            }
        }
    }
    Ok(Exit::Success)
}

/// `stop`.
pub async fn stop(ctx: &Ctx, raw: &str) -> Result<Exit, CliError> {
    let id = agent_id(raw)?;
    let a = ctx.client().stop(id).await?;
    ctx.console.document(&a)?;
    ctx.console.out(&format!("agent {id}: {}", a.status));
    Ok(Exit::Success)
}

/// `delete`: the API answers 204 with no body, so `--json` prints `{agentId, deleted}`.
pub async fn delete(ctx: &Ctx, raw: &str) -> Result<Exit, CliError> {
    let id = agent_id(raw)?;
    ctx.client().delete(id).await?;
    ctx.console
        .document(&json!({"agentId": id.to_string(), "deleted": true}))?;
    ctx.console.out(&format!("deleted agent {id}"));
    Ok(Exit::Success)
}

/// Checks `list` flags and builds the query.
fn list_query(a: &ListArgs) -> Result<ListAgentsQuery, CliError> {
    let mut q = ListAgentsQuery::new();
    for raw in &a.statuses {
        let s = raw.trim().to_ascii_lowercase();
        if !STATUSES.contains(&s.as_str()) {
            return Err(CliError::usage(format!(
                "--status {raw:?}: expected one of {}",
                STATUSES.join(", ")
            )));
        }
        q = q.status(AgentStatus::parse(&s));
    }
    if let Some(raw) = &a.workflow {
        q = q.workflow(inputs::id("--workflow", raw)?);
    }
    if let Some(n) = a.limit {
        if !(1..=100).contains(&n) {
            return Err(CliError::usage(format!(
                "--limit {n}: must be between 1 and 100"
            )));
        }
        q = q.limit(n);
    }
    Ok(q)
}

/// `list`: one page, or every page with `--all`.
pub async fn list(ctx: &Ctx, a: ListArgs) -> Result<Exit, CliError> {
    let q = list_query(&a)?;
    let agents: Vec<AgentInfo> = if a.all {
        ctx.client().list_agents(q).try_collect().await?
    } else {
        ctx.client().list_agents_page(&q).await?.data
    };
    ctx.console.document(&agents)?;
    for a in &agents {
        ctx.console.out(&agent_line(a));
    }
    if agents.is_empty() {
        ctx.console.note("no agents match");
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(statuses: &[&str], limit: Option<u32>) -> ListArgs {
        ListArgs {
            statuses: statuses.iter().map(|s| s.to_string()).collect(),
            workflow: None,
            limit,
            all: false,
        }
    }

    #[test]
    fn list_flags_are_checked() {
        let q = list_query(&args(&["Running", "waiting"], Some(5))).unwrap();
        assert_eq!(q.status, [AgentStatus::Running, AgentStatus::Waiting]);
        assert_eq!(q.limit, Some(5));
        assert_eq!(
            list_query(&args(&["done"], None)).unwrap_err().exit,
            Exit::Usage
        );
        assert_eq!(
            list_query(&args(&[], Some(0))).unwrap_err().exit,
            Exit::Usage
        );
        assert_eq!(
            list_query(&args(&[], Some(101))).unwrap_err().exit,
            Exit::Usage
        );
    }
}
