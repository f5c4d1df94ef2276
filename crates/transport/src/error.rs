//! The transport's errors: one opaque [`Error`] with predicates, and [`BuildError`].

use std::error::Error as StdError;
use std::fmt;

use http::StatusCode;

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// A request that produced no usable HTTP response.
///
/// Any HTTP response that is final after retries — 4xx and 5xx included — is returned as
/// `Ok(response)`, so callers map error bodies themselves; `Error` means there was no response
/// to map. It never carries the API key: sources are hyper, rustls and IO errors, which hold no
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.kind {
            Kind::Connect => f.write_str("could not connect")?,
            Kind::Tls => f.write_str("TLS handshake failed")?,
            Kind::Timeout => f.write_str("the attempt timed out")?,
            Kind::Deadline => f.write_str("the request deadline passed")?,
            Kind::Redirect => {
                f.write_str("redirect not followed")?;
                if let Some((status, location)) = &self.inner.redirect {
                    write!(f, ": {status}")?;
                    if let Some(l) = location {
                        write!(f, " to {l}")?;
                    }
                }
            }
            Kind::BodyTooLarge => {
                f.write_str("the response body is over its limit")?;
                if let Some(limit) = self.inner.limit {
                    write!(f, " of {limit} bytes")?;
                }
            }
            Kind::Send => f.write_str("sending the request failed")?,
            Kind::Body => f.write_str("a body stream failed")?,
            Kind::InvalidRequest => f.write_str("invalid request")?,
        }
        if self.inner.outcome_unknown {
            f.write_str(" (the server may have acted on it)")?;
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source.as_deref().map(|e| e as _)
    }
}

/// Classifies a hyper-util client error as not sent or maybe sent, and spots TLS failures.
pub(crate) fn from_client(err: hyper_util::client::legacy::Error) -> Error {
    let tls = chain_has_tls(&err);
    if err.is_connect() {
        return if tls {
            Error::tls(Box::new(err))
        } else {
            Error::new(Kind::Connect, Sent::No, Some(Box::new(err)))
        };
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
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<rustls::Error>() {
            return true;
        }
        // tokio-rustls wraps rustls errors in io::Error, whose `source()` skips the wrapped
        // error itself, so step into it explicitly.
        cur = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    false
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
