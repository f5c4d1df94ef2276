use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tracing::Instrument;

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
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let attempt = req.extensions().get::<Attempt>().map_or(1, |a| a.0);
        let span = tracing::debug_span!("attempt", attempt, status = tracing::field::Empty);
        let started = tokio::time::Instant::now();
        let fut = {
            let _enter = span.enter();
            self.inner.call(req)
        };
        Box::pin(
            async move {
                let r = fut.await;
                let elapsed_ms = started.elapsed().as_millis() as u64;
                match &r {
                    Ok(resp) => {
                        tracing::Span::current().record("status", resp.status().as_u16());
                        tracing::debug!(elapsed_ms, version = ?resp.version(), "response head");
                    }
                    Err(e) => tracing::debug!(elapsed_ms, error = %e, "attempt failed"),
                }
                r
            }
            .instrument(span),
        )
    }
}
