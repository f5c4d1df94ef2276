//! The command-line interface: a contract scripts rely on (`docs/cli.md`), so names, flags and
//! value formats change only with care.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use nomic_agent_emulator::cli::EmulatorArgs;

/// Launch, wait for, follow up and inspect Nomic agents.
///
/// Without a base URL every command runs against an emulator started in-process.
#[derive(Debug, Parser)]
#[command(name = "nomic-agent", version)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Connection, output and polling options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// API root of the instance, e.g. https://acme.nomic.ai/api/v0 (default: an embedded emulator).
    #[arg(long, env = "NOMIC_BASE_URL", value_name = "URL", global = true)]
    pub base_url: Option<String>,
    /// API key (npk_…); required with --base-url.
    // `hide_env_values`: clap would otherwise print the key in --help.
    #[arg(
        long,
        env = "NOMIC_API_KEY",
        value_name = "KEY",
        global = true,
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// Print exactly one JSON document on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Give up waiting after SECS (per request and for the whole wait).
    #[arg(
        long,
        value_name = "SECS",
        global = true,
        allow_negative_numbers = true
    )]
    pub timeout: Option<f64>,
    /// Also trust this CA certificate (PEM), e.g. the emulator's --cert-out.
    #[arg(long, value_name = "PEM", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// First status-poll delay in seconds (default 2; fractions allowed).
    #[arg(
        long,
        value_name = "SECS",
        global = true,
        allow_negative_numbers = true
    )]
    pub poll_initial: Option<f64>,
    /// Largest status-poll delay in seconds (default 30).
    #[arg(
        long,
        value_name = "SECS",
        global = true,
        allow_negative_numbers = true
    )]
    pub poll_max: Option<f64>,
    /// After a follow-up, how long a stale previous status is tolerated (default 60).
    #[arg(
        long,
        value_name = "SECS",
        global = true,
        allow_negative_numbers = true
    )]
    pub followup_window: Option<f64>,
    /// Log to stderr (-v debug, -vv trace); the API key is never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Launch an agent and wait for its answer.
    Run(RunArgs),
    /// Send a follow-up prompt to a finished, failed or stopped agent and wait for the answer.
    Followup(FollowupArgs),
    /// Wait for an agent's current turn (or, with --ticket, one given turn) to end and print
    /// its outcome.
    Wait(WaitArgs),
    /// Print an agent as the API returns it.
    Status(AgentArg),
    /// Print an agent's conversation.
    Conversation(AgentArg),
    /// Print the final answer of an agent's latest turn.
    Answer(AgentArg),
    /// List an agent's artifacts, or save them with --out.
    Artifacts(ArtifactsArgs),
    /// Stop a running agent.
    Stop(AgentArg),
    /// Delete an agent.
    Delete(AgentArg),
    /// List agents, newest first.
    List(ListArgs),
    /// Upload a file.
    Upload(UploadArgs),
    /// Search files.
    #[command(subcommand)]
    Files(FilesCommand),
    /// List workflows.
    Workflows,
    /// A multi-turn conversation on one thread (one agent, follow-ups), read from stdin.
    Chat(ChatArgs),
    /// Run a local Nomic Agent API emulator until Ctrl-C.
    Emulator(EmulatorArgs),
    /// A scripted tour on an embedded emulator.
    Demo,
}

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The instruction for the agent ("" for a workflow with file slots, which takes none).
    pub prompt: String,
    /// Attach an image inline (JPEG, PNG, WebP or GIF; up to 4).
    #[arg(long = "image", value_name = "PATH")]
    pub images: Vec<PathBuf>,
    /// Upload a file first and let the agent read it.
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Let the agent read an already uploaded file.
    #[arg(long = "file-id", value_name = "UUID")]
    pub file_ids: Vec<String>,
    /// Run this workflow.
    #[arg(long, value_name = "UUID")]
    pub workflow: Option<String>,
    /// Fill a workflow file slot with a file id, or with a path to upload.
    #[arg(long = "input", value_name = "SLOT=UUID|PATH")]
    pub inputs: Vec<String>,
    /// Scope the agent to a project.
    #[arg(long, value_name = "UUID")]
    pub project: Option<String>,
    /// Print the agent as launched, and the turn's ticket, and return without waiting.
    #[arg(long)]
    pub no_wait: bool,
}

