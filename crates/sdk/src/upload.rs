//! Streaming uploads: core's multipart encoder over a transport body, constant memory.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use nomic_agent_core::multipart::{Boundary, Encoder, UploadForm};
use nomic_agent_core::policy::classify::Classification;
use nomic_agent_core::policy::retry::{
    AttemptOutcome, RetryConfig, RetryDecision, SendFailure, decide_replayable_upload,
};
use nomic_agent_core::request as build;
use nomic_agent_core::rng::Rng;
use nomic_agent_core::wire::{self, FileId, UploadedFile};
use nomic_agent_transport::Body;
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

use crate::client::Client;
use crate::error::Error;
use crate::shared::{Shared, error_for};

/// Boundary collisions are astronomically rare; a few fresh boundaries always suffice.
const PATH_ATTEMPTS: u32 = 3;

/// A content type from a file extension (`mime_guess`'s table, case-insensitive);
/// `application/octet-stream` when unknown. Prompt images are not typed here: their media
/// type comes from their bytes ([`crate::ImageExt`]).
pub(crate) fn guess_content_type(path: &Path) -> &'static str {
    mime_guess::from_path(path)
        .first_raw()
        .unwrap_or("application/octet-stream")
}

/// Where an upload from disk goes: the optional `path` and `parentId` form fields of
/// [`Client::upload_path_with`]. The default places the file at the root under its own name.
///
/// ```
/// use nomic_agent::UploadOptions;
///
/// let options = UploadOptions::new().path("reports/2026/inspection.md");
/// assert_eq!(options.path.as_deref(), Some("reports/2026/inspection.md"));
/// assert_eq!(options.parent_id, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOptions {
    /// Slash-separated destination path including the file name (the `path` field).
    pub path: Option<String>,
    /// The folder to upload into (the `parentId` field).
    pub parent_id: Option<FileId>,
}

impl UploadOptions {
    /// No destination fields: the server's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the destination path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the destination folder.
    pub fn parent(mut self, id: FileId) -> Self {
        self.parent_id = Some(id);
        self
    }
}

/// The form for uploading `path`: its file name, the content type guessed from its extension,
/// and the destination fields of `options`.
fn path_form(path: &Path, options: UploadOptions) -> Result<UploadForm, Error> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Invalid {
            issues: vec![format!("{}: not a file name", path.display())],
            api: None,
        })?;
    let mut form = UploadForm::new(name, guess_content_type(path));
    form.path = options.path;
    form.parent_id = options.parent_id;
    form.validate()?;
    Ok(form)
}

/// Where a replayable upload's body comes from: opened afresh for every attempt.
enum Source<'a> {
    Path(&'a Path),
    Bytes(Bytes),
}

/// Uploads `form` with the body `source` gives, sending it again — the body is read again
/// from the start — under core's rule for replayable uploads ([`decide_replayable_upload`]):
/// a request-rate 429 (after its `Retry-After`), a 5xx, a reset, a timeout, a connection never
/// made. A 5xx or a reset after the body went out may have stored the file; the resend then
/// leaves at most an unused copy (a file is not an agent: nothing runs twice).
async fn upload_replayable(
    shared: &Shared,
    form: UploadForm,
    source: Source<'_>,
) -> Result<UploadedFile, Error> {
    let mut collisions = 0;
    let mut attempt = 0;
    let mut rng = Rng::seed(shared.next_seed());
    loop {
        let seed = shared.next_seed();
        let sent = match &source {
            Source::Path(path) => {
                let io = |e| Error::io(format!("could not read {}", path.display()), e);
                let file = tokio::fs::File::open(path).await.map_err(io)?;
                let len = file.metadata().await.map_err(io)?.len();
                upload_reader(shared, form.clone(), file, Some(len), seed).await
            }
            Source::Bytes(b) => {
                let len = b.len() as u64;
                let reader = std::io::Cursor::new(b.clone());
                upload_reader(shared, form.clone(), reader, Some(len), seed).await
            }
        };
        let e = match sent {
            Ok(stored) => return Ok(stored),
            Err(Error::Io { message, .. })
                if message == COLLISION && collisions + 1 < PATH_ATTEMPTS =>
            {
                collisions += 1;
                continue;
            }
            Err(e) => e,
        };
        attempt += 1;
        match resend_after(&e, attempt, &shared.retry, &mut rng) {
            Some(after) => {
                tracing::debug!(
                    attempt,
                    retry_in_ms = after.as_millis() as u64,
                    error = %e,
                    "upload failed with an error a resend can cure; sending it again"
                );
                tokio::time::sleep(after).await;
            }
            None => return Err(e),
        }
    }
}

