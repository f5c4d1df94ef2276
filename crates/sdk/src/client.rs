//! [`Client`]: the typed endpoint methods over the transport.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt, stream};
use http::{Request, Response};
use nomic_agent_core::request::{self as build, ApiBase};
use nomic_agent_core::turn::TurnConfig;
use nomic_agent_core::wire::{
    self, AgentId, ArtifactContent, ArtifactId, Conversation, FileHit, FileSearchQuery,
    ListAgentsQuery, ListWorkflowsQuery, Page, Prompt, Workflow, WorkflowId,
};
use nomic_agent_transport::Transport;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::Error;
use crate::shared::{Shared, agent_what, error_for};

/// A client of one Nomic instance with one key.
///
/// Cheap to clone: clones share the connection pool, the per-tier pacing and the retry budget.
#[derive(Clone)]
pub struct Client {
    /// What every handle of this client shares (the agents, sessions and fleets it made).
    pub(crate) inner: Arc<Shared>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// What a workflow launch sends: a prompt (prompt-driven workflows) or file slots.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WorkflowInput {
    /// For a workflow without file slots.
    Prompt(Prompt),
    /// For a file-slot workflow: slot name → file ids.
    Inputs(Vec<(String, Vec<wire::FileId>)>),
}

impl Client {
    pub(crate) fn assemble(
        transport: Transport,
        base: ApiBase,
        turn_cfg: Arc<TurnConfig>,
    ) -> Client {
        Client {
            inner: Arc::new(Shared::new(transport, base, turn_cfg)),
        }
    }

    /// The API root, e.g. `https://acme.nomic.ai/api/v0`.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The Platform UI link of an agent: `{origin}/assistant/{id}`.
    pub fn agent_url(&self, id: &AgentId) -> String {
        self.inner.base.agent_url(id)
    }

    pub(crate) fn next_seed(&self) -> u64 {
        self.inner.next_seed()
    }

    // ---- agents -------------------------------------------------------------------------

    /// `GET /agents/{id}`.
    pub async fn get_agent(&self, id: AgentId) -> Result<wire::Agent, Error> {
        let resp = self
            .send_about(build::get_agent(&self.inner.base, &id), || agent_what(&id))
            .await?;
        Ok(wire::decode_agent(resp.body())?)
    }

    /// One page of `GET /agents`.
    pub async fn list_agents_page(
        &self,
        query: &ListAgentsQuery,
    ) -> Result<Page<wire::Agent>, Error> {
        let req = build::list_agents(&self.inner.base, query)?;
        let resp = self.send(req, "the agent list").await?;
        Ok(wire::decode_agent_page(resp.body())?)
    }

