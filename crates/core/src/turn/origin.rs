//! How a turn started, and the request each of its operations sends.

use bytes::Bytes;

use super::race::Snapshot;
use super::slot::Op;
use crate::request::ApiBase;
use crate::wire::{AgentId, Prompt};

/// How the turn started.
#[derive(Debug)]
pub(super) enum Origin {
    Launch {
        request: http::Request<Bytes>,
    },
    FollowUp {
        request: http::Request<Bytes>,
        prompt: Prompt,
        /// The agent as it was before the follow-up: the previous turn's state.
        prior: Snapshot,
    },
    Attach,
}

impl Origin {
    /// The request `op` sends, or `None` when it needs an agent id not known yet (cannot happen
    /// by construction) or the turn did not start that way.
    pub(super) fn request(
        &self,
        op: Op,
        base: &ApiBase,
        agent_id: Option<AgentId>,
    ) -> Option<http::Request<Bytes>> {
        match (op, self) {
            (Op::Launch, Origin::Launch { request }) => Some(crate::request::duplicate(request)),
            (Op::FollowUp, Origin::FollowUp { request, .. }) => {
                Some(crate::request::duplicate(request))
            }
            (Op::GetAgent, _) => agent_id.map(|id| crate::request::get_agent(base, &id)),
            (Op::Conversation, _) => agent_id.map(|id| crate::request::conversation(base, &id)),
            (Op::Stop, _) => agent_id.map(|id| crate::request::stop(base, &id)),
            _ => None,
        }
    }

    /// The follow-up's prompt text: the turn's answer must follow it.
    pub(super) fn prompt(&self) -> Option<&str> {
        match self {
            Origin::FollowUp { prompt, .. } => Some(&prompt.text),
            _ => None,
        }
    }

    /// The state recorded before a follow-up.
    pub(super) fn prior(&self) -> Option<&Snapshot> {
        match self {
            Origin::FollowUp { prior, .. } => Some(prior),
            _ => None,
        }
    }
}
