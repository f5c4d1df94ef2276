//! Errors starting or configuring the emulator.

use std::fmt;

/// Why the emulator could not start or a setting was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmulatorError {
    /// An invalid configuration value.
    Config(String),
    /// Binding or reading a file failed.
    Io(std::io::Error),
    /// Certificate generation or TLS setup failed.
    Tls(String),
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulatorError::Config(m) => write!(f, "invalid emulator configuration: {m}"),
            EmulatorError::Io(e) => write!(f, "emulator I/O error: {e}"),
            EmulatorError::Tls(m) => write!(f, "emulator TLS setup failed: {m}"),
        }
    }
}

impl std::error::Error for EmulatorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmulatorError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for EmulatorError {
    fn from(e: std::io::Error) -> Self {
        EmulatorError::Io(e)
    }
}
