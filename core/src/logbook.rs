//! `Logbook`: one device's logbook, the root that hands out one handle per feature
//! (`directory()`, `timesheets()`, `kiosk()`, `training()`, `cpo()`, `notes()`,
//! `reports()`, `sync()`). Each handle borrows the logbook and holds nothing else, so
//! handles are free to make. The root itself only opens the store and answers for the
//! device as a whole: its identity, its grant, change subscriptions and maintenance.

use std::path::Path;
use std::sync::Arc;

use logbook_protocol::Grant;

use crate::access::Access;
use crate::clock::{Clock, SystemClock};
use crate::cpo::Cpo;
use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::kiosk::Kiosk;
use crate::notes::Notes;
use crate::observer::{ChangeOrigin, LogbookObserver, Subscription};
use crate::reports::Reports;
use crate::retention::Retention;
use crate::store::documents::{self, DocKind};
use crate::store::{Store, StoreKey, cache, chunks};
use crate::sync::SyncClient;
use crate::timesheets::Timesheets;
use crate::training::Training;

/// One device's logbook.
pub struct Logbook {
    pub(crate) store: Store,
}

/// What a rebuild of the cache did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RebuildSummary {
    pub documents: u64,
    pub millis: u64,
}

impl Logbook {
    /// Open the logbook in `home` with its store key, creating an empty store if there is
    /// none. Cheap: reads a few meta rows, loads no document. The store is encrypted at
    /// rest under `key` (a plaintext store from an older version is encrypted in place);
    /// a key that does not open it is [`Error::WrongKey`].
    pub fn open(home: impl AsRef<Path>, key: &StoreKey) -> Result<Logbook> {
        Logbook::open_with_clock(home, key, Arc::new(SystemClock))
    }

