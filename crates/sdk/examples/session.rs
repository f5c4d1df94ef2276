//! One agent per application thread: the first message launches, later ones follow up, and
//! the mapping is kept in a file that survives restarts.
//!
//! `cargo run -p nomic-agent --example session`

mod common;

use nomic_agent::{Client, Error, FileStore, Session};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::connect().await?;
    let path = std::env::temp_dir().join(format!("nomic-sessions-{}.json", std::process::id()));
    run(&client, &path).await?;
    let _ = std::fs::remove_file(&path);
    Ok(())
}

/// The example's body: two threads, two messages each; returns how each send started.
pub async fn run(client: &Client, store_path: &std::path::Path) -> Result<Vec<String>, Error> {
    let session = Session::new(client.clone(), FileStore::open(store_path)?);
    let mut starts = Vec::new();
    for (thread, message) in [
        (
            "ticket-17",
            "What does the submittal say about fire rating?",
        ),
        ("ticket-42", "Summarize the change order."),
        ("ticket-17", "And the door hardware?"),
        ("ticket-42", "Who approved it?"),
    ] {
        let reply = session.send(thread, message).await?;
        println!(
            "[{thread}] {:?} on {}: {}",
            reply.start,
            reply.agent_id,
            reply.outcome.answer.as_deref().unwrap_or("(no answer)")
        );
        starts.push(format!("{:?}", reply.start));
    }
    Ok(starts)
}
