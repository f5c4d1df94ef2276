//! Deserializing string-valued wire types straight from the deserializer's text.
//!
//! Reading ids, statuses and kinds through `Cow<str>` or `String` allocates and copies the
//! text only to parse and drop it (`Cow`'s `Deserialize` never borrows). The visitor here
//! parses the text in place and accepts exactly what `String` accepts: strings, chars and
//! UTF-8 bytes, with the same "expected a string" errors.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{Error, Unexpected, Visitor};

/// Deserializes a string and hands it to `parse`; a parse error becomes a custom error.
///
/// The custom error is raised after the deserializer returns, as it was when the text came
/// back as a `String`, so serde_json reports the same position in its message.
pub(crate) fn deserialize_str_with<'de, D, T, E, F>(
    deserializer: D,
    parse: F,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
    F: FnOnce(&str) -> Result<T, E>,
{
    // `deserialize_string` is the entry point `String` uses, so every format hands over the
    // same values as before.
    deserializer
        .deserialize_string(StrVisitor(parse, PhantomData))?
        .map_err(D::Error::custom)
}

struct StrVisitor<F, T>(F, PhantomData<fn() -> T>);

impl<'de, T, E, F> Visitor<'de> for StrVisitor<F, T>
where
    E: fmt::Display,
    F: FnOnce(&str) -> Result<T, E>,
{
    type Value = Result<T, E>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `String`'s own wording, so type errors read as they did.
        f.write_str("a string")
    }

    fn visit_str<Er: Error>(self, v: &str) -> Result<Self::Value, Er> {
        Ok((self.0)(v))
    }

    // `visit_borrowed_str`, `visit_string` and `visit_char` default to `visit_str`, and
    // `visit_borrowed_bytes` and `visit_byte_buf` to this, as for `String`.
    fn visit_bytes<Er: Error>(self, v: &[u8]) -> Result<Self::Value, Er> {
        match std::str::from_utf8(v) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(Er::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{BytesDeserializer, Error as ValueError};

    use super::*;

    /// Parses to the length, refusing `"bad"`.
    struct Len(usize);

    impl<'de> Deserialize<'de> for Len {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_str_with(d, |s| match s {
                "bad" => Err("refused"),
                s => Ok(Len(s.len())),
            })
        }
    }

    fn json(input: &str) -> Result<usize, String> {
        serde_json::from_str::<Len>(input)
            .map(|l| l.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_what_string_accepts() {
        assert_eq!(json(r#""abc""#), Ok(3));
        // Escapes arrive through the scratch buffer, not borrowed.
        assert_eq!(json(r#""a\u0062c""#), Ok(3));
        let value = serde_json::json!("abcd");
        assert_eq!(Len::deserialize(&value).map(|l| l.0).ok(), Some(4));
        assert_eq!(
            serde_json::from_value::<Len>(value).map(|l| l.0).ok(),
            Some(4)
        );
        let c: serde::de::value::CharDeserializer<ValueError> = 'é'.into_deserializer();
        assert_eq!(Len::deserialize(c).map(|l| l.0), Ok(2));
        let b = BytesDeserializer::<ValueError>::new(b"xy");
        assert_eq!(Len::deserialize(b).map(|l| l.0), Ok(2));
    }

    #[test]
    fn rejects_like_string_and_reports_parse_errors() {
        assert_eq!(
            json("12"),
            Err("invalid type: integer `12`, expected a string at line 1 column 2".into())
        );
        assert_eq!(
            json("null"),
            Err("invalid type: null, expected a string at line 1 column 4".into())
        );
        // Raised after the deserializer returned, like a `String` parsed afterwards: serde_json
        // adds no position at the top level.
        assert_eq!(json(r#""bad""#), Err("refused".into()));
        // Inside a container the container's position is added, as for any custom error.
        let in_seq = serde_json::from_str::<Vec<Len>>(r#"["bad"]"#).err();
        assert_eq!(
            in_seq.map(|e| e.to_string()),
            Some("refused at line 1 column 7".into())
        );
        let b = BytesDeserializer::<ValueError>::new(b"\xff");
        assert_eq!(
            Len::deserialize(b).err().map(|e| e.to_string()),
            Some("invalid value: byte array, expected a string".into())
        );
    }
}
