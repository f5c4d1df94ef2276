use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::body::Body;
use crate::error::Error;
use crate::meta::ResponseBodyLimit;

/// Applies [`ResponseBodyLimit`] to the response body; requests without one stream unbounded.
#[derive(Clone, Debug, Default)]
pub(crate) struct LimitLayer;

impl<S> tower::Layer<S> for LimitLayer {
    type Service = LimitService<S>;
    fn layer(&self, inner: S) -> LimitService<S> {
        LimitService { inner }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct LimitService<S> {
    inner: S,
}

/// Wraps a body so that reading more than `limit` bytes fails with a typed error.
pub(crate) fn limit_body(body: Body, limit: u64) -> Body {
    let limited = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    Body::wrap(limited.map_err(move |e| {
        if e.is::<LengthLimitError>() {
            Error::body_too_large(limit)
        } else {
            match e.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::body(other),
            }
        }
    }))
}

impl<S> tower::Service<Request<Body>> for LimitService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = LimitFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let limit = req.extensions().get::<ResponseBodyLimit>().map(|l| l.0);
        LimitFuture {
            inner: self.inner.call(req),
            limit,
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner future, with the limit applied to its response.
    pub(crate) struct LimitFuture<F> {
        #[pin]
        inner: F,
        limit: Option<u64>,
    }
}

impl<F> Future for LimitFuture<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let resp = match this.inner.poll(cx) {
            Poll::Ready(Ok(resp)) => resp,
            other => return other,
        };
        let Some(limit) = *this.limit else {
            return Poll::Ready(Ok(resp));
        };
        // A declared length over the limit fails before a byte is read.
        let declared = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Poll::Ready(Err(Error::body_too_large(limit)));
        }
        Poll::Ready(Ok(resp.map(|b| limit_body(b, limit))))
    }
}
