//! One module per group of commands; [`dispatch`] runs the parsed command.

mod agents;
mod chat;
mod demo;
mod files;
mod run;

use std::path::PathBuf;

use nomic_agent::Client;

use crate::args::{Cli, Command, FilesCommand};
use crate::connect::{self, Connection};
use crate::console::Console;
use crate::exit::{CliError, Exit};

/// Where `run`, `followup` and `wait` save artifacts in human mode (under the current
/// directory, one folder per agent).
pub const ARTIFACTS_DIR: &str = "nomic-artifacts";

/// What every command gets: the output and the connection.
#[derive(Debug)]
pub struct Ctx {
    /// Output settings.
    pub console: Console,
    /// The client (and the embedded emulator, if any).
    pub conn: Connection,
    /// Where turn artifacts are saved in human mode.
    pub artifacts_dir: PathBuf,
}

impl Ctx {
    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.conn.client
    }
}

/// Runs the command and returns its exit (results are already printed).
pub async fn dispatch(cli: Cli, console: Console) -> Result<Exit, CliError> {
    let g = cli.global;
    match cli.command {
        Command::Emulator(args) => return run_emulator(args).await,
        Command::Demo => return demo::demo(&g, console).await,
        _ => {}
    }
    let conn = connect::connect(&g, &console).await?;
    let ctx = Ctx {
        console,
        conn,
        artifacts_dir: PathBuf::from(ARTIFACTS_DIR),
    };
    let result = match cli.command {
        Command::Run(a) => run::run(&ctx, a).await,
        Command::Followup(a) => run::followup(&ctx, a).await,
        Command::Wait(a) => run::wait(&ctx, a).await,
        Command::Status(a) => agents::status(&ctx, &a.agent_id).await,
        Command::Conversation(a) => agents::conversation(&ctx, &a.agent_id).await,
        Command::Answer(a) => agents::answer(&ctx, &a.agent_id).await,
        Command::Artifacts(a) => agents::artifacts(&ctx, a).await,
        Command::Stop(a) => agents::stop(&ctx, &a.agent_id).await,
        Command::Delete(a) => agents::delete(&ctx, &a.agent_id).await,
        Command::List(a) => agents::list(&ctx, a).await,
        Command::Upload(a) => files::upload(&ctx, a).await,
        Command::Files(FilesCommand::Search(a)) => files::search(&ctx, a).await,
        Command::Workflows => files::workflows(&ctx).await,
        Command::Chat(a) => chat::chat(&ctx, a).await,
        Command::Emulator(_) | Command::Demo => unreachable!("handled above"),
    };
    ctx.conn.close().await;
    result
}

/// `emulator`: serves until Ctrl-C.
async fn run_emulator(args: nomic_agent_emulator::cli::EmulatorArgs) -> Result<Exit, CliError> {
    use nomic_agent_emulator::EmulatorError;
    match nomic_agent_emulator::cli::run(args).await {
        Ok(()) => Ok(Exit::Success),
        Err(e @ EmulatorError::Config(_)) => Err(CliError::usage(e.to_string())),
        Err(e) => Err(CliError::io(e.to_string())),
    }
}
