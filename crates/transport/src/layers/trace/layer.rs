use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};

use crate::body::Body;
use crate::error::Error;
use crate::meta::Attempt;

/// Opens the `attempt` span. Headers are never recorded, so the key cannot leak here.
#[derive(Clone, Debug, Default)]
pub(crate) struct TraceLayer;

impl<S> tower::Layer<S> for TraceLayer {
    type Service = TraceService<S>;
    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService { inner }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct TraceService<S> {
    inner: S,
}

impl<S> tower::Service<Request<Body>> for TraceService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = TraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let span = tracing::debug_span!(
            "attempt",
            attempt = req.extensions().get::<Attempt>().map_or(1, |a| a.0),
            status = tracing::field::Empty
        );
        // The clock is read only when the events that report it can be seen.
        let started = tracing::enabled!(tracing::Level::DEBUG).then(tokio::time::Instant::now);
        let inner = if span.is_disabled() {
            self.inner.call(req)
        } else {
            let _enter = span.enter();
            self.inner.call(req)
        };
        TraceFuture {
            inner,
            span,
            started,
        }
    }
}

pin_project_lite::pin_project! {
    /// The attempt's future, polled inside its span (when enabled); reports the head.
    pub(crate) struct TraceFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        started: Option<tokio::time::Instant>,
    }
}

impl<F> Future for TraceFuture<F>
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
