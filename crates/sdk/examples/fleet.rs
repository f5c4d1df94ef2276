//! Track many agents with one scheduler and handle each as it finishes.
//!
//! `cargo run -p nomic-agent --example fleet`

mod common;

use futures_util::StreamExt;
use nomic_agent::{Client, Error, Fleet, LaunchRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::connect().await?;
    run(&client, 12).await?;
    Ok(())
}

/// The example's body: launches `n` agents, returns how many finished.
pub async fn run(client: &Client, n: usize) -> Result<usize, Error> {
    let mut fleet = Fleet::new(client);
    for i in 0..n {
        fleet
            .launch(LaunchRequest::prompt(format!(
                "Check drawing sheet A-{i:03}."
            )))
            .await?;
    }
    let mut finished = 0;
    let mut outcomes = std::pin::pin!(fleet.into_stream());
    while let Some(o) = outcomes.next().await {
        match o.result {
            Ok(outcome) => {
                finished += usize::from(outcome.is_finished());
                println!("{}: {}", o.agent_id, outcome.status);
            }
            Err(e) => println!("{}: {e}", o.agent_id),
        }
    }
    println!("{finished}/{n} finished");
    Ok(finished)
}
