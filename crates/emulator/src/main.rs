//! `nomic-agent-emulator`: a local Nomic Agent API server.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "nomic-agent-emulator",
    version,
    about = "A local Nomic Agent API emulator"
)]
struct Cli {
    #[command(flatten)]
    args: nomic_agent_emulator::cli::EmulatorArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match nomic_agent_emulator::cli::run(cli.args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
