//! Thread claims: a [`Session`](crate::Session) claims a thread in its store before it launches
//! or follows up, so two processes sharing a store never run two turns (or create two agents)
//! for one thread at once.
//!
//! A claim names its [`ClaimOwner`] and a lease expiry (Unix milliseconds on the local clock,
//! which every process on one machine shares). The holder renews it while its turn runs and
//! releases it after. Another owner may take it over once the lease ran out or the owner is
//! [gone](ClaimOwner::is_gone) (SIGKILLed, crashed).

mod owner;

use std::time::Duration;

use serde_json::{Value, json};

pub use owner::ClaimOwner;

use crate::Error;

/// The answer of [`SessionStore::claim`](crate::SessionStore::claim).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The caller holds the thread until `expires_at_ms` (Unix milliseconds, local clock);
    /// claiming again renews the lease.
    Acquired {
        /// When the lease runs out unless renewed.
        expires_at_ms: i64,
        /// True when the caller held the claim already (a renewal).
        renewed: bool,
        /// The owner whose claim lapsed (lease over, or process gone) and was taken over.
        took_over: Option<ClaimOwner>,
    },
    /// Another owner holds the thread, and its lease has not run out.
    Held {
        /// Who holds it.
        owner: ClaimOwner,
        /// When its lease runs out unless renewed.
        expires_at_ms: i64,
    },
    /// The store keeps no claims (the trait's default): nothing stops two processes from
    /// working on one thread at once.
    Unsupported,
}

/// A claim as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimRecord {
    pub(crate) owner: ClaimOwner,
    pub(crate) expires_at_ms: i64,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Decides a claim by `me` at `now_ms` against the stored `current` one. Returns the answer
/// and, when the claim is granted, the record to store in its place. `gone` tells whether an
/// owner no longer runs ([`ClaimOwner::is_gone`]; injected for tests).
pub(crate) fn decide(
    current: Option<&ClaimRecord>,
    me: &ClaimOwner,
    lease: Duration,
    now_ms: i64,
    gone: impl Fn(&ClaimOwner) -> bool,
) -> (Claim, Option<ClaimRecord>) {
    let renewed = current.is_some_and(|c| c.owner == *me);
    let took_over = match current {
        None => None,
        Some(_) if renewed => None,
        Some(c) if now_ms >= c.expires_at_ms || gone(&c.owner) => Some(c.owner.clone()),
        Some(c) => {
            return (
                Claim::Held {
                    owner: c.owner.clone(),
                    expires_at_ms: c.expires_at_ms,
                },
                None,
            );
        }
    };
    let expires_at_ms = now_ms.saturating_add(millis(lease));
    (
        Claim::Acquired {
            expires_at_ms,
            renewed,
            took_over,
        },
        Some(ClaimRecord {
            owner: me.clone(),
            expires_at_ms,
        }),
    )
}

/// True when `current` must be left alone by a claim of `me` at `now_ms`: another owner
/// holds it with a running lease and is not known to be gone. Lets a store answer "held"
/// from a plain read, without taking its write lock.
pub(crate) fn held_by_other(
    current: Option<&ClaimRecord>,
    me: &ClaimOwner,
    now_ms: i64,
    gone: impl Fn(&ClaimOwner) -> bool,
) -> Option<Claim> {
    match decide(current, me, Duration::ZERO, now_ms, gone) {
        (held @ Claim::Held { .. }, _) => Some(held),
        _ => None,
    }
}

impl ClaimRecord {
    pub(crate) fn to_json_value(&self) -> Value {
        let mut v = self.owner.to_json_value();
        if let Value::Object(m) = &mut v {
            m.insert("expiresAtMs".into(), json!(self.expires_at_ms));
        }
        v
    }

