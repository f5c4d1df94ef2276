//! Request builders: the API root, one [`Endpoint`] per route, and functions that turn wire
//! types into `http::Request`s.
//!
//! Every request carries its [`Endpoint`] (and the [`AgentId`](crate::wire::AgentId) when
//! there is one) in its extensions, so transport layers can read the rate tier, route and
//! resend class without parsing the URI. No builder sets `Authorization`: the transport adds
//! the key.

mod base;
mod build;
mod copy;
mod endpoint;
mod query;

pub use base::{ApiBase, InvalidBaseUrl};
pub use build::{
    artifact_content, conversation, delete, follow_up, get_agent, launch, list_agents,
    list_workflows, search_files, stop, upload_head,
};
pub use copy::duplicate;
pub use endpoint::Endpoint;
pub use query::{percent_decode, percent_encode};
