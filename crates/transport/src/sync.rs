//! A mutex lock that survives poisoning: the state behind these mutexes (a limiter, a budget,
//! a jitter source) stays valid if a holder panicked, and a request must not fail for it.

use std::sync::{Mutex, MutexGuard};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
