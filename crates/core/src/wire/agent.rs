//! The agent object.

use serde::{Deserialize, Serialize};

use super::{AgentId, AgentStatus, ArtifactMeta, FileId, ProjectId, Timestamp, WorkflowId};

/// A background agent as `GET /agents/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Agent {
    /// The agent's id.
    pub id: AgentId,
    /// Its current status.
    pub status: AgentStatus,
    /// The workflow it runs, if any.
    #[serde(default)]
    pub workflow_id: Option<WorkflowId>,
    /// The project it belongs to.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    /// Artifacts produced so far (empty when absent).
    #[serde(default)]
    pub artifacts: Vec<ArtifactMeta>,
    /// Files attached to the agent (empty when absent).
    #[serde(default)]
    pub files: Vec<AgentFile>,
    /// When the agent was created (empty when absent).
    #[serde(default)]
    pub created_at: Timestamp,
    /// Moves on every status change and when a new turn starts, not when a follow-up is
    /// accepted (empty when absent).
    #[serde(default)]
    pub updated_at: Timestamp,
    /// A link to the agent in the Platform UI.
    #[serde(default)]
    pub url: Option<String>,
    /// A short summary of the run.
    #[serde(default)]
    pub summary: Option<String>,
    /// The error message when the agent failed.
    #[serde(default)]
    pub error: Option<String>,
}

impl Agent {
    /// A minimal agent, for tests and for callers that only know an id and a status.
    pub fn new(id: AgentId, status: AgentStatus) -> Self {
        Agent {
            id,
            status,
            workflow_id: None,
            project_id: None,
            artifacts: Vec::new(),
            files: Vec::new(),
            created_at: Timestamp::default(),
            updated_at: Timestamp::default(),
            url: None,
            summary: None,
            error: None,
        }
    }
}

/// A file attached to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AgentFile {
    /// The file id.
    pub id: FileId,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its MIME type, when known.
    #[serde(default)]
    pub mime_type: Option<String>,
}
