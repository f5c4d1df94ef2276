use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use nomic_agent_core::policy::gcra::{TierLimiter, TierLimits};

use crate::sync::lock;

/// A limiter shared by every transport with the same origin and key.
pub(crate) type SharedLimiter = Arc<Mutex<TierLimiter>>;

type Registry = Mutex<HashMap<(String, u64), Weak<Mutex<TierLimiter>>>>;

/// The process-wide limiter for `(origin, key fingerprint)`; created with `limits` if none is
/// alive. The server's buckets are per user and tier, so two clients built separately for the
/// same key must draw from one limiter, or together they would send twice the rate.
pub(crate) fn shared_limiter(
    origin: &str,
    key_fingerprint: u64,
    limits: TierLimits,
) -> SharedLimiter {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let mut map = lock(REGISTRY.get_or_init(Default::default));
    // Drop entries whose transports are all gone, so the map does not grow without bound.
    map.retain(|_, w| w.strong_count() > 0);
    let key = (origin.to_owned(), key_fingerprint);
    if let Some(existing) = map.get(&key).and_then(Weak::upgrade) {
        return existing;
    }
    let limiter = Arc::new(Mutex::new(TierLimiter::new(limits)));
    map.insert(key, Arc::downgrade(&limiter));
    limiter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_and_key_share() {
        let l = TierLimits::default();
        let a = shared_limiter("https://x.test:443", 1, l);
        let b = shared_limiter("https://x.test:443", 1, l);
        let c = shared_limiter("https://x.test:443", 2, l);
        let d = shared_limiter("https://y.test:443", 1, l);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(!Arc::ptr_eq(&a, &d));
    }
}
