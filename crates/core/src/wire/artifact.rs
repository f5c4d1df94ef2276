//! Artifact metadata and content.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

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
        // Compared in place, without a lower-cased copy.
        if s.eq_ignore_ascii_case("document") {
            ArtifactKind::Document
        } else if s.eq_ignore_ascii_case("table") {
            ArtifactKind::Table
        } else {
            ArtifactKind::Other(s.to_owned())
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
        super::str_de::deserialize_str_with(deserializer, |s| {
            Ok::<_, std::convert::Infallible>(ArtifactKind::parse(s))
        })
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

    /// The body decoded as a table (`{columns, rows}`). Numeric cells keep their exact text
    /// ([`TableNumber`]); nothing is rounded through `f64`.
    pub fn as_table(&self) -> Result<Table, DecodeError> {
        // Bare, as documented, or inside `{data: …}` like the JSON bodies around it.
        from_json::<super::DataEnvelope<Table>>(&self.bytes, "table").map(|e| e.data)
    }
}

/// A table artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Table {
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows of cells.
    #[serde(default)]
    pub rows: Vec<Vec<TableCell>>,
}

/// One table cell: a string, a number or null (booleans, arrays and objects are refused).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TableCell {
    /// A text cell.
    Text(String),
    /// A numeric cell, kept exactly as sent (see [`TableNumber`]).
    Number(TableNumber),
    /// An empty cell.
    Null,
}

impl Serialize for TableCell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TableCell::Text(s) => serializer.serialize_str(s),
            TableCell::Number(n) => n.serialize(serializer),
            TableCell::Null => serializer.serialize_unit(),
        }
    }
}

impl<'de> Deserialize<'de> for TableCell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected};
        // The cell's exact JSON text: a number is kept as written, not rounded through `f64`.
        let raw = <Box<RawValue>>::deserialize(deserializer)?;
        let text = raw.get();
        let unexpected = match text.as_bytes().first() {
            Some(b'"') => {
                return serde_json::from_str(text)
                    .map(TableCell::Text)
                    .map_err(|_| D::Error::custom("invalid string cell"));
            }
            Some(b'n') => return Ok(TableCell::Null),
            Some(b'-' | b'0'..=b'9') if is_json_number(text) => {
                return Ok(TableCell::Number(TableNumber(text.into())));
            }
            Some(b't') => Unexpected::Bool(true),
            Some(b'f') => Unexpected::Bool(false),
            Some(b'[') => Unexpected::Seq,
            Some(b'{') => Unexpected::Map,
            _ => Unexpected::Other("a value"),
        };
        Err(D::Error::invalid_type(
            unexpected,
            &"a string, a number or null",
        ))
    }
}

/// A numeric table cell: the number's JSON text exactly as the server sent it, so integers
/// beyond 64 bits, long decimals and forms like `1.50` or `1e3` are never rounded or
/// rewritten. Equality compares the text (`1.0` and `1` differ). Serializing with
/// `serde_json` writes the text back verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableNumber(Box<str>);

