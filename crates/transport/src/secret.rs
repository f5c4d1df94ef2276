//! The API key: a secret that never reaches a log, an error or a `Debug` dump.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use http::HeaderValue;

/// A bearer API key (`npk_…`).
///
/// `Debug` and `Display` print `ApiKey(<redacted>)`; the only way to the bytes is the
/// `Authorization` header the transport builds, which is marked sensitive.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    header: HeaderValue,
}

/// Why a string was refused as an API key. Never contains the key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidApiKey {
    /// The key is empty or only white space.
    Empty,
    /// The key contains a byte that cannot appear in an HTTP header value (a control character,
    /// a line break or a non-ASCII byte); the position is given, the byte is not.
    InvalidByte {
        /// Zero-based byte offset of the first offending byte.
        position: usize,
    },
}

impl fmt::Display for InvalidApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidApiKey::Empty => f.write_str("the API key is empty"),
            InvalidApiKey::InvalidByte { position } => write!(
                f,
                "the API key has a byte that is not allowed in an HTTP header at offset {position}"
            ),
        }
    }
}

impl std::error::Error for InvalidApiKey {}

impl ApiKey {
    /// Wraps a key, rejecting an empty key and one with bytes invalid in a header value.
    ///
    /// Surrounding white space is trimmed (keys pasted from a file often end in a newline).
    pub fn new(key: String) -> Result<ApiKey, InvalidApiKey> {
        let key = key.trim();
        if key.is_empty() {
            return Err(InvalidApiKey::Empty);
        }
        // Visible ASCII and inner spaces only: anything else is a paste accident or an attack.
        if let Some(position) = key
            .bytes()
            .position(|b| !(b == b' ' || b.is_ascii_graphic()))
        {
            return Err(InvalidApiKey::InvalidByte { position });
        }
        let mut header = HeaderValue::try_from(format!("Bearer {key}"))
            .map_err(|_| InvalidApiKey::InvalidByte { position: 0 })?;
        header.set_sensitive(true);
        Ok(ApiKey { header })
    }

    /// The `Authorization` header value, already marked sensitive (so HTTP/2 never puts it in
    /// the HPACK table and `Debug` of the value prints `Sensitive`).
    pub(crate) fn authorization(&self) -> HeaderValue {
        self.header.clone()
    }

    /// A per-process fingerprint: equal keys give equal fingerprints within this process, and
    /// the value is keyed by a random seed so it is useless outside it.
    pub(crate) fn fingerprint(&self) -> u64 {
        static SEED: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
        let mut h = SEED.get_or_init(Default::default).build_hasher();
        h.write(self.header.as_bytes());
        h.finish()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_bad_bytes() {
        assert_eq!(ApiKey::new(String::new()), Err(InvalidApiKey::Empty));
        assert_eq!(ApiKey::new("  \n".into()), Err(InvalidApiKey::Empty));
        assert_eq!(
            ApiKey::new("npk_a\nb".into()),
            Err(InvalidApiKey::InvalidByte { position: 5 })
        );
        assert_eq!(
            ApiKey::new("npk_é".into()),
            Err(InvalidApiKey::InvalidByte { position: 4 })
        );
    }

    #[test]
    fn redacted_everywhere() {
        let key = ApiKey::new("npk_SENTINEL_123\n".into()).unwrap();
        assert!(!format!("{key:?}").contains("SENTINEL"));
        assert!(!format!("{key}").contains("SENTINEL"));
        let header = key.authorization();
        assert!(header.is_sensitive());
        assert_eq!(header.as_bytes(), b"Bearer npk_SENTINEL_123");
        assert!(!format!("{header:?}").contains("SENTINEL"));
    }

    #[test]
    fn fingerprint_is_stable_and_distinct() {
        let a = ApiKey::new("npk_a".into()).unwrap();
        let a2 = ApiKey::new("npk_a".into()).unwrap();
        let b = ApiKey::new("npk_b".into()).unwrap();
        assert_eq!(a.fingerprint(), a2.fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
