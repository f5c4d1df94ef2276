//! The one timer of a request (deadline, attempt timeout, pacing waits, backoff sleeps).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use tokio::time::{Instant, Sleep, sleep_until};

/// The one timer of a request. It serves the deadline, the per-attempt timeout, pacing waits
/// and backoff sleeps in turn, so a request that succeeds at once registers a single timer
/// (made on first use, re-armed rather than replaced).
pub(crate) struct Timer<'a> {
    sleep: Pin<&'a mut Option<Sleep>>,
}

impl<'a> Timer<'a> {
    pub(crate) fn new(sleep: Pin<&'a mut Option<Sleep>>) -> Timer<'a> {
        Timer { sleep }
    }

    /// Makes the timer fire at `at`.
    pub(crate) fn arm(&mut self, at: Instant) {
        match self.sleep.as_mut().as_pin_mut() {
            Some(s) if s.deadline() == at => {}
            Some(s) => s.reset(at),
            None => self.sleep.set(Some(sleep_until(at))),
        }
    }

    /// Waits until `at`.
    pub(crate) async fn wait_until(&mut self, at: Instant) {
        self.arm(at);
        if let Some(s) = self.sleep.as_mut().as_pin_mut() {
            s.await;
        }
    }

    /// Runs `fut` until it finishes (`Some`) or the timer fires (`None`). The future is polled
    /// first, so an answer that is ready wins over a timer that fired at the same moment.
    pub(crate) async fn race<F: Future>(&mut self, fut: Pin<&mut F>) -> Option<F::Output> {
        let mut fut = fut;
        poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            if let Some(s) = self.sleep.as_mut().as_pin_mut()
                && s.poll(cx).is_ready()
            {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }

    /// [`Timer::race`] for work bounded by the deadline alone: when what fires is an earlier
    /// target (the attempt's timeout, which covers only the head), the timer is re-armed for
    /// `deadline` and the work goes on. `None` means the deadline passed.
    pub(crate) async fn race_deadline<F: Future>(
        &mut self,
        fut: Pin<&mut F>,
        deadline: Instant,
    ) -> Option<F::Output> {
        let mut fut = fut;
        loop {
            if let Some(out) = self.race(fut.as_mut()).await {
                return Some(out);
            }
            if Instant::now() >= deadline {
                return None;
            }
            self.arm(deadline);
        }
    }
}
