//! The status of an agent while waiting: a live line (spinner, status, elapsed time, deep
//! link) when stderr is a terminal, plain lines otherwise, nothing with `--json`.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use nomic_agent::AgentStatus;

use crate::console::Console;

enum Mode {
    Live(ProgressBar),
    Lines,
    Quiet,
}

/// Shows one agent's status changes.
pub struct StatusDisplay {
    mode: Mode,
    console: Console,
    started: Instant,
    url: String,
}

impl std::fmt::Debug for StatusDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusDisplay")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl StatusDisplay {
    /// Starts showing the agent at `url` (`agent_id` names it in plain lines).
    pub fn start(console: &Console, agent_id: &str, url: &str) -> StatusDisplay {
        let mode = if console.json {
            Mode::Quiet
        } else if console.live {
            // The link also gets a line of its own: the live line is cut to the terminal width.
            console.note(&format!("agent {agent_id}: {url}"));
            let bar = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} [{elapsed}] {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_message(console.for_terminal(url).into_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            Mode::Live(bar)
        } else {
            console.note(&format!("agent {agent_id}: {url}"));
            Mode::Lines
        };
        StatusDisplay {
            mode,
            console: console.clone(),
            started: Instant::now(),
            url: url.to_owned(),
        }
    }

    /// Shows a new status.
    pub fn update(&self, status: &AgentStatus) {
        match &self.mode {
            Mode::Live(bar) => {
                let msg = format!("{status} · {}", self.url);
                bar.set_message(self.console.for_terminal(&msg).into_owned());
            }
            Mode::Lines => self.console.note(&format!(
                "[{:.1}s] {status}",
                self.started.elapsed().as_secs_f64()
            )),
            Mode::Quiet => {}
        }
    }

    /// Clears the live line; the final status is reported by the caller.
    pub fn finish(&self) {
        if let Mode::Live(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }

    /// Seconds since the display started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

impl Drop for StatusDisplay {
    fn drop(&mut self) {
        // An error path must not leave a spinner drawing over the error message.
        self.finish();
    }
}
