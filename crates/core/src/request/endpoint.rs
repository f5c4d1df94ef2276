//! One variant per API route, with its method, tier and resend class.

use http::{Method, StatusCode};

use crate::{RequestKind, Tier};

/// An API endpoint. Every built request carries one in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /agents`
    LaunchAgent,
    /// `GET /agents`
    ListAgents,
    /// `GET /agents/{id}`
    GetAgent,
    /// `GET /agents/{id}/conversation`
    Conversation,
    /// `GET /agents/{id}/artifacts/{artifactId}`
    ArtifactContent,
    /// `POST /agents/{id}/followup`
    FollowUp,
    /// `POST /agents/{id}/stop`
    Stop,
    /// `DELETE /agents/{id}`
    Delete,
    /// `POST /files/upload`
    UploadFile,
    /// `GET /files/search`
    SearchFiles,
    /// `GET /workflows`
    ListWorkflows,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 11] = [
        Endpoint::LaunchAgent,
        Endpoint::ListAgents,
        Endpoint::GetAgent,
        Endpoint::Conversation,
        Endpoint::ArtifactContent,
        Endpoint::FollowUp,
        Endpoint::Stop,
        Endpoint::Delete,
        Endpoint::UploadFile,
        Endpoint::SearchFiles,
        Endpoint::ListWorkflows,
    ];

    /// The HTTP method.
    pub fn method(self) -> Method {
        match self {
            Endpoint::LaunchAgent | Endpoint::FollowUp | Endpoint::Stop | Endpoint::UploadFile => {
                Method::POST
            }
            Endpoint::Delete => Method::DELETE,
            Endpoint::ListAgents
            | Endpoint::GetAgent
            | Endpoint::Conversation
            | Endpoint::ArtifactContent
            | Endpoint::SearchFiles
            | Endpoint::ListWorkflows => Method::GET,
        }
    }

    /// The route relative to the API root, with `{id}` placeholders (for logs and metrics).
    pub const fn route_template(self) -> &'static str {
        match self {
            Endpoint::LaunchAgent | Endpoint::ListAgents => "/agents",
            Endpoint::GetAgent | Endpoint::Delete => "/agents/{id}",
            Endpoint::Conversation => "/agents/{id}/conversation",
            Endpoint::ArtifactContent => "/agents/{id}/artifacts/{artifactId}",
            Endpoint::FollowUp => "/agents/{id}/followup",
            Endpoint::Stop => "/agents/{id}/stop",
            Endpoint::UploadFile => "/files/upload",
            Endpoint::SearchFiles => "/files/search",
            Endpoint::ListWorkflows => "/workflows",
        }
    }

    /// The rate tier it draws from (`docs/wire.md`).
    pub const fn tier(self) -> Tier {
        match self {
            Endpoint::LaunchAgent | Endpoint::FollowUp | Endpoint::UploadFile => Tier::Heavy,
            Endpoint::Stop | Endpoint::Delete => Tier::Write,
            Endpoint::ListAgents
            | Endpoint::GetAgent
            | Endpoint::Conversation
            | Endpoint::ArtifactContent
            | Endpoint::SearchFiles
            | Endpoint::ListWorkflows => Tier::Standard,
        }
    }

    /// Whether a copy may be resent when no usable response came back.
    pub const fn kind(self) -> RequestKind {
        match self {
            Endpoint::LaunchAgent => RequestKind::Launch,
            Endpoint::FollowUp => RequestKind::FollowUp,
            Endpoint::UploadFile => RequestKind::Upload,
            Endpoint::Stop | Endpoint::Delete => RequestKind::IdempotentWrite,
            Endpoint::ListAgents
            | Endpoint::GetAgent
            | Endpoint::Conversation
            | Endpoint::ArtifactContent
            | Endpoint::SearchFiles
            | Endpoint::ListWorkflows => RequestKind::Read,
        }
    }

    /// The status a success returns (`docs/wire.md`).
    pub fn success_status(self) -> StatusCode {
        match self {
            Endpoint::LaunchAgent | Endpoint::UploadFile => StatusCode::CREATED,
            Endpoint::FollowUp => StatusCode::ACCEPTED,
            Endpoint::Delete => StatusCode::NO_CONTENT,
            _ => StatusCode::OK,
        }
    }

    /// A stable snake_case name, for logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Endpoint::LaunchAgent => "launch_agent",
            Endpoint::ListAgents => "list_agents",
            Endpoint::GetAgent => "get_agent",
            Endpoint::Conversation => "conversation",
            Endpoint::ArtifactContent => "artifact_content",
            Endpoint::FollowUp => "follow_up",
            Endpoint::Stop => "stop",
            Endpoint::Delete => "delete",
            Endpoint::UploadFile => "upload_file",
            Endpoint::SearchFiles => "search_files",
            Endpoint::ListWorkflows => "list_workflows",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_wire_contract() {
        let heavy: Vec<_> = Endpoint::ALL
            .iter()
            .filter(|e| e.tier() == Tier::Heavy)
            .copied()
            .collect();
        assert_eq!(
            heavy,
            [
                Endpoint::LaunchAgent,
                Endpoint::FollowUp,
                Endpoint::UploadFile
            ]
        );
        assert_eq!(Endpoint::Stop.tier(), Tier::Write);
        assert_eq!(Endpoint::Delete.tier(), Tier::Write);
        assert_eq!(Endpoint::SearchFiles.tier(), Tier::Standard);
    }

    #[test]
    fn kinds_match_methods() {
        for e in Endpoint::ALL {
            if e.method() == Method::GET {
                assert_eq!(e.kind(), RequestKind::Read, "{e:?}");
            } else {
                assert_ne!(e.kind(), RequestKind::Read, "{e:?}");
            }
            assert!(e.route_template().starts_with('/'));
        }
        assert!(Endpoint::LaunchAgent.kind().is_non_idempotent());
        assert!(!Endpoint::Delete.kind().is_non_idempotent());
        assert_eq!(Endpoint::FollowUp.success_status(), StatusCode::ACCEPTED);
        assert_eq!(Endpoint::Delete.success_status(), StatusCode::NO_CONTENT);
    }
}
