//! Turning the global flags into an SDK [`Client`]: a real instance when a base URL is given,
//! otherwise an emulator started in this process.

use std::time::Duration;

use nomic_agent::{Client, ClientBuilder, PollSchedule, TierLimit, TierLimits};
use nomic_agent_emulator::{Emulator, EmulatorConfig, RunningEmulator};

use crate::args::GlobalArgs;
use crate::console::Console;
use crate::exit::{CliError, Exit};

/// The embedded emulator's time scale: a turn (0.5 s waiting + 2 s running nominal) visibly
/// passes through `waiting` and `running` and finishes in about 1.5 s.
pub const EMBEDDED_TIME_SCALE: f64 = 0.6;
/// Overrides [`EMBEDDED_TIME_SCALE`] (for tests and impatient demos; not part of the
/// interface contract).
pub const ENV_EMBEDDED_TIME_SCALE: &str = "NOMIC_AGENT_EMULATOR_TIME_SCALE";
/// Poll delays against the embedded emulator (it is local, so polling fast costs nothing).
const EMBEDDED_POLL: (f64, f64) = (0.2, 0.5);
/// The documented defaults (SKILL.md: start at 2 s, cap at 30 s).
const DEFAULT_POLL: (f64, f64) = (2.0, 30.0);
/// Inside the follow-up window the agent is polled at most this often.
const FOLLOWUP_POLL: Duration = Duration::from_millis(500);

/// A client and, when no instance was given, the emulator it talks to (kept alive as long
/// as the client is used).
#[derive(Debug)]
pub struct Connection {
    /// The SDK client.
    pub client: Client,
    /// The in-process emulator, if one was started.
    pub emulator: Option<RunningEmulator>,
}

impl Connection {
    /// Stops the embedded emulator, if any.
    pub async fn close(self) {
        if let Some(emu) = self.emulator {
            emu.shutdown().await;
        }
    }
}

/// Checks every numeric flag and the key/URL pairing before anything is started or sent.
pub fn check_flags(g: &GlobalArgs) -> Result<(), CliError> {
    for (name, v) in [
        ("--timeout", g.timeout),
        ("--poll-initial", g.poll_initial),
        ("--poll-max", g.poll_max),
        ("--followup-window", g.followup_window),
    ] {
        if let Some(v) = v {
            secs(name, v)?;
        }
    }
    if let (Some(i), Some(m)) = (g.poll_initial, g.poll_max)
        && m < i
    {
        return Err(CliError::usage(format!(
            "--poll-max ({m}) must not be smaller than --poll-initial ({i})"
        )));
    }
    if base_url(g).is_some() && api_key(g).is_none() {
        return Err(CliError::usage(
            "a base URL was given (--base-url or NOMIC_BASE_URL) but no API key: pass --api-key or set NOMIC_API_KEY",
        ));
    }
    Ok(())
}

/// A positive, finite number of seconds.
fn secs(name: &str, v: f64) -> Result<Duration, CliError> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(CliError::usage(format!(
            "{name} must be a positive number of seconds, got {v}"
        )))
    }
}

