//! Change notification: observers hear which scopes changed after a local write and
//! after a sync applied remote changes. Subscribing returns a handle; dropping it (or
//! calling `cancel`) stops the notifications.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ChangeOrigin {
    Local,
    Sync,
}

/// Implemented by the apps (a foreign trait through the bindings).
pub trait LogbookObserver: Send + Sync {
    /// `scopes` are the changed scopes, e.g. `timesheet:p-…`, `directory`, or a name
    /// for device state that is not a document: `device` (sync status, name, pending
    /// changes), `device:membership` (joined or left a relay), `kiosk:lockouts` (PIN
    /// tries), `consent:p-…` (this device's copy of a person's consent).
    fn on_change(&self, origin: ChangeOrigin, scopes: Vec<String>);
}

type Registry = Mutex<Vec<(u64, Arc<dyn LogbookObserver>)>>;

#[derive(Default)]
pub struct Observers {
    next: AtomicU64,
    list: Arc<Registry>,
}

impl Observers {
    pub fn subscribe(&self, observer: Arc<dyn LogbookObserver>) -> Subscription {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, observer));
        Subscription {
            id,
            list: Arc::downgrade(&self.list),
        }
    }

    pub fn notify(&self, origin: ChangeOrigin, scopes: Vec<String>) {
        // Call outside the lock so an observer may subscribe or cancel from its callback.
        let targets: Vec<Arc<dyn LogbookObserver>> = self
            .list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, o)| o.clone())
            .collect();
        for o in targets {
            o.on_change(origin, scopes.clone());
        }
    }

    pub fn len(&self) -> usize {
        self.list.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Stops its observer when cancelled or dropped.
pub struct Subscription {
    id: u64,
    list: std::sync::Weak<Registry>,
}

impl Subscription {
    pub fn cancel(&self) {
        if let Some(list) = self.list.upgrade() {
            list.lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(id, _)| *id != self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}
