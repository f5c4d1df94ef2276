//! The response body: whole, dripped slowly, or truncated (a fault that lies about its length).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// Error ending a truncated body; hyper then drops the connection.
#[derive(Debug)]
pub struct BodyCut;

impl std::fmt::Display for BodyCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response body truncated by an injected fault")
    }
}

impl std::error::Error for BodyCut {}

/// A response body.
#[derive(Debug)]
pub struct RespBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Drip {
        rest: Bytes,
        chunk: usize,
        interval: Duration,
        sleep: Option<Pin<Box<Sleep>>>,
    },
    Truncated {
        part: Option<Bytes>,
        pause: Option<Pin<Box<Sleep>>>,
    },
}

impl RespBody {
    /// The whole body at once.
    pub fn full(b: Bytes) -> Self {
        Self {
            kind: Kind::Full(if b.is_empty() { None } else { Some(b) }),
        }
    }

    /// No body.
    pub fn empty() -> Self {
        Self {
            kind: Kind::Full(None),
        }
    }

    /// `data` sent `chunk` bytes at a time with `interval` between chunks.
    pub fn drip(data: Bytes, chunk: usize, interval: Duration) -> Self {
        Self {
            kind: Kind::Drip {
                rest: data,
                chunk: chunk.max(1),
                interval,
                sleep: None,
            },
        }
    }

    /// Sends `part` and then fails, so the connection closes short of Content-Length.
    pub fn truncated(part: Bytes) -> Self {
        Self {
            kind: Kind::Truncated {
                part: Some(part),
                pause: None,
            },
        }
    }

    /// Takes the whole content of a `full` body (used by faults that reshape it).
    pub fn into_full_bytes(self) -> Option<Bytes> {
        match self.kind {
            Kind::Full(b) => Some(b.unwrap_or_default()),
            _ => None,
        }
    }
}

impl Body for RespBody {
    type Data = Bytes;
    type Error = BodyCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        match &mut self.get_mut().kind {
            Kind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Kind::Truncated { part, pause } => {
                if let Some(p) = part.take() {
                    // Pause before failing so the partial body is flushed to the client.
                    *pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(20))));
                    if !p.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(p))));
                    }
                }
                if let Some(s) = pause.as_mut()
                    && s.as_mut().poll(cx).is_pending()
                {
                    return Poll::Pending;
                }
                Poll::Ready(Some(Err(BodyCut)))
            }
            Kind::Drip {
                rest,
                chunk,
                interval,
                sleep,
            } => {
                if rest.is_empty() {
                    return Poll::Ready(None);
                }
                if let Some(s) = sleep.as_mut() {
                    if s.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *sleep = None;
                }
                let n = (*chunk).min(rest.len());
                let out = rest.split_to(n);
                if !rest.is_empty() {
                    *sleep = Some(Box::pin(tokio::time::sleep(*interval)));
                }
                Poll::Ready(Some(Ok(Frame::data(out))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.is_none(),
            Kind::Drip { rest, .. } => rest.is_empty(),
            Kind::Truncated { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Drip { rest, .. } => SizeHint::with_exact(rest.len() as u64),
            Kind::Truncated { .. } => SizeHint::default(),
        }
    }
}
