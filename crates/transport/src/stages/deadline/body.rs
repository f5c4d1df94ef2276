use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::body::Body;
use crate::error::{Error, Sent};

pin_project_lite::pin_project! {
    /// A streamed response body that fails once the deadline passes: a server that drips the
    /// body cannot hold the caller past it.
    pub(crate) struct DeadlineBody {
        #[pin]
        body: Body,
        #[pin]
        sleep: Sleep,
    }
}

impl DeadlineBody {
    pub(crate) fn new(body: Body, deadline: Instant) -> DeadlineBody {
        DeadlineBody {
            body,
            sleep: sleep_until(deadline),
        }
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
