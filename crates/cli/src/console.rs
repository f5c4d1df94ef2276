//! Where output goes: stdout for results (human text or one JSON document), stderr for status
//! and messages. Everything is scrubbed of the API key and of terminal control characters on
//! the way out ([`crate::terminal_text`]): this is the only place that writes to stdout or
//! stderr (`clippy.toml` refuses the print macros and `std::io::{stdout, stderr}` elsewhere,
//! apart from the log writer in [`crate::redact`]), so no printer can forget the filter.

#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_macros,
    reason = "the one room that prints; everything here goes through `for_terminal`"
)]

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::exit::CliError;
use crate::redact::Redactor;
use crate::terminal_text::{neutralize, neutralize_json};

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

    /// `text` as it may be shown: the key masked, control characters escaped. For text drawn
    /// by other means (the live status line); every method below applies it itself.
    pub fn for_terminal<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redactor.scrub(text) {
            Cow::Borrowed(t) => neutralize(t),
            Cow::Owned(t) => Cow::Owned(neutralize(&t).into_owned()),
        }
    }

    /// A line of results on stdout (human mode only; ignored with `--json`).
    pub fn out(&self, text: &str) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            // A closed stdout (`| head`) is not worth an error.
            let _ = writeln!(out, "{}", self.for_terminal(text));
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
        let _ = writeln!(std::io::stderr().lock(), "{}", self.for_terminal(text));
    }

    /// A prompt on stderr without a line end (`chat` in a terminal).
    pub fn prompt(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}", self.for_terminal(text));
        let _ = err.flush();
    }

    /// The one JSON document of a `--json` run (nothing in human mode).
    pub fn document<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        if !self.json {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::io(format!("could not encode the JSON output: {e}")))?;
        let text = self.redactor.scrub(&text);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", neutralize_json(&text))
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

/// Prints clap's own output (usage errors, `--help`, `--version`), before any [`Console`]
/// exists: through the same filter, to stderr for errors, stdout otherwise.
pub fn print_clap(redactor: &Redactor, text: &str, to_stderr: bool) {
    let text = redactor.scrub(text);
    let text = neutralize(&text);
    if to_stderr {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}