    /// Open with a clock of the caller's (tests, replays): everything that depends on
    /// "now" reads it.
    pub fn open_with_clock(
        home: impl AsRef<Path>,
        key: &StoreKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Logbook> {
        let lb = Logbook {
            store: Store::open(home.as_ref(), key, clock)?,
        };
        lb.housekeeping();
        Ok(lb)
    }

    /// What runs by itself, so nobody has to remember it: retention erases what is due
    /// (`retention.rs`), documents with many chunks are compacted (a few per open, the
    /// rest at sync), and a coordinator's device moves payroll numbers out of the
    /// directory (`Directory::move_payroll_numbers`). Each is a few indexed reads when
    /// there is nothing to do. A failure is logged (no personal data) and does not stop
    /// the logbook opening: the next open tries again.
    pub fn housekeeping(&self) {
        if let Err(e) = self.directory().move_payroll_numbers() {
            tracing::warn!(error = %e, "moving payroll numbers out of the directory failed");
        }
        if let Err(e) = self.retention().run() {
            tracing::warn!(error = %e, "retention did not run");
        }
        if let Err(e) = self.store.derive_due() {
            tracing::warn!(error = %e, "deriving the shifts an interrupted pull left did not run");
        }
        if let Err(e) = self.store.compact_due(Store::COMPACT_PER_CALL) {
            tracing::warn!(error = %e, "compaction did not run");
        }
    }

    pub fn home(&self) -> &Path {
        self.store.home()
    }

    // ---------- feature handles ----------

    pub fn directory(&self) -> Directory<'_> {
        Directory::new(self)
    }
    pub fn timesheets(&self) -> Timesheets<'_> {
        Timesheets::new(self)
    }
    pub fn kiosk(&self) -> Kiosk<'_> {
        Kiosk::new(self)
    }
    pub fn training(&self) -> Training<'_> {
        Training::new(self)
    }
    pub fn cpo(&self) -> Cpo<'_> {
        Cpo::new(self)
    }
    pub fn notes(&self) -> Notes<'_> {
        Notes::new(self)
    }
    pub fn reports(&self) -> Reports<'_> {
        Reports::new(self)
    }
    pub fn retention(&self) -> Retention<'_> {
        Retention::new(self)
    }
    pub fn sync(&self) -> SyncClient<'_> {
        SyncClient::new(self)
    }

    // ---------- the device ----------

    /// The grant this device received when it joined a relay (`None` if it never joined:
    /// a standalone logbook may do everything).
    pub fn grant(&self) -> Result<Option<Grant>> {
        Ok(self.store.grant())
    }

    pub(crate) fn access(&self) -> Access {
        Access::new(self.store.grant())
    }

    /// This device's stable key (names its documents).
    pub fn device_key(&self) -> String {
        self.store.device().key
    }

    pub fn set_device_name(&self, name: &str) -> Result<()> {
        let name = validate_device_name(name)?;
        self.store.set_device_name(&name)
    }

    /// Who is acting, for audit trails and note authorship: the person this device is
    /// bound to if any, else the device's name.
    pub(crate) fn actor_label(&self) -> String {
        match self.access().person() {
            Some(p) => p.to_string(),
            None => self.store.device().name,
        }
    }

    /// The time by this logbook's clock (the injected one in tests). The screen models
    /// (crate logbook-screens) read it for idle timers and lockout countdowns, so a test
    /// that sets the clock drives them too.
    pub fn now(&self) -> crate::model::UnixSeconds {
        self.store.now()
    }

    /// The coop's time zone as this device holds it (UTC until the directory arrives):
    /// the screens show clock times ("clocked in at 08:02") in it. A kiosk may read it
    /// even though it may not read the coop's settings.
    pub fn timezone(&self) -> Result<jiff::tz::TimeZone> {
        self.store.read(crate::store::meta::coop_timezone)
    }

    /// Subscribe to change notifications. Dropping the handle stops them.
    pub fn subscribe(&self, observer: Arc<dyn LogbookObserver>) -> Subscription {
        self.store.observers.subscribe(observer)
    }

    // ---------- maintenance ----------

    /// Throw away every cached table and derive it again from the documents.
    pub fn rebuild(&self) -> Result<RebuildSummary> {
        let started = std::time::Instant::now();
        let count = self.store.write(ChangeOrigin::Local, |w| {
            // The cache holds no note text (erasure is what secure_delete is for), so
            // overwriting its freed pages during a rebuild would be wasted writes. The
            // switch happens inside the write lock, so no erasure runs meanwhile, and is
            // turned back on before the lock is released, whatever happens.
            w.tx.pragma_update(None, "secure_delete", false)?;
            let rebuilt = rebuild_cache(w);
            w.tx.pragma_update(None, "secure_delete", true)?;
            rebuilt
        })?;
        Ok(RebuildSummary {
            documents: count as u64,
            millis: started.elapsed().as_millis() as u64,
        })
    }

    /// Every stored chunk with its document id: what a peer needs to catch up without a
    /// relay (tests, backups, tools).
    pub fn export_chunks(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.store.read(chunks::all_chunks)
    }

    /// Merge chunks exported by a peer. Returns how many added something new here.
    pub fn merge_chunks(&self, chunks: &[(String, Vec<u8>)]) -> Result<u32> {
        let mut by_doc: std::collections::BTreeMap<&str, Vec<Vec<u8>>> =
            std::collections::BTreeMap::new();
        for (doc, data) in chunks {
            by_doc.entry(doc.as_str()).or_default().push(data.clone());
        }
        self.store.write(ChangeOrigin::Sync, |w| {
            let mut added = 0;
            for (doc, blobs) in by_doc {
                added += w.merge_remote(doc, &blobs)? as u32;
            }
            Ok(added)
        })
    }

    /// Documents received from the relay that this device set aside because they do not
    /// decode or do not fit their shape (the rest of the sync went on without them).
    pub fn quarantined(&self) -> Result<Vec<crate::store::quarantine::QuarantinedDoc>> {
        self.store.read(crate::store::quarantine::list)
    }

    /// Run SQLite's own integrity check (slow on big stores: on demand only).
    pub fn check_integrity(&self) -> Result<bool> {
        self.store.read(|c| {
            Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))? == "ok")
        })
    }

    /// Erase a document here (chunks, history, cached rows) and, once joined, queue its
    /// erasure for the relay and every other device.
    pub(crate) fn erase_doc(&self, doc_id: &str) -> Result<()> {
        let scope = logbook_protocol::Scope::of_doc(doc_id)
            .map_err(|_| Error::invalid("invalid document id"))?;
        let access = self.access();
        access.require_delete(&scope)?;
        let joined = access.grant().is_some();
        self.store.write(ChangeOrigin::Local, |w| {
            if chunks::last_chunk_id(&w.tx, doc_id)? == 0 {
                return Err(Error::not_found("nothing to erase"));
            }
            w.erase(doc_id)?;
            if joined {
                chunks::queue_delete(&w.tx, doc_id)?;
                // Its key goes too (docs/SECURITY.md, Erasure).
                crate::sync::erasure::after_local_erasure(w, doc_id)?;
            }
            Ok(())
        })?;
        self.store.scrub_wal()
    }
}

/// Clear the cache and project every document again (the directory first: it carries
/// the time zone the derivation needs). Returns how many documents were read.
fn rebuild_cache(w: &mut crate::store::writer::Writer<'_>) -> Result<usize> {
    cache::clear_cache(&w.tx)?;
    let mut doc_ids = chunks::all_docs(&w.tx)?;
    doc_ids.sort_by_key(|d| d != documents::DIRECTORY_DOC);
    for doc_id in &doc_ids {
        let (stored, _) = chunks::doc_chunks(&w.tx, doc_id)?;
        let doc = documents::load(DocKind::of(doc_id)?, &stored)?;
        if let Some(p) = cache::refresh_doc(&w.tx, doc_id, &doc)? {
            w.rederive(&p);
        }
    }
    w.touch("directory");
    Ok(doc_ids.len())
}

pub(crate) fn validate_device_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 80 {
        return Err(Error::invalid("a device name is 1-80 characters"));
    }
    Ok(name.to_string())
}