/// `followup`.
#[derive(Debug, Args)]
pub struct FollowupArgs {
    /// The agent id.
    pub agent_id: String,
    /// The follow-up instruction.
    pub prompt: String,
    /// Attach an image inline (up to 4).
    #[arg(long = "image", value_name = "PATH")]
    pub images: Vec<PathBuf>,
    /// Return once the new turn is visible, printing its ticket, without waiting for it.
    #[arg(long)]
    pub no_wait: bool,
}

/// `wait`: an agent id, or the ticket of one turn.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The agent id (waits for its current turn).
    #[arg(required_unless_present = "ticket", conflicts_with = "ticket")]
    pub agent_id: Option<String>,
    /// Wait for the turn this ticket names (printed by `run --no-wait` and
    /// `followup --no-wait`): never the previous turn's answer, from any process.
    #[arg(long, value_name = "TICKET")]
    pub ticket: Option<String>,
}

/// A command that takes one agent id.
#[derive(Debug, Args)]
pub struct AgentArg {
    /// The agent id.
    pub agent_id: String,
}

/// `artifacts`.
#[derive(Debug, Args)]
pub struct ArtifactsArgs {
    /// The agent id.
    pub agent_id: String,
    /// Save every artifact into DIR (created if needed), named after its title.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only agents in this status (repeat or comma-separate for several).
    #[arg(long = "status", value_name = "S", value_delimiter = ',')]
    pub statuses: Vec<String>,
    /// Only agents running this workflow.
    #[arg(long, value_name = "UUID")]
    pub workflow: Option<String>,
    /// Page size, 1–100 (server default 20).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Fetch every page instead of the first.
    #[arg(long)]
    pub all: bool,
}

/// `upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file to upload.
    pub path: PathBuf,
    /// Folder path to place the file under on the instance.
    #[arg(long = "path", value_name = "P")]
    pub dest_path: Option<String>,
    /// Parent folder id.
    #[arg(long, value_name = "UUID")]
    pub parent: Option<String>,
}

/// `files …`.
#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Search files by name.
    Search(SearchArgs),
}

/// `files search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for.
    pub query: String,
    /// Results, 1–50 (server default 10).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

/// `chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The thread name; one thread is one agent.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub thread: String,
    /// Where thread → agent ids are kept (JSON).
    #[arg(
        long,
        value_name = "PATH",
        default_value = ".nomic-agent-sessions.json"
    )]
    pub store: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn interface_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_repeated_attachments_and_global_flags_after_the_command() {
        let cli = Cli::try_parse_from([
            "nomic-agent",
            "run",
            "hello",
            "--image",
            "a.png",
            "--image",
            "b.png",
            "--file",
            "r.md",
            "--input",
            "docs=x.pdf",
            "--json",
            "--poll-initial",
            "0.05",
        ])
        .unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.poll_initial, Some(0.05));
        match cli.command {
            Command::Run(r) => {
                assert_eq!(r.prompt, "hello");
                assert_eq!(r.images.len(), 2);
                assert_eq!(r.files, [PathBuf::from("r.md")]);
                assert_eq!(r.inputs, ["docs=x.pdf"]);
                assert!(!r.no_wait);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn list_statuses_split_on_commas() {
        let cli = Cli::try_parse_from([
            "nomic-agent",
            "list",
            "--status",
            "running,waiting",
            "--all",
        ])
        .unwrap();
        match cli.command {
            Command::List(l) => {
                assert_eq!(l.statuses, ["running", "waiting"]);
                assert!(l.all);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn verbosity_counts() {
        let cli = Cli::try_parse_from(["nomic-agent", "-vv", "workflows"]).unwrap();
        assert_eq!(cli.global.verbose, 2);
    }

    #[test]
    fn missing_command_is_an_error() {
        assert!(Cli::try_parse_from(["nomic-agent"]).is_err());
        assert!(Cli::try_parse_from(["nomic-agent", "followup", "id-only"]).is_err());
    }
}
