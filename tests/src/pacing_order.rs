//! Records the transport's `permit` and `hold` events (target
//! `nomic_agent_transport::pacing_order`) so the fault matrix can judge the 429 promise from
//! the order the client itself established: a permit that counted `n` holds of its tier was
//! taken after the first `n` holds were read and before the next one (both happen under one
//! lock). See `docs/reliability.md`.

use std::fmt;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;

/// The transport's target for these events.
pub const TARGET: &str = "nomic_agent_transport::pacing_order";

/// A permit taken for a request, right before it went to the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    /// `standard`, `write`, `heavy` or `search`.
    pub tier: String,
    /// Holds of the tier read before this permit.
    pub holds: u64,
    /// Unix ms of the clock read for the permit.
    pub wall_ms: i64,
}

/// A 429 (or `X-RateLimit-Remaining: 0`) read by the client: its tier is now held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The tier held.
    pub tier: String,
    /// Holds of the tier counted with this one (so permits with `holds >=` this came after).
    pub holds: u64,
    /// Route template of the request that got the response.
    pub route: String,
    /// Its agent id, when the route has one.
    pub agent_id: Option<String>,
    /// Unix ms when the event was recorded (after the read).
    pub wall_ms: i64,
}

/// What was recorded since [`start`].
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    /// Every permit, in the order recorded.
    pub permits: Vec<Permit>,
    /// Every hold, in the order recorded.
    pub holds: Vec<Hold>,
}

static RECORD: Mutex<Option<Recorded>> = Mutex::new(None);

fn record() -> std::sync::MutexGuard<'static, Option<Recorded>> {
    RECORD.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts (or restarts) recording, dropping anything recorded before.
pub fn start() {
    *record() = Some(Recorded::default());
}

/// Stops recording and returns what was recorded.
pub fn take() -> Recorded {
    record().take().unwrap_or_default()
}

/// The layer installed by [`crate::trace_capture::install_recording`].
#[derive(Debug, Default)]
pub struct PacingOrderLayer;

#[derive(Default)]
struct Fields {
    tier: String,
    holds: u64,
    wall_ms: i64,
    route: String,
    agent_id: Option<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "holds" => self.holds = value,
            "wall_ms" => self.wall_ms = value as i64,
            _ => {}
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "tier" => self.tier = value.to_owned(),
            "route" => self.route = value.to_owned(),
            "agent_id" => self.agent_id = Some(value.to_owned()),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `agent_id` arrives as a `Display` wrapper, which reaches here.
        if field.name() == "agent_id" {
            self.agent_id = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for PacingOrderLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() != TARGET {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let mut guard = record();
        let Some(rec) = guard.as_mut() else { return };
        match meta.name() {
            "permit" => rec.permits.push(Permit {
                tier: f.tier,
                holds: f.holds,
                wall_ms: f.wall_ms,
            }),
            "hold" => rec.holds.push(Hold {
                tier: f.tier,
                holds: f.holds,
                route: f.route,
                agent_id: f.agent_id,
                wall_ms: now_ms(),
            }),
            _ => {}
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
