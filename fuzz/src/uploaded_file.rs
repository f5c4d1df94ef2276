//! `wire::decode_uploaded_file`: bare or wrapped in `{data: …}`, and it round-trips.

use nomic_agent_core::wire::{DataEnvelope, decode_uploaded_file};

use crate::timestamp::check_timestamp;
use crate::{check_decode_error, to_json};

/// Decodes `data` as an upload response.
pub fn check(data: &[u8]) {
    let file = match decode_uploaded_file(data) {
        Ok(f) => f,
        Err(err) => return check_decode_error(&err, data),
    };
    check_timestamp(&file.created_at);
    let bare = decode_uploaded_file(&to_json(&file)).expect("bare re-decodes");
    assert_eq!(bare, file, "bare upload round trip");
    let wrapped = to_json(&DataEnvelope { data: file.clone() });
    let wrapped = decode_uploaded_file(&wrapped).expect("wrapped re-decodes");
    assert_eq!(wrapped, file, "wrapped upload round trip");
}
