//! `upload`, `files search` and `workflows`.

use std::path::Path;

use futures_util::TryStreamExt;
use nomic_agent::{FileId, FileSearchQuery, UploadForm, UploadedFile, Workflow};

use super::Ctx;
use crate::args::{SearchArgs, UploadArgs};
use crate::exit::{CliError, Exit};
use crate::inputs;

/// A content type from the extension, for uploads with `--path`/`--parent` (a plain upload
/// lets the SDK guess). Unknown extensions are sent as bytes.
fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("pdf") => "application/pdf",
        Some("md" | "markdown") => "text/markdown",
        Some("txt") => "text/plain",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// `upload`.
pub async fn upload(ctx: &Ctx, a: UploadArgs) -> Result<Exit, CliError> {
    inputs::existing_files("upload", [&a.path])?;
    let parent: Option<FileId> = a
        .parent
        .as_deref()
        .map(|raw| inputs::id("--parent", raw))
        .transpose()?;
    let f: UploadedFile = if a.dest_path.is_none() && parent.is_none() {
        ctx.client().upload_path(&a.path).await?
    } else {
        let name = a
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| CliError::usage(format!("{}: not a file name", a.path.display())))?;
        let mut form = UploadForm::new(name, content_type(&a.path));
        if let Some(p) = &a.dest_path {
            form = form.path(p.clone());
        }
        if let Some(id) = parent {
            form = form.parent(id);
        }
        form.validate().map_err(nomic_agent::Error::from)?;
        let file = tokio::fs::File::open(&a.path)
            .await
            .map_err(|e| CliError::usage(format!("could not open {}: {e}", a.path.display())))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| CliError::usage(format!("could not read {}: {e}", a.path.display())))?
            .len();
        ctx.client().upload_reader(form, file, Some(len)).await?
    };
    ctx.console.document(&f)?;
    ctx.console
        .note(&format!("uploaded {} ({})", f.name, a.path.display()));
    ctx.console.out(&f.id.to_string());
    Ok(Exit::Success)
}

/// `files search`: one page of hits.
pub async fn search(ctx: &Ctx, a: SearchArgs) -> Result<Exit, CliError> {
    if a.query.trim().is_empty() {
        return Err(CliError::usage("files search: the query is empty"));
    }
    let mut q = FileSearchQuery::new(a.query);
    if let Some(n) = a.limit {
        if !(1..=50).contains(&n) {
            return Err(CliError::usage(format!(
                "--limit {n}: must be between 1 and 50"
            )));
        }
        q = q.limit(n);
    }
    let page = ctx.client().search_files_page(&q).await?;
    ctx.console.document(&page.data)?;
    for h in &page.data {
        ctx.console.out(&format!("{}  {}", h.id, h.path));
    }
    Ok(Exit::Success)
}

/// One human-readable line per workflow: its id, name and what it takes.
fn workflow_line(w: &Workflow) -> String {
    let takes = if w.inputs.is_empty() {
        "prompt".to_owned()
    } else {
        let slots: Vec<String> = w
            .inputs
            .iter()
            .map(|s| format!("{}{}", s.name, if s.required { "*" } else { "" }))
            .collect();
        format!("slots: {}", slots.join(", "))
    };
    format!("{}  {}  ({takes})", w.id, w.name)
}

/// `workflows`: every workflow.
pub async fn workflows(ctx: &Ctx) -> Result<Exit, CliError> {
    let all: Vec<Workflow> = ctx.client().list_workflows().try_collect().await?;
    ctx.console.document(&all)?;
    for w in &all {
        ctx.console.out(&workflow_line(w));
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomic_agent::WorkflowSlot;

    #[test]
    fn workflow_lines_show_slots() {
        let id = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        let w = Workflow::new(
            id,
            "Review",
            vec![
                WorkflowSlot::new("submittal", true, false),
                WorkflowSlot::new("specs", false, true),
            ],
        );
        assert!(workflow_line(&w).ends_with("Review  (slots: submittal*, specs)"));
        let p = Workflow::new(id, "Ask", vec![]);
        assert!(workflow_line(&p).ends_with("(prompt)"));
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(content_type(Path::new("a.PDF")), "application/pdf");
        assert_eq!(content_type(Path::new("notes.md")), "text/markdown");
        assert_eq!(content_type(Path::new("blob")), "application/octet-stream");
    }
}
