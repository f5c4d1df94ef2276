//! Takes core's `request::Endpoint` (and `wire::AgentId`) from a request's extensions.

use http::Extensions;
use nomic_agent_core::request::Endpoint;
use nomic_agent_core::wire::AgentId;

use crate::meta::RequestMeta;

/// The metadata of a request built by core, taken out of its extensions (so copies made for
/// retries do not carry it), or `None` for a custom call.
pub(crate) fn take_from_extensions(ext: &mut Extensions) -> Option<RequestMeta> {
    let endpoint = ext.remove::<Endpoint>()?;
    Some(RequestMeta {
        tier: endpoint.tier(),
        kind: endpoint.kind(),
        route: endpoint.route_template(),
        agent_id: ext.remove::<AgentId>(),
    })
}
