//! The error type of validation.

use std::fmt;

use crate::wire::MediaType;

/// One thing wrong with a request, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the request, in JSON terms: `prompt.images[2].data`, `inputs.drawings`, `limit`.
    pub path: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, kind: ProblemKind) -> Self {
        Problem {
            path: path.into(),
            kind,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.path, self.kind)
        }
    }
}

/// The kinds of problem validation reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A launch with neither `prompt.text` nor `workflowId`.
    MissingPromptOrWorkflow,
    /// A follow-up without a `prompt`.
    MissingPrompt,
    /// `prompt.text` is empty or only white space.
    EmptyText,
    /// `workflowId` together with `fileIds`.
    WorkflowWithFileIds,
    /// `inputs` without `workflowId`.
    InputsWithoutWorkflow,
    /// `inputs` together with `prompt`.
    InputsWithPrompt,
    /// More than four images.
    TooManyImages {
        /// How many were given.
        count: usize,
    },
    /// A media type other than JPEG, PNG, WebP or GIF.
    UnsupportedMediaType(String),
    /// Raw bytes that are not a JPEG, PNG, WebP or GIF image.
    UnrecognizedImage,
    /// An image over 20 MiB after decoding.
    ImageTooLarge {
        /// Its decoded size.
        bytes: u64,
    },
    /// `data` is a `data:` URL instead of raw base64.
    DataUrl,
    /// `data` is not standard, padded base64.
    InvalidBase64,
    /// The bytes' magic number does not match `media_type`.
    MediaTypeMismatch {
        /// The declared type.
        declared: MediaType,
        /// The type the bytes show, if any.
        detected: Option<MediaType>,
    },
    /// `fileIds` on a follow-up.
    FileIdsOnFollowUp,
    /// A string that should be a UUID (the value, cut to 64 characters).
    MalformedUuid(String),
    /// A JSON value of the wrong type.
    WrongType {
        /// What was expected: `"object"`, `"string"`, `"array"`.
        expected: &'static str,
    },
    /// An `inputs` key the workflow does not declare.
    UnknownSlot(String),
    /// A required slot missing or empty.
    MissingSlot(String),
    /// A file-slot workflow launched without `inputs`.
    MissingInputs,
    /// A file-slot workflow launched with a `prompt` (images included).
    PromptOnSlotWorkflow,
    /// A prompt-driven workflow launched with `inputs`.
    InputsOnPromptWorkflow,
    /// The request names a different workflow than the one it is checked against.
    WorkflowMismatch,
    /// A `limit` outside its range.
    LimitOutOfRange {
        /// The value given.
        value: u32,
        /// The smallest allowed.
        min: u32,
        /// The largest allowed.
        max: u32,
    },
    /// An empty file search query.
    EmptyQuery,
    /// An upload without a file name.
    EmptyFileName,
    /// A form field containing CR, LF or another control character that would break framing.
    ControlCharacter,
    /// An upload content type that is not `type/subtype`.
    InvalidContentType,
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::MissingPromptOrWorkflow => {
                f.write_str("provide either prompt.text or workflowId")
            }
            ProblemKind::MissingPrompt => f.write_str("a prompt is required"),
            ProblemKind::EmptyText => f.write_str("text must not be empty"),
            ProblemKind::WorkflowWithFileIds => {
                f.write_str("fileIds is not valid when workflowId is provided")
            }
            ProblemKind::InputsWithoutWorkflow => f.write_str("inputs requires workflowId"),
            ProblemKind::InputsWithPrompt => {
                f.write_str("inputs and prompt cannot be sent together")
            }
            ProblemKind::TooManyImages { count } => {
                write!(f, "at most 4 images are allowed, got {count}")
            }
            ProblemKind::UnsupportedMediaType(m) => write!(
                f,
                "unsupported media type {m:?} (use image/jpeg, image/png, image/webp or image/gif)"
            ),
            ProblemKind::UnrecognizedImage => {
                f.write_str("the bytes are not a JPEG, PNG, WebP or GIF image")
            }
            ProblemKind::ImageTooLarge { bytes } => {
                write!(f, "image is {bytes} bytes, over the 20 MiB limit")
            }
            ProblemKind::DataUrl => f.write_str("use raw base64, not a data: URL"),
            ProblemKind::InvalidBase64 => f.write_str("not standard padded base64"),
            ProblemKind::MediaTypeMismatch { declared, detected } => match detected {
                Some(d) => write!(f, "declared {declared} but the bytes are {d}"),
                None => write!(f, "declared {declared} but the bytes are not a known image"),
            },
            ProblemKind::FileIdsOnFollowUp => f.write_str("follow-ups do not accept fileIds"),
            ProblemKind::MalformedUuid(v) => write!(f, "{v:?} is not a UUID"),
            ProblemKind::WrongType { expected } => write!(f, "expected {expected}"),
            ProblemKind::UnknownSlot(s) => write!(f, "the workflow has no slot {s:?}"),
            ProblemKind::MissingSlot(s) => write!(f, "required slot {s:?} is missing or empty"),
            ProblemKind::MissingInputs => f.write_str("this workflow requires inputs"),
            ProblemKind::PromptOnSlotWorkflow => {
                f.write_str("this workflow takes inputs, not a prompt")
            }
            ProblemKind::InputsOnPromptWorkflow => {
                f.write_str("this workflow takes a prompt, not inputs")
            }
            ProblemKind::WorkflowMismatch => {
                f.write_str("workflowId does not match the workflow checked against")
            }
            ProblemKind::LimitOutOfRange { value, min, max } => {
                write!(f, "{value} is outside {min}..={max}")
            }
            ProblemKind::EmptyQuery => f.write_str("query must not be empty"),
            ProblemKind::EmptyFileName => f.write_str("file name must not be empty"),
            ProblemKind::ControlCharacter => f.write_str("must not contain control characters"),
            ProblemKind::InvalidContentType => f.write_str("expected a type/subtype media type"),
        }
    }
}

/// A request that breaks one or more rules; lists every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidRequest {
    /// The problems, in the order found (never empty).
    pub problems: Vec<Problem>,
}

impl InvalidRequest {
    /// Wraps problems.
    pub fn new(problems: Vec<Problem>) -> Self {
        InvalidRequest { problems }
    }

    /// A single problem.
    pub fn single(path: impl Into<String>, kind: ProblemKind) -> Self {
        InvalidRequest {
            problems: vec![Problem::new(path, kind)],
        }
    }

    /// The problems.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// True when some problem has exactly this kind.
    pub fn has(&self, kind: &ProblemKind) -> bool {
        self.problems.iter().any(|p| &p.kind == kind)
    }

    /// `Ok(())` when there is no problem.
    pub(crate) fn check(problems: Vec<Problem>) -> Result<(), InvalidRequest> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidRequest { problems })
        }
    }
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid request: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_every_problem() {
        let err = InvalidRequest::new(vec![
            Problem::new("prompt.text", ProblemKind::EmptyText),
            Problem::new("fileIds", ProblemKind::WorkflowWithFileIds),
        ]);
        assert_eq!(
            err.to_string(),
            "invalid request: prompt.text: text must not be empty; \
             fileIds: fileIds is not valid when workflowId is provided"
        );
        assert!(err.has(&ProblemKind::EmptyText));
        assert!(!err.has(&ProblemKind::DataUrl));
    }
}
