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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::Logbook;

    #[derive(Default)]
    struct Count(Mutex<Vec<Vec<String>>>);

    impl LogbookObserver for Count {
        fn on_change(&self, _: ChangeOrigin, scopes: Vec<String>) -> Result<(), LogbookError> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(scopes);
            Ok(())
        }
    }

    struct Fails;

    impl LogbookObserver for Fails {
        fn on_change(&self, _: ChangeOrigin, _: Vec<String>) -> Result<(), LogbookError> {
            Err(LogbookError::Internal {
                reason: "observer bug".into(),
            })
        }
    }

    #[test]
    fn a_cancelled_subscription_hears_nothing_more_and_a_failing_observer_harms_nothing()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let book = Logbook::open_with_key(
            dir.path().to_string_lossy().into_owned(),
            &logbook_core::StoreKey::insecure_test_key(),
        )?;
        book.init_coop("Bakery".into(), "UTC".into())?;
        let count = Arc::new(Count::default());
        let _failing = book.subscribe(Arc::new(Fails));
        let sub = book.subscribe(count.clone());
        book.directory().add_site("Bakery".into())?;
        assert_eq!(count.0.lock().map(|v| v.len()).unwrap_or(0), 1);
        sub.cancel();
        assert!(!sub.is_active());
        book.directory().add_site("Kitchen".into())?;
        assert_eq!(count.0.lock().map(|v| v.len()).unwrap_or(0), 1);
        Ok(())
    }
}
