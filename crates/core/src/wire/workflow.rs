//! Workflows and their file slots.

use serde::{Deserialize, Serialize};

use super::WorkflowId;

/// A workflow template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Workflow {
    /// The id to pass as `workflowId`.
    pub id: WorkflowId,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Declared file slots; empty for a prompt-driven workflow.
    #[serde(default)]
    pub inputs: Vec<WorkflowSlot>,
}

impl Workflow {
    /// A workflow with the given slots (none: prompt-driven).
    pub fn new(id: WorkflowId, name: impl Into<String>, inputs: Vec<WorkflowSlot>) -> Self {
        Workflow {
            id,
            name: name.into(),
            description: None,
            inputs,
        }
    }

    /// True when the workflow declares file slots (it takes `inputs`, not `prompt`).
    pub fn is_file_slot(&self) -> bool {
        !self.inputs.is_empty()
    }

    /// The slot with this name.
    pub fn slot(&self, name: &str) -> Option<&WorkflowSlot> {
        self.inputs.iter().find(|s| s.name == name)
    }
}

/// A declared file slot of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WorkflowSlot {
    /// The key used in `inputs`.
    pub name: String,
    /// What belongs in it.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether a launch must fill it (false when absent).
    #[serde(default)]
    pub required: bool,
    /// Whether it takes several files (false when absent).
    #[serde(default)]
    pub multiple: bool,
}

impl WorkflowSlot {
    /// A slot.
    pub fn new(name: impl Into<String>, required: bool, multiple: bool) -> Self {
        WorkflowSlot {
            name: name.into(),
            description: None,
            required,
            multiple,
        }
    }
}

/// Query parameters of `GET /workflows`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListWorkflowsQuery {
    /// Page size, 1–100 (server default 20).
    pub limit: Option<u32>,
    /// The cursor from the previous page.
    pub cursor: Option<String>,
}

impl ListWorkflowsQuery {
    /// An empty query.
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
}
