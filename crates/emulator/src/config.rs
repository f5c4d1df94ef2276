//! The emulator configuration: a plain serde struct, also the `--config` JSON file format.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::control_token::ControlToken;
use crate::faults::FaultRule;
use crate::time_scale::TimeScale;

/// The well-known key the emulator always accepts unless `includeDefaultKey` is false.
pub const DEFAULT_KEY: &str = "npk_emulator_local";
/// The user that owns [`DEFAULT_KEY`].
pub const DEFAULT_USER: &str = "local";

/// Everything that shapes an emulator run. Every field has a default, so `{}` is a valid file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Origin used in agent `url` fields; defaults to the listening origin.
    pub public_origin: Option<String>,
    /// Seed for ids, scripted details and fault decisions.
    pub seed: u64,
    /// Global time scale: 0.001 makes a 2 s phase take 2 ms. Must be finite and > 0.
    pub time_scale: f64,
    /// Wall-clock start of the emulator clock in unix milliseconds (for reproducible ids);
    /// `None` uses the real time at start.
    pub start_time_ms: Option<u64>,
    /// Serve HTTPS with a certificate generated at start.
    pub tls: Option<TlsConfig>,
    /// Accept [`DEFAULT_KEY`] (user [`DEFAULT_USER`], scope `developer`).
    pub include_default_key: bool,
    /// More API keys.
    pub keys: Vec<KeyConfig>,
    /// Add the built-in workflows (one prompt-driven, one with file slots).
    pub seed_workflows: bool,
    /// More workflows.
    pub workflows: Vec<WorkflowConfig>,
    /// Agent timeline durations and conflict statuses.
    pub lifecycle: LifecycleConfig,
    /// Request-rate limits per (user, tier).
    pub rate_limits: RateLimitConfig,
    /// Default spend cap for every user.
    pub spend: SpendConfig,
    /// Hardening limits.
    pub limits: LimitsConfig,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// When set, the `/_emulator/` control routes require `Authorization: Bearer <token>`;
    /// otherwise they are open (and the emulator warns when it listens beyond loopback).
    pub control_token: Option<ControlToken>,
    /// Serve the pre-documentation shape Nomic's own agent client read in 2026-04: bare
    /// objects (no `data` envelope), UPPER-CASE statuses, and lists under the resource's noun
    /// (`{agents: [...], nextCursor}`). Fixed at start.
    pub legacy_shape: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_origin: None,
            seed: 0,
            time_scale: 1.0,
            start_time_ms: None,
            tls: None,
            include_default_key: true,
            keys: Vec::new(),
            seed_workflows: true,
            workflows: Vec::new(),
            lifecycle: LifecycleConfig::default(),
            rate_limits: RateLimitConfig::default(),
            spend: SpendConfig::default(),
            limits: LimitsConfig::default(),
            faults: Vec::new(),
            control_token: None,
            legacy_shape: false,
        }
    }
}

/// TLS settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Where to write the generated certificate (PEM) so clients can trust it.
    pub cert_out: Option<PathBuf>,
    /// Extra subject alternative names (always includes `localhost` and `127.0.0.1`).
    pub subject_alt_names: Vec<String>,
}

/// One API key. Its `Debug` output never shows the key.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyConfig {
    /// The bearer token (conventionally `npk_…`).
    pub key: String,
    /// A label used in counters instead of the secret key.
    pub name: String,
    /// The user the key belongs to; keys of one user share rate limits and agents.
    pub user: String,
    /// Scopes: `developer`, `developer:agent`, `developer:files`.
    pub scopes: Vec<String>,
}

impl KeyConfig {
    /// Checks the key: a non-empty secret and user, and scopes that are non-empty words.
    pub fn validate(&self) -> Result<(), String> {
        if self.key.is_empty() || self.user.is_empty() {
            return Err(format!(
                "key {:?} needs a non-empty key and user",
                self.name
            ));
        }
        for s in &self.scopes {
            if s.is_empty() || s.chars().any(char::is_whitespace) {
                return Err(format!("invalid scope {s:?}"));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfig")
            .field("key", &"<redacted>")
            .field("name", &self.name)
            .field("user", &self.user)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A workflow definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkflowConfig {
    /// Fixed id; generated when absent.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    /// Display name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// File input slots; empty means a prompt-driven workflow.
    #[serde(default)]
    pub inputs: Vec<SlotConfig>,
}

/// One file input slot of a workflow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotConfig {
    /// Slot name (the key in `inputs`).
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Whether the slot must be given and non-empty.
    #[serde(default)]
    pub required: bool,
    /// Whether the slot takes more than one id.
    #[serde(default)]
    pub multiple: bool,
}

/// Nominal phase durations (before the time scale) and conflict statuses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// How long a turn stays `waiting`.
    pub waiting_ms: u64,
    /// How long a turn runs before finishing (split around an `awaiting_tool` phase).
    pub running_ms: u64,
    /// How long the `awaiting_tool` phase of a `[tool]` prompt lasts.
    pub awaiting_tool_ms: u64,
    /// After an accepted follow-up, how long the agent keeps its previous terminal status.
    pub stale_window_ms: u64,
    /// Status for a follow-up on an active agent.
    pub follow_up_conflict_status: u16,
    /// Status for a stop on a terminal agent.
    pub stop_conflict_status: u16,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            waiting_ms: 500,
            running_ms: 2000,
            awaiting_tool_ms: 1000,
            stale_window_ms: 2000,
            follow_up_conflict_status: 409,
            stop_conflict_status: 409,
        }
    }
}

