//! The writer: one durable write in progress. It holds one IMMEDIATE SQLite transaction,
//! applies automerge changes to documents, appends them to the chunk log and the outbox,
//! refreshes the cached rows they feed, and re-derives the shifts they touch. Nothing is
//! visible (to the in-memory document cache or to observers) until it commits.

use std::collections::{BTreeSet, HashMap};

use automerge::{Automerge, transaction::CommitOptions};
use logbook_protocol::Scope;
use rusqlite::Connection;

use super::documents::{self, DocKind};
use super::prepared::{self, Prepared};
use super::quarantine::{self, Reason};
use super::{Device, DocCache, cache, chunks, meta};
use crate::error::{Error, Result};
use crate::model::UnixSeconds;
use crate::timesheets;

/// Compact a document's chunks into one snapshot once it has more than this many.
const COMPACT_AFTER_CHUNKS: i64 = 64;

/// A write in progress: one SQLite transaction plus the documents it changed.
pub(crate) struct Writer<'a> {
    pub(crate) tx: rusqlite::Transaction<'a>,
    cache: &'a mut DocCache,
    device: &'a Device,
    /// The time this write is stamped with (the logbook's clock, read once).
    pub(crate) now: UnixSeconds,
    pending: HashMap<String, (i64, Automerge)>,
    rederive: BTreeSet<(String, Option<(i64, String)>)>,
    /// Leave the shifts to [`super::Store::derive_due`]: mark the people instead.
    defer_derivation: bool,
    scopes: BTreeSet<String>,
}

/// Prefix of the `meta` rows naming people whose shifts a pull left to derive
/// ([`Writer::defer_derivation`]).
pub(super) const DERIVE_DUE: &str = "derive_due:";