impl TableNumber {
    /// The number's JSON text, as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as an `i64`, when the text is an integer literal in range (`-0` is `0`).
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The value as a `u64`, when the text is a non-negative integer literal in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok().filter(|_| !self.0.starts_with('-'))
    }

    /// The nearest `f64` (correctly rounded; infinite when the magnitude is out of range).
    pub fn as_f64(&self) -> f64 {
        // Every JSON number is valid `f64` syntax.
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for TableNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text that is not a JSON number (RFC 8259 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a JSON number")]
pub struct NotANumber;

impl std::str::FromStr for TableNumber {
    type Err = NotANumber;

    /// Accepts exactly the JSON number grammar: no sign `+`, no leading zeros, no white space.
    fn from_str(s: &str) -> Result<Self, NotANumber> {
        if is_json_number(s) {
            Ok(TableNumber(s.into()))
        } else {
            Err(NotANumber)
        }
    }
}

macro_rules! table_number_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for TableNumber {
            fn from(n: $t) -> Self {
                TableNumber(n.to_string().into())
            }
        }
    )*};
}
table_number_from_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Serialize for TableNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        // `RawValue` makes serde_json write the text unchanged; the text is valid JSON.
        let raw: &RawValue = serde_json::from_str(&self.0)
            .map_err(|_| S::Error::custom("table number is not JSON"))?;
        raw.serialize(serializer)
    }
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, the whole string.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = usize::from(b.first() == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i + 1),
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return false;
        }
        i = end;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return false;
        }
        i = end;
    }
    i == b.len()
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

    /// Fuzz reproducer (`fuzz/regressions/table/crash-cf04e26e…`): `u64::MAX`, an integer
    /// beyond `i64::MIN` and `0.1` went through `f64` and did not survive a round trip.
    #[test]
    fn table_numbers_are_kept_exactly_as_sent() {
        let body = br#"{"columns":["n"],"rows":[[18446744073709551615],[-9223322372036854775808],[0.1],[1.50],[-0],[1E+400],[ 7 ]]}"#;
        let t = ArtifactContent::new("application/json", Bytes::from_static(body))
            .as_table()
            .unwrap();
        let texts: Vec<String> = t
            .rows
            .iter()
            .map(|r| match &r[0] {
                TableCell::Number(n) => n.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            [
                "18446744073709551615",
                "-9223322372036854775808",
                "0.1",
                "1.50",
                "-0",
                "1E+400",
                "7"
            ]
        );
        // Re-encoding writes the same text back, so the table round-trips exactly.
        let again = serde_json::to_vec(&t).unwrap();
        assert_eq!(
            String::from_utf8(again.clone()).unwrap(),
            r#"{"columns":["n"],"rows":[[18446744073709551615],[-9223322372036854775808],[0.1],[1.50],[-0],[1E+400],[7]]}"#
        );
        let back = ArtifactContent::new("application/json", Bytes::from(again))
            .as_table()
            .unwrap();
        assert_eq!(back, t);
        // Through a `Value` too (the number is then whatever `Value` kept).
        let from_value: Table =
            serde_json::from_value(serde_json::json!({"columns": ["n"], "rows": [[2, "x", null]]}))
                .unwrap();
        assert_eq!(from_value.rows[0][0], TableCell::Number(2u8.into()));
    }

    #[test]
    fn table_number_accessors_and_grammar() {
        let n = |s: &str| s.parse::<TableNumber>().unwrap();
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551615").as_i64(), None);
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("-0").as_u64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(n("1e400").as_f64(), f64::INFINITY);
        assert_eq!(TableNumber::from(-2i64).as_str(), "-2");
        for bad in [
            "", "-", "+1", "01", "1.", ".5", "1e", "1e+", " 1", "1 ", "NaN", "0x1",
        ] {
            assert_eq!(bad.parse::<TableNumber>(), Err(NotANumber), "{bad:?}");
        }
        for good in ["0", "-0", "10", "1.25", "1e5", "1E-5", "-0.0e+0"] {
            assert_eq!(n(good).as_str(), good);
        }
    }

    #[test]
    fn table_rejects_bad_shapes() {
        for body in [
            &b"# markdown"[..],
            br#"{"rows":[]}"#,
            br#"{"columns":[],"rows":[[true]]}"#,
            br#"{"columns":[],"rows":[[[1]]]}"#,
            br#"{"columns":[],"rows":[[{"a":1}]]}"#,
            br#"{"columns":[],"rows":[[1e]]}"#,
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

    #[test]
    fn kind_parse_ignores_ascii_case_only() {
        assert_eq!(ArtifactKind::parse("DOCUMENT"), ArtifactKind::Document);
        assert_eq!(ArtifactKind::parse("Table"), ArtifactKind::Table);
        for other in ["", "tables", "ｔable", "\u{212a}"] {
            assert_eq!(
                ArtifactKind::parse(other),
                ArtifactKind::Other(other.into())
            );
        }
        let k: ArtifactKind = serde_json::from_str(r#""t\u0061ble""#).unwrap();
        assert_eq!(k, ArtifactKind::Table);
        assert!(serde_json::from_str::<ArtifactKind>("3").is_err());
    }
}
