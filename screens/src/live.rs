//! Subscriptions to a screen's state: a listener hears the current state first, then
//! every change, and stops when its [`ScreenSubscription`] is dropped.
//!
//! A screen keeps its state in a [`Published`]; every change goes through
//! [`Published::update`], which numbers the states. Listeners are called outside every
//! lock (a listener may call back into the screen), and each listener remembers the
//! number it last heard, so a listener never goes back to an older state even when two
//! threads publish at once.
//!
//! Where changes come from: the screen's own actions (a digit typed) and the store. Each
//! screen subscribes to the core's change notification (`Logbook::subscribe`, called
//! after every committed local write and after a sync applied remote changes) and reloads
//! what it shows when it fires.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Hears a screen's states. Implemented by the front ends (through the bindings) and by
/// plain closures in Rust.
pub trait ScreenListener<S>: Send + Sync {
    fn on_state(&self, state: S);
}

impl<S, F: Fn(S) + Send + Sync> ScreenListener<S> for F {
    fn on_state(&self, state: S) {
        self(state)
    }
}

struct Entry<S> {
    id: u64,
    heard: AtomicU64,
    listener: Arc<dyn ScreenListener<S>>,
}

type List<S> = Mutex<Vec<Arc<Entry<S>>>>;

/// A screen's current state and its listeners.
pub(crate) struct Published<S> {
    state: Mutex<(u64, S)>,
    next_id: AtomicU64,
    listeners: Arc<List<S>>,
}

impl<S: Clone + PartialEq + Send + 'static> Published<S> {
    pub(crate) fn new(state: S) -> Published<S> {
        Published {
            state: Mutex::new((1, state)),
            next_id: AtomicU64::new(0),
            listeners: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) fn get(&self) -> S {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// Change the state with `f`; listeners hear it if it changed. Returns what `f` returned.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        let (out, changed) = {
            let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let before = guard.1.clone();
            let out = f(&mut guard.1);
            if guard.1 == before {
                (out, None)
            } else {
                guard.0 += 1;
                (out, Some((guard.0, guard.1.clone())))
            }
        };
        if let Some((version, state)) = changed {
            self.deliver(version, state);
        }
        out
    }

    fn deliver(&self, version: u64, state: S) {
        let targets: Vec<Arc<Entry<S>>> = self
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for t in targets {
            if t.heard.fetch_max(version, Ordering::SeqCst) < version {
                t.listener.on_state(state.clone());
            }
        }
    }

    /// Add a listener: it hears the current state now, then every change.
    pub(crate) fn subscribe(&self, listener: Arc<dyn ScreenListener<S>>) -> ScreenSubscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Entry {
            id,
            heard: AtomicU64::new(0),
            listener,
        });
        // Registered under the state lock, so no change falls between the current state
        // and the first change the listener hears.
        let (version, state) = {
            let guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
            self.listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(entry.clone());
            (guard.0, guard.1.clone())
        };
        if entry.heard.fetch_max(version, Ordering::SeqCst) < version {
            entry.listener.on_state(state);
        }
        let list: Weak<List<S>> = Arc::downgrade(&self.listeners);
        ScreenSubscription {
            cancel: Mutex::new(Some(Box::new(move || {
                if let Some(list) = list.upgrade() {
                    list.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .retain(|e| e.id != id);
                }
            }))),
        }
    }

    #[cfg(test)]
    pub(crate) fn listener_count(&self) -> usize {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

/// A listener's hold on a screen: dropping it (or `cancel`) stops the calls.
pub struct ScreenSubscription {
    cancel: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl ScreenSubscription {
    /// Stop hearing the screen. Safe to call more than once.
    pub fn cancel(&self) {
        let f = self.cancel.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(f) = f {
            f();
        }
    }

    pub fn is_active(&self) -> bool {
        self.cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

impl Drop for ScreenSubscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Subscribe a screen to the core's change notification: `reload` runs after every
/// committed change, as long as the screen (held weakly, so the subscription does not
/// keep it alive) exists.
pub(crate) fn follow_store<T: Send + Sync + 'static>(
    lb: &logbook_core::Logbook,
    screen: &Arc<T>,
    reload: fn(&T, logbook_core::ChangeOrigin, &[String]),
) -> logbook_core::Subscription {
    struct Follow<T> {
        screen: Weak<T>,
        reload: fn(&T, logbook_core::ChangeOrigin, &[String]),
    }
    impl<T: Send + Sync> logbook_core::LogbookObserver for Follow<T> {
        fn on_change(&self, origin: logbook_core::ChangeOrigin, scopes: Vec<String>) {
            if let Some(screen) = self.screen.upgrade() {
                (self.reload)(&screen, origin, &scopes);
            }
        }
    }
    lb.subscribe(Arc::new(Follow {
        screen: Arc::downgrade(screen),
        reload,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_hears_the_current_state_then_changes_until_dropped() {
        let p = Published::new(1u32);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        let sub = p.subscribe(Arc::new(move |s: u32| {
            h.lock().unwrap_or_else(|e| e.into_inner()).push(s)
        }));
        p.update(|s| *s = 2);
        p.update(|s| *s = 2); // no change: nothing heard
        p.update(|s| *s = 3);
        drop(sub);
        p.update(|s| *s = 4);
        assert_eq!(
            *heard.lock().unwrap_or_else(|e| e.into_inner()),
            vec![1, 2, 3]
        );
        assert_eq!(p.listener_count(), 0);
    }
}
