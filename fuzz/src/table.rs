//! `ArtifactContent::as_table` and `as_text`: tables round-trip, text is exactly UTF-8.

use bytes::Bytes;
use nomic_agent_core::wire::ArtifactContent;

use crate::{check_decode_error, to_json};

/// Reads `data` as a downloaded artifact body.
pub fn check(data: &[u8]) {
    let content = ArtifactContent::new("application/json", Bytes::copy_from_slice(data));
    match content.as_text() {
        Ok(text) => assert_eq!(text.as_bytes(), data),
        Err(err) => {
            assert!(std::str::from_utf8(data).is_err(), "valid UTF-8 refused");
            check_decode_error(&err, data);
        }
    }
    match content.as_table() {
        Ok(table) => {
            let again = ArtifactContent::new("application/json", Bytes::from(to_json(&table)));
            let again = again.as_table().expect("re-encoded table decodes");
            assert_eq!(again, table, "table round trip");
        }
        Err(err) => check_decode_error(&err, data),
    }
}