impl<'a> Writer<'a> {
    pub(super) fn new(
        tx: rusqlite::Transaction<'a>,
        cache: &'a mut DocCache,
        device: &'a Device,
        now: UnixSeconds,
    ) -> Writer<'a> {
        Writer {
            tx,
            cache,
            device,
            now,
            pending: HashMap::new(),
            rederive: BTreeSet::new(),
            defer_derivation: false,
            scopes: BTreeSet::new(),
        }
    }

    /// The key that names this device's documents.
    pub(crate) fn device_key(&self) -> &str {
        &self.device.key
    }

    /// The document as stored (or its genesis if new), from this write, the cache or disk.
    pub(crate) fn load(&mut self, doc_id: &str) -> Result<Automerge> {
        if let Some((_, doc)) = self.pending.get(doc_id) {
            return Ok(doc.clone());
        }
        Ok(load_doc(&self.tx, self.cache, doc_id)?.1)
    }

    /// Apply `f` as one automerge change to `doc_id`, store and queue it, refresh the cache.
    pub(crate) fn change<F>(&mut self, doc_id: &str, f: F) -> Result<()>
    where
        F: FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<()>,
    {
        let (last, doc) = self.apply_change(doc_id, f)?;
        self.after_change(doc_id, last, doc)
    }

    /// [`Self::change`] for a change whose cached rows `project` writes itself (a tap adds
    /// one punch row) instead of projecting the whole document again. `project` returns
    /// the person whose shifts the change touches, as [`cache::refresh_doc`] does.
    pub(crate) fn change_projected<F, P>(&mut self, doc_id: &str, f: F, project: P) -> Result<()>
    where
        F: FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<()>,
        P: FnOnce(&Connection) -> Result<Option<String>>,
    {
        let (last, doc) = self.apply_change(doc_id, f)?;
        let person = project(&self.tx)?;
        self.record(doc_id, last, Some(doc), person);
        Ok(())
    }

    /// One local change stored as a chunk and queued for the relay; returns the newest
    /// chunk's id and the document.
    fn apply_change<F>(&mut self, doc_id: &str, f: F) -> Result<(i64, Automerge)>
    where
        F: FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<()>,
    {
        DocKind::of(doc_id)?;
        let mut doc = self.load(doc_id)?;
        let existed =
            chunks::last_chunk_id(&self.tx, doc_id)? > 0 || self.pending.contains_key(doc_id);
        let heads = doc.get_heads();
        doc.set_actor(self.device.actor.clone());
        let mut t = doc.transaction();
        f(&mut t)?;
        t.commit_with(CommitOptions::default().with_time(self.now));
        let bytes = if existed {
            doc.save_after(&heads)
        } else {
            doc.save()
        };
        let last = chunks::append_chunk(&self.tx, doc_id, &bytes, true)?;
        if chunks::chunk_count(&self.tx, doc_id)? > COMPACT_AFTER_CHUNKS {
            // Compacting saves the whole document: not on a tap. Only mark it; it is
            // compacted at the next sync or open (`Store::compact_due`).
            chunks::mark_compaction_due(&self.tx, doc_id)?;
        }
        Ok((last, doc))
    }

    /// Replace a document's chunks with one snapshot of it, if it still has more than
    /// [`COMPACT_AFTER_CHUNKS`] and depends on nothing missing; either way it is no longer
    /// due. Its content, cached rows and outbox are untouched (the relay still gets the
    /// original changes, so its idempotency is unchanged). Returns whether it compacted.
    pub(crate) fn compact(&mut self, doc_id: &str) -> Result<bool> {
        chunks::clear_compaction_due(&self.tx, doc_id)?;
        if DocKind::of(doc_id).is_err()
            || chunks::chunk_count(&self.tx, doc_id)? <= COMPACT_AFTER_CHUNKS
        {
            return Ok(false);
        }
        let doc = self.load(doc_id)?;
        if !automerge::ReadDoc::get_missing_deps(&doc, &[]).is_empty() {
            return Ok(false);
        }
        let last = chunks::replace_with_snapshot(&self.tx, doc_id, &doc.save())?;
        // Same content: nothing to re-derive or tell observers, only the cache's chunk id.
        self.pending.insert(doc_id.to_string(), (last, doc));
        Ok(true)
    }

    /// Merge chunks that arrived from the relay. Returns how many added something new.
    ///
    /// A blob that does not decode, or a document that no longer fits its shape once it
    /// is merged, is set aside in `quarantine` with a reason (nothing of it reaches the
    /// chunks or the cache) and the rest goes on: one bad document from a broken or
    /// hostile device must not stop a device's sync.
    pub(crate) fn merge_remote(&mut self, doc_id: &str, blobs: &[Vec<u8>]) -> Result<usize> {
        if chunks::was_erased(&self.tx, doc_id)? {
            // Erased here: whatever still arrives for it (an echo of a push that was in
            // flight when it was erased, a peer that has not heard yet) is dropped.
            return Ok(0);
        }
        let prepared = if self.holds(doc_id)? {
            let mut doc = self.load(doc_id)?;
            let (accepted, undecodable) = prepared::load_blobs(&mut doc, blobs, || {
                // Rebuilt from what this device holds, then the blobs accepted so far.
                self.load(doc_id)
            })?;
            Prepared::new(doc_id, doc, accepted, undecodable, false)?
        } else {
            prepared::prepare_new(doc_id, blobs)?
        };
        self.merge_prepared(doc_id, blobs, prepared)
    }

    /// Whether this device holds `doc_id` (stored chunks, or written in this transaction).
    pub(crate) fn holds(&self, doc_id: &str) -> Result<bool> {
        Ok(self.pending.contains_key(doc_id) || chunks::last_chunk_id(&self.tx, doc_id)? > 0)
    }

    /// Store what [`prepared::prepare_new`] built from `blobs` off the write lock (a new
    /// device's first pull prepares a page's new documents in parallel), or what
    /// [`Self::merge_remote`] built. A document erased, or received, since it was
    /// prepared as new is merged afresh instead.
    pub(crate) fn merge_prepared(
        &mut self,
        doc_id: &str,
        blobs: &[Vec<u8>],
        prepared: Prepared,
    ) -> Result<usize> {
        if prepared.new && (chunks::was_erased(&self.tx, doc_id)? || self.holds(doc_id)?) {
            return self.merge_remote(doc_id, blobs);
        }
        let kind = DocKind::of(doc_id)?;
        for &i in &prepared.undecodable {
            quarantine::set_aside(&self.tx, doc_id, &blobs[i], Reason::Undecodable, self.now)?;
            self.touch(quarantine::SCOPE);
        }
        if prepared.accepted.is_empty() {
            return Ok(0);
        }
        // The shape check is the feature's own cache projection (worked out with the
        // document, before the write): a document its feature cannot read is set aside
        // whole, and the savepoint undoes any rows it wrote.
        self.tx.execute_batch("SAVEPOINT project")?;
        let person = match prepared.projection.and_then(|p| match &prepared.doc {
            Some(doc) => cache::refresh_doc_projected(&self.tx, doc_id, doc, p),
            None => cache::write_projection(&self.tx, doc_id, p),
        }) {
            Ok(person) => {
                self.tx.execute_batch("RELEASE project")?;
                person
            }
            Err(Error::Hydrate(_) | Error::Automerge(_) | Error::Corrupt(_)) => {
                self.tx
                    .execute_batch("ROLLBACK TO project; RELEASE project")?;
                for &i in &prepared.accepted {
                    quarantine::set_aside(
                        &self.tx,
                        doc_id,
                        &blobs[i],
                        Reason::WrongShape,
                        self.now,
                    )?;
                }
                self.touch(quarantine::SCOPE);
                // The kind only: the error could quote the content.
                tracing::warn!(kind = ?kind, "a document from the relay was quarantined");
                return Ok(0);
            }
            Err(e) => return Err(e),
        };
        let mut last = 0;
        for &i in &prepared.accepted {
            last = chunks::append_chunk(&self.tx, doc_id, &blobs[i], false)?;
        }
        self.record(doc_id, last, prepared.doc, person);
        Ok(prepared.accepted.len())
    }

    fn after_change(&mut self, doc_id: &str, last: i64, doc: Automerge) -> Result<()> {
        let person = cache::refresh_doc(&self.tx, doc_id, &doc)?;
        self.record(doc_id, last, Some(doc), person);
        Ok(())
    }

    /// A document whose cached rows are current: re-derive its person's shifts at commit,
    /// tell observers, and keep it for the document cache (if it is at hand: without it,
    /// the next read loads it from its chunks, which this transaction holds).
    fn record(&mut self, doc_id: &str, last: i64, doc: Option<Automerge>, person: Option<String>) {
        if let Some(person) = person {
            self.rederive.insert((person, None));
        }
        self.touch_doc(doc_id);
        match doc {
            Some(doc) => {
                self.pending.insert(doc_id.to_string(), (last, doc));
            }
            // An older copy from earlier in this transaction is out of date now.
            None => {
                self.pending.remove(doc_id);
            }
        }
    }

    fn touch_doc(&mut self, doc_id: &str) {
        if let Ok(scope) = Scope::of_doc(doc_id) {
            self.scopes.insert(scope.to_string());
        }
    }

    /// Tell observers about a change that is not a document's (device state such as
    /// its relay membership or a kiosk lockout), under a name of the caller's choosing.
    pub(crate) fn touch(&mut self, what: &str) {
        self.scopes.insert(what.to_string());
    }

    /// Record that only shifts from this punch on can have changed (the hot path).
    pub(crate) fn narrow_rederive(&mut self, person: &str, at: i64, punch_id: &str) {
        self.rederive
            .retain(|(p, since)| !(p == person && since.is_none()));
        self.rederive
            .insert((person.to_string(), Some((at, punch_id.to_string()))));
    }

    /// Derive a person's shifts again at commit (all of them).
    pub(crate) fn rederive(&mut self, person: &str) {
        self.rederive.insert((person.to_string(), None));
    }

    /// Erase a document here for good: chunks, queued changes, cached rows; and remember
    /// it, so blobs for it that arrive later are dropped rather than merged back.
    pub(crate) fn erase(&mut self, doc_id: &str) -> Result<()> {
        self.forget(doc_id)?;
        chunks::remember_erased(&self.tx, doc_id)
    }

    /// Drop a document from this device only (a kiosk's old taps, notes whose consent was
    /// withdrawn): it may come back later, through sync, if the device may hold it again.
    pub(crate) fn forget(&mut self, doc_id: &str) -> Result<()> {
        chunks::erase_doc(&self.tx, doc_id)?;
        self.cache.remove(doc_id);
        self.pending.remove(doc_id);
        if let Some(person) = cache::forget_doc(&self.tx, doc_id)? {
            self.rederive.insert((person, None));
        }
        self.touch_doc(doc_id);
        Ok(())
    }

    /// From the next write on, write with a new automerge actor. A device that forgot a
    /// document it wrote must not write into it again under the same actor: its change
    /// numbers would start again at 1 and collide with the ones readers already hold.
    pub(crate) fn new_actor(&mut self) -> Result<()> {
        let actor = automerge::ActorId::random();
        meta::set_meta(&self.tx, "actor", &actor.to_hex_string())?;
        self.touch(super::ACTOR);
        Ok(())
    }

    pub(crate) fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        meta::set_meta(&self.tx, key, value)
    }

    pub(crate) fn delete_meta(&mut self, key: &str) -> Result<()> {
        meta::delete_meta(&self.tx, key)
    }

    /// Do not derive shifts in this write: mark the people whose shifts it touches, in
    /// the same transaction, for [`super::Store::derive_due`]. A pull does this for each
    /// page, so a person whose months arrive over many pages (a new device's first pull)
    /// is derived once, after the last page, not once per page.
    pub(crate) fn defer_derivation(&mut self) {
        self.defer_derivation = true;
    }

    /// Commit; returns the scopes that changed, for observers.
    pub(super) fn finish(mut self) -> Result<BTreeSet<String>> {
        if self.defer_derivation {
            for (person, _) in std::mem::take(&mut self.rederive) {
                meta::mark(&self.tx, DERIVE_DUE, &person)?;
            }
        }
        // A full re-derivation of a person makes any narrower one for them redundant.
        let full: BTreeSet<String> = self
            .rederive
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(p, _)| p.clone())
            .collect();
        for (person, since) in std::mem::take(&mut self.rederive) {
            if since.is_some() && full.contains(&person) {
                continue;
            }
            timesheets::cache::rederive_person(
                &self.tx,
                &person,
                since.as_ref().map(|(a, i)| (*a, i.as_str())),
            )?;
        }
        self.tx.commit()?;
        // Only now, with the change durable, may the cache hold it.
        for (doc_id, entry) in self.pending {
            put_back(self.cache, doc_id, entry);
        }
        Ok(self.scopes)
    }
}

/// A document and the id of its newest chunk, taken out of the cache when it is current
/// there (no copy), else loaded from its chunks. Whoever takes it puts it back when done:
/// a write after its commit, a read at once; a failed write leaves it out, to be loaded
/// again from disk next time.
pub(super) fn load_doc(
    conn: &Connection,
    cache: &mut DocCache,
    doc_id: &str,
) -> Result<(i64, Automerge)> {
    let kind = DocKind::of(doc_id)?;
    let last = chunks::last_chunk_id(conn, doc_id)?;
    if let Some((cached_last, doc)) = cache.remove(doc_id)
        && cached_last == last
    {
        return Ok((last, doc));
    }
    let (chunks, last) = chunks::doc_chunks(conn, doc_id)?;
    Ok((last, documents::load(kind, &chunks)?))
}

pub(super) fn put_back(cache: &mut DocCache, doc_id: String, entry: (i64, Automerge)) {
    if cache.len() > 256 {
        cache.clear();
    }
    cache.insert(doc_id, entry);
}