/// Per-minute limits of the rate tiers (scaled by the time scale).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Whether any request-rate limit applies.
    pub enabled: bool,
    /// Standard tier (reads) per minute.
    pub standard_per_minute: u32,
    /// Heavy tier (launch, follow-up, upload) per minute.
    pub heavy_per_minute: u32,
    /// Write tier (stop, delete) per minute.
    pub write_per_minute: u32,
    /// Burst size for every tier; `None` means the tier's full per-minute limit.
    pub burst: Option<u32>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            standard_per_minute: 300,
            heavy_per_minute: 30,
            write_per_minute: 60,
            burst: None,
        }
    }
}

/// Spend caps.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SpendConfig {
    /// Maximum runs (launches + follow-ups) per user; `None` is unlimited.
    pub default_max_runs: Option<u64>,
}

/// Hardening limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest JSON request body (128 MiB fits four 20 MB images in base64).
    pub max_json_bytes: u64,
    /// Deepest JSON nesting accepted.
    pub max_json_depth: u32,
    /// Largest uploaded file (413 above).
    pub max_upload_bytes: u64,
    /// Most multipart parts per upload.
    pub max_multipart_parts: u32,
    /// Largest non-file multipart field.
    pub max_multipart_field_bytes: u64,
    /// Time allowed to read request headers.
    pub header_read_timeout_ms: u64,
    /// HTTP/2 concurrent streams per connection.
    pub http2_max_concurrent_streams: u32,
    /// Entries kept in the request log (oldest dropped first).
    pub request_log_capacity: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_json_bytes: 128 * 1024 * 1024,
            max_json_depth: 64,
            max_upload_bytes: 500 * 1024 * 1024,
            max_multipart_parts: 16,
            max_multipart_field_bytes: 64 * 1024,
            header_read_timeout_ms: 30_000,
            http2_max_concurrent_streams: 256,
            request_log_capacity: 10_000,
        }
    }
}

impl EmulatorConfig {
    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), crate::EmulatorError> {
        let bad = |m: String| Err(crate::EmulatorError::Config(m));
        TimeScale::new(self.time_scale)?;
        let r = &self.rate_limits;
        if r.standard_per_minute == 0 || r.heavy_per_minute == 0 || r.write_per_minute == 0 {
            return bad("rate limits must be at least 1 per minute".into());
        }
        if r.burst == Some(0) {
            return bad("rateLimits.burst must be at least 1".into());
        }
        for s in [
            self.lifecycle.follow_up_conflict_status,
            self.lifecycle.stop_conflict_status,
        ] {
            if !(400..=599).contains(&s) {
                return bad(format!("conflict status must be 4xx or 5xx, got {s}"));
            }
        }
        for k in &self.keys {
            k.validate().map_err(crate::EmulatorError::Config)?;
        }
        for rule in &self.faults {
            rule.validate().map_err(crate::EmulatorError::Config)?;
        }
        Ok(())
    }

    /// Whether the control routes are reachable from other hosts without a token: the
    /// listening address is not loopback and no [`EmulatorConfig::control_token`] is set.
    pub fn control_routes_exposed(&self) -> bool {
        self.control_token.is_none() && !self.listen.ip().is_loopback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key: &str, user: &str, scopes: &[&str]) -> KeyConfig {
        KeyConfig {
            key: key.into(),
            name: "n".into(),
            user: user.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn keys_are_checked() {
        assert!(key("k", "u", &["developer"]).validate().is_ok());
        assert!(key("", "u", &["developer"]).validate().is_err());
        assert!(key("k", "", &["developer"]).validate().is_err());
        assert!(key("k", "u", &[""]).validate().is_err());
        assert!(key("k", "u", &["a b"]).validate().is_err());
    }

    #[test]
    fn exposed_only_beyond_loopback_without_a_token() {
        let at = |listen: &str, token: Option<&str>| EmulatorConfig {
            listen: listen.parse().unwrap(),
            control_token: token.map(|t| ControlToken::new(t).unwrap()),
            ..EmulatorConfig::default()
        };
        assert!(!at("127.0.0.1:0", None).control_routes_exposed());
        assert!(!at("[::1]:0", None).control_routes_exposed());
        assert!(at("0.0.0.0:0", None).control_routes_exposed());
        assert!(at("192.168.1.2:8080", None).control_routes_exposed());
        assert!(!at("0.0.0.0:0", Some("t")).control_routes_exposed());
    }
}
