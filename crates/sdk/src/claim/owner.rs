//! [`ClaimOwner`]: who holds a thread claim, and whether that process is known to be gone.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use crate::Error;

/// The identity of one claimant of session threads: the process id, a random per-process
/// nonce and a per-process sequence number (so two [`Session`](crate::Session)s in one process
/// are distinct owners; clones of one session share its owner).
///
/// On Linux it also records the boot id, the pid namespace and the process's start time, so
/// another process on the same machine and in the same pid namespace (not another container)
/// can tell that the owner is gone (its pid no longer runs, or now names a different process)
/// without waiting for the lease to run out. Elsewhere only the lease says when a claim
/// lapses.
///
/// ```
/// use nomic_agent::ClaimOwner;
///
/// let a = ClaimOwner::new();
/// let b = ClaimOwner::new();
/// assert_ne!(a, b); // two owners in one process
/// assert_eq!(a.pid(), std::process::id());
/// assert!(!a.is_gone()); // this process runs
/// let back = ClaimOwner::from_json_value(&a.to_json_value())?;
/// assert_eq!(back, a);
/// # Ok::<(), nomic_agent::Error>(())
/// ```
#[derive(Clone)]
pub struct ClaimOwner {
    id: String,
    pid: u32,
    boot: Option<String>,
    pidns: Option<String>,
    start: Option<u64>,
}

impl PartialEq for ClaimOwner {
    fn eq(&self, other: &ClaimOwner) -> bool {
        self.id == other.id
    }
}

impl Eq for ClaimOwner {}

impl fmt::Debug for ClaimOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl fmt::Display for ClaimOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl Default for ClaimOwner {
    fn default() -> ClaimOwner {
        ClaimOwner::new()
    }
}

/// What this process knows about itself, read once.
struct Me {
    pid: u32,
    nonce: u64,
    boot: Option<String>,
    pidns: Option<String>,
    start: Option<u64>,
    /// Whether `/proc` lists other users' processes (it may not: `hidepid`), so that a
    /// missing `/proc/<pid>` means the process is gone.
    proc_shows_all: bool,
}

fn me() -> &'static Me {
    static ME: OnceLock<Me> = OnceLock::new();
    ME.get_or_init(|| {
        let pid = std::process::id();
        // `RandomState` is keyed from the OS's randomness: enough to tell two processes that
        // got the same pid apart, without a new dependency.
        let mut h = std::hash::RandomState::new().build_hasher();
        h.write_u32(pid);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        Me {
            pid,
            nonce: h.finish(),
            boot: boot_id(),
            pidns: std::fs::read_link("/proc/self/ns/pid")
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
            start: proc_stat(pid).and_then(|s| s.start),
            proc_shows_all: proc_stat(1).is_some(),
        }
    })
}

impl ClaimOwner {
    /// A new owner in this process.
    pub fn new() -> ClaimOwner {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let me = me();
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        ClaimOwner {
            id: format!("{}.{:016x}.{seq}", me.pid, me.nonce),
            pid: me.pid,
            boot: me.boot.clone(),
            pidns: me.pidns.clone(),
            start: me.start,
        }
    }

    /// The owner's unique id (`pid.nonce.seq`); owners compare by it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The owner's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// True when the owner certainly no longer runs: it ran on this machine since its last
    /// boot (same boot id), in this pid namespace, and its pid is gone, a zombie, or now names
    /// a process that started at another time. False when it runs or nothing can be told
    /// (another machine or container, no `/proc`); then only the claim's lease says when it
    /// lapsed.
    pub fn is_gone(&self) -> bool {
        let here = me();
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        if !same(&self.boot, &here.boot) || !same(&self.pidns, &here.pidns) {
            return false;
        }
        if self.pid == here.pid {
            return false; // this process runs: it is reading this
        }
        match std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
            Err(e) => here.proc_shows_all && e.kind() == std::io::ErrorKind::NotFound,
            Ok(text) => match parse_stat(&text) {
                Some(s) => {
                    matches!(s.state, 'Z' | 'X' | 'x')
                        || matches!((self.start, s.start), (Some(a), Some(b)) if a != b)
                }
                None => false,
            },
        }
    }

    /// The owner as a JSON object (what [`FileStore`](crate::FileStore) writes).
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("owner".into(), json!(self.id));
        m.insert("pid".into(), json!(self.pid));
        if let Some(b) = &self.boot {
            m.insert("boot".into(), json!(b));
        }
        if let Some(n) = &self.pidns {
            m.insert("pidns".into(), json!(n));
        }
        if let Some(s) = self.start {
            m.insert("start".into(), json!(s));
        }
        Value::Object(m)
    }

    /// Reads an owner written by [`to_json_value`](ClaimOwner::to_json_value) (other fields
    /// of the object are ignored).
    pub fn from_json_value(v: &Value) -> Result<ClaimOwner, Error> {
        let bad = |what: &str| Error::Store {
            message: format!("a claim has a missing or invalid `{what}`"),
        };
        let id = v
            .get("owner")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("owner"))?;
        let pid = v
            .get("pid")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| bad("pid"))?;
        let text = |k: &str| match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(k)),
        };
        let (boot, pidns) = (text("boot")?, text("pidns")?);
        let start = match v.get("start") {
            None | Some(Value::Null) => None,
            Some(s) => Some(s.as_u64().ok_or_else(|| bad("start"))?),
        };
        Ok(ClaimOwner {
            id: id.to_owned(),
            pid,
            boot,
            pidns,
            start,
        })
    }
}

