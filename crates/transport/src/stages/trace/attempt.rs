use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;

use crate::body::Body;
use crate::error::Error;

pin_project_lite::pin_project! {
    /// One attempt's future, polled inside its `attempt` span (when enabled); reports the
    /// response head or the failure.
    pub(crate) struct Traced<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        started: Option<tokio::time::Instant>,
    }
}

impl<F> Traced<F> {
    pub(crate) fn new(attempt: u32, inner: F) -> Traced<F> {
        let span = tracing::debug_span!("attempt", attempt, status = tracing::field::Empty);
        // The clock is read only when the events that report it can be seen.
        let started = tracing::enabled!(tracing::Level::DEBUG).then(tokio::time::Instant::now);
        Traced {
            inner,
            span,
            started,
        }
    }
}

impl<F> Future for Traced<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let traced = !this.span.is_disabled();
        let _enter = traced.then(|| this.span.enter());
        let Poll::Ready(r) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        let elapsed_ms = this.started.map_or(0, |s| s.elapsed().as_millis() as u64);
        match &r {
            Ok(resp) => {
                if traced {
                    this.span.record("status", resp.status().as_u16());
                }
                tracing::debug!(elapsed_ms, version = ?resp.version(), "response head");
            }
            Err(e) => tracing::debug!(elapsed_ms, error = %e, "attempt failed"),
        }
        Poll::Ready(r)
    }
}
