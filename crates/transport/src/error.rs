//! The transport's errors: one opaque [`Error`] with predicates, and [`BuildError`].

mod cause;

use std::error::Error as StdError;
use std::fmt;

use http::StatusCode;

use cause::{Cause, MAX_HEAD_KIB, MAX_HEADER_FIELDS, cause_of, chain, chain_text, from_the_wire};

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// A request that produced no usable HTTP response.
///
/// Any HTTP response that is final after retries — 4xx and 5xx included — is returned as
/// `Ok(response)` (an error response carrying its classified `ApiError` in its extensions);
/// `Error` means there was no response to map. It never carries the API key: sources are hyper, rustls and IO errors, which hold no
/// headers.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    sent: Sent,
    outcome_unknown: bool,
    redirect: Option<(StatusCode, Option<String>)>,
    limit: Option<u64>,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// DNS, TCP connect, or pool checkout.
    Connect,
    /// The TLS handshake failed (untrusted certificate, protocol mismatch).
    Tls,
    /// One attempt ran out of its per-attempt timeout.
    Timeout,
    /// The overall deadline passed.
    Deadline,
    /// A redirect that was not followed.
    Redirect,
    /// A response body over its limit.
    BodyTooLarge,
    /// The response's status line and headers were over hyper's limits (size or count).
    HeaderTooLarge,
    /// The response was not valid HTTP (a bad status line, header or length).
    Malformed,
    /// Sending failed after the request may have been written (reset, closed).
    Send,
    /// Reading or producing a body failed.
    Body,
    /// The request itself is unusable (bad URI, another origin).
    InvalidRequest,
}

/// Whether the server might have seen the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    No,
    Maybe,
}

