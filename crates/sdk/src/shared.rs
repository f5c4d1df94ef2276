//! [`Shared`]: the one narrow type every handle of a client shares — the transport, the API
//! root, the turn settings, the workflow cache, the seed source — and the one way a request is
//! sent and its failure turned into an [`Error`]. `Client`, `Agent`, the driver, uploads,
//! sessions and fleets reach the server through it, never through each other.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use nomic_agent_core::policy::retry::RetryConfig;
use nomic_agent_core::request::ApiBase;
use nomic_agent_core::turn::{Ticket, TurnConfig};
use nomic_agent_core::wire::{AgentId, Workflow, WorkflowId};
use nomic_agent_transport::{OutcomeUnknown, Transport};

use crate::error::Error;

/// What the handles of one client share.
pub(crate) struct Shared {
    pub(crate) transport: Transport,
    pub(crate) base: ApiBase,
    pub(crate) turn_cfg: Arc<TurnConfig>,
    /// The client's retry rules, for the requests the SDK resends itself (path uploads).
    pub(crate) retry: RetryConfig,
    workflows: Mutex<HashMap<WorkflowId, Workflow>>,
    /// The latest turn ticket this client issued (or resumed) per agent, so an id-only
    /// handle waits on that turn rather than taking a stale `finished` for it.
    tickets: Mutex<HashMap<AgentId, Ticket>>,
    seeds: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        transport: Transport,
        base: ApiBase,
        turn_cfg: Arc<TurnConfig>,
        retry: RetryConfig,
    ) -> Shared {
        // The builder's explicit seed, or a random one: runs with an explicit seed repeat.
        let seed = turn_cfg.seed;
        Shared {
            transport,
            base,
            turn_cfg,
            retry,
            workflows: Mutex::new(HashMap::new()),
            tickets: Mutex::new(HashMap::new()),
            seeds: AtomicU64::new(seed),
        }
    }

    /// A seed for one turn, multipart boundary or planner: distinct per call.
    pub(crate) fn next_seed(&self) -> u64 {
        // Mixing keeps consecutive seeds far apart.
        let n = self
            .seeds
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        n ^ (n >> 31)
    }

    /// Remembers listed workflows, so later launches can check their slot names.
    pub(crate) fn remember_workflows(&self, workflows: &[Workflow]) {
        let mut cache = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        for wf in workflows {
            cache.insert(wf.id, wf.clone());
        }
    }

    /// A workflow seen in a listing, if any.
    pub(crate) fn cached_workflow(&self, id: &WorkflowId) -> Option<Workflow> {
        self.workflows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Records `ticket` as the latest turn of its agent known to this client.
    pub(crate) fn record_ticket(&self, ticket: &Ticket) {
        let mut map = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(ticket.agent_id(), ticket.clone());
    }

    /// The latest turn of `id` this client knows of, if any.
    pub(crate) fn latest_ticket(&self, id: &AgentId) -> Option<Ticket> {
        let map = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).cloned()
    }

    /// Sends a buffered request; any non-2xx becomes the matching [`Error`].
    pub(crate) async fn send(
        &self,
        req: Request<Bytes>,
        what: &str,
    ) -> Result<Response<Bytes>, Error> {
        self.send_about(req, || what.to_owned()).await
    }

    /// [`Shared::send`] with the description built only when it is needed (an error), so the
    /// success path allocates nothing for it.
    pub(crate) async fn send_about(
        &self,
        req: Request<Bytes>,
        what: impl FnOnce() -> String,
    ) -> Result<Response<Bytes>, Error> {
        let resp = self
            .transport
            .send_buffered(req)
            .await
            .map_err(|e| Error::from_transport(e, false))?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(error_for(&resp, &what()))
        }
    }
}

/// The error for a final non-2xx response about `what`.
pub(crate) fn error_for(resp: &Response<Bytes>, what: &str) -> Error {
    if resp.extensions().get::<OutcomeUnknown>().is_some() && what == "launch" {
        return Error::LaunchOutcomeUnknown;
    }
    Error::from_response(resp, what)
}

/// How an error names an agent.
pub(crate) fn agent_what(id: &AgentId) -> String {
    format!("agent {id}")
}
