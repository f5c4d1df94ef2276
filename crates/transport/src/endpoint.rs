//! Reads core's `request::Endpoint` (and `wire::AgentId`) from a request's extensions.

use http::Extensions;
use nomic_agent_core::request::Endpoint;
use nomic_agent_core::wire::AgentId;

use crate::meta::RequestMeta;

/// The metadata of a request built by core, or `None` for a custom call.
pub(crate) fn from_extensions(ext: &Extensions) -> Option<RequestMeta> {
    let endpoint = ext.get::<Endpoint>()?;
    Some(RequestMeta {
        tier: endpoint.tier(),
        kind: endpoint.kind(),
        route: endpoint.route_template(),
        agent_id: ext.get::<AgentId>().cloned(),
    })
}
