//! List queries.

use super::{AgentStatus, WorkflowId};

/// Query parameters of `GET /agents`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListAgentsQuery {
    /// Page size, 1–100 (server default 20).
    pub limit: Option<u32>,
    /// The cursor from the previous page.
    pub cursor: Option<String>,
    /// Only agents in one of these statuses (sent comma-separated).
    pub status: Vec<AgentStatus>,
    /// Only agents running this workflow.
    pub workflow_id: Option<WorkflowId>,
}

impl ListAgentsQuery {
    /// An empty query (server defaults).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues from a cursor.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Adds a status to the filter.
    pub fn status(mut self, status: AgentStatus) -> Self {
        self.status.push(status);
        self
    }

    /// Filters by workflow.
    pub fn workflow(mut self, id: WorkflowId) -> Self {
        self.workflow_id = Some(id);
        self
    }
}
