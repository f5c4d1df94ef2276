//! The upload form's fields and their header encoding.

use crate::validate::{InvalidRequest, Problem, ProblemKind};
use crate::wire::FileId;

/// The fields of an upload besides the content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadForm {
    /// The file name sent in the `file` part (any characters; escaped safely).
    pub file_name: String,
    /// The content's media type, e.g. `application/pdf`.
    pub content_type: String,
    /// Optional slash-separated destination path including the file name.
    pub path: Option<String>,
    /// Optional folder to upload into.
    pub parent_id: Option<FileId>,
}

impl UploadForm {
    /// A form for a file with this name and content type.
    pub fn new(file_name: impl Into<String>, content_type: impl Into<String>) -> Self {
        UploadForm {
            file_name: file_name.into(),
            content_type: content_type.into(),
            path: None,
            parent_id: None,
        }
    }

    /// Sets the destination path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the destination folder.
    pub fn parent(mut self, id: FileId) -> Self {
        self.parent_id = Some(id);
        self
    }

    /// Checks the fields: a non-empty file name, a `type/subtype` content type, and a path
    /// without control characters (a CR or LF there could forge a part boundary).
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        let mut problems = Vec::new();
        if self.file_name.is_empty() {
            problems.push(Problem::new("file_name", ProblemKind::EmptyFileName));
        }
        if !is_media_type(&self.content_type) {
            problems.push(Problem::new(
                "content_type",
                ProblemKind::InvalidContentType,
            ));
        }
        if self
            .path
            .as_deref()
            .is_some_and(|p| p.chars().any(char::is_control))
        {
            problems.push(Problem::new("path", ProblemKind::ControlCharacter));
        }
        InvalidRequest::check(problems)
    }
}

/// `type/subtype` with RFC 9110 token characters, optionally followed by `;` parameters of
/// visible ASCII and spaces. Checked on the trimmed value, which is what the encoder sends:
/// only white space at the very ends is dropped. (Trimming the part before `;` alone let
/// `text/plain\r\n; x` through and put a line break into the part's headers; found by
/// fuzzing, `fuzz/regressions/multipart/crash-93588a06…`.)
fn is_media_type(s: &str) -> bool {
    let is_token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let s = s.trim();
    let (essence, params) = s.split_once(';').unwrap_or((s, ""));
    let ok_params = params.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    match essence.trim_end_matches(' ').split_once('/') {
        Some((t, sub)) => is_token(t) && is_token(sub) && ok_params,
        None => false,
    }
}

/// The `filename="…"` value: UTF-8 kept, but `"`, `\`, CR, LF and other control characters
/// percent-encoded (as browsers do for `"`, CR and LF), so the header cannot be broken out of.
/// The second value says whether anything was escaped.
pub(crate) fn quoted_file_name(name: &str) -> (String, bool) {
    let mut out = String::with_capacity(name.len());
    let mut escaped = false;
    for c in name.chars() {
        if c == '"' || c == '\\' || c.is_control() {
            escaped = true;
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    (out, escaped)
}

/// The RFC 8187 `filename*` value: `UTF-8''` and the name with every byte that is not an
/// `attr-char` percent-encoded.
pub(crate) fn ext_file_name(name: &str) -> String {
    let mut out = String::from("UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_fields() {
        assert!(
            UploadForm::new("a.pdf", "application/pdf")
                .validate()
                .is_ok()
        );
        assert!(
            UploadForm::new("a.txt", "text/plain; charset=utf-8")
                .path("reports/2026/a.txt")
                .validate()
                .is_ok()
        );
        let err = UploadForm::new("", "pdf")
            .path("a\r\nb")
            .validate()
            .unwrap_err();
        let kinds: Vec<_> = err.problems.iter().map(|p| p.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                ProblemKind::EmptyFileName,
                ProblemKind::InvalidContentType,
                ProblemKind::ControlCharacter
            ]
        );
        assert!(
            UploadForm::new("a", "text/plain\r\nX: y")
                .validate()
                .is_err()
        );
        // Fuzz reproducer (`crash-93588a06…`): a CR before `;` survived the old check.
        for bad in [
            "text/p\r;l",
            "text/plain\r\n; x",
            "text/plain\n;a=b",
            "text/plain\t;a=b",
        ] {
            assert!(UploadForm::new("a", bad).validate().is_err(), "{bad:?}");
        }
        for good in [
            " text/plain ",
            "\ttext/plain; charset=utf-8\r\n",
            "text/plain ; a=b",
        ] {
            assert!(UploadForm::new("a", good).validate().is_ok(), "{good:?}");
        }
    }

    #[test]
    fn escapes_names() {
        assert_eq!(quoted_file_name("plain.pdf"), ("plain.pdf".into(), false));
        assert_eq!(
            quoted_file_name("a\"b\\c\r\nd"),
            ("a%22b%5Cc%0D%0Ad".into(), true)
        );
        assert_eq!(quoted_file_name("é.pdf"), ("é.pdf".into(), false));
        assert_eq!(ext_file_name("é a.pdf"), "UTF-8''%C3%A9%20a.pdf");
    }
}
