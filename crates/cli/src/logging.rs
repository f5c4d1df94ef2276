//! `-v` logging to stderr, through the key redactor.

use tracing_subscriber::EnvFilter;

use crate::redact::{RedactingStderr, Redactor};

/// The filter for a verbosity count: nothing below warnings by default; `-v` adds debug for
/// this program, the SDK and the transport; `-vv` traces everything.
pub fn filter_for(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn",
        1 => "info,nomic_agent=debug,nomic_agent_transport=debug",
        _ => "trace",
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, replaces the `-v` filter.
pub fn init(verbose: u8, redactor: Redactor) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new(filter_for(verbose)))
        }
        _ => EnvFilter::new(filter_for(verbose)),
    };
    // A second init (only possible in tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStderr::new(redactor))
        .with_target(true)
        .with_ansi(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_parses() {
        for v in 0..4 {
            assert!(EnvFilter::try_new(filter_for(v)).is_ok(), "-v × {v}");
        }
        assert_eq!(filter_for(0), "warn");
        assert_eq!(filter_for(5), "trace");
    }
}
