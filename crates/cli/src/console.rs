//! Where output goes: stdout for results (human text or one JSON document), stderr for status
//! and messages. Everything is scrubbed of the API key on the way out.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::exit::CliError;
use crate::redact::Redactor;

/// The output settings of one invocation.
#[derive(Debug, Clone)]
pub struct Console {
    redactor: Redactor,
    /// `--json`: stdout carries exactly one JSON document.
    pub json: bool,
    /// stderr is a terminal and no logs interleave, so a live status line can be drawn.
    pub live: bool,
}

impl Console {
    /// A console for the given flags.
    pub fn new(redactor: Redactor, json: bool, verbose: u8) -> Console {
        Console {
            redactor,
            json,
            live: verbose == 0 && std::io::stderr().is_terminal(),
        }
    }

    /// The redactor, for text drawn by other means (the live status line).
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// A line of results on stdout (human mode only; ignored with `--json`).
    pub fn out(&self, text: &str) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            // A closed stdout (`| head`) is not worth an error.
            let _ = writeln!(out, "{}", self.redactor.scrub(text));
        }
    }

    /// A line of information on stderr (human mode only).
    pub fn note(&self, text: &str) {
        if !self.json {
            self.always_note(text);
        }
    }

    /// A line on stderr in every mode (the embedded-emulator notice, warnings, errors).
    pub fn always_note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", self.redactor.scrub(text));
    }

    /// The one JSON document of a `--json` run (nothing in human mode).
    pub fn document<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        if !self.json {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::io(format!("could not encode the JSON output: {e}")))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", self.redactor.scrub(&text))
            .and_then(|()| out.flush())
            .map_err(|e| CliError::io(format!("could not write to stdout: {e}")))
    }

    /// Reports a failed command: `error: …` on stderr and, with `--json`, an error document on
    /// stdout so scripts always get one document.
    pub fn report(&self, err: &CliError) {
        self.always_note(&format!("error: {}", err.message));
        if self.json {
            let doc = serde_json::json!({
                "error": {
                    "kind": err.exit.name(),
                    "exitCode": err.exit.code(),
                    "message": err.message,
                }
            });
            let _ = self.document(&doc);
        }
    }
}
