//! The single place that decides whether an attempt may be repeated.
//!
//! | kind | NotSent | MaybeSent / TimedOut | rate 429 | 5xx | anything else |
//! |---|---|---|---|---|---|
//! | Read, IdempotentWrite | retry (backoff) | retry (backoff) | retry (Retry-After, else backoff) | retry (Retry-After, else backoff) | give up |
//! | Launch, FollowUp, Upload | retry (backoff) | give up, outcome unknown | retry (Retry-After, else backoff) | give up, outcome unknown | give up |
//!
//! An upload whose body can be read again from the start (a path, bytes) is decided by
//! [`decide_replayable_upload`]: like an idempotent write, so a 5xx, a reset or a timeout is
//! sent again. The accepted cost is at most one unused copy of the file per such retry on the
//! server (nothing refers to it); an upload creates no agent, so nothing runs twice. A
//! streamed upload (its body read once) keeps the `Upload` row.
//!
//! Spend-limit 429s, other 4xx and redirects are never retried. A retry is only granted while
//! `attempt < max_attempts`.

use std::time::Duration;

use super::backoff::Backoff;
use super::classify::{Classification, ErrorKind};
use super::retry_after::RetryAfterPolicy;
use crate::RequestKind;
use crate::rng::Rng;

/// Why an attempt produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendFailure {
    /// The request certainly never reached the server: DNS, connect, TLS handshake or pool
    /// checkout failed before any byte of it was written.
    NotSent,
    /// The connection broke after the request was (possibly) written: the server may have acted.
    MaybeSent,
    /// The per-attempt timeout fired after the request was sent: the server may have acted.
    TimedOut,
}

impl SendFailure {
    /// True when the server may have acted on the request.
    pub const fn maybe_received(self) -> bool {
        !matches!(self, SendFailure::NotSent)
    }
}

/// What one attempt ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// A response arrived and was classified.
    Response(Classification),
    /// No response.
    Failed(SendFailure),
}

/// Retry settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts in total, the first included. Default 4. `0` behaves like `1`.
    pub max_attempts: u32,
    /// Wait between attempts when the server gave no `Retry-After`.
    pub backoff: Backoff,
    /// How `Retry-After` is capped.
    pub retry_after: RetryAfterPolicy,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            backoff: Backoff::default(),
            retry_after: RetryAfterPolicy::default(),
        }
    }
}

impl RetryConfig {
    /// Sets [`max_attempts`](Self::max_attempts).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Sets [`backoff`](Self::backoff).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets [`retry_after`](Self::retry_after).
    pub fn with_retry_after(mut self, policy: RetryAfterPolicy) -> Self {
        self.retry_after = policy;
        self
    }
}

/// The verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send the same request again after `after`.
    Retry {
        /// How long to wait first.
        after: Duration,
    },
    /// Stop here. (Also the answer for a success: nothing to repeat.)
    GiveUp {
        /// True when a non-idempotent request may or may not have been acted on, so the caller
        /// must reconcile (e.g. list agents) instead of resending.
        outcome_unknown: bool,
    },
}

/// Decides whether to send again an upload whose body can be read again from the start (a
/// file path, bytes): retried like an idempotent write (see the module table for why).
pub fn decide_replayable_upload(
    outcome: &AttemptOutcome,
    attempt: u32,
    cfg: &RetryConfig,
    rng: &mut Rng,
) -> RetryDecision {
    decide(RequestKind::IdempotentWrite, outcome, attempt, cfg, rng)
}

