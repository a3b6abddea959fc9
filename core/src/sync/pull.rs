//! Pulling: pages after the cursor, each merged and its cursor saved in one transaction
//! (the next page asked for while one is merged, unless it erases something); the
//! device's own blobs left out up to `own_through`;
//! erasures and withdrawn consent applied as they arrive; and, when a person newly
//! consents, a back-fill of their older notes (the cursor passed them while they were
//! not readable).

use std::collections::BTreeSet;

use logbook_protocol as proto;
use logbook_protocol::{Grant, Role, Scope};

use super::transport::Transport;
use super::trust::{self, Opened};
use super::{Adaptive, SyncClient, SyncSummary, attempts_for, backoff, retryable};

/// Entries in the first page of a sync, and the fewest a failing link shrinks it to
/// (about 300 bytes each).
const PULL_START_ENTRIES: usize = 50;
const PULL_MIN_ENTRIES: usize = 10;
use crate::error::{Error, Result};
use crate::notes;
use crate::observer::ChangeOrigin;
use crate::store::documents::DocKind;
use crate::store::prepared::{self, Prepared};
use crate::store::{chunks, meta};

/// Meta key: the relay log generation the cursor belongs to (docs/PROTOCOL.md).
pub(super) const RELAY_GENERATION: &str = "relay_generation";

/// What [`SyncClient::pull_all`] learnt besides the entries.
pub(super) struct PullOutcome {
    /// The keys epoch of the last page.
    pub keys_epoch: Option<u64>,
    /// The relay's log generation changed: documents were queued to be pushed again.
    pub new_generation: bool,
}

/// This device's place in the relay's log, sent with every pull: its own blobs up to
/// `own_through` are left out, and `generation` is the log its cursor belongs to.
#[derive(Clone, Copy)]
struct Place<'a> {
    own_through: Option<u64>,
    generation: Option<&'a str>,
}

