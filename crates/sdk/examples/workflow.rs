//! Workflows: list them, run a prompt-driven one, and run a file-slot one with `inputs`
//! (slot names are checked against the workflow before anything is launched).
//!
//! `cargo run -p nomic-agent --example workflow`

mod common;

use futures_util::TryStreamExt;
use nomic_agent::{Client, Error, UploadForm, WorkflowInput};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::connect().await?;
    run(&client).await?;
    Ok(())
}

/// The example's body: returns the answers of the workflows it ran.
pub async fn run(client: &Client) -> Result<Vec<String>, Error> {
    let workflows: Vec<_> = client.list_workflows().try_collect().await?;
    let mut answers = Vec::new();
    for wf in &workflows {
        println!(
            "workflow {} {:?}: {} slot(s)",
            wf.id,
            wf.name,
            wf.inputs.len()
        );
        let input = if wf.is_file_slot() {
            let mut slots = Vec::new();
            for slot in &wf.inputs {
                let body = format!("contents for the {} slot", slot.name);
                let len = body.len() as u64;
                let file = client
                    .upload_reader(
                        UploadForm::new(format!("{}.txt", slot.name), "text/plain"),
                        std::io::Cursor::new(body.into_bytes()),
                        Some(len),
                    )
                    .await?;
                slots.push((slot.name.clone(), vec![file.id]));
            }
            WorkflowInput::Inputs(slots)
        } else {
            WorkflowInput::Prompt("Run this workflow on the current project.".into())
        };
        let outcome = client.launch_workflow(wf.id, input).await?.wait().await?;
        let answer = outcome.answer.unwrap_or_default();
        println!("  {}: {answer}", outcome.status);
        answers.push(answer);
    }
    Ok(answers)
}