/// Decides whether to repeat a request of `kind` whose attempt number `attempt` (1 for the first
/// attempt, counting this one) ended with `outcome`.
///
/// Draws one number from `rng` only when a backoff delay is needed.
pub fn decide(
    kind: RequestKind,
    outcome: &AttemptOutcome,
    attempt: u32,
    cfg: &RetryConfig,
    rng: &mut Rng,
) -> RetryDecision {
    let attempt = attempt.max(1);
    let unsafe_to_resend = kind.is_non_idempotent();
    // `None` = not retryable; `Some(hint)` = retryable, waiting `hint` if the server gave one.
    let retryable: Option<Option<Duration>> = match outcome {
        AttemptOutcome::Failed(SendFailure::NotSent) => Some(None),
        AttemptOutcome::Failed(SendFailure::MaybeSent | SendFailure::TimedOut) => {
            if unsafe_to_resend {
                return RetryDecision::GiveUp {
                    outcome_unknown: true,
                };
            }
            Some(None)
        }
        AttemptOutcome::Response(Classification::Success) => None,
        AttemptOutcome::Response(Classification::Error(e)) => match e.kind() {
            ErrorKind::RateLimited => Some(e.retry_after()),
            ErrorKind::ServerError if unsafe_to_resend => {
                return RetryDecision::GiveUp {
                    outcome_unknown: true,
                };
            }
            ErrorKind::ServerError => Some(e.retry_after()),
            _ => None,
        },
    };
    let Some(hint) = retryable else {
        return RetryDecision::GiveUp {
            outcome_unknown: false,
        };
    };
    if attempt >= cfg.max_attempts.max(1) {
        // Only NotSent and 429 reach here for non-idempotent kinds: both certainly not acted on.
        return RetryDecision::GiveUp {
            outcome_unknown: false,
        };
    }
    let after = match hint {
        Some(d) => d.min(cfg.retry_after.cap),
        None => cfg.backoff.delay(attempt - 1, rng),
    };
    RetryDecision::Retry { after }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::classify::ApiError;
    use ErrorKind as K;

    fn response(kind: ErrorKind, status: u16, retry_after: Option<Duration>) -> AttemptOutcome {
        AttemptOutcome::Response(Classification::Error(
            ApiError::new(kind, status).with_retry_after(retry_after),
        ))
    }

    const KINDS: [RequestKind; 5] = [
        RequestKind::Read,
        RequestKind::IdempotentWrite,
        RequestKind::Launch,
        RequestKind::FollowUp,
        RequestKind::Upload,
    ];

    fn cfg() -> RetryConfig {
        RetryConfig::default().with_backoff(Backoff::default().with_jitter(0.0))
    }

    fn d(kind: RequestKind, o: AttemptOutcome, attempt: u32) -> RetryDecision {
        decide(kind, &o, attempt, &cfg(), &mut Rng::seed(1))
    }

    fn retry_ms(ms: u64) -> RetryDecision {
        RetryDecision::Retry {
            after: Duration::from_millis(ms),
        }
    }

    const GIVE_UP: RetryDecision = RetryDecision::GiveUp {
        outcome_unknown: false,
    };
    const UNKNOWN: RetryDecision = RetryDecision::GiveUp {
        outcome_unknown: true,
    };

    #[test]
    fn replayable_uploads_are_resent_after_5xx_resets_and_timeouts() {
        let cfg = cfg();
        let up = |o: AttemptOutcome| decide_replayable_upload(&o, 1, &cfg, &mut Rng::seed(1));
        for f in [
            SendFailure::NotSent,
            SendFailure::MaybeSent,
            SendFailure::TimedOut,
        ] {
            assert_eq!(up(AttemptOutcome::Failed(f)), retry_ms(200), "{f:?}");
        }
        assert_eq!(up(response(K::ServerError, 503, None)), retry_ms(200));
        assert_eq!(
            up(response(K::RateLimited, 429, Some(Duration::from_secs(2)))),
            retry_ms(2000)
        );
        assert_eq!(up(response(K::SpendLimited, 429, None)), GIVE_UP);
        // A streamed upload keeps the non-idempotent rule.
        assert_eq!(
            d(RequestKind::Upload, response(K::ServerError, 503, None), 1),
            UNKNOWN
        );
    }

    #[test]
    fn every_kind_and_outcome() {
        let rate = |s| response(K::RateLimited, 429, s);
        let server = |st, s| response(K::ServerError, st, s);
        for kind in KINDS {
            let idem = !kind.is_non_idempotent();
            let failed = |f| AttemptOutcome::Failed(f);
            assert_eq!(
                d(kind, failed(SendFailure::NotSent), 1),
                retry_ms(200),
                "{kind:?}"
            );
            assert_eq!(
                d(kind, failed(SendFailure::NotSent), 2),
                retry_ms(400),
                "{kind:?}"
            );
            for f in [SendFailure::MaybeSent, SendFailure::TimedOut] {
                let want = if idem { retry_ms(200) } else { UNKNOWN };
                assert_eq!(d(kind, failed(f), 1), want, "{kind:?} {f:?}");
            }
            assert_eq!(
                d(kind, rate(Some(Duration::from_secs(3))), 1),
                retry_ms(3000),
                "{kind:?}"
            );
            assert_eq!(d(kind, rate(None), 3), retry_ms(800), "{kind:?}");
            for st in [500, 502, 503, 504] {
                let want = if idem { retry_ms(200) } else { UNKNOWN };
                assert_eq!(d(kind, server(st, None), 1), want, "{kind:?} {st}");
                let want = if idem { retry_ms(9000) } else { UNKNOWN };
                assert_eq!(d(kind, server(st, Some(Duration::from_secs(9))), 1), want);
            }
            assert_eq!(
                d(kind, AttemptOutcome::Response(Classification::Success), 1),
                GIVE_UP
            );
            // Never retried, even when the server sent a Retry-After.
            let hint = Some(Duration::from_secs(1));
            for (k, status) in [
                (K::SpendLimited, 429),
                (K::NotFound, 404),
                (K::Unauthorized, 401),
                (K::Forbidden, 403),
                (K::Invalid, 400),
                (K::Conflict, 409),
                (K::PayloadTooLarge, 413),
                (K::Redirect, 301),
                (K::Other, 418),
            ] {
                assert_eq!(
                    d(kind, response(k, status, hint), 1),
                    GIVE_UP,
                    "{kind:?} {k:?}"
                );
            }
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let rate = response(K::RateLimited, 429, None);
        for kind in KINDS {
            assert!(matches!(
                d(kind, rate.clone(), 3),
                RetryDecision::Retry { .. }
            ));
            assert_eq!(d(kind, rate.clone(), 4), GIVE_UP);
            assert_eq!(
                d(kind, AttemptOutcome::Failed(SendFailure::NotSent), 4),
                GIVE_UP
            );
            assert_eq!(
                d(kind, AttemptOutcome::Failed(SendFailure::NotSent), 99),
                GIVE_UP
            );
        }
        // Non-idempotent + maybe-sent stays unknown even at the limit.
        assert_eq!(
            d(
                RequestKind::Launch,
                AttemptOutcome::Failed(SendFailure::TimedOut),
                4
            ),
            UNKNOWN
        );
        // max_attempts 0 and 1 both mean: never retry.
        for n in [0, 1] {
            let c = cfg().with_max_attempts(n);
            let got = decide(
                RequestKind::Read,
                &AttemptOutcome::Failed(SendFailure::NotSent),
                1,
                &c,
                &mut Rng::seed(0),
            );
            assert_eq!(got, GIVE_UP);
        }
        // attempt 0 is treated as the first attempt.
        assert_eq!(
            d(
                RequestKind::Read,
                AttemptOutcome::Failed(SendFailure::NotSent),
                0
            ),
            retry_ms(200)
        );
    }

    #[test]
    fn retry_after_hint_is_capped() {
        let c = cfg().with_retry_after(RetryAfterPolicy::with_cap(Duration::from_secs(5)));
        let o = response(K::RateLimited, 429, Some(Duration::from_secs(500)));
        assert_eq!(
            decide(RequestKind::Launch, &o, 1, &c, &mut Rng::seed(0)),
            RetryDecision::Retry {
                after: Duration::from_secs(5)
            }
        );
    }

    #[test]
    fn maybe_received() {
        assert!(!SendFailure::NotSent.maybe_received());
        assert!(SendFailure::MaybeSent.maybe_received());
        assert!(SendFailure::TimedOut.maybe_received());
    }
}
