//! `Logbook`: the root object the apps hold. It opens a store and hands out the
//! sub-objects that mirror the core's features (`timesheets()`, `kiosk()`, `training()`,
//! `cpo()`, `notes()`, `reports()`, `sync()`, `directory()`); each is a cheap handle on
//! the same store.

use std::sync::Arc;

use logbook_core::{CoopInfo, QuarantinedDoc, RebuildSummary};

use crate::directory::Directory;
use crate::error::Result;
use crate::kiosk::Kiosk;
use crate::live::Live;
use crate::notes::Notes;
use crate::observer::{Forward, LogbookObserver, Subscription};
use crate::records::{Cpo, Training};
use crate::reports::Reports;
use crate::sync::{Grant, SyncClient};
use crate::timesheets::Timesheets;

/// The platform's keeper of a store's key (docs/SECURITY.md, "At rest"), implemented by
/// the apps: Android keeps the key wrapped by a key in the Android Keystore
/// (`android/.../KeystoreStoreKeys.kt`), iOS in the Keychain (`ios/.../KeychainStoreKeys.swift`).
/// The store never sees where the key lives, and the key never lies beside the store.
#[uniffi::export(with_foreign)]
pub trait StoreKeyProvider: Send + Sync {
    /// The 32-byte key of the store in `home`: made (randomly) and kept the first time it
    /// is asked for, the same bytes every time after.
    fn store_key(&self, home: String) -> Result<Vec<u8>>;
}

/// One device's logbook: a store in a directory of the app's private storage.
#[derive(uniffi::Object)]
pub struct Logbook {
    pub(crate) core: Arc<logbook_core::Logbook>,
    _live: Live,
}

impl Logbook {
    /// Open with a key the Rust caller holds (benchmarks, tests).
    pub fn open_with_key(home: String, key: &logbook_core::StoreKey) -> Result<Arc<Logbook>> {
        Ok(Arc::new(Logbook {
            core: Arc::new(logbook_core::Logbook::open(home, key)?),
            _live: Live::new(),
        }))
    }

    /// The core logbook, for Rust callers (benchmarks, tests) of this crate.
    pub fn core(&self) -> &Arc<logbook_core::Logbook> {
        &self.core
    }
}

#[uniffi::export]
impl Logbook {
    /// Open the store in `home` (a directory), creating an empty one if there is none,
    /// encrypted at rest under the key `keys` gives for it. A plaintext store from an
    /// older version is encrypted in place; a key that does not open the store is
    /// `LogbookError.WrongKey` (nothing is changed). Cheap: no document is loaded.
    #[uniffi::constructor]
    pub fn open(home: String, keys: Arc<dyn StoreKeyProvider>) -> Result<Arc<Logbook>> {
        let bytes = zeroize::Zeroizing::new(keys.store_key(home.clone())?);
        Logbook::open_with_key(home, &logbook_core::StoreKey::from_bytes(&bytes)?)
    }

    /// Open with a key derived from a passphrase (Argon2id; its salt, not secret, lies in
    /// the store's directory): for a desktop with no platform key store.
    #[uniffi::constructor]
    pub fn open_with_passphrase(home: String, passphrase: String) -> Result<Arc<Logbook>> {
        let passphrase = zeroize::Zeroizing::new(passphrase);
        let key = logbook_core::StoreKey::from_passphrase(&passphrase, home.as_ref())?;
        Logbook::open_with_key(home, &key)
    }

    /// Start a new coop on this device (standalone, or the first coordinator device).
    /// `timezone` is an IANA name such as `Europe/Rome`.
    pub fn init_coop(&self, coop_name: String, timezone: String) -> Result<()> {
        Ok(self.core.directory().init(&coop_name, &timezone)?)
    }

    /// Whether this store holds a coop yet (after `init` or `join`).
    pub fn is_initialised(&self) -> Result<bool> {
        Ok(self.core.directory().is_initialised()?)
    }

    /// The coop as this device knows it: name, time zone, settings.
    pub fn coop(&self) -> Result<CoopInfo> {
        Ok(self.core.directory().coop()?)
    }

    /// Today's date in the coop's time zone, `YYYY-MM-DD`.
    pub fn today(&self) -> Result<String> {
        Ok(self.core.directory().today()?.to_string())
    }

    /// This device's stable key (names its documents).
    pub fn device_key(&self) -> String {
        self.core.device_key()
    }

    pub fn set_device_name(&self, name: String) -> Result<()> {
        Ok(self.core.set_device_name(&name)?)
    }

    /// What this device may do, as granted when it joined (`None`: standalone, may do all).
    pub fn grant(&self) -> Result<Option<Grant>> {
        Ok(self.core.grant()?.map(Grant::from))
    }

    /// Be told about changes. Keep the returned subscription: closing or cancelling it
    /// stops the calls.
    pub fn subscribe(&self, observer: Arc<dyn LogbookObserver>) -> Arc<Subscription> {
        Arc::new(Subscription::new(
            self.core.subscribe(Arc::new(Forward(observer))),
        ))
    }

    /// Throw the cached tables away and derive them again from the documents.
    pub fn rebuild(&self) -> Result<RebuildSummary> {
        Ok(self.core.rebuild()?)
    }

    /// Documents received from the relay and set aside (they do not decode or do not fit
    /// their shape); the rest of the sync went on without them.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedDoc>> {
        Ok(self.core.quarantined()?)
    }

    /// SQLite's integrity check (slow on big stores: on demand only).
    pub fn check_integrity(&self) -> Result<bool> {
        Ok(self.core.check_integrity()?)
    }

    pub fn directory(&self) -> Arc<Directory> {
        Arc::new(Directory::new(self.core.clone()))
    }

    pub fn kiosk(&self) -> Arc<Kiosk> {
        Arc::new(Kiosk::new(self.core.clone()))
    }

    pub fn timesheets(&self) -> Arc<Timesheets> {
        Arc::new(Timesheets::new(self.core.clone()))
    }

    pub fn training(&self) -> Arc<Training> {
        Arc::new(Training::new(self.core.clone()))
    }

    pub fn cpo(&self) -> Arc<Cpo> {
        Arc::new(Cpo::new(self.core.clone()))
    }

    pub fn notes(&self) -> Arc<Notes> {
        Arc::new(Notes::new(self.core.clone()))
    }

    pub fn reports(&self) -> Arc<Reports> {
        Arc::new(Reports::new(self.core.clone()))
    }

    pub fn sync(&self) -> Arc<SyncClient> {
        Arc::new(SyncClient::new(self.core.clone()))
    }
}

/// Declares a sub-object: a handle on the shared core logbook plus its liveness token.
macro_rules! sub_object {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(uniffi::Object)]
        pub struct $name {
            pub(crate) core: std::sync::Arc<logbook_core::Logbook>,
            _live: crate::live::Live,
        }

        impl $name {
            pub(crate) fn new(core: std::sync::Arc<logbook_core::Logbook>) -> $name {
                $name {
                    core,
                    _live: crate::live::Live::new(),
                }
            }
        }
    };
}
pub(crate) use sub_object;
