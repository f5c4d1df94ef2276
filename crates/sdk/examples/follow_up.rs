//! A conversation with one agent: launch, then follow up twice. Each answer belongs to its own
//! turn, even while the server still shows the previous turn as `finished`.
//!
//! `cargo run -p nomic-agent --example follow_up`

mod common;

use nomic_agent::{Client, Error, LaunchRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::connect().await?;
    run(&client).await?;
    Ok(())
}

/// The example's body: returns the three answers in order.
pub async fn run(client: &Client) -> Result<Vec<String>, Error> {
    let agent = client
        .launch(LaunchRequest::prompt("List the open RFIs."))
        .await?;
    let mut answers = vec![agent.wait().await?.answer.unwrap_or_default()];
    for prompt in [
        "Which of them are overdue?",
        "Draft a reminder for the overdue ones.",
    ] {
        let outcome = agent.ask(prompt).await?;
        answers.push(outcome.answer.unwrap_or_default());
    }
    for (turn, answer) in answers.iter().enumerate() {
        println!("turn {}: {answer}", turn + 1);
    }
    Ok(answers)
}
