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
pub(crate) mod prepared;
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

    /// How many documents one sync or open compacts at most (`compact_due`).
    pub(crate) const COMPACT_PER_CALL: usize = 32;

    /// Compact up to `limit` of the documents marked due (more than 64 chunks, see
    /// `Writer::compact`), each in a write of its own, so a tap waiting for the store
    /// waits for one document at most. Returns how many were compacted. Runs at sync
    /// time and when the logbook opens, never inside a tap.
    pub(crate) fn compact_due(&self, limit: usize) -> Result<usize> {
        let due = self.read(|c| chunks::compaction_due(c, limit))?;
        let mut compacted = 0;
        for doc in due {
            match self.write(ChangeOrigin::Local, |w| w.compact(&doc)) {
                Ok(true) => compacted += 1,
                Ok(false) => {}
                Err(e) => {
                    // Not the id: it names a person. The mark goes, so a document that
                    // cannot be compacted is not tried on every sync; its next write
                    // past the threshold marks it again.
                    tracing::warn!(error = %e, "a document could not be compacted");
                    self.write(ChangeOrigin::Local, |w| {
                        chunks::clear_compaction_due(&w.tx, &doc)
                    })?;
                }
            }
        }
        Ok(compacted)
    }

    /// Derive the shifts of everyone a pull marked (`Writer::defer_derivation`), in one
    /// write, and tell observers their timesheets changed. A no-op (one indexed read)
    /// when nobody is marked; marks left by an interrupted pull are taken at the next
    /// sync or open.
    pub(crate) fn derive_due(&self) -> Result<usize> {
        let due = self.read(|c| meta::marked(c, writer::DERIVE_DUE, usize::MAX >> 1))?;
        if due.is_empty() {
            return Ok(0);
        }
        self.write(ChangeOrigin::Sync, |w| {
            // Read again inside the write: another process may have taken them.
            let due = meta::marked(&w.tx, writer::DERIVE_DUE, usize::MAX >> 1)?;
            for person in &due {
                meta::unmark(&w.tx, writer::DERIVE_DUE, person)?;
                w.rederive(person);
                w.touch(&logbook_protocol::Scope::Timesheet(person.clone()).to_string());
            }
            Ok(due.len())
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Logbook;
    use crate::clock::ManualClock;
    use crate::model::PunchKind;

    const T0: i64 = 1_793_610_000; // 2026-11-02 09:00 UTC

    fn count(lb: &Logbook, doc: &str) -> i64 {
        lb.store.read(|c| chunks::chunk_count(c, doc)).unwrap()
    }

    fn outbox(lb: &Logbook, doc: &str) -> Vec<Vec<u8>> {
        lb.store
            .read(|c| {
                let mut stmt = c.prepare("SELECT data FROM outbox WHERE doc = ?1 ORDER BY id")?;
                let rows = stmt.query_map([doc], |r| r.get(0))?;
                Ok(rows.collect::<std::result::Result<Vec<Vec<u8>>, _>>()?)
            })
            .unwrap()
    }

    /// A logbook with one person who has tapped `taps` times (clock-in and out in
    /// turn, a minute apart), checking after every tap that it only added a chunk.
    /// Returns the logbook, its clock's directory, the person and the punch document.
    fn tapped(taps: usize) -> (Logbook, tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at(T0);
        let lb =
            Logbook::open_with_clock(dir.path(), &StoreKey::insecure_test_key(), clock.clone())
                .unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let p = lb.directory().add_person("Ann", &[], &[], false).unwrap();
        let mut doc = None;
        let mut before = 0;
        for i in 0..taps {
            let kind = if i % 2 == 0 {
                PunchKind::ClockIn
            } else {
                PunchKind::ClockOut
            };
            lb.timesheets().tap(&p, kind, None).unwrap();
            clock.advance(60);
            let doc = doc.get_or_insert_with(|| {
                lb.store
                    .read(|c| {
                        Ok(c.query_row(
                            "SELECT doc FROM chunks WHERE doc LIKE 'timesheet:%' LIMIT 1",
                            [],
                            |r| r.get::<_, String>(0),
                        )?)
                    })
                    .unwrap()
            });
            let after = count(&lb, doc);
            assert_eq!(after, before + 1, "tap {i} only appended its change");
            before = after;
        }
        (lb, dir, p, doc.unwrap())
    }

    #[test]
    fn taps_never_compact_and_the_next_maintenance_does_without_changing_anything() {
        let (lb, _dir, p, doc) = tapped(100);
        assert_eq!(count(&lb, &doc), 100);
        let due = lb.store.read(|c| chunks::compaction_due(c, 10)).unwrap();
        assert_eq!(due, vec![doc.clone()]);
        let punches = lb.timesheets().punches(&p).unwrap();
        let shifts = lb.timesheets().shifts(&p, None, None).unwrap();
        let heads = lb.store.read_doc(&doc, |d| Ok(d.get_heads())).unwrap();
        let queued = outbox(&lb, &doc);
        assert_eq!(queued.len(), 100);

        lb.housekeeping();
        assert_eq!(count(&lb, &doc), 1, "one snapshot");
        assert!(
            lb.store
                .read(|c| chunks::compaction_due(c, 10))
                .unwrap()
                .is_empty()
        );
        // Same content, from the cache and from disk.
        assert_eq!(lb.timesheets().punches(&p).unwrap(), punches);
        assert_eq!(lb.timesheets().shifts(&p, None, None).unwrap(), shifts);
        assert_eq!(
            lb.store.read_doc(&doc, |d| Ok(d.get_heads())).unwrap(),
            heads
        );
        lb.store.lock().cache.clear();
        assert_eq!(
            lb.store.read_doc(&doc, |d| Ok(d.get_heads())).unwrap(),
            heads
        );
        lb.rebuild().unwrap();
        assert_eq!(lb.timesheets().shifts(&p, None, None).unwrap(), shifts);
        // The relay still gets the very changes it would have got (same content ids,
        // so what it already holds is recognised as such).
        assert_eq!(outbox(&lb, &doc), queued);
        // Nothing left to do: a second run compacts nothing.
        assert_eq!(lb.store.compact_due(Store::COMPACT_PER_CALL).unwrap(), 0);

        // Taps after it append to the snapshot; the next crossing marks it again.
        lb.timesheets().tap(&p, PunchKind::ClockIn, None).unwrap();
        assert_eq!(count(&lb, &doc), 2);
    }

    #[test]
    fn a_document_erased_while_due_is_not_compacted_and_its_mark_goes_with_it() {
        let (lb, _dir, _p, doc) = tapped(70);
        assert_eq!(
            lb.store.read(|c| chunks::compaction_due(c, 10)).unwrap(),
            vec![doc.clone()]
        );
        lb.erase_doc(&doc).unwrap();
        assert!(
            lb.store
                .read(|c| chunks::compaction_due(c, 10))
                .unwrap()
                .is_empty(),
            "no mark names the erased document"
        );
        assert_eq!(lb.store.compact_due(Store::COMPACT_PER_CALL).unwrap(), 0);
        assert_eq!(count(&lb, &doc), 0);
        let named: i64 = lb
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM meta WHERE instr(key, ?1) > 0",
                    [&doc],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(named, 0);
    }

    #[test]
    fn one_call_compacts_at_most_its_limit() {
        let (lb, _dir, _p, doc) = tapped(66);
        // Two more documents due (marks only: the compaction itself checks the count).
        lb.store
            .write(ChangeOrigin::Local, |w| {
                chunks::mark_compaction_due(&w.tx, "timesheet:zz/2026-11/d-1")?;
                chunks::mark_compaction_due(&w.tx, "timesheet:zz/2026-11/d-2")
            })
            .unwrap();
        assert_eq!(
            lb.store
                .read(|c| chunks::compaction_due(c, 10))
                .unwrap()
                .len(),
            3
        );
        // Person ids sort before "zz": the real document comes first.
        assert_eq!(lb.store.compact_due(1).unwrap(), 1);
        assert_eq!(count(&lb, &doc), 1);
        assert_eq!(
            lb.store
                .read(|c| chunks::compaction_due(c, 10))
                .unwrap()
                .len(),
            2,
            "the other two wait for the next call"
        );
        // Documents without chunks enough are not compacted, but no longer due.
        assert_eq!(lb.store.compact_due(5).unwrap(), 0);
        assert!(
            lb.store
                .read(|c| chunks::compaction_due(c, 10))
                .unwrap()
                .is_empty()
        );
        assert_eq!(count(&lb, &doc), 1);
    }

    #[test]
    fn a_pull_defers_derivation_to_derive_due_and_an_interrupted_one_finishes_at_open() {
        let (src, _src_dir, p, _doc) = tapped(6);
        let shifts = src.timesheets().shifts(&p, None, None).unwrap();
        assert_eq!(shifts.len(), 3);
        let mut by_doc: std::collections::BTreeMap<String, Vec<Vec<u8>>> = Default::default();
        for (doc, data) in src.export_chunks().unwrap() {
            by_doc.entry(doc).or_default().push(data);
        }

        let dir = tempfile::tempdir().unwrap();
        let open = || {
            Logbook::open_with_clock(
                dir.path(),
                &StoreKey::insecure_test_key(),
                ManualClock::at(T0),
            )
            .unwrap()
        };
        let lb = open();
        // As a pull's page does it.
        lb.store
            .write(ChangeOrigin::Sync, |w| {
                w.defer_derivation();
                for (doc, blobs) in &by_doc {
                    w.merge_remote(doc, blobs)?;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(lb.timesheets().punches(&p).unwrap().len(), 6);
        assert!(lb.timesheets().shifts(&p, None, None).unwrap().is_empty());
        let due = |lb: &Logbook| {
            lb.store
                .read(|c| meta::marked(c, writer::DERIVE_DUE, 10))
                .unwrap()
        };
        assert_eq!(due(&lb), vec![p.clone()]);
        // The pull was cut before its end: the next open derives what it left.
        drop(lb);
        let lb = open();
        assert!(due(&lb).is_empty());
        assert_eq!(lb.timesheets().shifts(&p, None, None).unwrap(), shifts);
        assert_eq!(lb.store.derive_due().unwrap(), 0, "nothing left");
    }
}