    /// Every agent matching `query`, newest first, fetching pages as the stream is read.
    pub fn list_agents(
        &self,
        query: ListAgentsQuery,
    ) -> impl Stream<Item = Result<wire::Agent, Error>> + Send + 'static {
        let client = self.clone();
        paginate(query.cursor.clone(), move |cursor| {
            let client = client.clone();
            let mut q = query.clone();
            q.cursor = cursor;
            async move { client.list_agents_page(&q).await }
        })
    }

    /// `GET /agents/{id}/conversation`.
    pub async fn conversation(&self, id: AgentId) -> Result<Conversation, Error> {
        let resp = self
            .send_about(build::conversation(&self.inner.base, &id), || {
                agent_what(&id)
            })
            .await?;
        Ok(wire::decode_conversation(resp.body())?)
    }

    /// `GET /agents/{id}/artifacts/{artifactId}`, read into memory.
    pub async fn artifact(
        &self,
        id: AgentId,
        artifact: ArtifactId,
    ) -> Result<ArtifactContent, Error> {
        let req = build::artifact_content(&self.inner.base, &id, &artifact);
        let resp = self
            .send(req, &format!("artifact {artifact} of agent {id}"))
            .await?;
        let ct = resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        Ok(ArtifactContent::new(ct, resp.into_body()))
    }

    /// Streams an artifact's content into `out` without holding it in memory; returns the
    /// number of bytes written.
    pub async fn download_artifact<W>(
        &self,
        id: AgentId,
        artifact: ArtifactId,
        out: &mut W,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let req = build::artifact_content(&self.inner.base, &id, &artifact)
            .map(nomic_agent_transport::Body::from);
        let what = format!("artifact {artifact} of agent {id}");
        let resp = self
            .inner
            .transport
            .send(req)
            .await
            .map_err(|e| Error::from_transport(e, false))?;
        let (parts, mut body) = resp.into_parts();
        if !parts.status.is_success() {
            let bytes = body
                .bytes()
                .await
                .map_err(|e| Error::from_transport(e, false))?;
            return Err(error_for(&Response::from_parts(parts, bytes), &what));
        }
        let mut written = 0u64;
        while let Some(chunk) = body.chunk().await {
            let chunk = chunk.map_err(|e| Error::from_transport(e, false))?;
            out.write_all(&chunk)
                .await
                .map_err(|e| Error::io("could not write the artifact", e))?;
            written += chunk.len() as u64;
        }
        out.flush()
            .await
            .map_err(|e| Error::io("could not write the artifact", e))?;
        Ok(written)
    }

    /// Streams an artifact's content into a file (created or truncated).
    pub async fn download_artifact_to_file(
        &self,
        id: AgentId,
        artifact: ArtifactId,
        path: impl AsRef<Path>,
    ) -> Result<u64, Error> {
        let path = path.as_ref();
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| Error::io(format!("could not create {}", path.display()), e))?;
        let n = self.download_artifact(id, artifact, &mut file).await?;
        file.sync_all()
            .await
            .map_err(|e| Error::io(format!("could not write {}", path.display()), e))?;
        Ok(n)
    }

    /// `POST /agents/{id}/stop`: returns the agent as the server shows it.
    pub async fn stop(&self, id: AgentId) -> Result<wire::Agent, Error> {
        let resp = self
            .send(build::stop(&self.inner.base, &id), &agent_what(&id))
            .await?;
        Ok(wire::decode_agent(resp.body())?)
    }

    /// `DELETE /agents/{id}`.
    pub async fn delete(&self, id: AgentId) -> Result<(), Error> {
        self.send(build::delete(&self.inner.base, &id), &agent_what(&id))
            .await?;
        Ok(())
    }

    // ---- files --------------------------------------------------------------------------

    /// One page of `GET /files/search`.
    pub async fn search_files_page(&self, query: &FileSearchQuery) -> Result<Page<FileHit>, Error> {
        let req = build::search_files(&self.inner.base, query)?;
        let resp = self.send(req, "the file search").await?;
        Ok(wire::decode_file_page(resp.body())?)
    }

    /// Every file whose name matches `query`, fetching pages as the stream is read.
    pub fn search_files(
        &self,
        query: FileSearchQuery,
    ) -> impl Stream<Item = Result<FileHit, Error>> + Send + 'static {
        let client = self.clone();
        paginate(query.cursor.clone(), move |cursor| {
            let client = client.clone();
            let mut q = query.clone();
            q.cursor = cursor;
            async move { client.search_files_page(&q).await }
        })
    }

    // ---- workflows ----------------------------------------------------------------------

    /// One page of `GET /workflows`. The workflows seen are remembered, so later launches can
    /// check their slot names.
    pub async fn list_workflows_page(
        &self,
        query: &ListWorkflowsQuery,
    ) -> Result<Page<Workflow>, Error> {
        let req = build::list_workflows(&self.inner.base, query)?;
        let resp = self.send(req, "the workflow list").await?;
        let page = wire::decode_workflow_page(resp.body())?;
        self.inner.remember_workflows(&page.data);
        Ok(page)
    }

    /// Every workflow, fetching pages as the stream is read.
    pub fn list_workflows(&self) -> impl Stream<Item = Result<Workflow, Error>> + Send + 'static {
        let client = self.clone();
        paginate(None, move |cursor| {
            let client = client.clone();
            let mut q = ListWorkflowsQuery::new().limit(100);
            q.cursor = cursor;
            async move { client.list_workflows_page(&q).await }
        })
    }

    /// One workflow by id (from the cache, else by listing the workflows).
    pub async fn workflow(&self, id: WorkflowId) -> Result<Workflow, Error> {
        if let Some(wf) = self.cached_workflow(&id) {
            return Ok(wf);
        }
        let mut all = std::pin::pin!(self.list_workflows());
        while let Some(wf) = all.next().await {
            let wf = wf?;
            if wf.id == id {
                return Ok(wf);
            }
        }
        Err(Error::NotFound {
            what: format!("workflow {id}"),
            api: None,
        })
    }

    pub(crate) fn cached_workflow(&self, id: &WorkflowId) -> Option<Workflow> {
        self.inner.cached_workflow(id)
    }

    // ---- plumbing -----------------------------------------------------------------------

    /// [`Shared::send`].
    pub(crate) async fn send(
        &self,
        req: Request<Bytes>,
        what: &str,
    ) -> Result<Response<Bytes>, Error> {
        self.inner.send(req, what).await
    }

    /// [`Shared::send_about`].
    pub(crate) async fn send_about(
        &self,
        req: Request<Bytes>,
        what: impl FnOnce() -> String,
    ) -> Result<Response<Bytes>, Error> {
        self.inner.send_about(req, what).await
    }
}

/// Turns a page fetcher into a stream of items; stops at the first error or the last page.
fn paginate<T, F, Fut>(
    first: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: Send + 'static,
    F: Fn(Option<String>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    // State: `Some(cursor)` while there is a page to fetch.
    stream::try_unfold((Some(first), fetch), |(state, fetch)| async move {
        let Some(cursor) = state else {
            return Ok::<_, Error>(None);
        };
        let page = fetch(cursor.clone()).await?;
        // A server repeating the cursor would loop forever; treat it as the end.
        let next = page
            .next_cursor
            .filter(|c| Some(c) != cursor.as_ref())
            .map(Some);
        let items = stream::iter(page.data.into_iter().map(Ok::<T, Error>));
        Ok(Some((items, (next, fetch))))
    })
    .try_flatten()
}