    pub(crate) fn from_json_value(v: &Value) -> Result<ClaimRecord, Error> {
        let owner = ClaimOwner::from_json_value(v)?;
        let expires_at_ms = v
            .get("expiresAtMs")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::Store {
                message: "a claim has a missing or invalid `expiresAtMs`".into(),
            })?;
        Ok(ClaimRecord {
            owner,
            expires_at_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_millis(500);

    fn alive(_: &ClaimOwner) -> bool {
        false
    }

    fn rec(owner: &ClaimOwner, expires_at_ms: i64) -> ClaimRecord {
        ClaimRecord {
            owner: owner.clone(),
            expires_at_ms,
        }
    }

    #[test]
    fn a_free_thread_is_granted_with_a_lease_from_now() {
        let me = ClaimOwner::new();
        let (c, next) = decide(None, &me, LEASE, 1_000, alive);
        assert_eq!(
            c,
            Claim::Acquired {
                expires_at_ms: 1_500,
                renewed: false,
                took_over: None
            }
        );
        assert_eq!(next, Some(rec(&me, 1_500)));
    }

    #[test]
    fn the_holder_renews_and_others_wait_until_the_lease_ends() {
        let (a, b) = (ClaimOwner::new(), ClaimOwner::new());
        let held = rec(&a, 1_500);
        // The holder renews, even after its lease ran out (nobody took it meanwhile).
        let (c, next) = decide(Some(&held), &a, LEASE, 1_400, alive);
        assert!(matches!(
            c,
            Claim::Acquired {
                renewed: true,
                took_over: None,
                ..
            }
        ));
        assert_eq!(next, Some(rec(&a, 1_900)));
        assert_eq!(
            decide(Some(&held), &a, LEASE, 9_000, alive).1,
            Some(rec(&a, 9_500))
        );
        // Another owner is refused while the lease runs, up to its last millisecond.
        for now in [0, 1_000, 1_499] {
            let (c, next) = decide(Some(&held), &b, LEASE, now, alive);
            assert_eq!(
                c,
                Claim::Held {
                    owner: a.clone(),
                    expires_at_ms: 1_500
                },
                "at {now}"
            );
            assert_eq!(next, None);
            assert!(held_by_other(Some(&held), &b, now, alive).is_some());
        }
        // From the expiry on it is taken over.
        let (c, next) = decide(Some(&held), &b, LEASE, 1_500, alive);
        assert_eq!(
            c,
            Claim::Acquired {
                expires_at_ms: 2_000,
                renewed: false,
                took_over: Some(a.clone())
            }
        );
        assert_eq!(next, Some(rec(&b, 2_000)));
        assert!(held_by_other(Some(&held), &b, 1_500, alive).is_none());
        assert!(held_by_other(Some(&held), &a, 0, alive).is_none());
        assert!(held_by_other(None, &a, 0, alive).is_none());
    }

    #[test]
    fn a_gone_owner_is_taken_over_before_its_lease_ends() {
        let (a, b) = (ClaimOwner::new(), ClaimOwner::new());
        let held = rec(&a, 10_000);
        let a_is_gone = |o: &ClaimOwner| *o == a;
        let (c, _) = decide(Some(&held), &b, LEASE, 1_000, a_is_gone);
        assert_eq!(
            c,
            Claim::Acquired {
                expires_at_ms: 1_500,
                renewed: false,
                took_over: Some(a.clone())
            }
        );
        // Only the holder's liveness matters.
        let b_is_gone = |o: &ClaimOwner| *o == b;
        assert!(matches!(
            decide(Some(&held), &b, LEASE, 1_000, b_is_gone).0,
            Claim::Held { .. }
        ));
    }

    #[test]
    fn records_round_trip_and_reject_garbage() {
        let r = rec(&ClaimOwner::new(), 1_234);
        let v = r.to_json_value();
        assert_eq!(v["expiresAtMs"], json!(1_234));
        assert_eq!(ClaimRecord::from_json_value(&v).unwrap(), r);
        let mut v2 = v.clone();
        v2.as_object_mut().unwrap().remove("expiresAtMs");
        assert!(matches!(
            ClaimRecord::from_json_value(&v2),
            Err(Error::Store { .. })
        ));
        assert!(ClaimRecord::from_json_value(&json!("x")).is_err());
    }
}
