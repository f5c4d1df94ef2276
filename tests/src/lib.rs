//! Shared helpers for the end-to-end tests: start the emulator (plain TCP or TLS) on a fast
//! time scale, and build an SDK client whose polling, windows and pacing are scaled to match,
//! so a test covering minutes of API time runs in milliseconds.

use std::time::Duration;

pub mod fault_matrix;
pub mod hostile;
pub mod pacing_order;
pub mod trace_capture;

use nomic_agent::{
    Client, ClientBuilder, PollSchedule, RetryAfterPolicy, RetryConfig, TierLimit, TierLimits,
};
use nomic_agent_emulator::{
    DEFAULT_USER, Emulator, EmulatorConfig, KeyConfig, RunningEmulator, TimeScale, TlsConfig,
};

pub use trace_capture::TRACE_CAPTURE_ENV;

/// The key every e2e test sends unless it picks its own: a sentinel that must never show up
/// in any output. Emulators from [`config`] accept it (scope `developer`, user
/// [`DEFAULT_USER`], so per-user counters and spend caps are those of the default key) and
/// [`builder`] uses it. Every sentinel key of the suite starts `npk_SENTINEL_`; `cargo xtask
/// ci` searches the TRACE capture of the whole suite for `SENTINEL_` (and the emulator's
/// default key) and fails on any hit.
pub const SENTINEL_KEY: &str = "npk_SENTINEL_e2e_3f9a1c7b5d2e40688a1b2c3d4e5f6071";

/// The default time scale of the tests: a 2 s phase takes 10 ms.
pub const SCALE: f64 = 0.005;

/// Which socket the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Plain HTTP over TCP (loopback).
    Tcp,
    /// HTTPS with a certificate generated at start.
    Tls,
}

/// An emulator configuration on `scale`, TLS when asked.
/// It accepts [`SENTINEL_KEY`] besides the emulator's default key.
pub fn config(wire: Wire, scale: f64) -> EmulatorConfig {
    trace_capture::install();
    EmulatorConfig {
        time_scale: scale,
        tls: (wire == Wire::Tls).then(TlsConfig::default),
        keys: vec![KeyConfig {
            key: SENTINEL_KEY.into(),
            name: "sentinel".into(),
            user: DEFAULT_USER.into(),
            scopes: vec!["developer".into()],
        }],
        ..EmulatorConfig::default()
    }
}

/// Starts an emulator.
pub async fn start(cfg: EmulatorConfig) -> RunningEmulator {
    trace_capture::install();
    Emulator::start(cfg).await.expect("the emulator starts")
}

/// `scale` as the emulator's [`TimeScale`] (the suites only use finite scales > 0).
pub fn time_scale(scale: f64) -> TimeScale {
    TimeScale::new(scale).expect("a finite time scale > 0")
}

/// `d` on time scale `scale`, at least 1 ms.
pub fn scaled(d: Duration, scale: f64) -> Duration {
    time_scale(scale).duration(d).max(Duration::from_millis(1))
}

/// The documented tier rates (300/60/30/60 per minute, burst 1) on time scale `scale`, as the
/// emulator scales its own limits, so a client paced by these provokes no 429.
pub fn tier_limits(scale: f64) -> TierLimits {
    let scale = time_scale(scale);
    let per_min = |n: u32| TierLimit::new(scale.per_minute(n), 1);
    TierLimits {
        standard: per_min(300),
        write: per_min(60),
        heavy: per_min(30),
        search: per_min(60),
    }
}

/// A client builder for `emu` sending [`SENTINEL_KEY`] (so `emu` must come from [`config`]),
/// with the SDK's defaults scaled by `scale`: polling (2 s → 30 s becomes 10 ms → 150 ms at
/// 0.005), the follow-up window, and the tier rates
/// (the emulator scales its limits the same way, so pacing matches and no 429 is provoked).
/// `Retry-After` waits are capped at 50 ms so 429 storms stay fast.
pub fn builder(emu: &RunningEmulator, scale: f64) -> ClientBuilder {
    let retry = RetryConfig::default()
        .with_retry_after(RetryAfterPolicy::with_cap(Duration::from_millis(50)));
    let mut b = Client::builder()
        .api_key(SENTINEL_KEY)
        .base_url(emu.base_url())
        .poll_schedule(
            PollSchedule::default()
                .with_initial(scaled(Duration::from_secs(2), scale))
                .with_max(scaled(Duration::from_secs(30), scale)),
        )
        .followup_window(
            scaled(Duration::from_secs(60), scale),
            scaled(Duration::from_millis(500), scale),
        )
        .tier_limits(tier_limits(scale))
        .retry(retry)
        .request_deadline(Duration::from_secs(20))
        .seed(7);
    if let Some(pem) = emu.ca_pem() {
        b = b.extra_root_pem(pem.as_bytes().to_vec());
    }
    b
}

/// A ready client for `emu` (see [`builder`]).
pub fn client(emu: &RunningEmulator, scale: f64) -> Client {
    builder(emu, scale).build().expect("the client builds")
}
