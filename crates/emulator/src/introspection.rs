//! The request log and counters exposed under `/_emulator/`.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

/// One logged API request. It records whether an Authorization header was present, never
/// its value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestLogEntry {
    /// Method.
    pub method: String,
    /// Path (without the query).
    pub path: String,
    /// Route template (e.g. `/agents/{id}`), when the path matched one.
    pub route: Option<String>,
    /// Response status; `None` when the connection was dropped instead.
    pub status: Option<u16>,
    /// Whether an Authorization header was sent.
    pub authorization_present: bool,
    /// When it was received (RFC 3339, emulator clock).
    pub received_at: String,
    /// The injected fault, if any.
    pub fault: Option<String>,
}

/// Counters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Agents created, by key name.
    pub agents_created_per_key: BTreeMap<String, u64>,
    /// Agents created, by user.
    pub agents_created_per_user: BTreeMap<String, u64>,
    /// Follow-ups accepted, by agent id.
    pub follow_ups_per_agent: BTreeMap<String, u64>,
    /// Requests, by `METHOD /route/template` (`METHOD ?` for unknown paths).
    pub requests_per_route: BTreeMap<String, u64>,
    /// 429 responses sent (rate limits, spend caps and injected bursts).
    pub too_many_requests_sent: u64,
    /// Faults injected.
    pub faults_injected: u64,
}

/// A bounded request log.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: VecDeque<RequestLogEntry>,
    capacity: usize,
}

impl RequestLog {
    /// A log keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity,
        }
    }

    /// Appends, dropping the oldest entry when full.
    pub fn push(&mut self, e: RequestLogEntry) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
    }

    /// A copy of the entries, oldest first.
    pub fn snapshot(&self) -> Vec<RequestLogEntry> {
        self.entries.iter().cloned().collect()
    }
}
