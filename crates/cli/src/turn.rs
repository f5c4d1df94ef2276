//! Waiting for a turn (`run`, `followup`, `wait`) and reporting how it ended.

use std::path::Path;

use futures_util::StreamExt;
use nomic_agent::{Agent, AgentStatus, TurnOutcome};
use serde::Serialize;

use crate::console::Console;
use crate::exit::{CliError, Exit};
use crate::progress::StatusDisplay;
use crate::save;

/// The `--json` document of `run`, `followup` and `wait` (a contract: `docs/cli.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnDoc {
    /// The agent id.
    pub agent_id: String,
    /// The status: terminal after waiting, the current one with `--no-wait`.
    pub status: String,
    /// This turn's answer, or null.
    pub answer: Option<String>,
    /// The agent's artifacts.
    pub artifacts: Vec<ArtifactDoc>,
    /// The Platform UI deep link.
    pub url: String,
    /// With `--no-wait`: the turn's ticket, for `wait --ticket` (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// One artifact in a [`TurnDoc`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArtifactDoc {
    /// The artifact id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// `document`, `table`, …
    #[serde(rename = "type")]
    pub kind: String,
}

impl TurnDoc {
    /// The document for a finished (or failed, or stopped) turn.
    pub fn from_outcome(o: &TurnOutcome, url: String) -> TurnDoc {
        TurnDoc::from_agent(&o.agent, o.answer.clone(), url)
    }

    /// The document for an agent as last seen, with `answer`.
    pub fn from_agent(a: &nomic_agent::AgentInfo, answer: Option<String>, url: String) -> TurnDoc {
        TurnDoc {
            agent_id: a.id.to_string(),
            status: a.status.to_string(),
            answer,
            artifacts: a
                .artifacts
                .iter()
                .map(|m| ArtifactDoc {
                    id: m.id.to_string(),
                    title: m.title.clone(),
                    kind: m.kind.to_string(),
                })
                .collect(),
            url,
            ticket: None,
        }
    }
}

/// The agent's deep link: the server's `url` when it sent one, else `{origin}/assistant/{id}`.
pub fn url_of(agent: &Agent, info: &nomic_agent::AgentInfo) -> String {
    info.url.clone().unwrap_or_else(|| agent.url())
}

/// Waits for the agent's current turn, showing its status changes, and returns the outcome.
pub async fn wait_shown(agent: &Agent, console: &Console) -> Result<TurnOutcome, CliError> {
    let shown = StatusDisplay::start(console, &agent.id().to_string(), &agent.url());
    let mut changes = std::pin::pin!(agent.watch());
    while let Some(change) = changes.next().await {
        shown.update(&change?.to);
    }
    let outcome = agent.wait().await?;
    shown.finish();
    tracing::debug!(status = %outcome.status, secs = shown.elapsed(), "turn ended");
    Ok(outcome)
}

/// Prints an outcome (answer on stdout; status, artifacts and errors on stderr; or the JSON
/// document) and returns the exit it means. In human mode the artifacts are saved under
/// `artifacts_dir/<agent id>/`, named after their titles.
pub async fn report(
    agent: &Agent,
    outcome: &TurnOutcome,
    console: &Console,
    artifacts_dir: &Path,
) -> Result<Exit, CliError> {
    let url = url_of(agent, &outcome.agent);
    let exit = Exit::for_status(&outcome.status);
    if console.json {
        console.document(&TurnDoc::from_outcome(outcome, url))?;
        if let Some(e) = &outcome.error {
            console.always_note(&format!("agent {}: {e}", outcome.status));
        }
        return Ok(exit);
    }
    match &outcome.status {
        AgentStatus::Finished => console.note(&format!("agent {} finished", agent.id())),
        other => console.note(&format!(
            "agent {} {other}{}",
            agent.id(),
            outcome
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )),
    }
    if let Some(answer) = &outcome.answer {
        console.out(answer);
    }
    if !outcome.artifacts.is_empty() {
        let dir = artifacts_dir.join(agent.id().to_string());
        let saved = save::save_all(agent.client(), agent.id(), &outcome.artifacts, &dir).await?;
        for (meta, path) in outcome.artifacts.iter().zip(&saved) {
            console.note(&format!(
                "artifact \"{}\" ({}) saved to {}",
                meta.title,
                meta.kind,
                path.display()
            ));
        }
    }
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomic_agent::{AgentId, AgentInfo};

    #[test]
    fn document_has_exactly_the_contract_keys() {
        let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let info: AgentInfo = serde_json::from_value(serde_json::json!({
            "id": id.to_string(),
            "status": "finished",
            "artifacts": [{"id": "019abc12-3456-7890-abcd-ef1234567891", "type": "table",
                           "title": "Issues", "version": 1}],
        }))
        .unwrap();
        let doc = TurnDoc::from_agent(&info, Some("42".into()), "https://x/assistant/1".into());
        let v = serde_json::to_value(&doc).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["agentId", "answer", "artifacts", "status", "url"]);
        assert_eq!(v["artifacts"][0]["type"], "table");
        assert_eq!(v["artifacts"][0]["title"], "Issues");
        assert_eq!(v["answer"], "42");
    }
}