/// How long to wait before sending again a replayable upload whose attempt number `attempt`
/// failed with `e`; `None` when it must not be resent (it cannot succeed, or retries are spent).
fn resend_after(e: &Error, attempt: u32, cfg: &RetryConfig, rng: &mut Rng) -> Option<Duration> {
    let outcome = match e {
        Error::Transport { sent: false, .. } => AttemptOutcome::Failed(SendFailure::NotSent),
        Error::Transport { sent: true, .. } => AttemptOutcome::Failed(SendFailure::MaybeSent),
        // A spend limit is its own variant, never retried.
        Error::RateLimited { api } | Error::Server { api } => {
            AttemptOutcome::Response(Classification::Error(api.clone()))
        }
        _ => return None,
    };
    match decide_replayable_upload(&outcome, attempt, cfg, rng) {
        RetryDecision::Retry { after } => Some(after),
        RetryDecision::GiveUp { .. } => None,
    }
}

/// Read size of streamed uploads; memory stays bounded by a few chunks in flight. Measured on
/// a 1 GiB upload (`cargo xtask bench`): 4 KiB reads ran at 0.05× raw hyper's throughput,
/// 64 KiB at about 0.9×, 256 KiB at about 1.6× (each frame is one boundary scan and one socket
/// write; 1 MiB gained nothing more).
const UPLOAD_CHUNK: usize = 256 * 1024;

const COLLISION: &str = "the file contains the multipart boundary";

pub(crate) async fn upload_reader<R>(
    shared: &Shared,
    form: UploadForm,
    reader: R,
    len: Option<u64>,
    seed: u64,
) -> Result<UploadedFile, Error>
where
    R: AsyncRead + Send + 'static,
{
    let encoder = Encoder::new(&form, Boundary::from_seed(seed))?;
    let head = build::upload_head(
        &shared.base,
        encoder.boundary(),
        len.map(|l| encoder.encoded_len(l)),
    );
    let preamble = encoder.preamble();
    let finish = encoder.finish();
    let mut encoder = encoder;
    // `UPLOAD_CHUNK` reads, not `ReaderStream`'s default 4 KiB: every chunk is a socket write.
    let content = ReaderStream::with_capacity(reader, UPLOAD_CHUNK).map(move |chunk| {
        // Marked as the body's own, so a failed socket write is never taken for a read error.
        let chunk = chunk.map_err(|e| std::io::Error::other(BodyError::Read(e)))?;
        encoder
            .chunk(chunk)
            .map_err(|_| std::io::Error::other(BodyError::Collision))
    });
    let body = stream::once(async move { Ok::<Bytes, std::io::Error>(preamble) })
        .chain(content)
        .chain(stream::once(async move { Ok(finish) }));
    let req = head.map(|()| Body::from_stream(body));
    let resp = shared.transport.send(req).await.map_err(upload_failure)?;
    let (parts, body) = resp.into_parts();
    let bytes = body
        .bytes()
        .await
        .map_err(|e| Error::from_transport(e, false))?;
    let resp = http::Response::from_parts(parts, bytes);
    if !resp.status().is_success() {
        return Err(error_for(&resp, "the upload"));
    }
    Ok(wire::decode_uploaded_file(resp.body())?)
}

/// An error of the upload body itself (as opposed to the connection it is written to).
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("{0}")]
    Read(std::io::Error),
    #[error("{COLLISION}")]
    Collision,
}

