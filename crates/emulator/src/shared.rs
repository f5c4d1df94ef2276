//! The state every connection shares: the model behind its lock, the clock, and the
//! configuration the emulator started with.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::model::State;

/// State shared by every connection.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    /// The emulator clock.
    pub clock: Arc<Clock>,
    /// Origin used in agent `url`s.
    pub public_origin: String,
    /// The configuration at start (for reset).
    pub initial: EmulatorConfig,
}

impl Shared {
    /// Fresh state from `config`, on `clock`.
    pub fn new(config: EmulatorConfig, clock: Arc<Clock>, public_origin: String) -> Self {
        Self {
            state: Mutex::new(State::new(&config, clock.now_ms())),
            clock,
            public_origin,
            initial: config,
        }
    }

    /// Locks the state; a panic elsewhere never wedges the emulator.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Back to the configuration at start (agents, files, counters, faults, keys, time scale).
    pub fn reset(&self) {
        let fresh = State::new(&self.initial, self.clock.now_ms());
        *self.lock() = fresh;
    }
}
