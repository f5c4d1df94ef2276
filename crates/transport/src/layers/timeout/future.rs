use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Response;
use tokio::time::{Sleep, sleep};

use crate::body::Body;
use crate::error::{Error, Sent};
use crate::meta::InFlight;

pin_project_lite::pin_project! {
    /// One attempt raced against its timeout.
    pub(crate) struct ResponseFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Sleep,
        in_flight: Option<InFlight>,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, timeout: Duration, in_flight: Option<InFlight>) -> Self {
        ResponseFuture {
            inner,
            sleep: sleep(timeout),
            in_flight,
        }
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(r) = this.inner.poll(cx) {
            // A response, or a failure known to be unsent, means nothing is left in flight.
            let settled = match &r {
                Ok(_) => true,
                Err(e) => e.sent() == Sent::No,
            };
            if settled && let Some(f) = this.in_flight {
                f.set(false);
            }
            return Poll::Ready(r);
        }
        if this.sleep.poll(cx).is_ready() {
            return Poll::Ready(Err(Error::timeout()));
        }
        Poll::Pending
    }
}
