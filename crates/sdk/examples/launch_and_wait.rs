//! Launch a simple agent, wait for its answer, read the conversation and the artifacts.
//!
//! `cargo run -p nomic-agent --example launch_and_wait` (uses an in-process emulator unless
//! `NOMIC_BASE_URL` is set).

mod common;

use nomic_agent::{Client, Error, LaunchRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::connect().await?;
    if let Err(e) = run(&client).await {
        // An error the server answered with says what it said: its status, how long it asked
        // to wait (a rate limit), and its request id for a support ticket.
        if let Some(api) = e.api() {
            eprintln!(
                "the server answered {} (retry after: {:?}, request id: {:?})",
                api.status(),
                e.retry_after(),
                e.request_id()
            );
        }
        return Err(e.into());
    }
    Ok(())
}

/// The example's body: returns the answer.
pub async fn run(client: &Client) -> Result<String, Error> {
    let agent = client
        .launch(LaunchRequest::prompt(
            "Summarize the latest inspection findings.",
        ))
        .await?;
    println!("launched {} — open {}", agent.id(), agent.url());
    let outcome = agent.wait().await?;
    println!("status: {}", outcome.status);
    let answer = outcome.answer.clone().unwrap_or_default();
    println!("answer: {answer}");
    for meta in &outcome.artifacts {
        let content = client.artifact(agent.id(), meta.id).await?;
        println!(
            "artifact {:?} ({}, {} bytes, {})",
            meta.title,
            meta.kind,
            content.bytes.len(),
            content.content_type
        );
    }
    Ok(answer)
}
