//! Decoding response bodies, with a typed error that never echoes the body.

use serde::de::DeserializeOwned;

use super::{Agent, Conversation, DataEnvelope, FileHit, Page};
use super::{UploadedFile, Workflow};

/// Longest reason kept in a [`DecodeError`]; serde messages can quote input, so they are cut.
const MAX_REASON: usize = 120;

/// What went wrong while decoding a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Not JSON at all (also: nesting deeper than the parser's limit).
    Syntax,
    /// The body ended early (a truncated response).
    Eof,
    /// Valid JSON of the wrong shape: a missing field, a wrong type, a malformed id.
    Shape,
    /// A text body that is not UTF-8.
    NotUtf8,
}

/// A body that could not be decoded. Carries what was expected and a short reason, never the
/// body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not decode {what}: {reason}")]
pub struct DecodeError {
    what: &'static str,
    kind: DecodeErrorKind,
    reason: String,
}

impl DecodeError {
    pub(crate) fn new(what: &'static str, kind: DecodeErrorKind, reason: &str) -> Self {
        let mut end = reason.len().min(MAX_REASON);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        DecodeError {
            what,
            kind,
            reason: reason[..end].to_owned(),
        }
    }

    fn from_json(what: &'static str, err: &serde_json::Error) -> Self {
        let kind = match err.classify() {
            serde_json::error::Category::Eof => DecodeErrorKind::Eof,
            serde_json::error::Category::Data => DecodeErrorKind::Shape,
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                DecodeErrorKind::Syntax
            }
        };
        DecodeError::new(what, kind, &err.to_string())
    }

    /// What was being decoded, e.g. `"agent"`.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The kind of failure.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// The short reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

pub(crate) fn from_json<T: DeserializeOwned>(
    body: &[u8],
    what: &'static str,
) -> Result<T, DecodeError> {
    // One UTF-8 check of the whole body is much cheaper than serde_json checking each string
    // of a byte slice (short strings miss the word-at-a-time fast path). A body that fails it
    // still takes the byte path, so its error is the same.
    let result = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    result.map_err(|e| DecodeError::from_json(what, &e))
}

/// Decodes an agent (launch, get, follow-up and stop responses): the documented
/// `{data: Agent}`, or the bare `Agent` of the pre-documentation API, with statuses in any case.
pub fn decode_agent(body: &[u8]) -> Result<Agent, DecodeError> {
    from_json::<DataEnvelope<Agent>>(body, "agent").map(|e| e.data)
}

/// Decodes a page of agents, `{data: [Agent], nextCursor}`, or a shape [`Page`] names.
pub fn decode_agent_page(body: &[u8]) -> Result<Page<Agent>, DecodeError> {
    from_json(body, "agent page")
}

/// Decodes `{data: {messages: [...]}}`; a bare `{messages: [...]}` is accepted too.
pub fn decode_conversation(body: &[u8]) -> Result<Conversation, DecodeError> {
    from_json::<DataEnvelope<Conversation>>(body, "conversation").map(|e| e.data)
}

/// Decodes an upload response: a bare `UploadedFile`, or one inside `{data: …}`.
pub fn decode_uploaded_file(body: &[u8]) -> Result<UploadedFile, DecodeError> {
    from_json::<DataEnvelope<UploadedFile>>(body, "uploaded file").map(|e| e.data)
}

/// Decodes a page of file search hits, in any shape [`Page`] names.
pub fn decode_file_page(body: &[u8]) -> Result<Page<FileHit>, DecodeError> {
    from_json(body, "file page")
}

/// Decodes a page of workflows, in any shape [`Page`] names.
pub fn decode_workflow_page(body: &[u8]) -> Result<Page<Workflow>, DecodeError> {
    from_json(body, "workflow page")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AgentStatus;

    #[test]
    fn reason_is_truncated_on_a_char_boundary() {
        let long = "é".repeat(200);
        let e = DecodeError::new("agent", DecodeErrorKind::Shape, &long);
        assert!(e.reason().len() <= MAX_REASON);
        assert!(e.reason().chars().all(|c| c == 'é'));
    }

    #[test]
    fn error_never_contains_whole_body() {
        let secret = "x".repeat(500);
        let body = format!(r#"{{"data":{{"id":"{secret}","status":"running"}}}}"#);
        let err = decode_agent(body.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::Shape);
        assert!(err.to_string().len() < 200);
    }

    #[test]
    fn id_and_status_errors_keep_their_text_and_position() {
        let id = "019abc12-3456-7890-abcd-ef1234567890";
        // The id's parse error surfaces at the end of the enclosing object (column 91, after
        // its `}`), as it did when ids were read into a `String` first.
        let body = format!(r#"{{"data":{{"id":"{id}","status":"running","projectId":"nope"}}}}"#);
        let err = decode_agent(body.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::Shape);
        assert_eq!(
            err.reason(),
            "malformed project id: expected a hyphenated UUID (length is not 36) at line 1 column 91"
        );
        let body = format!(r#"{{"data":{{"id":"{id}","status":7}}}}"#);
        let err = decode_agent(body.as_bytes()).unwrap_err();
        assert_eq!(
            err.reason(),
            "invalid type: integer `7`, expected a string at line 1 column 63"
        );
        let body = format!(r#"{{"data":{{"id":"{id}","status":"Run\u006eing"}}}}"#);
        assert_eq!(
            decode_agent(body.as_bytes()).unwrap().status,
            AgentStatus::Running
        );
    }

    #[test]
    fn non_utf8_bodies_decode_as_before() {
        let id = "019abc12-3456-7890-abcd-ef1234567890";
        let body = |extra: &[u8]| {
            let mut b = format!(r#"{{"data":{{"id":"{id}","status":"running","#).into_bytes();
            b.extend_from_slice(extra);
            b.extend_from_slice(b"}}");
            b
        };
        // serde_json never checks the text of a skipped field, so this was, and is, accepted.
        let agent = decode_agent(&body(b"\"x\":\"\xff\"")).unwrap();
        assert_eq!(agent.status, AgentStatus::Running);
        let err = decode_agent(&body(b"\"summary\":\"\xff\"")).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::Syntax);
        assert_eq!(
            err.reason(),
            "invalid unicode code point at line 1 column 84"
        );
        let agent = decode_agent(&body("\"summary\":\"café\"".as_bytes())).unwrap();
        assert_eq!(agent.summary.as_deref(), Some("café"));
        let err = decode_agent(b"{\"data\":{\"id\":\"\xe2\x82").unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::Eof);
    }
}
