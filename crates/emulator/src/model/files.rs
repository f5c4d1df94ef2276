//! Uploaded files and the folders their paths create.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::clock::format_rfc3339_ms;

/// A file or folder owned by one user. Content is not kept: only its size and checksum.
#[derive(Debug, Clone)]
pub struct FileRec {
    /// Id.
    pub id: Uuid,
    /// Owning user.
    pub owner: String,
    /// Name (last path segment).
    pub name: String,
    /// MIME type (`inode/directory` for folders).
    pub mime_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Parent folder.
    pub parent_id: Option<Uuid>,
    /// Path segments from the root, ending with the name.
    pub segments: Vec<String>,
    /// Version id (files only).
    pub version_id: Uuid,
    /// Creation time, unix ms.
    pub created_ms: u64,
    /// FNV-1a 64 of the content, for tests to check what arrived.
    pub checksum: u64,
    /// Whether this is a folder.
    pub folder: bool,
}

impl FileRec {
    /// The upload response (`UploadedFile`).
    pub fn upload_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "mimeType": self.mime_type, "size": self.size,
            "fileType": "DOCUMENT", "parentId": self.parent_id,
            "fileVersionId": self.version_id, "createdAt": format_rfc3339_ms(self.created_ms),
        })
    }

    /// A search hit (`FileHit`).
    pub fn hit_json(&self) -> Value {
        let path: Vec<String> = self.segments.iter().map(|s| percent_encode(s)).collect();
        json!({
            "id": self.id, "name": self.name, "mimeType": self.mime_type,
            "parentId": self.parent_id, "path": path.join("/"),
        })
    }

    /// Introspection view (control API).
    pub fn control_json(&self) -> Value {
        json!({
            "id": self.id, "user": self.owner, "name": self.name, "mimeType": self.mime_type,
            "size": self.size, "folder": self.folder, "path": self.segments.join("/"),
            "checksum": format!("{:016x}", self.checksum),
        })
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// FNV-1a 64, streamed.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A MIME type from the file extension, for parts sent without a useful Content-Type.
pub fn guess_mime(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// Splits an upload `path` into segments, refusing empty, `.` and `..` segments.
pub fn split_path(path: &str) -> Result<Vec<String>, String> {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    if segs
        .iter()
        .any(|s| s.is_empty() || s == "." || s == ".." || s.contains('\0'))
    {
        return Err(
            "path must be slash-separated names without empty, '.' or '..' segments".into(),
        );
    }
    Ok(segs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_per_segment() {
        assert_eq!(percent_encode("Project Alpha"), "Project%20Alpha");
        assert_eq!(percent_encode("a/b"), "a%2Fb");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn paths_are_checked() {
        assert_eq!(split_path("a/b.pdf").unwrap(), vec!["a", "b.pdf"]);
        assert!(split_path("a//b").is_err());
        assert!(split_path("../x").is_err());
        assert!(split_path("").is_err());
    }

    #[test]
    fn fnv_matches_reference() {
        let mut f = Fnv::default();
        f.update(b"a");
        assert_eq!(f.0, 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn mime_from_extension() {
        assert_eq!(guess_mime("X.PDF"), "application/pdf");
        assert_eq!(guess_mime("noext"), "application/octet-stream");
    }
}
