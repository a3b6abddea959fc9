//! Change notification across the FFI: the apps implement [`LogbookObserver`] (a foreign
//! trait) and get a [`Subscription`] back; closing or cancelling it stops the calls.
//!
//! Observers are called after a local write committed and after a sync applied remote
//! changes, on the thread that made the change (a tokio worker for a sync). They should
//! return quickly: hand the event to the UI thread and re-read there.

use std::sync::{Arc, Mutex};

use logbook_core::ChangeOrigin;

use crate::error::LogbookError;
use crate::live::Live;

/// Implemented by the apps (Kotlin interface, Swift protocol, Python class).
#[uniffi::export(with_foreign)]
pub trait LogbookObserver: Send + Sync {
    /// `scopes` name what changed: `directory`, `site:<id>`, `timesheet:<person>`,
    /// `review:<person>`, `records:<person>`, `notes:<person>`. An exception thrown here is
    /// logged and otherwise ignored (the change is saved either way).
    fn on_change(&self, origin: ChangeOrigin, scopes: Vec<String>) -> Result<(), LogbookError>;
}

/// Adapts a foreign observer to the core's observer trait.
pub(crate) struct Forward(pub(crate) Arc<dyn LogbookObserver>);

impl logbook_core::LogbookObserver for Forward {
    fn on_change(&self, origin: ChangeOrigin, scopes: Vec<String>) {
        // The change is already committed: an observer that fails (a Kotlin or Python
        // exception arrives as `LogbookError::Internal`) must not turn the caller's
        // successful write or sync into an error, nor keep the other observers from hearing.
        if self.0.on_change(origin, scopes).is_err() {
            tracing::warn!("a change observer failed; the change itself is saved");
        }
    }
}

/// A live subscription. `cancel()` (or closing it) stops its observer.
#[derive(uniffi::Object)]
pub struct Subscription {
    inner: Mutex<Option<logbook_core::Subscription>>,
    _live: Live,
}

impl Subscription {
    pub(crate) fn new(inner: logbook_core::Subscription) -> Subscription {
        Subscription {
            inner: Mutex::new(Some(inner)),
            _live: Live::new(),
        }
    }
}

#[uniffi::export]
impl Subscription {
    /// Stop the notifications. Safe to call more than once.
    pub fn cancel(&self) {
        // Dropping the core subscription removes the observer.
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Whether the observer is still subscribed.
    pub fn is_active(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}