impl Error {
    fn new(kind: Kind, sent: Sent, source: Option<BoxError>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                sent,
                outcome_unknown: false,
                redirect: None,
                limit: None,
                source,
            }),
        }
    }

    /// A failure that certainly happened before any byte of the request left: safe to resend.
    /// For custom inner services (see `Transport::with_service`).
    pub fn not_sent(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Error {
        Error::new(Kind::Connect, Sent::No, Some(source.into()))
    }

    /// A failure after the request may have reached the server (a reset after write).
    /// For custom inner services (see `Transport::with_service`).
    pub fn maybe_sent(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Error {
        Error::new(Kind::Send, Sent::Maybe, Some(source.into()))
    }

    pub(crate) fn kind(&self) -> Kind {
        self.inner.kind
    }

    pub(crate) fn tls(source: BoxError) -> Error {
        Error::new(Kind::Tls, Sent::No, Some(source))
    }

    pub(crate) fn timeout() -> Error {
        Error::new(Kind::Timeout, Sent::Maybe, None)
    }

    pub(crate) fn deadline(sent: Sent) -> Error {
        Error::new(Kind::Deadline, sent, None)
    }

    pub(crate) fn redirect(status: StatusCode, location: Option<String>) -> Error {
        let mut e = Error::new(Kind::Redirect, Sent::Maybe, None);
        e.inner.redirect = Some((status, location));
        e
    }

    pub(crate) fn body_too_large(limit: u64) -> Error {
        let mut e = Error::new(Kind::BodyTooLarge, Sent::Maybe, None);
        e.inner.limit = Some(limit);
        e
    }

    pub(crate) fn body(source: BoxError) -> Error {
        Error::new(Kind::Body, Sent::Maybe, Some(source))
    }

    pub(crate) fn invalid_request(why: &'static str) -> Error {
        Error::new(Kind::InvalidRequest, Sent::No, Some(why.into()))
    }

    /// Marks a failure of a launch, follow-up or upload that the server may have acted on.
    pub(crate) fn with_outcome_unknown(mut self) -> Error {
        self.inner.outcome_unknown = true;
        self
    }

    /// A response body that broke off mid-stream (connection closed or reset while reading):
    /// the request was received, the answer was lost.
    pub(crate) fn is_body_cut(&self) -> bool {
        matches!(self.inner.kind, Kind::Body | Kind::Send)
    }

    pub(crate) fn sent(&self) -> Sent {
        self.inner.sent
    }

    /// True for a per-attempt timeout and for the overall deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout | Kind::Deadline)
    }

    /// True when the overall deadline (the budget across attempts and waits) ran out.
    pub fn is_deadline(&self) -> bool {
        self.inner.kind == Kind::Deadline
    }

    /// True when no connection could be made: DNS, TCP connect, TLS handshake or pool checkout.
    pub fn is_connect(&self) -> bool {
        matches!(self.inner.kind, Kind::Connect | Kind::Tls)
    }

    /// True when the TLS handshake failed (for example an untrusted certificate).
    pub fn is_tls(&self) -> bool {
        self.inner.kind == Kind::Tls
    }

    /// True when the request may have reached the server; false when it certainly did not.
    pub fn was_sent(&self) -> bool {
        self.inner.sent == Sent::Maybe
    }

    /// True for a launch, follow-up or upload that may have been received and acted on: the
    /// transport did not resend it, and the caller must reconcile rather than retry blindly.
    pub fn outcome_unknown(&self) -> bool {
        self.inner.outcome_unknown
    }

    /// True when the server answered with a redirect that was not followed.
    pub fn is_redirect(&self) -> bool {
        self.inner.kind == Kind::Redirect
    }

    /// The status of a redirect that was not followed.
    pub fn redirect_status(&self) -> Option<StatusCode> {
        self.inner.redirect.as_ref().map(|(s, _)| *s)
    }

    /// The `Location` of a redirect that was not followed, when the server sent one.
    pub fn redirect_location(&self) -> Option<&str> {
        self.inner.redirect.as_ref().and_then(|(_, l)| l.as_deref())
    }

    /// True when a response body was larger than its limit.
    pub fn is_body_too_large(&self) -> bool {
        self.inner.kind == Kind::BodyTooLarge
    }

    /// True when the response's status line and headers were over the client's limits (more
    /// than 100 header fields, or more than 408 KiB): the server answered (so the request was
    /// sent), but the answer could not be read. Not retried: the server would answer the
    /// same way again.
    pub fn is_response_header_too_large(&self) -> bool {
        self.inner.kind == Kind::HeaderTooLarge
    }

    /// True when the response was not valid HTTP (an unparsable status line or header, a bad
    /// `Content-Length`): the request was sent, the answer is unusable. Not retried.
    pub fn is_malformed_response(&self) -> bool {
        self.inner.kind == Kind::Malformed
    }

    /// True when the request was refused before sending (a URI of another origin, a bad URI).
    pub fn is_invalid_request(&self) -> bool {
        self.inner.kind == Kind::InvalidRequest
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("sent", &self.inner.sent)
            .field("outcome_unknown", &self.inner.outcome_unknown);
        if let Some(r) = &self.inner.redirect {
            d.field("redirect", r);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl Error {
    /// The first words of the message: what failed, as specifically as the source chain
    /// tells.
    fn headline(&self) -> String {
        let cause = || {
            self.inner
                .source
                .as_deref()
                .map_or(Cause::Unknown, |s| cause_of(s as &(dyn StdError + 'static)))
        };
        match self.inner.kind {
            Kind::Connect => match cause() {
                Cause::Dns => "could not resolve the server's host name",
                Cause::Refused => "the server refused the connection (nothing listens there?)",
                Cause::ConnectTimedOut => "connecting to the server timed out",
                Cause::Reset => "the connection was reset while connecting",
                _ => "could not connect",
            }
            .to_owned(),
            Kind::Tls => "TLS handshake failed".to_owned(),
            Kind::Timeout => "the attempt timed out".to_owned(),
            Kind::Deadline => "the request deadline passed".to_owned(),
            Kind::Redirect => {
                let mut s = "redirect not followed".to_owned();
                if let Some((status, location)) = &self.inner.redirect {
                    s.push_str(&format!(": {status}"));
                    if let Some(l) = location {
                        s.push_str(&format!(" to {l}"));
                    }
                }
                s
            }
            Kind::BodyTooLarge => match self.inner.limit {
                Some(limit) => format!("the response body is over its limit of {limit} bytes"),
                None => "the response body is over its limit".to_owned(),
            },
            Kind::HeaderTooLarge => format!(
                "the response header was too large (over {MAX_HEADER_FIELDS} fields or \
                 {MAX_HEAD_KIB} KiB)"
            ),
            Kind::Malformed => "the server's response was not valid HTTP".to_owned(),
            Kind::Send => match cause() {
                Cause::Reset => "the connection was reset before the response arrived",
                Cause::ClosedEarly => "the server closed the connection before answering",
                Cause::RequestBody => "the request body failed while sending",
                _ => "sending the request failed",
            }
            .to_owned(),
            Kind::Body => {
                let wire = self
                    .inner
                    .source
                    .as_deref()
                    .is_some_and(|s| from_the_wire(s as &(dyn StdError + 'static)));
                match (wire, cause()) {
                    (true, Cause::Reset) => "the response body broke off: the connection was reset",
                    (true, Cause::ClosedEarly) => {
                        "the response body broke off: the server closed the connection"
                    }
                    (true, _) => "reading the response body failed",
                    // The caller's own stream (an upload's reader).
                    (false, _) => "a body stream failed",
                }
                .to_owned()
            }
            Kind::InvalidRequest => "invalid request".to_owned(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if self.inner.outcome_unknown {
            f.write_str(" (the server may have acted on it)")?;
        }
        if let Some(source) = &self.inner.source {
            let text = chain_text(source.as_ref() as &(dyn StdError + 'static));
            if !text.is_empty() {
                write!(f, ": {text}")?;
            }
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source.as_deref().map(|e| e as _)
    }
}

/// Classifies a hyper-util client error: not sent or maybe sent, TLS, and a response that
/// arrived but could not be read (too large a head, not HTTP), which is not worth retrying.
pub(crate) fn from_client(err: hyper_util::client::legacy::Error) -> Error {
    let tls = chain_has_tls(&err);
    if err.is_connect() {
        return if tls {
            Error::tls(Box::new(err))
        } else {
            Error::new(Kind::Connect, Sent::No, Some(Box::new(err)))
        };
    }
    match cause_of(&err) {
        Cause::HeadTooLarge => {
            return Error::new(Kind::HeaderTooLarge, Sent::Maybe, Some(Box::new(err)));
        }
        Cause::Malformed => return Error::new(Kind::Malformed, Sent::Maybe, Some(Box::new(err))),
        _ => {}
    }
    // hyper-util exposes no predicate for "the request came back unsent" (its `Canceled` kind,
    // or a request refused before dispatch), only its Debug output names the kind.
    let debug = format!("{err:?}");
    let unsent = [
        "Canceled",
        "ChannelClosed",
        "UserUnsupported",
        "UserAbsoluteUriRequired",
    ]
    .iter()
    .any(|k| debug.starts_with(&format!("hyper_util::client::legacy::Error({k}")));
    if unsent {
        Error::new(Kind::Connect, Sent::No, Some(Box::new(err)))
    } else {
        Error::new(Kind::Send, Sent::Maybe, Some(Box::new(err)))
    }
}

fn chain_has_tls(err: &(dyn StdError + 'static)) -> bool {
    chain(err).any(|e| e.is::<rustls::Error>())
}

/// Why a [`TransportConfig`](crate::TransportConfig) could not become a transport.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// No base URL was given, or it could not be parsed.
    InvalidBase(String),
    /// The base URL is `http://` on a host that is not loopback, and `allow_insecure_http`
    /// was not set.
    InsecureHttp {
        /// The refused host.
        host: String,
    },
    /// An extra PEM root held no certificate, or a certificate rustls refused.
    InvalidRoots(String),
    /// The native root store could not be loaded.
    NativeRoots(String),
    /// rustls refused the TLS configuration.
    Tls(String),
    /// The user agent is not a valid header value.
    InvalidUserAgent,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::InvalidBase(why) => write!(f, "invalid base URL: {why}"),
            BuildError::InsecureHttp { host } => write!(
                f,
                "refusing plain http:// to non-loopback host {host}; set allow_insecure_http to override"
            ),
            BuildError::InvalidRoots(why) => write!(f, "invalid extra root certificates: {why}"),
            BuildError::NativeRoots(why) => write!(f, "could not load native roots: {why}"),
            BuildError::Tls(why) => write!(f, "TLS configuration refused: {why}"),
            BuildError::InvalidUserAgent => {
                f.write_str("the user agent is not a valid header value")
            }
        }
    }
}

impl StdError for BuildError {}
