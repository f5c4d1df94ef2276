//! Artifact metadata and content.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decode::{DecodeErrorKind, from_json};
use super::{ArtifactId, DecodeError, Timestamp};

/// What kind of artifact an agent produced.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    /// A markdown document.
    Document,
    /// A table of rows and columns.
    Table,
    /// Any other kind, as sent.
    Other(String),
}

impl ArtifactKind {
    /// Parses a kind, ignoring ASCII case.
    pub fn parse(s: &str) -> ArtifactKind {
        match s.to_ascii_lowercase().as_str() {
            "document" => ArtifactKind::Document,
            "table" => ArtifactKind::Table,
            _ => ArtifactKind::Other(s.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            ArtifactKind::Document => "document",
            ArtifactKind::Table => "table",
            ArtifactKind::Other(raw) => raw,
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ArtifactKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ArtifactKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(ArtifactKind::parse(&s))
    }
}

/// An artifact's metadata, as listed on the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArtifactMeta {
    /// The artifact id.
    pub id: ArtifactId,
    /// Its kind (JSON field `type`).
    #[serde(rename = "type")]
    pub kind: ArtifactKind,
    /// Its title (empty when absent).
    #[serde(default)]
    pub title: String,
    /// Its version, counting from 1 (0 when absent).
    #[serde(default)]
    pub version: u64,
    /// When it was created.
    #[serde(default)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[serde(default)]
    pub updated_at: Timestamp,
}

/// The downloaded content of an artifact: raw bytes and their `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactContent {
    /// The response's `Content-Type` header.
    pub content_type: String,
    /// The body.
    pub bytes: Bytes,
}

impl ArtifactContent {
    /// Wraps a downloaded body.
    pub fn new(content_type: impl Into<String>, bytes: Bytes) -> Self {
        ArtifactContent {
            content_type: content_type.into(),
            bytes,
        }
    }

    /// The body as UTF-8 text (documents are markdown).
    pub fn as_text(&self) -> Result<&str, DecodeError> {
        std::str::from_utf8(&self.bytes).map_err(|_| {
            DecodeError::new("artifact", DecodeErrorKind::NotUtf8, "body is not UTF-8")
        })
    }

    /// The body decoded as a table (`{columns, rows}`).
    pub fn as_table(&self) -> Result<Table, DecodeError> {
        from_json(&self.bytes, "table")
    }
}

/// A table artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Table {
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows of cells.
    #[serde(default)]
    pub rows: Vec<Vec<TableCell>>,
}

/// One table cell: a string, a number or null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TableCell {
    /// A text cell.
    Text(String),
    /// A numeric cell, kept exactly as sent.
    Number(serde_json::Number),
    /// An empty cell.
    Null,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_decodes_mixed_cells() {
        let c = ArtifactContent::new(
            "application/json",
            Bytes::from_static(
                br#"{"columns":["a","b","c"],"rows":[["x",1.5,null],["y",-2,null]]}"#,
            ),
        );
        let t = c.as_table().unwrap();
        assert_eq!(t.columns, ["a", "b", "c"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][0], TableCell::Text("x".into()));
        assert_eq!(t.rows[1][1], TableCell::Number((-2).into()));
        assert_eq!(t.rows[0][2], TableCell::Null);
    }

    #[test]
    fn table_rejects_bad_shapes() {
        for body in [
            &b"# markdown"[..],
            br#"{"rows":[]}"#,
            br#"{"columns":[],"rows":[[true]]}"#,
        ] {
            let c = ArtifactContent::new("application/json", Bytes::copy_from_slice(body));
            assert!(c.as_table().is_err());
        }
    }

    #[test]
    fn text_requires_utf8() {
        let ok = ArtifactContent::new("text/markdown", Bytes::from_static(b"# Title"));
        assert_eq!(ok.as_text().unwrap(), "# Title");
        let bad = ArtifactContent::new("text/markdown", Bytes::from_static(&[0xFF, 0xFE]));
        assert_eq!(bad.as_text().unwrap_err().kind(), DecodeErrorKind::NotUtf8);
    }

    #[test]
    fn kind_is_case_insensitive() {
        let m: ArtifactMeta = serde_json::from_str(
            r#"{"id":"019abc12-3456-7890-abcd-ef1234567890","type":"TABLE","title":"T","version":2}"#,
        )
        .unwrap();
        assert_eq!(m.kind, ArtifactKind::Table);
        assert_eq!(m.version, 2);
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["type"], "table");
    }
}
