use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};

use super::future::ResponseFuture;
use crate::body::Body;
use crate::error::Error;
use crate::meta::InFlight;

/// Fails one attempt with a timeout error when no response head arrives in time.
#[derive(Clone, Debug)]
pub(crate) struct TimeoutLayer {
    timeout: Duration,
}

impl TimeoutLayer {
    pub(crate) fn new(timeout: Duration) -> TimeoutLayer {
        TimeoutLayer { timeout }
    }
}

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;
    fn layer(&self, inner: S) -> TimeoutService<S> {
        TimeoutService {
            inner,
            timeout: self.timeout,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct TimeoutService<S> {
    inner: S,
    timeout: Duration,
}

impl<S> tower::Service<Request<Body>> for TimeoutService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let in_flight = req.extensions().get::<InFlight>().cloned();
        if let Some(f) = &in_flight {
            f.set(true);
        }
        ResponseFuture::new(self.inner.call(req), self.timeout, in_flight)
    }
}