fn base_url(g: &GlobalArgs) -> Option<&str> {
    g.base_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn api_key(g: &GlobalArgs) -> Option<&str> {
    g.api_key
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Connects as the flags say; without a base URL, starts the embedded emulator and says so
/// in one line on stderr.
pub async fn connect(g: &GlobalArgs, console: &Console) -> Result<Connection, CliError> {
    check_flags(g)?;
    match (base_url(g), api_key(g)) {
        (Some(url), Some(key)) => {
            let client = build(g, url, key, DEFAULT_POLL)?;
            Ok(Connection {
                client,
                emulator: None,
            })
        }
        _ => {
            let emu = start_embedded().await?;
            let ignored = if api_key(g).is_some() {
                "; the API key given is not used"
            } else {
                ""
            };
            console.always_note(&format!(
                "no --base-url or NOMIC_BASE_URL: using an embedded emulator at {} (to use a real instance, set NOMIC_BASE_URL=https://<instance>/api/v0 and NOMIC_API_KEY){ignored}",
                emu.base_url()
            ));
            let key = emu.default_key().ok_or_else(|| {
                CliError::io("the embedded emulator has no default key".to_string())
            })?;
            let client = build(g, &emu.base_url(), key, EMBEDDED_POLL)?;
            Ok(Connection {
                client,
                emulator: Some(emu),
            })
        }
    }
}

/// The embedded time scale: [`EMBEDDED_TIME_SCALE`] unless the environment overrides it.
fn embedded_time_scale() -> Result<f64, CliError> {
    match std::env::var(ENV_EMBEDDED_TIME_SCALE) {
        Err(_) => Ok(EMBEDDED_TIME_SCALE),
        Ok(raw) => match raw.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(CliError::usage(format!(
                "{ENV_EMBEDDED_TIME_SCALE}={raw:?}: expected a positive number"
            ))),
        },
    }
}

/// Starts an emulator on `127.0.0.1:0` at the embedded time scale.
pub async fn start_embedded() -> Result<RunningEmulator, CliError> {
    let mut cfg = EmulatorConfig {
        time_scale: embedded_time_scale()?,
        ..EmulatorConfig::default()
    };
    // Half the emulator's default stale window: the follow-up race still shows, briefly.
    cfg.lifecycle.stale_window_ms = 1000;
    Emulator::start(cfg).await.map_err(|e| CliError {
        exit: Exit::Transport,
        message: format!("could not start the embedded emulator: {e}"),
    })
}

/// The client for `url` and `key` with the flags' timeouts, polling and CA.
fn build(
    g: &GlobalArgs,
    url: &str,
    key: &str,
    default_poll: (f64, f64),
) -> Result<Client, CliError> {
    let initial = g
        .poll_initial
        .unwrap_or(default_poll.0.min(g.poll_max.unwrap_or(f64::MAX)));
    let max = g.poll_max.unwrap_or(default_poll.1.max(initial));
    let initial = secs("--poll-initial", initial)?;
    let max = secs("--poll-max", max)?;
    let poll = PollSchedule::default().with_initial(initial).with_max(max);
    let mut b = ClientBuilder::new()
        .base_url(url)
        .api_key(key)
        .poll_schedule(poll)
        .tier_limits(cli_tier_limits())
        .user_agent(concat!("nomic-agent-cli/", env!("CARGO_PKG_VERSION")));
    let window = match g.followup_window {
        Some(w) => secs("--followup-window", w)?,
        None => nomic_agent::DEFAULT_FOLLOWUP_WINDOW,
    };
    b = b.followup_window(window, FOLLOWUP_POLL.min(initial).min(window));
    if let Some(t) = g.timeout {
        let t = secs("--timeout", t)?;
        b = b.request_deadline(t).wait_deadline(t);
    }
    if let Some(path) = &g.ca_cert {
        let pem = std::fs::read(path).map_err(|e| {
            CliError::usage(format!("could not read --ca-cert {}: {e}", path.display()))
        })?;
        b = b.extra_root_pem(pem);
    }
    b.build().map_err(CliError::from)
}

/// The documented per-tier rates with a small burst: one command makes only a handful of
/// calls (an upload then a launch, a few quick polls), and a server whose burst is smaller
/// answers 429 with `Retry-After`, which the transport honours.
fn cli_tier_limits() -> TierLimits {
    let mut l = TierLimits::default();
    l.standard = TierLimit::new(l.standard.per_minute, 10);
    l.write = TierLimit::new(l.write.per_minute, 4);
    l.heavy = TierLimit::new(l.heavy.per_minute, 4);
    l.search = TierLimit::new(l.search.per_minute, 4);
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn global(args: &[&str]) -> GlobalArgs {
        let mut v = vec!["nomic-agent"];
        v.extend_from_slice(args);
        v.push("workflows");
        let mut g = crate::args::Cli::try_parse_from(v).unwrap().global;
        // The test process environment must not leak in.
        if !args.contains(&"--base-url") {
            g.base_url = None;
        }
        if !args.contains(&"--api-key") {
            g.api_key = None;
        }
        g
    }

    #[test]
    fn base_url_without_key_is_a_usage_error() {
        let e = check_flags(&global(&["--base-url", "https://acme.nomic.ai"])).unwrap_err();
        assert_eq!(e.exit, Exit::Usage);
        assert!(e.message.contains("NOMIC_API_KEY"), "{}", e.message);
    }

    #[test]
    fn numbers_must_be_positive_and_ordered() {
        for bad in [
            &["--timeout", "0"][..],
            &["--poll-initial", "-1"],
            &["--poll-max", "NaN"],
            &["--followup-window", "inf"],
            &["--poll-initial", "2", "--poll-max", "1"],
        ] {
            let e = check_flags(&global(bad)).unwrap_err();
            assert_eq!(e.exit, Exit::Usage, "{bad:?}");
        }
        assert!(check_flags(&global(&["--poll-initial", "0.01", "--poll-max", "0.05"])).is_ok());
    }

    #[test]
    fn tier_limits_keep_documented_rates() {
        let l = cli_tier_limits();
        let d = TierLimits::default();
        assert_eq!(l.heavy.per_minute, d.heavy.per_minute);
        assert_eq!(l.standard.per_minute, d.standard.per_minute);
        assert!(l.heavy.burst > 1);
    }

    #[test]
    fn client_builds_with_fractional_polling() {
        let g = global(&["--poll-initial", "0.01", "--timeout", "3"]);
        let c = build(&g, "http://127.0.0.1:9/api/v0", "npk_x", DEFAULT_POLL).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9/api/v0");
    }
}
