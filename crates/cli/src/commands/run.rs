//! `run`, `followup` and `wait`: the commands that end with a turn's outcome.

use std::path::PathBuf;

use futures_util::StreamExt;

use nomic_agent::{AgentId, FileId, Image, ImageExt, LaunchRequest, Prompt, Ticket};
use nomic_agent_core::validate::{validate_against_workflow, validate_follow_up, validate_launch};
use nomic_agent_core::wire::{FollowUpRequest, MAX_IMAGES};

use super::Ctx;
use crate::args::{FollowupArgs, RunArgs, WaitArgs};
use crate::exit::{CliError, Exit};
use crate::inputs::{self, SlotSource};
use crate::turn::{self, TurnDoc};

/// Reads and checks `--image` files (media type from the bytes, at most four).
async fn read_images(paths: &[PathBuf]) -> Result<Vec<Image>, CliError> {
    if paths.len() > MAX_IMAGES {
        return Err(CliError::usage(format!(
            "{} images given; a prompt takes at most {MAX_IMAGES}",
            paths.len()
        )));
    }
    inputs::existing_files("--image", paths)?;
    let mut images = Vec::with_capacity(paths.len());
    for p in paths {
        images.push(Image::from_path(p).await?);
    }
    Ok(images)
}

/// A placeholder id for a file not uploaded yet, so the whole request can be validated before
/// the first upload.
fn placeholder() -> FileId {
    FileId::from_uuid(Default::default())
}

/// `run`: validate everything, upload `--file`s and `--input` paths, launch, wait, report.
pub async fn run(ctx: &Ctx, a: RunArgs) -> Result<Exit, CliError> {
    let client = ctx.client();
    // Everything that can be checked locally is checked before the first request.
    let images = read_images(&a.images).await?;
    inputs::existing_files("--file", &a.files)?;
    let file_ids: Vec<FileId> = a
        .file_ids
        .iter()
        .map(|raw| inputs::id("--file-id", raw))
        .collect::<Result<_, _>>()?;
    let workflow = a
        .workflow
        .as_deref()
        .map(|raw| inputs::id::<nomic_agent::WorkflowId>("--workflow", raw))
        .transpose()?;
    let project = a
        .project
        .as_deref()
        .map(|raw| inputs::id::<nomic_agent::ProjectId>("--project", raw))
        .transpose()?;
    let slots: Vec<inputs::SlotInput> = a
        .inputs
        .iter()
        .map(|raw| inputs::slot_input(raw))
        .collect::<Result<_, _>>()?;
    if !slots.is_empty() && workflow.is_none() {
        return Err(CliError::usage("--input needs --workflow"));
    }

    let build = |uploaded_files: &[FileId], slot_ids: &[FileId]| {
        let mut req = LaunchRequest::default();
        // An empty PROMPT means "no prompt" for a file-slot workflow (which takes none).
        if !(a.prompt.trim().is_empty() && workflow.is_some() && images.is_empty()) {
            let mut prompt = Prompt::new(a.prompt.clone());
            prompt.images = images.clone();
            req.prompt = Some(prompt);
        }
        req.workflow_id = workflow;
        req.project_id = project;
        req.file_ids = file_ids.iter().chain(uploaded_files).copied().collect();
        for (s, id) in slots.iter().zip(slot_ids) {
            req.inputs.entry(s.slot.clone()).or_default().push(*id);
        }
        req
    };
    let plan = build(
        &vec![placeholder(); a.files.len()],
        &vec![placeholder(); slots.len()],
    );
    validate_launch(&plan).map_err(nomic_agent::Error::from)?;
    if let Some(w) = workflow {
        // Reading the workflow sends nothing that acts; a wrong slot is reported before any
        // upload or launch.
        let wf = client.workflow(w).await?;
        validate_against_workflow(&plan, &wf).map_err(nomic_agent::Error::from)?;
    }

    let (uploaded, slot_ids) = upload_all(ctx, &a.files, &slots).await?;
    let agent = client.launch(build(&uploaded, &slot_ids)).await?;
    ctx.console.note(&format!("launched agent {}", agent.id()));
    if a.no_wait {
        return print_current(ctx, &agent).await;
    }
    let outcome = turn::wait_shown(&agent, &ctx.console).await?;
    turn::report(&agent, &outcome, &ctx.console, &ctx.artifacts_dir).await
}

