//! Launch and follow-up request bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FileId, Image, ProjectId, Prompt, WorkflowId};

/// The body of `POST /agents`.
///
/// Build it with [`LaunchRequest::prompt`] (a simple or prompt-driven agent) or
/// [`LaunchRequest::workflow_inputs`] (a file-slot workflow), then chain the setters.
/// Empty `fileIds` and `inputs` are omitted from the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[non_exhaustive]
pub struct LaunchRequest {
    /// The instruction (absent for file-slot workflows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
    /// The workflow to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<WorkflowId>,
    /// The project to scope the agent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    /// Files and folders a simple agent may read (not with a workflow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_ids: Vec<FileId>,
    /// Slot name to file ids, for file-slot workflows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, Vec<FileId>>,
}

object_only_serde!(LaunchRequest, "a launch request object");

impl LaunchRequest {
    /// A launch with a text prompt.
    pub fn prompt(text: impl Into<String>) -> Self {
        LaunchRequest {
            prompt: Some(Prompt::new(text)),
            ..LaunchRequest::default()
        }
    }

    /// A launch of a file-slot workflow; add slots with [`LaunchRequest::input`].
    pub fn workflow_inputs(workflow_id: WorkflowId) -> Self {
        LaunchRequest {
            workflow_id: Some(workflow_id),
            ..LaunchRequest::default()
        }
    }

    /// Adds an inline image to the prompt (creating an empty prompt if there is none, which
    /// validation then reports as empty text).
    pub fn image(mut self, image: Image) -> Self {
        self.prompt
            .get_or_insert_with(Prompt::default)
            .images
            .push(image);
        self
    }

    /// Adds a file the agent may read.
    pub fn file(mut self, id: FileId) -> Self {
        self.file_ids.push(id);
        self
    }

    /// Runs a workflow.
    pub fn workflow(mut self, id: WorkflowId) -> Self {
        self.workflow_id = Some(id);
        self
    }

    /// Adds a file to a workflow slot.
    pub fn input(mut self, slot: impl Into<String>, id: FileId) -> Self {
        self.inputs.entry(slot.into()).or_default().push(id);
        self
    }

    /// Scopes the agent to a project.
    pub fn project(mut self, id: ProjectId) -> Self {
        self.project_id = Some(id);
        self
    }
}

/// The body of `POST /agents/{id}/followup`. There is no `fileIds` field: follow-ups do not
/// accept files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct FollowUpRequest {
    /// The next instruction.
    pub prompt: Prompt,
}

object_only_serde!(FollowUpRequest, "a follow-up request object");

impl FollowUpRequest {
    /// A follow-up with this prompt.
    pub fn new(prompt: impl Into<Prompt>) -> Self {
        FollowUpRequest {
            prompt: prompt.into(),
        }
    }
}

impl From<Prompt> for FollowUpRequest {
    fn from(prompt: Prompt) -> Self {
        FollowUpRequest { prompt }
    }
}