/// The kernel's id of the current boot (Linux); `None` elsewhere.
fn boot_id() -> Option<String> {
    let s = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

#[derive(Debug, PartialEq)]
struct Stat {
    state: char,
    start: Option<u64>,
}

fn proc_stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Reads the state (field 3) and start time (field 22) of a `/proc/<pid>/stat` line. The
/// command name (field 2) may hold spaces and parentheses, so fields are counted after the
/// last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Field 22 is the 20th after the name; `state` was the first.
    let start = fields.nth(18).and_then(|s| s.parse().ok());
    Some(Stat { state, start })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_after_the_command_name() {
        let line = "24574 (a) b) (c) R 24569 24569 16272 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 414858 3133440 414";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: 'R',
                start: Some(414_858)
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(
            parse_stat("1 (x) Z 0").map(|s| s.state),
            Some('Z'),
            "a short line still has its state"
        );
    }

    fn owner_at(pid: u32, start: Option<u64>) -> ClaimOwner {
        ClaimOwner {
            id: format!("{pid}.test"),
            pid,
            boot: me().boot.clone(),
            pidns: me().pidns.clone(),
            start,
        }
    }

    #[test]
    fn liveness_follows_proc_on_linux() {
        let me = me();
        if me.boot.is_none() || me.pidns.is_none() || !me.proc_shows_all {
            return; // no usable /proc: only leases apply, and `is_gone` is always false
        }
        assert!(!ClaimOwner::new().is_gone());
        // pid 1 runs for as long as the machine does; its start time is recorded.
        let init = proc_stat(1).expect("pid 1 has a stat line");
        assert!(!owner_at(1, init.start).is_gone());
        // Same pid, another start time: the pid was reused.
        assert!(owner_at(1, init.start.map(|s| s + 1)).is_gone());
        // A finished child process is gone once reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(owner_at(pid, None).is_gone());
        // On another machine (another boot id) or in another container (another pid
        // namespace) nothing can be told.
        let mut far = owner_at(pid, None);
        far.boot = Some("another-boot".into());
        assert!(!far.is_gone());
        let mut contained = owner_at(pid, None);
        contained.pidns = Some("pid:[1]".into());
        assert!(!contained.is_gone());
    }

    #[test]
    fn owners_round_trip_and_reject_garbage() {
        let o = ClaimOwner::new();
        let back = ClaimOwner::from_json_value(&o.to_json_value()).unwrap();
        assert_eq!(back.id, o.id);
        assert_eq!(
            (back.pid, &back.boot, &back.pidns, back.start),
            (o.pid, &o.boot, &o.pidns, o.start)
        );
        assert!(ClaimOwner::from_json_value(&json!({"owner": "x"})).is_err());
        assert!(ClaimOwner::from_json_value(&json!({"owner": "", "pid": 1})).is_err());
        assert!(ClaimOwner::from_json_value(&json!({"owner": "x", "pid": -1})).is_err());
        assert!(ClaimOwner::from_json_value(&json!({"owner": "x", "pid": 1, "boot": 3})).is_err());
        assert!(ClaimOwner::from_json_value(&json!({"owner": "x", "pid": 1, "pidns": 3})).is_err());
        assert!(ClaimOwner::from_json_value(&json!({"owner": "x", "pid": 1})).is_ok());
    }
}
