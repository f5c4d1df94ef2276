//! [`Client`]: the typed endpoint methods over the transport.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt, stream};
use http::{Request, Response};
use nomic_agent_core::multipart::UploadForm;
use nomic_agent_core::request::{self as build, ApiBase};
use nomic_agent_core::turn::{Turn, TurnConfig};
use nomic_agent_core::validate::validate_against_workflow;
use nomic_agent_core::wire::{
    self, AgentId, ArtifactContent, ArtifactId, Conversation, FileHit, FileSearchQuery,
    LaunchRequest, ListAgentsQuery, ListWorkflowsQuery, Page, Prompt, UploadedFile, Workflow,
    WorkflowId,
};
use nomic_agent_transport::{OutcomeUnknown, Transport};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::agent::Agent;
use crate::config::ClientBuilder;
use crate::driver;
use crate::error::Error;
use crate::upload::UploadOptions;

/// A client of one Nomic instance with one key.
///
/// Cheap to clone: clones share the connection pool, the per-tier pacing and the retry budget.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) base: ApiBase,
    pub(crate) turn_cfg: Arc<TurnConfig>,
    workflows: Mutex<HashMap<WorkflowId, Workflow>>,
    seeds: AtomicU64,
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
    /// A client from `NOMIC_API_KEY` and `NOMIC_BASE_URL`, with default settings.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::new().from_env().build()
    }

    /// A builder for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn assemble(
        transport: Transport,
        base: ApiBase,
        turn_cfg: Arc<TurnConfig>,
    ) -> Client {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5eed);
        Client {
            inner: Arc::new(Inner {
                transport,
                base,
                turn_cfg,
                workflows: Mutex::new(HashMap::new()),
                seeds: AtomicU64::new(seed),
            }),
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
        // Distinct per call; mixing keeps consecutive seeds far apart.
        let n = self
            .inner
            .seeds
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        n ^ (n >> 31)
    }

    // ---- agents -------------------------------------------------------------------------

    /// Launches an agent (`POST /agents`) after validating the request (and, for a workflow
    /// whose slots this client has seen, checking the slot names). Returns once the agent
    /// exists; [`Agent::wait`] then waits for its answer.
    ///
    /// A launch that may have reached the server without a response is **not** resent:
    /// [`Error::LaunchOutcomeUnknown`].
    pub async fn launch(&self, req: LaunchRequest) -> Result<Agent, Error> {
        if let Some(wf) = req.workflow_id.and_then(|id| self.cached_workflow(&id)) {
            validate_against_workflow(&req, &wf)?;
        }
        let now = tokio::time::Instant::now().into_std();
        let turn = Turn::launch(req, Arc::clone(&self.inner.turn_cfg), now)?;
        let mut pending = driver::Pending::new(turn);
        let agent = driver::drive_until_started(self, &mut pending).await?;
        Ok(Agent::with_pending(self.clone(), agent, pending))
    }

    /// Launches a simple agent with a text prompt.
    pub async fn launch_prompt(&self, text: impl Into<String>) -> Result<Agent, Error> {
        self.launch(LaunchRequest::prompt(text)).await
    }

    /// Launches a workflow agent. The workflow's declared slots are fetched (and cached) first,
    /// so a wrong slot name, a missing required slot or a prompt on a file-slot workflow is
    /// reported before anything is launched.
    pub async fn launch_workflow(
        &self,
        workflow: WorkflowId,
        input: WorkflowInput,
    ) -> Result<Agent, Error> {
        let wf = self.workflow(workflow).await?;
        let mut req = LaunchRequest::workflow_inputs(workflow);
        match input {
            WorkflowInput::Prompt(p) => req.prompt = Some(p),
            WorkflowInput::Inputs(slots) => {
                for (slot, ids) in slots {
                    req.inputs.entry(slot).or_default().extend(ids);
                }
            }
        }
        validate_against_workflow(&req, &wf)?;
        self.launch(req).await
    }

    /// A handle on an agent launched elsewhere (nothing is sent until it is used).
    pub fn agent(&self, id: AgentId) -> Agent {
        Agent::attach(self.clone(), id)
    }

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
            return Err(self.error_for(&Response::from_parts(parts, bytes), &what));
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

    /// Sends a follow-up to a terminal agent, race-safely; see [`Agent::follow_up`].
    pub async fn follow_up(&self, id: AgentId, prompt: impl Into<Prompt>) -> Result<Agent, Error> {
        let agent = self.agent(id);
        agent.follow_up(prompt).await?;
        Ok(agent)
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

    /// Uploads a file from disk, streamed in constant memory. The name is the file's name and
    /// the content type is guessed from its extension.
    pub async fn upload_path(&self, path: impl AsRef<Path>) -> Result<UploadedFile, Error> {
        self.upload_path_with(path, UploadOptions::default()).await
    }

    /// Uploads a file from disk like [`upload_path`](Self::upload_path), placed by `options`:
    /// a destination `path` and/or a `parentId` folder. The name is still the file's name and
    /// the content type is still guessed from its extension.
    ///
    /// The options are checked (a path must not contain control characters) before the file
    /// is opened; a bad one is [`Error::Invalid`].
    ///
    /// ```no_run
    /// # async fn demo(client: nomic_agent::Client, folder: nomic_agent::FileId) -> Result<(), nomic_agent::Error> {
    /// use nomic_agent::UploadOptions;
    ///
    /// let file = client
    ///     .upload_path_with("inspection.md", UploadOptions::new().parent(folder))
    ///     .await?;
    /// assert_eq!(file.parent_id, Some(folder));
    /// # Ok(()) }
    /// ```
    pub async fn upload_path_with(
        &self,
        path: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<UploadedFile, Error> {
        crate::upload::upload_path(self, path.as_ref(), options).await
    }

    /// Uploads `len` bytes (when known; `None` sends chunked) read from `reader`, streamed in
    /// constant memory. `form` names the file and its content type.
    pub async fn upload_reader<R>(
        &self,
        form: UploadForm,
        reader: R,
        len: Option<u64>,
    ) -> Result<UploadedFile, Error>
    where
        R: AsyncRead + Send + 'static,
    {
        crate::upload::upload_reader(self, form, reader, len, self.next_seed()).await
    }

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
        let mut cache = self
            .inner
            .workflows
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for wf in &page.data {
            cache.insert(wf.id, wf.clone());
        }
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

    fn cached_workflow(&self, id: &WorkflowId) -> Option<Workflow> {
        self.inner
            .workflows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    // ---- plumbing -----------------------------------------------------------------------

    /// Sends a buffered request; any non-2xx becomes the matching [`Error`].
    pub(crate) async fn send(
        &self,
        req: Request<Bytes>,
        what: &str,
    ) -> Result<Response<Bytes>, Error> {
        self.send_about(req, || what.to_owned()).await
    }

    /// [`Client::send`] with the description built only when it is needed (an error), so the
    /// success path allocates nothing for it.
    pub(crate) async fn send_about(
        &self,
        req: Request<Bytes>,
        what: impl FnOnce() -> String,
    ) -> Result<Response<Bytes>, Error> {
        let resp = self
            .inner
            .transport
            .send_buffered(req)
            .await
            .map_err(|e| Error::from_transport(e, false))?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(self.error_for(&resp, &what()))
        }
    }

    pub(crate) fn error_for(&self, resp: &Response<Bytes>, what: &str) -> Error {
        if resp.extensions().get::<OutcomeUnknown>().is_some() && what == "launch" {
            return Error::LaunchOutcomeUnknown;
        }
        Error::from_response(resp, what)
    }
}

pub(crate) fn agent_what(id: &AgentId) -> String {
    format!("agent {id}")
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
