//! `nomic-agent`: launch, wait for, follow up and inspect Nomic agents from the shell.
//!
//! The interface, the `--json` shapes and the exit codes are a contract (`docs/cli.md`).
//! Without a base URL every command runs against an emulator started in this process.

mod args;
mod commands;
mod connect;
mod console;
mod exit;
mod inputs;
mod logging;
mod progress;
mod redact;
mod save;
mod terminal_text;
mod turn;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::console::Console;
use crate::exit::{CliError, Exit};
use crate::redact::Redactor;

/// Every key given on the command line or in `NOMIC_API_KEY`, found before parsing so that
/// even clap's own error messages are scrubbed (whichever one clap ends up using).
fn raw_keys(argv: &[OsString]) -> Vec<String> {
    let mut keys: Vec<String> = std::env::var("NOMIC_API_KEY").into_iter().collect();
    let mut it = argv.iter().filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        if a == "--api-key" {
            keys.extend(it.next().map(str::to_owned));
        } else if let Some(v) = a.strip_prefix("--api-key=") {
            keys.push(v.to_owned());
        }
    }
    keys
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let keys = raw_keys(&argv);
    let redactor = Redactor::new(keys.iter().map(String::as_str));
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            console::print_clap(&redactor, &e.render().to_string(), e.use_stderr());
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    logging::init(cli.global.verbose, redactor.clone());
    let console = Console::new(redactor, cli.global.json, cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            console.report(&CliError::io(format!("could not start the runtime: {e}")));
            return Exit::Transport.into();
        }
    };
    let result = runtime.block_on(commands::dispatch(cli, console.clone()));
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            console.report(&e);
            e.exit.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn keys_are_found_in_both_flag_forms() {
        let keys = raw_keys(&argv(&[
            "x",
            "--api-key",
            "npk_a",
            "run",
            "p",
            "--api-key=npk_b",
        ]));
        assert!(
            keys.ends_with(&["npk_a".to_owned(), "npk_b".to_owned()]),
            "{keys:?}"
        );
    }
}
