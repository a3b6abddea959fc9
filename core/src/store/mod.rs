//! The device's store: one SQLite file, one writer at a time, readers in between.
//!
//! - [`schema`]: opening the file, WAL and fsync settings, numbered migrations, moving a
//!   damaged file aside, encrypting a plaintext store.
//! - [`key`]: the store's SQLCipher key and its check.
//! - [`chunks`]: the chunk log and outbox, the truth of every document.
//! - [`meta`]: device identity, relay membership, the coop facts, typed.
//! - [`documents`]: document kinds, ids, genesis, loading.
//! - [`writer`]: one durable write (the only way anything is written).
//! - [`cache`]: routing each document to its feature's projection; clearing for rebuild.
//! - [`quarantine`]: what came from the relay and could not be taken in, kept aside.

pub mod cache;
pub mod chunks;
pub mod documents;
pub mod key;
pub mod meta;
pub mod quarantine;
pub mod schema;
pub(crate) mod writer;

pub use key::StoreKey;
pub use schema::{SCHEMA_VERSION, STORE_FILE};

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::{ActorId, Automerge};
use logbook_protocol::Grant;
use rusqlite::Connection;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::model::UnixSeconds;
use crate::observer::{ChangeOrigin, Observers};
use writer::Writer;

/// Cached documents with the id of the newest chunk they include.
pub(crate) type DocCache = HashMap<String, (i64, Automerge)>;

/// This device: the key that names its documents, its automerge actor, its name.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) key: String,
    pub(crate) actor: ActorId,
    pub(crate) name: String,
}

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    cache: DocCache,
    pub(crate) device: Device,
    /// The grant this device joined with, kept in memory (read on every tap).
    grant: Option<Grant>,
}

/// The store of one device, shared by every feature.
pub(crate) struct Store {
    home: PathBuf,
    inner: Mutex<Inner>,
    pub(crate) observers: Observers,
    clock: Arc<dyn Clock>,
}

impl Store {
    /// Open the store in `home`, creating an empty one if there is none. Cheap: reads a
    /// few meta rows, loads no document.
    pub(crate) fn open(home: &Path, key: &StoreKey, clock: Arc<dyn Clock>) -> Result<Store> {
        let conn = schema::open(home, key)?;
        let device = match (
            meta::get_meta(&conn, "device_key")?,
            meta::get_meta(&conn, "actor")?,
        ) {
            (Some(key), Some(actor)) => Device {
                key,
                actor: ActorId::try_from(actor.as_str())
                    .map_err(|_| Error::Corrupt("bad actor id".into()))?,
                name: meta::get_meta(&conn, "device_name")?.unwrap_or_else(|| "this device".into()),
            },
            _ => {
                let device = Device {
                    key: new_id("d"),
                    actor: ActorId::random(),
                    name: "this device".into(),
                };
                let tx = conn.unchecked_transaction()?;
                meta::set_meta(&tx, "device_key", &device.key)?;
                meta::set_meta(&tx, "actor", &device.actor.to_hex_string())?;
                tx.commit()?;
                device
            }
        };
        let grant = read_grant(&conn)?;
        Ok(Store {
            home: home.to_path_buf(),
            inner: Mutex::new(Inner {
                conn,
                cache: HashMap::new(),
                device,
                grant,
            }),
            observers: Observers::default(),
            clock,
        })
    }

    pub(crate) fn home(&self) -> &Path {
        &self.home
    }

    pub(crate) fn now(&self) -> UnixSeconds {
        self.clock.now()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll
        // back), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` as one durable write, then tell observers what changed. Checks that read
    /// the cache belong inside `f`: they then see exactly what the write will change.
    pub(crate) fn write<T>(
        &self,
        origin: ChangeOrigin,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        let scopes: BTreeSet<String>;
        let out;
        {
            let mut guard = self.lock();
            let Inner {
                conn,
                cache,
                device,
                grant,
            } = &mut *guard;
            let tx = schema::write_tx(conn)?;
            let mut w = Writer::new(tx, cache, device, now);
            out = f(&mut w)?;
            scopes = w.finish()?;
            if scopes.contains(MEMBERSHIP) {
                // The grant may have changed with this write: refresh the memory copy.
                *grant = read_grant(conn)?;
            }
            if scopes.contains(ACTOR)
                && let Some(hex) = meta::get_meta(conn, "actor")?
            {
                device.actor = ActorId::try_from(hex.as_str())
                    .map_err(|_| Error::Corrupt("bad actor id".into()))?;
            }
        }
        if !scopes.is_empty() {
            self.observers.notify(origin, scopes.into_iter().collect());
        }
        Ok(out)
    }

    /// Read from the cache tables.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let guard = self.lock();
        f(&guard.conn)
    }

    /// Read one document (hydrated by `f`), from the in-memory cache or its chunks.
    pub(crate) fn read_doc<T>(
        &self,
        doc_id: &str,
        f: impl FnOnce(&Automerge) -> Result<T>,
    ) -> Result<T> {
        let mut g = self.lock();
        let Inner { conn, cache, .. } = &mut *g;
        let (last, doc) = writer::load_doc(conn, cache, doc_id)?;
        let out = f(&doc);
        writer::put_back(cache, doc_id.to_string(), (last, doc));
        out
    }

    /// The grant this device joined with (`None`: never joined, standalone).
    pub(crate) fn grant(&self) -> Option<Grant> {
        self.lock().grant.clone()
    }

    pub(crate) fn device(&self) -> Device {
        self.lock().device.clone()
    }

    pub(crate) fn set_device_name(&self, name: &str) -> Result<()> {
        self.write(ChangeOrigin::Local, |w| {
            w.set_meta("device_name", name)?;
            w.touch(DEVICE);
            Ok(())
        })?;
        self.lock().device.name = name.to_string();
        Ok(())
    }

    /// After an erasure, move the WAL into the (secure-deleted) database file and empty
    /// it, so the erased bytes do not linger in old WAL frames. The erasure itself has
    /// committed; a checkpoint another process's reader blocks is logged (no personal
    /// data) and happens at the next erasure or sync.
    pub(crate) fn scrub_wal(&self) -> Result<()> {
        self.read(|c| {
            let busy: i64 = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                tracing::warn!("WAL checkpoint after an erasure was blocked by a reader");
            }
            Ok(())
        })
    }
}

/// Observers hear this name when the device's relay membership changed.
pub(crate) const MEMBERSHIP: &str = "device:membership";
/// A write that gave this device a new automerge actor (see `Writer::new_actor`).
pub(crate) const ACTOR: &str = "device:actor";
/// Observers hear this name when other device state changed (name, sync status).
pub(crate) const DEVICE: &str = "device";

fn read_grant(conn: &Connection) -> Result<Option<Grant>> {
    meta::get_meta(conn, "grant")?
        .map(|g| serde_json::from_str(&g).map_err(|_| Error::Corrupt("unreadable grant".into())))
        .transpose()
}
