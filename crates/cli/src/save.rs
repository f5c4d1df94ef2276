//! Saving artifacts as files named after their titles.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use nomic_agent::{AgentId, ArtifactKind, ArtifactMeta, Client};

use crate::exit::CliError;

/// Longest file stem taken from a title (file systems cap names at 255 bytes).
const MAX_STEM: usize = 80;

/// The file extension for an artifact kind (documents are markdown, tables JSON).
fn extension(kind: &ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::Document => "md",
        ArtifactKind::Table => "json",
        _ => "bin",
    }
}

/// A safe file stem from a title: path separators, control and other unusual characters
/// become `_`, so a title can never escape the directory; an empty result falls back to the id.
fn stem(title: &str, fallback: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '(' | ')' | ',') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_STEM)
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim();
    if cleaned.is_empty() {
        fallback.to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// File names for `artifacts` in order: `<title>.<ext>`, with ` (2)`, ` (3)`… for repeats.
pub fn file_names(artifacts: &[ArtifactMeta]) -> Vec<String> {
    let mut taken = HashSet::new();
    artifacts
        .iter()
        .map(|a| {
            let base = stem(&a.title, &a.id.to_string());
            let ext = extension(&a.kind);
            let mut name = format!("{base}.{ext}");
            let mut n = 2;
            while !taken.insert(name.to_lowercase()) {
                name = format!("{base} ({n}).{ext}");
                n += 1;
            }
            name
        })
        .collect()
}

/// Creates `dir` (a usage error when impossible, checked before anything is fetched).
pub fn prepare_dir(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::usage(format!("could not create {}: {e}", dir.display())))
}

/// Downloads every artifact into `dir` (created if needed); returns the paths in order.
pub async fn save_all(
    client: &Client,
    agent: AgentId,
    artifacts: &[ArtifactMeta],
    dir: &Path,
) -> Result<Vec<PathBuf>, CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::io(format!("could not create {}: {e}", dir.display())))?;
    let mut paths = Vec::with_capacity(artifacts.len());
    for (meta, name) in artifacts.iter().zip(file_names(artifacts)) {
        let path = dir.join(name);
        client
            .download_artifact_to_file(agent, meta.id, &path)
            .await
            .map_err(|e| match e {
                // The agent exists and was read, so a local write failure is not a usage error.
                nomic_agent::Error::Io { .. } => CliError::io(e.to_string()),
                other => CliError::from(other),
            })?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(title: &str, kind: &str, n: u8) -> ArtifactMeta {
        serde_json::from_value(serde_json::json!({
            "id": format!("019abc12-3456-7890-abcd-ef12345678{n:02x}"),
            "type": kind,
            "title": title,
            "version": 1,
        }))
        .unwrap()
    }

    #[test]
    fn names_come_from_titles_with_kind_extensions() {
        let names = file_names(&[
            meta("Inspection summary", "document", 1),
            meta("Open issues", "table", 2),
            meta("Drawing", "drawing_review", 3),
        ]);
        assert_eq!(
            names,
            ["Inspection summary.md", "Open issues.json", "Drawing.bin"]
        );
    }

    #[test]
    fn titles_cannot_escape_and_repeats_get_numbers() {
        let names = file_names(&[
            meta("../../etc/passwd", "document", 1),
            meta("Report", "document", 2),
            meta("report", "document", 3),
            meta("  ", "document", 4),
        ]);
        assert_eq!(names[0], "_.._etc_passwd.md");
        assert!(!names[0].contains('/'));
        assert_eq!(names[1], "Report.md");
        assert_eq!(names[2], "report (2).md");
        assert_eq!(names[3], "019abc12-3456-7890-abcd-ef1234567804.md");
    }
}