impl<'a> Place<'a> {
    fn new(own_through: Option<u64>, generation: &'a Option<String>) -> Place<'a> {
        Place {
            own_through,
            generation: generation.as_deref(),
        }
    }
}

/// One pulled document after verification: its id, the plaintexts to merge, the blobs
/// set aside (`true`: held for a key, `false`: dropped), and, for a document new to
/// this device, the document prepared from its plaintexts.
type Opening<'a> = (
    &'a str,
    Vec<Vec<u8>>,
    Vec<(&'a [u8], bool)>,
    Option<Prepared>,
);

/// Pages with fewer documents than this are opened on the calling thread alone.
const PARALLEL_FROM: usize = 16;

/// Opened documents on their way from the workers to the write, at most this many.
const OPENED_IN_FLIGHT: usize = 64;

/// Verify and open the blobs of a page's documents, and prepare those new to this
/// device (`new[i]`), on every core, while `write` stores them as they come: documents
/// are independent of each other, opening and preparing them is most of a first pull's
/// work, and the write is one thread's, so the two overlap. `write` sees each document
/// once, in no particular order; a document of a kind this version does not know is
/// skipped. If `write` returns early, the workers stop at their next document.
fn open_page<'p, R>(
    docs: &'p [proto::PulledDoc],
    keys: Option<&trust::Trust>,
    new: &[bool],
    write: impl FnOnce(&mut dyn Iterator<Item = Opening<'p>>) -> R,
) -> R {
    let open_one = |i: usize| -> Option<Opening<'p>> {
        let d = &docs[i];
        // A document kind this version does not know: skip it, keep going.
        DocKind::of(&d.doc).ok()?;
        let mut plain = Vec::new();
        let mut aside = Vec::new();
        for b in &d.blobs {
            match keys {
                None => plain.push(b.to_vec()),
                Some(t) => match trust::open(t, &d.doc, d.key.as_deref(), b) {
                    Opened::Plain(p) => plain.push(p),
                    Opened::Skip => {}
                    Opened::Held => aside.push((b.as_ref(), true)),
                    Opened::Dropped => aside.push((b.as_ref(), false)),
                },
            }
        }
        // A document that cannot be prepared is merged the ordinary way, which reports
        // why.
        let prepared = (new[i] && !plain.is_empty())
            .then(|| prepared::prepare_new(&d.doc, &plain).ok())
            .flatten();
        Some((&d.doc, plain, aside, prepared))
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if workers < 2 || docs.len() < PARALLEL_FROM {
        return write(&mut (0..docs.len()).filter_map(open_one));
    }
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(OPENED_IN_FLIGHT);
        let open_one = &open_one;
        // Interleaved, so that every worker gets a share of each person's months.
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let tx = tx.clone();
                s.spawn(move || {
                    for i in (w..docs.len()).step_by(workers) {
                        if let Some(opened) = open_one(i)
                            && tx.send(opened).is_err()
                        {
                            return; // the write ended early
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let out = write(&mut rx.iter());
        // The write has stopped listening: workers still opening stop at their next send.
        drop(rx);
        for h in handles {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
        out
    })
}

impl SyncClient<'_> {
    /// One page after `after`, as many entries as the link has lately carried: a page
    /// that fails for a transient reason is asked for again smaller, one that arrives lets
    /// the next grow. A cut therefore loses at most the page in flight.
    async fn pull_page(
        &self,
        relay: &impl Transport,
        after: u64,
        scope: Option<&str>,
        place: Place<'_>,
        limit: &mut Adaptive,
        retries: &mut u32,
    ) -> Result<proto::PullResponse> {
        let mut failures = 0;
        loop {
            match relay
                .pull(
                    after,
                    scope,
                    place.own_through,
                    place.generation,
                    limit.size() as u32,
                )
                .await
            {
                Ok(page) => {
                    limit.grow();
                    return Ok(page);
                }
                Err(e) if retryable(&e) && failures < attempts_for(&e) => {
                    failures += 1;
                    *retries += 1;
                    limit.shrink();
                    tokio::time::sleep(backoff(failures, &e)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Pulls everything after the cursor. Returns the relay's keys epoch and whether the
    /// relay's log generation changed (the relay was restored from a backup): the cursor
    /// then went back to 0 and this device's documents were queued to be pushed again.
    pub(super) async fn pull_all(
        &self,
        relay: &impl Transport,
        grant: &Grant,
        summary: &mut SyncSummary,
    ) -> Result<PullOutcome> {
        let (mut first_cursor, known, mut own_through, mut generation) =
            self.lb.store.read(|c| {
                let cursor: u64 = meta::get_meta(c, "cursor")?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let known: BTreeSet<String> = meta::get_meta(c, "notes_readable")?
                    .and_then(|v| serde_json::from_str(&v).ok())
                    .unwrap_or_default();
                Ok((
                    cursor,
                    known,
                    own_through(c)?,
                    meta::get_meta(c, RELAY_GENERATION)?,
                ))
            })?;
        let mut cursor = first_cursor;
        let mut limit = Adaptive::new(
            PULL_START_ENTRIES,
            PULL_MIN_ENTRIES,
            proto::DEFAULT_PULL_LIMIT as usize,
        );
        let mut new_generation = false;
        // Retries of every page, pipelined ones included, counted once however it ends.
        let mut retries = 0;
        let pulled = async {
            let mut page = self
                .pull_page(
                    relay,
                    cursor,
                    None,
                    Place::new(own_through, &generation),
                    &mut limit,
                    &mut retries,
                )
                .await;
            // The keys epoch of the last page: the newest the relay reported.
            loop {
                let this = page?;
                if let (Some(ours), Some(theirs)) = (&generation, &this.generation)
                    && ours != theirs
                {
                    // The relay's log was restored: entries this device pulled may be gone
                    // from it, and the cursor may point past its end. Start again from 0
                    // (merging is idempotent), with none of its own blobs left out (their
                    // sequence numbers belonged to the old log), and push everything again;
                    // at most once a sync.
                    if new_generation {
                        return Err(Error::Relay {
                            status: 502,
                            message: "the relay's log generation changed twice during one sync"
                                .into(),
                        });
                    }
                    new_generation = true;
                    let theirs = theirs.clone();
                    self.start_new_generation(&theirs, grant)?;
                    generation = Some(theirs);
                    own_through = None;
                    cursor = 0;
                    first_cursor = 0;
                    page = self
                        .pull_page(
                            relay,
                            cursor,
                            None,
                            Place::new(own_through, &generation),
                            &mut limit,
                            &mut retries,
                        )
                        .await;
                    continue;
                }
                if generation.is_none() {
                    generation = this.generation.clone();
                }
                let more = this.more && this.next > cursor;
                cursor = this.next;
                let readable: BTreeSet<String> = this.notes_readable.iter().cloned().collect();
                let keys_epoch = this.keys_epoch;
                if !more {
                    self.apply_page(this, grant, true, summary)?;
                    return Ok((readable, keys_epoch));
                }
                let next = Place::new(own_through, &generation);
                if this.deleted.is_empty() && this.erased.is_empty() {
                    // Ask for the next page while this one is applied: the relay reads and
                    // sends it meanwhile. Only a page without erasures: asking for `after`
                    // tells the relay everything up to it was applied, which lets it sweep
                    // tombstones up to there, and this page's own tombstones must not go
                    // before they are applied here.
                    let fetch = self.pull_page(relay, cursor, None, next, &mut limit, &mut retries);
                    let (fetched, applied) =
                        tokio::join!(fetch, async { self.apply_page(this, grant, true, summary) });
                    applied?;
                    page = fetched;
                } else {
                    self.apply_page(this, grant, true, summary)?;
                    page = self
                        .pull_page(relay, cursor, None, next, &mut limit, &mut retries)
                        .await;
                }
            }
        }
        .await;
        summary.retries += retries;
        // Every page left its people's shifts to derive: derived once, here, for all the
        // pages that were applied, however the loop ended.
        let derived = self.lb.store.derive_due();
        let (readable, keys_epoch) = pulled?;
        derived?;
        // Consent given since the last sync: the cursor already passed that person's
        // older notes (they were not readable then), so fetch their scope from the start.
        if first_cursor > 0 {
            for person in readable.difference(&known) {
                let scope = Scope::Notes(person.clone()).to_string();
                let mut after = 0;
                loop {
                    let page = self
                        .pull_page(
                            relay,
                            after,
                            Some(&scope),
                            Place::new(own_through, &generation),
                            &mut limit,
                            &mut summary.retries,
                        )
                        .await?;
                    let more = page.more && page.next > after;
                    after = page.next;
                    self.apply_page(page, grant, false, summary)?;
                    if !more {
                        break;
                    }
                }
            }
        }
        // Documents that crossed the chunk threshold since the last sync (a kiosk's month
        // of taps) are compacted here, not in the tap that crossed it.
        self.lb
            .store
            .compact_due(crate::store::Store::COMPACT_PER_CALL)?;
        // The back-fill's pages, if any.
        self.lb.store.derive_due()?;
        let json = serde_json::to_string(&readable).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.lb
            .store
            .write(ChangeOrigin::Sync, |w| w.set_meta("notes_readable", &json))?;
        Ok(PullOutcome {
            keys_epoch,
            new_generation,
        })
    }

    /// The relay now serves log generation `generation` (it was restored from a
    /// backup). In one transaction: the cursor goes back to 0; a snapshot of every
    /// document this device may write is queued to be pushed again (what the relay lost
    /// comes back from the devices that hold it, and the relay ignores what it still
    /// has; documents named for another device are left to that device, the only one
    /// that may sign them); and what this device knew of the relay's key state is
    /// forgotten, so the next key round registers its keys and delivers scope keys again.
    fn start_new_generation(&self, generation: &str, grant: &Grant) -> Result<()> {
        // Read before the write: it takes the store's lock too.
        let me = self.lb.device_key();
        self.lb.store.write(ChangeOrigin::Sync, |w| {
            w.set_meta("cursor", "0")?;
            w.set_meta(RELAY_GENERATION, generation)?;
            // Sequence numbers of the old log: none of them says what this device holds.
            meta::delete_meta(&w.tx, OWN_THROUGH)?;
            trust::forget_relay_state(w)?;
            // The relay may have lost these blobs: compaction must not count on them.
            w.tx.execute("DELETE FROM pushed", [])?;
            for doc in chunks::all_docs(&w.tx)? {
                let writable = Scope::of_doc(&doc).is_ok_and(|s| proto::may_write(grant, &s))
                    && DocKind::of(&doc).is_ok()
                    // Another device's own documents: only it may push them (it will).
                    && trust::named_writer(&doc).is_none_or(|owner| owner == me);
                if !writable {
                    continue;
                }
                let snapshot = w.load(&doc)?.save();
                w.tx.prepare_cached("INSERT INTO outbox (doc, data) VALUES (?1, ?2)")?
                    .execute(rusqlite::params![doc, snapshot])?;
            }
            Ok(())
        })
    }

    /// Merge one pulled page and (unless it is a back-fill) save its cursor, atomically.
    fn apply_page(
        &self,
        page: proto::PullResponse,
        grant: &Grant,
        save_cursor: bool,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let readable_notes: BTreeSet<String> = page.notes_readable.iter().cloned().collect();
        let stale_notes: Vec<String> = if grant.role == Role::Coordinator {
            // Consent withdrawn: a coordinator forgets the notes it may no longer read.
            self.lb.store.read(|c| {
                Ok(notes::cache::all_threads(c)?
                    .into_iter()
                    .filter(|(_, p)| !readable_notes.contains(p))
                    .map(|(d, _)| d)
                    .collect())
            })?
        } else {
            Vec::new()
        };
        let erased_before = summary.erased_documents;
        // Every sealed blob is verified and opened as the write goes ([`open_page`]): what
        // fails is set aside (held for a key, or dropped and reported), the rest of the
        // page merges. Documents new to this device are prepared in full on the way.
        let keys = self.lb.store.read(trust::load)?;
        let new: Vec<bool> = self.lb.store.read(|c| {
            page.docs
                .iter()
                .map(|d| {
                    Ok(chunks::last_chunk_id(c, &d.doc)? == 0 && !chunks::was_erased(c, &d.doc)?)
                })
                .collect()
        })?;
        // Opaque tombstones: the documents held here whose tags match.
        let mut opaque: Vec<(String, &proto::ErasedDoc)> = Vec::new();
        for erased in &page.erased {
            for doc in self
                .lb
                .store
                .read(|c| super::erasure::matching(c, keys.as_ref(), erased))?
            {
                opaque.push((doc, erased));
            }
        }
        open_page(&page.docs, keys.as_ref(), &new, |opened| {
            self.lb.store.write(ChangeOrigin::Sync, |w| {
                // Shifts are derived once after the last page (`pull_all`), not per page.
                w.defer_derivation();
                for (doc, plain, aside, prepared) in opened {
                    for (blob, held) in aside {
                        if held {
                            summary.held_blobs += 1;
                        } else {
                            summary.dropped_blobs += 1;
                        }
                        trust::set_aside(w, doc, blob, held)?;
                    }
                    if !plain.is_empty() {
                        summary.pulled_blobs += match prepared {
                            Some(p) => w.merge_prepared(doc, &plain, p)?,
                            None => w.merge_remote(doc, &plain)?,
                        } as u32;
                    }
                }
                for (doc, erased) in &opaque {
                    // Its keys retire once the rotated version is here (sync/erasure.rs).
                    summary.erased_documents += 1;
                    w.erase(doc)?;
                    super::erasure::matched(w, erased)?;
                }
                for erased in &page.erased {
                    if !opaque.iter().any(|(_, e)| std::ptr::eq(*e, erased)) {
                        super::erasure::unmatched(w, keys.as_ref(), erased)?;
                    }
                }
                for doc in &page.deleted {
                    if DocKind::of(doc).is_err() {
                        continue;
                    }
                    if chunks::last_chunk_id(&w.tx, doc)? > 0 {
                        summary.erased_documents += 1;
                    }
                    // Remembered even if never held here, so a late blob cannot revive it.
                    w.erase(doc)?;
                }
                for doc in &stale_notes {
                    // Consent withdrawn: forget, not erase; they return if consent returns.
                    w.forget(doc)?;
                    summary.erased_documents += 1;
                }
                if save_cursor {
                    w.set_meta("cursor", &page.next.to_string())?;
                    if let Some(generation) = &page.generation {
                        w.set_meta(RELAY_GENERATION, generation)?;
                    }
                }
                Ok(())
            })
        })?;
        if summary.erased_documents > erased_before {
            self.lb.store.scrub_wal()?;
        }
        Ok(())
    }
}

/// Meta key: the highest log seq the relay reported after one of this device's pushes.
/// Every blob this device pushed at or below it is in this store, so pulls leave them
/// out. A store restored from a backup holds the value of its backup's day, so what it
/// pushed after that comes back with its next pull.
pub(super) const OWN_THROUGH: &str = "own_through";

pub(super) fn own_through(c: &rusqlite::Connection) -> Result<Option<u64>> {
    Ok(meta::get_meta(c, OWN_THROUGH)?.and_then(|v| v.parse().ok()))
}

/// Raise [`OWN_THROUGH`] to what a push response reported (in the transaction that
/// records the push as acknowledged).
pub(super) fn record_own_through(
    w: &mut crate::store::writer::Writer<'_>,
    resp: &proto::PushResponse,
) -> Result<()> {
    let Some(seq) = resp.last_seq else {
        return Ok(());
    };
    if own_through(&w.tx)?.is_none_or(|old| seq > old) {
        w.set_meta(OWN_THROUGH, &seq.to_string())?;
    }
    Ok(())
}
