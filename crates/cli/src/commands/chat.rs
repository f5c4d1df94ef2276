//! `chat`: a prompt loop on one thread. The thread maps to one agent id kept in `--store`;
//! the first message launches, later ones (in this run or a later one) follow up.

use std::io::IsTerminal;

use nomic_agent::{FileStore, Session, SessionStart};
use serde::Serialize;

use super::Ctx;
use crate::args::ChatArgs;
use crate::exit::{CliError, Exit};
use crate::turn::TurnDoc;

/// The `--json` document: every turn of this run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChatDoc {
    thread: String,
    agent_id: Option<String>,
    turns: Vec<TurnDoc>,
}

/// What a line typed at the prompt means.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Skip,
    Quit,
    Prompt(&'a str),
}

fn classify(line: &str) -> Line<'_> {
    match line.trim() {
        "" => Line::Skip,
        "/quit" | "/exit" => Line::Quit,
        text => Line::Prompt(text),
    }
}

/// The next line of stdin, `None` at its end. Read on a blocking thread: stdin has no
/// portable non-blocking form.
async fn read_line() -> Result<Option<String>, CliError> {
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map(|n| (n > 0).then_some(line))
    });
    read.await
        .map_err(|e| CliError::io(format!("could not read stdin: {e}")))?
        .map_err(|e| CliError::io(format!("could not read stdin: {e}")))
}

/// `chat`.
pub async fn chat(ctx: &Ctx, a: ChatArgs) -> Result<Exit, CliError> {
    if a.thread.trim().is_empty() {
        return Err(CliError::usage("--thread must not be empty"));
    }
    let store = FileStore::open(&a.store)?;
    let session = Session::new(ctx.client().clone(), store);
    let mut agent_id = session.agent_id(&a.thread).await?;
    let interactive = std::io::stdin().is_terminal() && !ctx.console.json;
    match agent_id {
        Some(id) => ctx.console.note(&format!(
            "thread {:?}: continuing with agent {id}",
            a.thread
        )),
        None => ctx.console.note(&format!(
            "thread {:?}: the first message launches an agent",
            a.thread
        )),
    }
    if interactive {
        ctx.console
            .note("type a message and press Enter; /quit or Ctrl-D ends the chat");
    }

    let mut turns = Vec::new();
    let mut exit = Exit::Success;
    loop {
        if interactive {
            ctx.console.prompt("you> ");
        }
        let Some(line) = read_line().await? else {
            break;
        };
        let text = match classify(&line) {
            Line::Skip => continue,
            Line::Quit => break,
            Line::Prompt(text) => text,
        };
        let reply = session.send(&a.thread, text).await?;
        match reply.start {
            SessionStart::Launched => ctx
                .console
                .note(&format!("launched agent {}", reply.agent_id)),
            SessionStart::Relaunched { previous } => ctx.console.note(&format!(
                "agent {previous} is gone; launched agent {}",
                reply.agent_id
            )),
            _ => {}
        }
        agent_id = Some(reply.agent_id);
        let o = &reply.outcome;
        exit = Exit::for_status(&o.status);
        let url = o
            .agent
            .url
            .clone()
            .unwrap_or_else(|| ctx.client().agent_url(&reply.agent_id));
        turns.push(TurnDoc::from_outcome(o, url));
        match &o.answer {
            Some(answer) => ctx.console.out(answer),
            None => ctx.console.note(&format!(
                "agent {} {}{}",
                reply.agent_id,
                o.status,
                o.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )),
        }
    }
    ctx.console.document(&ChatDoc {
        thread: a.thread,
        agent_id: agent_id.map(|id| id.to_string()),
        turns,
    })?;
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_classified() {
        assert_eq!(classify("  "), Line::Skip);
        assert_eq!(classify("/quit"), Line::Quit);
        assert_eq!(classify(" /exit "), Line::Quit);
        assert_eq!(classify(" hello "), Line::Prompt("hello"));
    }
}
