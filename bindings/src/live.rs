//! A count of the native objects the foreign side currently holds.
//!
//! Every exported object carries a [`Live`] token; the count goes up when Rust hands an
//! object out and down when the foreign side closes it (or its cleaner runs). Tests call
//! [`live_native_objects`] to prove that a loop of calls with objects closed leaks nothing.

use std::sync::atomic::{AtomicI64, Ordering};

static LIVE: AtomicI64 = AtomicI64::new(0);

/// Held by every exported object; counts it while it lives.
#[derive(Debug)]
pub(crate) struct Live(());

impl Live {
    pub(crate) fn new() -> Live {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Live(())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many objects of this library the foreign side holds right now (all stores).
#[uniffi::export]
pub fn live_native_objects() -> i64 {
    LIVE.load(Ordering::Relaxed)
}
