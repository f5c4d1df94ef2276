use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tokio::time::Instant;

use super::future::ResponseFuture;
use crate::body::Body;
use crate::error::Error;
use crate::meta::{Deadline, InFlight, RequestMeta};

/// Applies the request's [`Deadline`] extension, or `now + default` when it has none.
#[derive(Clone, Debug)]
pub(crate) struct DeadlineLayer {
    default: Duration,
}

impl DeadlineLayer {
    pub(crate) fn new(default: Duration) -> DeadlineLayer {
        DeadlineLayer { default }
    }
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;
    fn layer(&self, inner: S) -> DeadlineService<S> {
        DeadlineService {
            inner,
            default: self.default,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct DeadlineService<S> {
    inner: S,
    default: Duration,
}

impl<S> tower::Service<Request<Body>> for DeadlineService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let deadline = match req.extensions().get::<Deadline>() {
            Some(d) => d.0,
            None => Instant::now() + self.default,
        };
        req.extensions_mut().insert(Deadline(deadline));
        let in_flight = InFlight::default();
        req.extensions_mut().insert(in_flight.clone());
        let non_idempotent = req
            .extensions()
            .get::<RequestMeta>()
            .is_some_and(|m| m.kind.is_non_idempotent());
        ResponseFuture::new(self.inner.call(req), deadline, in_flight, non_idempotent)
    }
}
