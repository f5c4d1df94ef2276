//! The last line of defence for the API key: every byte this program writes to stdout or
//! stderr (its own output and every log line, its dependencies' included) passes through a
//! [`Redactor`]. The SDK already keeps the key out of its errors and logs; this makes the
//! guarantee hold even for text we do not control (a server error message echoing a header, a
//! trace-level log of a dependency).

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

/// What replaces the key.
pub const MASK: &str = "<redacted>";

/// Replaces every occurrence of the key in text.
#[derive(Clone, Default)]
pub struct Redactor {
    key: Option<Arc<str>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("active", &self.key.is_some())
            .finish()
    }
}

impl Redactor {
    /// A redactor for `key`; an empty or absent key redacts nothing.
    pub fn new(key: Option<&str>) -> Redactor {
        Redactor {
            key: key.filter(|k| !k.is_empty()).map(Arc::from),
        }
    }

    /// `text` with the key masked.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.key {
            Some(k) if text.contains(&**k) => Cow::Owned(text.replace(&**k, MASK)),
            _ => Cow::Borrowed(text),
        }
    }

    /// Like [`scrub`](Self::scrub) for bytes that may not be UTF-8 (a log line always is).
    pub fn scrub_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(k) = &self.key else {
            return Cow::Borrowed(bytes);
        };
        let needle = k.as_bytes();
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

impl Drop for EventBuffer {
    fn drop(&mut self) {
        let clean = self.redactor.scrub_bytes(&self.buf);
        // A log line that cannot be written has nowhere else to go.
        let _ = io::stderr().lock().write_all(&clean);
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
        let r = Redactor::new(Some("npk_secret"));
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
        let r = Redactor::new(None);
        assert_eq!(r.scrub("npk_secret"), "npk_secret");
        let r = Redactor::new(Some(""));
        assert_eq!(&*r.scrub_bytes(b"abc"), b"abc".as_slice());
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let r = Redactor::new(Some("npk_secret"));
        assert!(!format!("{r:?}").contains("npk_secret"));
    }
}
