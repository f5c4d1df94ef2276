use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use http_body::Frame;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::body::Body;
use crate::error::{Error, Sent};
use crate::meta::InFlight;

pin_project_lite::pin_project! {
    /// Races the whole stack below against the deadline.
    pub(crate) struct ResponseFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Sleep,
        deadline: Instant,
        in_flight: InFlight,
        non_idempotent: bool,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(
        inner: F,
        deadline: Instant,
        in_flight: InFlight,
        non_idempotent: bool,
    ) -> ResponseFuture<F> {
        ResponseFuture {
            inner,
            sleep: sleep_until(deadline),
            deadline,
            in_flight,
            non_idempotent,
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
            let deadline = *this.deadline;
            // The body is part of the budget: a server that drips it cannot hold us past it.
            // One already read into memory (`send_buffered`, inside the retry loop) cannot
            // drip, so it needs no timer and no wrapper.
            return Poll::Ready(r.map(|resp| {
                if resp.body().is_in_memory() {
                    return resp;
                }
                resp.map(|body| {
                    Body::wrap(DeadlineBody {
                        body,
                        sleep: sleep_until(deadline),
                    })
                })
            }));
        }
        if this.sleep.poll(cx).is_ready() {
            let err = if this.in_flight.get() {
                let e = Error::deadline(Sent::Maybe);
                if *this.non_idempotent {
                    e.with_outcome_unknown()
                } else {
                    e
                }
            } else {
                Error::deadline(Sent::No)
            };
            tracing::debug!(error = %err, "deadline passed");
            return Poll::Ready(Err(err));
        }
        Poll::Pending
    }
}

pin_project_lite::pin_project! {
    /// A response body that fails once the deadline passes.
    struct DeadlineBody {
        #[pin]
        body: Body,
        #[pin]
        sleep: Sleep,
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.project();
        if let Poll::Ready(f) = this.body.poll_frame(cx) {
            return Poll::Ready(f);
        }
        if this.sleep.poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Error::deadline(Sent::Maybe))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
