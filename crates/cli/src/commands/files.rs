//! `upload`, `files search` and `workflows`.

use futures_util::TryStreamExt;
use nomic_agent::{FileId, FileSearchQuery, UploadOptions, UploadedFile, Workflow};

use super::Ctx;
use crate::args::{SearchArgs, UploadArgs};
use crate::exit::{CliError, Exit};
use crate::inputs;

/// `upload`.
pub async fn upload(ctx: &Ctx, a: UploadArgs) -> Result<Exit, CliError> {
    inputs::existing_files("upload", [&a.path])?;
    let mut options = UploadOptions::new();
    options.path = a.dest_path;
    options.parent_id = a
        .parent
        .as_deref()
        .map(|raw| inputs::id::<FileId>("--parent", raw))
        .transpose()?;
    let f: UploadedFile = ctx.client().upload_path_with(&a.path, options).await?;
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
}