/// Uploads the `--file`s, then the `--input` paths; returns their ids, and the slot ids in
/// `--input` order.
async fn upload_all(
    ctx: &Ctx,
    files: &[PathBuf],
    slots: &[inputs::SlotInput],
) -> Result<(Vec<FileId>, Vec<FileId>), CliError> {
    let client = ctx.client();
    let mut uploaded = Vec::with_capacity(files.len());
    for p in files {
        let f = client.upload_path(p).await?;
        ctx.console
            .note(&format!("uploaded {} as file {}", p.display(), f.id));
        uploaded.push(f.id);
    }
    let mut slot_ids = Vec::with_capacity(slots.len());
    for s in slots {
        slot_ids.push(match &s.source {
            SlotSource::Id(id) => *id,
            SlotSource::Path(p) => {
                let f = client.upload_path(p).await?;
                ctx.console.note(&format!(
                    "uploaded {} as file {} for slot {}",
                    p.display(),
                    f.id,
                    s.slot
                ));
                f.id
            }
        });
    }
    Ok((uploaded, slot_ids))
}

/// `--no-wait`: the agent as the server shows it now and the turn's ticket; the id alone on
/// stdout in human mode, a ready-to-paste `wait --ticket` line on stderr.
async fn print_current(ctx: &Ctx, agent: &nomic_agent::Agent) -> Result<Exit, CliError> {
    let info = agent.get().await?;
    let url = turn::url_of(agent, &info);
    let ticket = agent.ticket().map(|t| t.to_string());
    let mut doc = TurnDoc::from_agent(&info, None, url.clone());
    doc.ticket = ticket.clone();
    ctx.console.document(&doc)?;
    ctx.console.note(&format!("status {}: {url}", info.status));
    if let Some(t) = ticket {
        ctx.console.note(&format!(
            "wait for this turn with: nomic-agent wait --ticket {t}"
        ));
    }
    ctx.console.out(&agent.id().to_string());
    Ok(Exit::Success)
}

/// `followup`: send a follow-up (race-safe), then wait for this turn's answer.
pub async fn followup(ctx: &Ctx, a: FollowupArgs) -> Result<Exit, CliError> {
    let id: AgentId = inputs::id("agent id", &a.agent_id)?;
    let mut prompt = Prompt::new(a.prompt);
    prompt.images = read_images(&a.images).await?;
    validate_follow_up(&FollowUpRequest::new(prompt.clone())).map_err(nomic_agent::Error::from)?;
    let agent = ctx.client().follow_up(id, prompt).await?;
    ctx.console
        .note(&format!("follow-up accepted by agent {id}"));
    if a.no_wait {
        // Right after the 202 the server may still show the previous turn; return only once
        // the new turn is visible, so a later `wait` or `answer` cannot mistake the old one.
        let mut changes = std::pin::pin!(agent.watch());
        if let Some(change) = changes.next().await {
            change?;
        }
        return print_current(ctx, &agent).await;
    }
    let outcome = turn::wait_shown(&agent, &ctx.console).await?;
    turn::report(&agent, &outcome, &ctx.console, &ctx.artifacts_dir).await
}

/// `wait`: wait for the turn a `--ticket` names, or attach to an agent and wait for its
/// current turn.
pub async fn wait(ctx: &Ctx, a: WaitArgs) -> Result<Exit, CliError> {
    let agent = match (a.ticket, a.agent_id) {
        (Some(raw), _) => {
            let ticket: Ticket = raw
                .parse()
                .map_err(|e| CliError::usage(format!("--ticket: {e}")))?;
            ctx.client()
                .resume(&ticket)
                .map_err(|e| CliError::usage(format!("--ticket: {e}")))?
        }
        (None, Some(raw_id)) => ctx.client().agent(inputs::id("agent id", &raw_id)?),
        (None, None) => return Err(CliError::usage("give an agent id or --ticket")),
    };
    let outcome = turn::wait_shown(&agent, &ctx.console).await?;
    turn::report(&agent, &outcome, &ctx.console, &ctx.artifacts_dir).await
}
