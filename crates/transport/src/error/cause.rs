//! What a failure's source chain says happened, in words a user can act on: hyper-util wraps
//! everything in a "client error (SendRequest)" that names no cause, so the chain is read.

use std::error::Error as StdError;
use std::io;

/// hyper's HTTP/1 limits on a response head, which the connector leaves at their defaults:
/// at most this many header fields…
pub(crate) const MAX_HEADER_FIELDS: usize = 100;
/// …and this many bytes of status line and headers (hyper's read buffer: 8 KiB + 400 KiB).
pub(crate) const MAX_HEAD_KIB: usize = 408;

/// The most specific cause found in a source chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The host name did not resolve.
    Dns,
    /// The server refused the TCP connection (nothing listens on that port).
    Refused,
    /// The TCP connect did not finish in time.
    ConnectTimedOut,
    /// The connection was reset or aborted.
    Reset,
    /// The server closed the connection before the response (or its body) was complete.
    ClosedEarly,
    /// The response's status line and headers were over the limits.
    HeadTooLarge,
    /// The response was not valid HTTP.
    Malformed,
    /// The request body (the caller's stream) failed.
    RequestBody,
    /// Nothing more specific is known.
    Unknown,
}

/// Every error in the chain from `err` on, stepping into the error an `io::Error` wraps
/// (its `source()` skips that one).
pub(crate) fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e: &&'a (dyn StdError + 'static)| {
        match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        }
    })
}

/// The first decisive cause in the chain.
pub(crate) fn cause_of(err: &(dyn StdError + 'static)) -> Cause {
    chain(err)
        .map(one)
        .find(|c| *c != Cause::Unknown)
        .unwrap_or(Cause::Unknown)
}

/// What one error of the chain says on its own.
fn one(e: &(dyn StdError + 'static)) -> Cause {
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        return if h.is_parse_too_large() {
            Cause::HeadTooLarge
        } else if h.is_parse() {
            Cause::Malformed
        } else if h.is_incomplete_message() {
            Cause::ClosedEarly
        } else if h.is_user() {
            Cause::RequestBody
        } else {
            Cause::Unknown
        };
    }
    if let Some(io) = e.downcast_ref::<io::Error>() {
        return match io.kind() {
            io::ErrorKind::ConnectionRefused => Cause::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Cause::Reset,
            io::ErrorKind::TimedOut => Cause::ConnectTimedOut,
            io::ErrorKind::UnexpectedEof => Cause::ClosedEarly,
            _ => Cause::Unknown,
        };
    }
    // hyper-util's connect error type is private; its message is the only mark of DNS.
    if e.to_string() == "dns error" {
        return Cause::Dns;
    }
    Cause::Unknown
}

/// Whether the chain holds a hyper error: the failure came off the wire, not from a caller's
/// stream.
pub(crate) fn from_the_wire(err: &(dyn StdError + 'static)) -> bool {
    chain(err).any(|e| e.is::<hyper::Error>())
}

/// The messages of the chain joined by `": "`, without hyper-util's wrapper (it names no
/// cause) and without repeats (an `io::Error` shows the message of the error it wraps).
pub(crate) fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain(err) {
        if e.is::<hyper_util::client::legacy::Error>() {
            continue;
        }
        let text = e.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        // One of ours (a request body's failure inside hyper's error): its message already
        // holds the rest of the chain.
        if e.is::<super::Error>() {
            break;
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    /// An error with a message and a source, as hyper-util's connect error is built.
    #[derive(Debug)]
    struct Wrap(&'static str, io::Error);

    impl fmt::Display for Wrap {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl StdError for Wrap {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn connect_causes_come_from_the_chain() {
        let dns = Wrap(
            "dns error",
            io::Error::other("failed to lookup address information"),
        );
        assert_eq!(cause_of(&dns), Cause::Dns);
        assert_eq!(
            chain_text(&dns),
            "dns error: failed to lookup address information"
        );
        let refused = Wrap(
            "tcp connect error",
            io::Error::from(io::ErrorKind::ConnectionRefused),
        );
        assert_eq!(cause_of(&refused), Cause::Refused);
        let slow = Wrap(
            "tcp connect error",
            io::Error::new(io::ErrorKind::TimedOut, "deadline has elapsed"),
        );
        assert_eq!(cause_of(&slow), Cause::ConnectTimedOut);
        assert_eq!(cause_of(&io::Error::other("?")), Cause::Unknown);
    }

    #[test]
    fn a_nested_transport_error_ends_the_text() {
        let ours = super::super::Error::body(Box::new(io::Error::other("disk gone")));
        let outer = Wrap("hyper said", io::Error::other(ours));
        assert_eq!(
            chain_text(&outer),
            "hyper said: a body stream failed: disk gone"
        );
    }

    #[test]
    fn an_io_error_is_stepped_into_once() {
        // io::Error's own source() skips the error it wraps; the chain does not, and the
        // text does not repeat it.
        let inner = Wrap("tcp connect error", io::Error::from(io::ErrorKind::Other));
        let outer = io::Error::other(inner);
        assert_eq!(chain(&outer).count(), 3);
        assert_eq!(chain_text(&outer), "tcp connect error: other error");
    }
}
