//! The body rules of launches and follow-ups.

use super::image::check_image;
use super::{InvalidRequest, Problem, ProblemKind};
use crate::wire::{FollowUpRequest, Image, LaunchRequest, MAX_IMAGES, Prompt, Workflow};

/// Checks a launch body: prompt or workflow, non-empty text, no `fileIds` with a workflow,
/// `inputs` only with a workflow and without a prompt, and every image rule.
///
/// Returns every problem found. Slot rules need the workflow: see
/// [`validate_against_workflow`].
pub fn validate_launch(req: &LaunchRequest) -> Result<(), InvalidRequest> {
    let mut problems = Vec::new();
    launch_rules(req, &mut problems);
    InvalidRequest::check(problems)
}

pub(crate) fn launch_rules(req: &LaunchRequest, problems: &mut Vec<Problem>) {
    if req.prompt.is_none() && req.workflow_id.is_none() {
        problems.push(Problem::new("prompt", ProblemKind::MissingPromptOrWorkflow));
    }
    if let Some(prompt) = &req.prompt {
        prompt_rules(prompt, problems);
    }
    if req.workflow_id.is_some() && !req.file_ids.is_empty() {
        problems.push(Problem::new("fileIds", ProblemKind::WorkflowWithFileIds));
    }
    if !req.inputs.is_empty() {
        if req.workflow_id.is_none() {
            problems.push(Problem::new("inputs", ProblemKind::InputsWithoutWorkflow));
        }
        if req.prompt.is_some() {
            problems.push(Problem::new("inputs", ProblemKind::InputsWithPrompt));
        }
    }
}

/// Checks a follow-up body: non-empty text and every image rule. (`fileIds` cannot be
/// expressed in a [`FollowUpRequest`]; raw JSON is checked by
/// [`super::validate_follow_up_json`].)
pub fn validate_follow_up(req: &FollowUpRequest) -> Result<(), InvalidRequest> {
    let mut problems = Vec::new();
    prompt_rules(&req.prompt, &mut problems);
    InvalidRequest::check(problems)
}

fn prompt_rules(prompt: &Prompt, problems: &mut Vec<Problem>) {
    text_rule(&prompt.text, problems);
    images_rules(
        prompt.images.iter().enumerate(),
        prompt.images.len(),
        problems,
    );
}

pub(crate) fn text_rule(text: &str, problems: &mut Vec<Problem>) {
    if text.trim().is_empty() {
        problems.push(Problem::new("prompt.text", ProblemKind::EmptyText));
    }
}

pub(crate) fn images_rules<'a>(
    images: impl Iterator<Item = (usize, &'a Image)>,
    count: usize,
    problems: &mut Vec<Problem>,
) {
    if count > MAX_IMAGES {
        problems.push(Problem::new(
            "prompt.images",
            ProblemKind::TooManyImages { count },
        ));
    }
    for (i, image) in images {
        check_image(image, &format!("prompt.images[{i}]"), problems);
    }
}

/// Checks a launch against the workflow it names: a file-slot workflow takes `inputs` (only
/// declared slots, every required slot non-empty) and no `prompt`; a prompt-driven workflow
/// takes no `inputs`. Does not repeat the checks of [`validate_launch`].
pub fn validate_against_workflow(
    req: &LaunchRequest,
    workflow: &Workflow,
) -> Result<(), InvalidRequest> {
    let mut problems = Vec::new();
    if req.workflow_id != Some(workflow.id) {
        problems.push(Problem::new("workflowId", ProblemKind::WorkflowMismatch));
    }
    if workflow.is_file_slot() {
        if req.prompt.is_some() {
            problems.push(Problem::new("prompt", ProblemKind::PromptOnSlotWorkflow));
        }
        if req.inputs.is_empty() {
            problems.push(Problem::new("inputs", ProblemKind::MissingInputs));
        }
        for slot in req.inputs.keys() {
            if workflow.slot(slot).is_none() {
                problems.push(Problem::new(
                    format!("inputs.{slot}"),
                    ProblemKind::UnknownSlot(slot.clone()),
                ));
            }
        }
        for slot in workflow.inputs.iter().filter(|s| s.required) {
            if req.inputs.get(&slot.name).is_none_or(Vec::is_empty) {
                problems.push(Problem::new(
                    format!("inputs.{}", slot.name),
                    ProblemKind::MissingSlot(slot.name.clone()),
                ));
            }
        }
    } else if !req.inputs.is_empty() {
        problems.push(Problem::new("inputs", ProblemKind::InputsOnPromptWorkflow));
    }
    InvalidRequest::check(problems)
}
