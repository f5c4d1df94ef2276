//! Workflows: prompt-driven (no slots) and file-slot ones.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::{SlotConfig, WorkflowConfig};

/// A registered workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// File input slots (empty: prompt-driven).
    pub inputs: Vec<SlotConfig>,
}

impl Workflow {
    /// The wire object.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "inputs": self.inputs.iter().map(|s| json!({
                "name": s.name, "description": s.description,
                "required": s.required, "multiple": s.multiple,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Id of the seeded prompt-driven workflow.
pub const SUMMARIZE_ID: Uuid = Uuid::from_u128(0x019a0000_0000_7000_8000_000000000001);
/// Id of the seeded file-slot workflow.
pub const SUBMITTAL_REVIEW_ID: Uuid = Uuid::from_u128(0x019a0000_0000_7000_8000_000000000002);

/// The built-in workflows.
pub fn seeded() -> Vec<WorkflowConfig> {
    vec![
        WorkflowConfig {
            id: Some(SUMMARIZE_ID),
            name: "Summarize documents".into(),
            description: "Prompt-driven: summarises whatever the prompt asks for.".into(),
            inputs: vec![],
        },
        WorkflowConfig {
            id: Some(SUBMITTAL_REVIEW_ID),
            name: "Submittal review".into(),
            description: "Reviews a submittal against the specifications.".into(),
            inputs: vec![
                SlotConfig {
                    name: "submittal".into(),
                    description: "The submittal package".into(),
                    required: true,
                    multiple: false,
                },
                SlotConfig {
                    name: "specifications".into(),
                    description: "Specification sections".into(),
                    required: false,
                    multiple: true,
                },
            ],
        },
    ]
}
