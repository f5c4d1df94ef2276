//! Shared helpers for the transport tests: a sentinel key, a TRACE capture that must never see
//! it, an in-memory scripted service, and small local servers (plain, TLS, misbehaving).
#![allow(dead_code)] // each test binary uses a different subset

pub mod mock;
pub mod servers;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use nomic_agent_core::request::ApiBase;
use nomic_agent_transport::{ApiKey, TransportConfig};

/// The secret part every test key contains; it must never be printed or traced.
pub const SENTINEL: &str = "SENTINEL9f27c1";

/// A distinct key per test (pacing limiters are shared per key across the whole process).
pub fn key(test: &str) -> ApiKey {
    ApiKey::new(format!("npk_{SENTINEL}_{test}")).unwrap()
}

/// A config for `base` with the test's key.
pub fn config(test: &str, base: &str) -> TransportConfig {
    capture();
    TransportConfig::new(key(test), ApiBase::parse(base).unwrap())
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn buffer() -> &'static Buffer {
    static BUF: OnceLock<Buffer> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Buffer::default();
        let writer = buf.clone();
        // TRACE for everything (hyper, rustls, ours), with span fields, for the whole binary.
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buf
    })
}

/// Installs the process-wide TRACE capture (idempotent).
pub fn capture() {
    buffer();
}

/// Everything traced so far.
pub fn captured() -> String {
    String::from_utf8_lossy(&buffer().0.lock().unwrap()).into_owned()
}

/// Fails if the sentinel ever reached the trace output; `text` is any extra Debug/Display
/// output the test produced.
pub fn assert_no_secret(text: &str) {
    assert!(!text.contains(SENTINEL), "secret leaked into: {text}");
    let traced = captured();
    assert!(
        !traced.is_empty(),
        "the capture saw nothing, so it proves nothing"
    );
    assert!(
        !traced.contains(SENTINEL),
        "secret leaked into the trace output"
    );
}
