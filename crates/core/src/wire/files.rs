//! Files: upload results and search.

use serde::{Deserialize, Serialize};

use super::{FileId, Timestamp};

/// The response of `POST /files/upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UploadedFile {
    /// The new file's id, for `fileIds` and `inputs`.
    pub id: FileId,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its MIME type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Its size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Always `DOCUMENT` for uploads.
    #[serde(default)]
    pub file_type: Option<String>,
    /// The folder it was placed in, `None` at the root.
    #[serde(default)]
    pub parent_id: Option<FileId>,
    /// The version id used by parse and extract.
    #[serde(default)]
    pub file_version_id: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Timestamp,
}

/// Query parameters of `GET /files/search`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FileSearchQuery {
    /// Case-insensitive substring of the file name (required, non-empty).
    pub query: String,
    /// Page size, 1–50 (server default 10).
    pub limit: Option<u32>,
    /// The cursor from the previous page.
    pub cursor: Option<String>,
    /// Only files from this integration.
    pub integration_id: Option<String>,
}

impl FileSearchQuery {
    /// Searches for names containing `query`.
    pub fn new(query: impl Into<String>) -> Self {
        FileSearchQuery {
            query: query.into(),
            ..Self::default()
        }
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues from a cursor.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Restricts to one integration.
    pub fn integration(mut self, id: impl Into<String>) -> Self {
        self.integration_id = Some(id.into());
        self
    }
}

/// One file search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FileHit {
    /// The file id.
    pub id: FileId,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its MIME type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Its folder, `None` at the root.
    #[serde(default)]
    pub parent_id: Option<FileId>,
    /// Slash-separated path, URL-encoded per segment.
    #[serde(default)]
    pub path: String,
}
