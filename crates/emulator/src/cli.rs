//! The `nomic-agent-emulator` command, also embeddable as a subcommand of another CLI.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::{DEFAULT_KEY, EmulatorConfig, TlsConfig};
use crate::control_token::{ControlToken, ENV_CONTROL_TOKEN};
use crate::server::WARNING_TARGET;
use crate::{Emulator, EmulatorError};

/// Command-line arguments (flags override the config file).
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate generated at start.
    #[arg(long)]
    pub tls: bool,
    /// Where to write the CA certificate (PEM) clients should trust (implies --tls).
    #[arg(long, value_name = "PATH")]
    pub cert_out: Option<PathBuf>,
    /// Time scale: 0.001 makes a 2 s phase take 2 ms.
    #[arg(long, value_name = "F")]
    pub time_scale: Option<f64>,
    /// Seed for ids and fault decisions.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// JSON configuration file (the `EmulatorConfig` format).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A fault rule as JSON (repeatable), added to the config's rules, e.g.
    /// `{"route":"/agents","method":"POST","fault":{"kind":"resetAfter"},"count":1}`.
    #[arg(long = "fault", value_name = "JSON")]
    pub faults: Vec<String>,
    /// Require this token on the /_emulator/ control routes (`Authorization: Bearer TOKEN`);
    /// without it they are open to anyone who can reach the address.
    #[arg(long, value_name = "TOKEN", env = ENV_CONTROL_TOKEN, hide_env_values = true)]
    pub control_token: Option<ControlToken>,
    /// Serve the pre-documentation shape (bare objects, UPPER-CASE statuses, lists under
    /// `agents`/`files`/`workflows`) instead of the documented `{data: …}` one.
    #[arg(long)]
    pub legacy_shape: bool,
}

impl EmulatorArgs {
    /// The configuration these arguments describe.
    pub fn to_config(&self) -> Result<EmulatorConfig, EmulatorError> {
        let mut cfg = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)?;
                serde_json::from_str(&text)
                    .map_err(|e| EmulatorError::Config(format!("{}: {e}", path.display())))?
            }
            None => EmulatorConfig::default(),
        };
        cfg.listen = self.listen;
        if self.tls || self.cert_out.is_some() {
            let tls = cfg.tls.get_or_insert_with(TlsConfig::default);
            if self.cert_out.is_some() {
                tls.cert_out = self.cert_out.clone();
            }
        }
        if let Some(t) = self.time_scale {
            cfg.time_scale = t;
        }
        if let Some(s) = self.seed {
            cfg.seed = s;
        }
        if let Some(t) = &self.control_token {
            cfg.control_token = Some(t.clone());
        }
        if self.legacy_shape {
            cfg.legacy_shape = true;
        }
        for f in &self.faults {
            let rule = serde_json::from_str(f)
                .map_err(|e| EmulatorError::Config(format!("--fault {f}: {e}")))?;
            cfg.faults.push(rule);
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Starts the emulator, prints where it listens, and serves until Ctrl-C.
pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let cfg = args.to_config()?;
    let emu = Emulator::start(cfg).await?;
    // Start logged it at warn level; say it on stderr too unless a subscriber already shows it
    // (the `nomic-agent` command's log does), so it appears once.
    if let Some(w) = emu.control_warning()
        && !tracing::enabled!(target: WARNING_TARGET, tracing::Level::WARN)
    {
        eprintln!("warning: {w}");
    }
    println!("nomic-agent-emulator listening on {}", emu.base_url());
    if emu.default_key().is_some() {
        // The built-in key is a public, local-only constant; configured keys are never printed.
        println!("default API key: {DEFAULT_KEY}");
    }
    if let Some(path) = &args.cert_out {
        println!("CA certificate written to {}", path.display());
    }
    tokio::signal::ctrl_c().await?;
    emu.shutdown().await;
    Ok(())
}
