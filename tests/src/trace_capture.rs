//! TRACE capture for every process of the e2e suite: when [`TRACE_CAPTURE_ENV`] names a
//! folder, the first call of [`install`] (made by the shared `config`/`start` entry points,
//! the hostile server and the `session_worker` binary) installs a global `tracing-subscriber`
//! at TRACE level writing every crate's events, span closings and their fields to
//! `<dir>/<binary-name>-<pid>.log`. `cargo xtask ci` sets the variable and then searches the
//! files for the suite's sentinel keys (see `SENTINEL_KEY`).
//!
//! Every event is formatted first and then written with one unbuffered `write_all`, so a file
//! is complete up to the last event even when the process is killed (the crash tests SIGKILL
//! `session_worker`).

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::pacing_order::{self, PacingOrderLayer};

/// The environment variable naming the capture folder (created when missing). A relative
/// path is relative to the test process's working directory (for `cargo test`, the package's
/// folder), so `cargo xtask ci` passes an absolute one.
pub const TRACE_CAPTURE_ENV: &str = "NOMIC_TRACE_CAPTURE_DIR";

/// The filter of the capture: every crate at TRACE, except the transport's pacing stage at
/// INFO: it logs a DEBUG line each time a request waits for a rate permit, and under the fault
/// matrix's queues (200 sessions behind one tier) that was 250 000 of its 600 000 lines, all
/// the same three fields (`reason`, `tier`, `sleep_ms`, never request data) under the same request span
/// that the other lines already show. If another target ever floods the capture, lower it
/// here and say why.
/// The pacing-order events (one per request) are for [`crate::pacing_order`], not the file.
const FILTER: &str =
    "trace,nomic_agent_transport::stages::pacing=info,nomic_agent_transport::pacing_order=off";

static INSTALLED: OnceLock<()> = OnceLock::new();

type Extra = Arc<dyn Fn(&[u8]) + Send + Sync>;

#[derive(Clone)]
struct Sink {
    file: Option<Arc<Mutex<File>>>,
    extra: Option<Extra>,
}

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Some(f) = &self.file {
            f.lock().unwrap_or_else(|p| p.into_inner()).write_all(b)?;
        }
        if let Some(extra) = &self.extra {
            extra(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The capture file of this process, when [`TRACE_CAPTURE_ENV`] is set.
fn capture_file() -> Option<File> {
    let dir = PathBuf::from(std::env::var_os(TRACE_CAPTURE_ENV).filter(|d| !d.is_empty())?);
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into());
    let path = dir.join(format!("{name}-{}.log", std::process::id()));
    // Fail loudly: a capture that silently writes nothing would make the scan test nothing.
    std::fs::create_dir_all(&dir)
        .and_then(|()| File::create(&path))
        .map(Some)
        .unwrap_or_else(|e| panic!("{TRACE_CAPTURE_ENV}: cannot create {}: {e}", path.display()))
}

fn install_with(extra: Option<Extra>) -> bool {
    let mut installed = false;
    INSTALLED.get_or_init(|| {
        let file = capture_file();
        // The formatting layer only when something reads it: without a capture or a reader,
        // a process that installs only the pacing recorder keeps its DEBUG/TRACE callsites off.
        let fmt = (file.is_some() || extra.is_some()).then(|| {
            let sink = Sink {
                file: file.map(|f| Arc::new(Mutex::new(f))),
                extra,
            };
            tracing_subscriber::fmt::layer()
                // Every span once with all its fields (recorded ones too), even when no event
                // fires inside it; events show their spans' fields as context.
                .with_span_events(FmtSpan::CLOSE)
                .with_ansi(false)
                .with_writer(move || sink.clone())
                .with_filter(tracing_subscriber::EnvFilter::new(FILTER))
        });
        let order = PacingOrderLayer
            .with_filter(Targets::new().with_target(pacing_order::TARGET, tracing::Level::DEBUG));
        installed = tracing_subscriber::registry()
            .with(fmt)
            .with(order)
            .try_init()
            .is_ok();
    });
    installed
}

/// Installs the process's TRACE capture once, when [`TRACE_CAPTURE_ENV`] is set; otherwise
/// does nothing. Tolerates a global subscriber installed by someone else (it then stays).
pub fn install() {
    if std::env::var_os(TRACE_CAPTURE_ENV).is_some_and(|d| !d.is_empty()) {
        install_with(None);
    }
}

/// Installs the process's subscriber with the pacing-order recorder ([`crate::pacing_order`])
/// and, when [`TRACE_CAPTURE_ENV`] is set, the capture. Returns `false` when a subscriber was
/// already installed (call it first).
pub fn install_recording() -> bool {
    install_with(None)
}

/// For a test that inspects the logs itself: installs the global TRACE subscriber, writing
/// every formatted line to `extra` and, when [`TRACE_CAPTURE_ENV`] is set, also to the
/// capture file. Returns `false` when a subscriber was already installed (call it first).
pub fn install_into(extra: impl Fn(&[u8]) + Send + Sync + 'static) -> bool {
    install_with(Some(Arc::new(extra)))
}
