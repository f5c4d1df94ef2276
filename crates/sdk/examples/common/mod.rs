//! Shared by the examples: connect to `NOMIC_BASE_URL` with `NOMIC_API_KEY`, or, when
//! `NOMIC_BASE_URL` is unset, to an in-process emulator on a fast time scale.

use std::time::Duration;

use nomic_agent::{Client, PollSchedule, TierLimit, TierLimits};
use nomic_agent_emulator::{Emulator, EmulatorConfig, RunningEmulator};

/// Emulated time runs this much faster than real time (a 2 s phase takes 20 ms).
const SCALE: f64 = 0.01;

/// The client, and the emulator it talks to when one was started (keep it alive).
pub async fn connect() -> Result<(Client, Option<RunningEmulator>), Box<dyn std::error::Error>> {
    if std::env::var_os(nomic_agent::ENV_BASE_URL).is_some() {
        return Ok((Client::from_env()?, None));
    }
    eprintln!(
        "NOMIC_BASE_URL is not set: using an in-process emulator (time scale {SCALE}); \
         set NOMIC_BASE_URL and NOMIC_API_KEY to talk to a real instance"
    );
    let emu = Emulator::start(EmulatorConfig {
        time_scale: SCALE,
        ..EmulatorConfig::default()
    })
    .await?;
    let client = emulator_client(&emu)?;
    Ok((client, Some(emu)))
}

/// A client for `emu`, with polling, the follow-up window and the tier rates scaled to its
/// time scale (the emulator scales its rate limits the same way).
pub fn emulator_client(emu: &RunningEmulator) -> Result<Client, nomic_agent::Error> {
    // The emulator says how its time scale maps a client's durations and tier rates.
    let scale = emu.time_scale();
    let scaled = |d: Duration| scale.duration(d);
    let per_min = |n: u32| TierLimit::new(scale.per_minute(n), 1);
    Client::builder()
        .api_key(emu.default_key().unwrap_or_default())
        .base_url(emu.base_url())
        .poll_schedule(
            PollSchedule::default()
                .with_initial(scaled(Duration::from_secs(2)))
                .with_max(scaled(Duration::from_secs(30))),
        )
        .followup_window(
            scaled(nomic_agent::DEFAULT_FOLLOWUP_WINDOW),
            scaled(Duration::from_millis(500)),
        )
        .tier_limits(TierLimits {
            standard: per_min(300),
            write: per_min(60),
            heavy: per_min(30),
            search: per_min(60),
        })
        .build()
}
