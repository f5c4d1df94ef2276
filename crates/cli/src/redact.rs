//! The last line of defence for the API key: every byte this program writes to stdout or
//! stderr (its own output and every log line, its dependencies' included) passes through a
//! [`Redactor`] (and, after it, the terminal filter of [`crate::terminal_text`]). The SDK already keeps the key out of its errors and logs; this makes the
//! guarantee hold even for text we do not control (a server error message echoing a header, a
//! trace-level log of a dependency).

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

/// What replaces the key.
pub const MASK: &str = "<redacted>";

/// Replaces every occurrence of the key (or of each candidate key) in text.
#[derive(Clone, Default)]
pub struct Redactor {
    keys: Arc<[Box<str>]>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor for every candidate key; empty ones are dropped. Longer keys are masked
    /// first, so a key that contains another is still masked whole.
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut keys: Vec<Box<str>> = keys
            .into_iter()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(Box::from)
            .collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        keys.dedup();
        Redactor { keys: keys.into() }
    }

    /// `text` with every key masked.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for k in self.keys.iter() {
            if out.contains(&**k) {
                out = Cow::Owned(out.replace(&**k, MASK));
            }
        }
        out
    }

    /// Like [`scrub`](Self::scrub) for bytes that may not be UTF-8 (a log line always is).
    pub fn scrub_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out = Cow::Borrowed(bytes);
        for k in self.keys.iter() {
            if let Cow::Owned(masked) = mask(&out, k.as_bytes()) {
                out = Cow::Owned(masked);
            }
        }
        out
    }
}

/// `bytes` with every occurrence of `needle` replaced by [`MASK`].
fn mask<'a>(bytes: &'a [u8], needle: &[u8]) -> Cow<'a, [u8]> {
    if !bytes.windows(needle.len()).any(|w| w == needle) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(needle) {
            out.extend_from_slice(MASK.as_bytes());
            i += needle.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// A `tracing_subscriber` writer factory: one buffer per event, scrubbed and written to
/// stderr whole when the event is done (so a key split across two `write` calls is still
/// caught).
#[derive(Debug, Clone)]
pub struct RedactingStderr {
    redactor: Redactor,
}

impl RedactingStderr {
    /// Writes to stderr through `redactor`.
    pub fn new(redactor: Redactor) -> RedactingStderr {
        RedactingStderr { redactor }
    }
}

/// The buffer of one log event.
#[derive(Debug)]
pub struct EventBuffer {
    redactor: Redactor,
    buf: Vec<u8>,
}

impl Write for EventBuffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl EventBuffer {
    /// The event as it may be printed: the key masked, then control characters escaped (a log
    /// line may quote server text, an error message say). Events are UTF-8: they are
    /// formatted from Rust strings.
    fn printable(&self) -> String {
        let clean = self.redactor.scrub_bytes(&self.buf);
        let text = String::from_utf8_lossy(&clean);
        crate::terminal_text::neutralize(&text).into_owned()
    }
}

impl Drop for EventBuffer {
    #[allow(
        clippy::disallowed_methods,
        reason = "the log sink: `printable` applies the key redactor and the terminal filter"
    )]
    fn drop(&mut self) {
        // A log line that cannot be written has nowhere else to go.
        let _ = io::stderr().lock().write_all(self.printable().as_bytes());
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = EventBuffer;

    fn make_writer(&'a self) -> EventBuffer {
        EventBuffer {
            redactor: self.redactor.clone(),
            buf: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence() {
        let r = Redactor::new(["npk_secret"]);
        assert_eq!(
            r.scrub("a npk_secret b npk_secretnpk_secret"),
            "a <redacted> b <redacted><redacted>"
        );
        assert!(matches!(r.scrub("nothing here"), Cow::Borrowed(_)));
        assert_eq!(
            &*r.scrub_bytes(b"x npk_secret\xff y"),
            b"x <redacted>\xff y".as_slice()
        );
    }

    #[test]
    fn no_key_changes_nothing() {
        let r = Redactor::new([]);
        assert_eq!(r.scrub("npk_secret"), "npk_secret");
        let r = Redactor::new([" "]);
        assert_eq!(&*r.scrub_bytes(b"abc"), b"abc".as_slice());
    }

    #[test]
    fn every_candidate_is_masked_longest_first() {
        let r = Redactor::new(["npk_a", "npk_abc", "npk_a"]);
        assert_eq!(r.scrub("npk_abc npk_a"), "<redacted> <redacted>");
        assert_eq!(
            &*r.scrub_bytes(b"npk_abcnpk_a"),
            b"<redacted><redacted>".as_slice()
        );
    }

    #[test]
    fn log_events_are_masked_and_escaped() {
        let mut event = EventBuffer {
            redactor: Redactor::new(["npk_secret"]),
            buf: Vec::new(),
        };
        event
            .write_all(b"error=\"npk_secret \x1b[2J\x07\xc2\x9b\" done\n")
            .unwrap();
        assert_eq!(
            event.printable(),
            "error=\"<redacted> \\u{1b}[2J\\u{7}\\u{9b}\" done\n"
        );
        event.buf.clear();
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let r = Redactor::new(["npk_secret"]);
        assert!(!format!("{r:?}").contains("npk_secret"));
    }
}