fn upload_failure(e: nomic_agent_transport::Error) -> Error {
    // Never sent: the body was never read, so any IO error inside is the connection's
    // (e.g. connection refused), not the file's.
    if !e.was_sent() {
        return Error::from_transport(e, false);
    }
    // The body stream's own error (a read failure or a boundary collision) is the cause; any
    // other IO error in the chain (a broken pipe when the server answered early) is the
    // connection's.
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = cur {
        let body = err.downcast_ref::<BodyError>().or_else(|| {
            // An `io::Error` wrapping it: its `source()` skips the wrapped error itself.
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<BodyError>())
        });
        if let Some(body) = body {
            return match body {
                BodyError::Collision => Error::io(COLLISION, std::io::Error::other(COLLISION)),
                BodyError::Read(io) => Error::io(
                    "could not read the upload",
                    std::io::Error::new(io.kind(), io.to_string()),
                ),
            };
        }
        cur = err.source();
    }
    Error::from_transport(e, false)
}

// `Client`'s upload methods live beside the upload code, so `client.rs` never needs it.
impl Client {
    /// Uploads a file from disk, streamed in constant memory. The name is the file's name and
    /// the content type is guessed from its extension.
    ///
    /// The file is read again and resent, under the client's [`RetryConfig`], after a
    /// request-rate 429 (after its `Retry-After`), a 5xx, a reset, a timeout or a connection
    /// never made, like any other request whose body can be repeated. One that failed after
    /// the body went out may have been stored: a resend then leaves at most an unused copy of
    /// the file on the server (nothing refers to it; an upload starts no agent).
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
        let path = path.as_ref();
        let form = path_form(path, options)?;
        upload_replayable(&self.inner, form, Source::Path(path)).await
    }

    /// Uploads `bytes` as a file named `name` (content type guessed from its extension),
    /// resent on the same errors as [`upload_path`](Self::upload_path).
    ///
    /// ```no_run
    /// # async fn demo(client: nomic_agent::Client) -> Result<(), nomic_agent::Error> {
    /// let file = client.upload_bytes("notes.md", "# Findings\n- rail loose").await?;
    /// println!("{}", file.id);
    /// # Ok(()) }
    /// ```
    pub async fn upload_bytes(
        &self,
        name: &str,
        bytes: impl Into<Bytes>,
    ) -> Result<UploadedFile, Error> {
        let form = UploadForm::new(name, guess_content_type(Path::new(name)));
        form.validate()?;
        upload_replayable(&self.inner, form, Source::Bytes(bytes.into())).await
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
        upload_reader(&self.inner, form, reader, len, self.next_seed()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_forms_carry_the_options_and_the_guessed_type() {
        let plain = path_form(Path::new("dir/notes.MD"), UploadOptions::new()).unwrap();
        assert_eq!(plain, UploadForm::new("notes.MD", "text/markdown"));

        let folder: FileId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let placed = path_form(
            Path::new("a.pdf"),
            UploadOptions::new().path("reports/a.pdf").parent(folder),
        )
        .unwrap();
        assert_eq!(
            placed,
            UploadForm::new("a.pdf", "application/pdf")
                .path("reports/a.pdf")
                .parent(folder)
        );

        let bad = path_form(Path::new("a.txt"), UploadOptions::new().path("x\r\ny"));
        assert!(matches!(bad, Err(Error::Invalid { .. })), "{bad:?}");
        assert!(matches!(
            path_form(Path::new("/"), UploadOptions::new()),
            Err(Error::Invalid { .. })
        ));
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(guess_content_type(Path::new("a/B.PDF")), "application/pdf");
        assert_eq!(
            guess_content_type(Path::new("plan.docx")),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(guess_content_type(Path::new("photo.JPG")), "image/jpeg");
        assert_eq!(guess_content_type(Path::new("notes.md")), "text/markdown");
        assert_eq!(
            guess_content_type(Path::new("noext")),
            "application/octet-stream"
        );
    }
}
