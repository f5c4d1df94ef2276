//! How a turn started, and the request each of its operations sends.

use bytes::Bytes;

use super::race::{self, Snapshot};
use super::slot::Op;
use crate::request::ApiBase;
use crate::wire::{AgentId, Conversation, Prompt};

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
    /// A follow-up sent elsewhere, waited on from its ticket: no request of its own, the same
    /// race rules as [`Origin::FollowUp`] (the prompt known by its fingerprint only).
    Resumed {
        prompt_fp: u64,
        prior: Snapshot,
    },
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

    /// The answer this turn reports from `conv`: for a follow-up (sent here or resumed), only
    /// the answer to its own prompt, so the previous turn's answer cannot leak through.
    pub(super) fn answer(&self, conv: &Conversation) -> Option<String> {
        match self {
            Origin::FollowUp { prompt, .. } => race::answered(conv, &prompt.text),
            Origin::Resumed { prompt_fp, .. } => race::answered_fp(conv, *prompt_fp),
            Origin::Launch { .. } | Origin::Attach => crate::answer::final_answer(conv),
        }
    }

    /// The state recorded before a follow-up.
    pub(super) fn prior(&self) -> Option<&Snapshot> {
        match self {
            Origin::FollowUp { prior, .. } | Origin::Resumed { prior, .. } => Some(prior),
            _ => None,
        }
    }
}
