//! Check functions for the fuzz targets of `nomic-agent-core`.
//!
//! Every module has one `check(data: &[u8])` that feeds the input to a decoder or parser of
//! core and asserts invariants beyond "no panic" (round trips, bounds, agreement with an
//! independent oracle). The `fuzz_targets/*.rs` binaries call them under libFuzzer on nightly;
//! `tests/corpus.rs` replays every committed corpus and regression file through them on stable.
#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms)]

pub mod agent;
pub mod api_base;
pub mod classify;
pub mod conversation;
pub mod error_body;
pub mod multipart;
pub mod page;
pub mod percent;
pub mod retry_after;
pub mod table;
pub mod timestamp;
pub mod uploaded_file;
pub mod validate;

use nomic_agent_core::wire::DecodeError;

/// A fuzz target: its name (the folder under `corpus/` and `regressions/`) and its check.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    ("agent", agent::check),
    ("page", page::check),
    ("conversation", conversation::check),
    ("error_body", error_body::check),
    ("uploaded_file", uploaded_file::check),
    ("table", table::check),
    ("retry_after", retry_after::check),
    ("classify", classify::check),
    ("validate", validate::check),
    ("api_base", api_base::check),
    ("timestamp", timestamp::check),
    ("percent", percent::check),
    ("multipart", multipart::check),
];

/// A decode error must stay short and never echo the body (bodies can hold secrets).
pub(crate) fn check_decode_error(err: &DecodeError, body: &[u8]) {
    let shown = err.to_string();
    assert!(
        shown.len() <= 200,
        "decode error too long: {} bytes",
        shown.len()
    );
    assert!(err.reason().len() <= 120, "reason too long");
    // A body long enough to be distinctive must not appear whole in the message.
    if body.len() >= 200 {
        let body = String::from_utf8_lossy(body);
        assert!(
            !shown.contains(body.as_ref()),
            "decode error echoes the body"
        );
    }
}

/// Serializes `value` to JSON; the wire types always serialize.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("wire types serialize")
}
