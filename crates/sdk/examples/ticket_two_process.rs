//! Submit in one process, wait in another: the submitter sends a follow-up and prints the
//! turn's ticket; the waiter, holding only that string, waits on that very turn — never the
//! previous turn's answer, even while the server still shows it as `finished`.
//!
//! Against a real instance (`NOMIC_BASE_URL`, `NOMIC_API_KEY` set), in two shells:
//!
//! ```sh
//! cargo run -p nomic-agent --example ticket_two_process -- submit "List the open RFIs." "Which are overdue?"
//! cargo run -p nomic-agent --example ticket_two_process -- wait t1.…
//! ```
//!
//! Without arguments both halves run here, each with its own `Client` (on an in-process
//! emulator when `NOMIC_BASE_URL` is unset).

mod common;

use nomic_agent::{Client, Error, LaunchRequest, Ticket};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["submit", first, second] => {
            println!("{}", submit(&Client::from_env()?, first, second).await?)
        }
        ["wait", ticket] => println!("{}", wait(&Client::from_env()?, ticket).await?),
        [] => {
            let (submitter, emulator) = common::connect().await?;
            // A second client, as another process would build it.
            let waiter = match &emulator {
                Some(emu) => common::emulator_client(emu)?,
                None => Client::from_env()?,
            };
            println!("{}", run(&submitter, &waiter).await?);
        }
        _ => return Err("usage: ticket_two_process [submit FIRST SECOND | wait TICKET]".into()),
    }
    Ok(())
}

/// The submitting side: launch, wait for the first answer, send a follow-up and return at once
/// with its ticket (what a web handler would store or hand back).
pub async fn submit(client: &Client, first: &str, second: &str) -> Result<String, Error> {
    let agent = client.launch(LaunchRequest::prompt(first)).await?;
    agent.wait().await?;
    let sent = client.follow_up(agent.id(), second).await?;
    let ticket = sent.ticket().expect("an accepted follow-up has a ticket");
    Ok(ticket.to_string())
}

/// The waiting side: only the ticket's string, in any process.
pub async fn wait(client: &Client, ticket: &str) -> Result<String, Error> {
    let ticket: Ticket = ticket.parse()?;
    let outcome = client.resume(&ticket)?.wait().await?;
    Ok(outcome.answer.unwrap_or_default())
}

/// Both halves, with two clients: returns the follow-up's answer.
pub async fn run(submitter: &Client, waiter: &Client) -> Result<String, Error> {
    let ticket = submit(
        submitter,
        "List the open RFIs.",
        "Which of them are overdue?",
    )
    .await?;
    eprintln!("ticket: {ticket}");
    wait(waiter, &ticket).await
}
