//! Wire types: the JSON bodies the Nomic Agent API sends and accepts, as `docs/wire.md` fixes them.
//!
//! Decoding is lenient (unknown fields are ignored, unknown enum values are kept), encoding is
//! exact (camelCase, empty collections omitted). The `decode_*` functions never panic on any input
//! and return a [`DecodeError`] that carries a short reason, never the body itself.

/// `Serialize` and an object-only `Deserialize` for a request body type whose derives carry
/// `#[serde(remote = "Self")]`. A derived struct also decodes from a JSON array (fields by
/// position, so `[]` became an empty launch); the API takes objects only, and so does
/// `validate_launch_json`, so the typed decode refuses arrays too (found by fuzzing:
/// `fuzz/regressions/validate/crash-97d170e1…`).
macro_rules! object_only_serde {
    ($t:ident, $expecting:literal) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                // The inherent (derived, `remote = "Self"`) method.
                $t::serialize(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectOnly;
                impl<'de> serde::de::Visitor<'de> for ObjectOnly {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$t, A::Error> {
                        $t::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(ObjectOnly)
            }
        }
    };
}

mod agent;
mod artifact;
mod conversation;
mod decode;
mod envelope;
mod error_body;
mod files;
mod ids;
mod launch;
mod list;
mod page;
mod prompt;
mod status;
mod str_de;
mod timestamp;
mod workflow;

pub use agent::{Agent, AgentFile};
pub use artifact::{
    ArtifactContent, ArtifactKind, ArtifactMeta, NotANumber, Table, TableCell, TableNumber,
};
pub use conversation::{Conversation, Message, Role};
pub use decode::{
    DecodeError, DecodeErrorKind, decode_agent, decode_agent_page, decode_conversation,
    decode_file_page, decode_uploaded_file, decode_workflow_page,
};
pub use envelope::DataEnvelope;
pub use error_body::{ApiErrorBody, ApiIssue, PathSegment, decode_error_body};
pub use files::{FileHit, FileSearchQuery, UploadedFile};
pub use ids::{AgentId, ArtifactId, FileId, InvalidId, ProjectId, WorkflowId};
pub use launch::{FollowUpRequest, LaunchRequest};
pub use list::ListAgentsQuery;
pub use page::Page;
pub use prompt::{Image, MAX_IMAGE_BYTES, MAX_IMAGES, MediaType, Prompt};
pub use status::AgentStatus;
pub use timestamp::Timestamp;
pub use workflow::{ListWorkflowsQuery, Workflow, WorkflowSlot};
