//! Pushing: erasures this device made, then the outbox (one blob per document per round:
//! its queued changes concatenated, which automerge loads as a sequence of chunks).
//! Outbox rows are deleted only after the relay acknowledged them.

use std::collections::{BTreeMap, BTreeSet};

use logbook_protocol as proto;
use logbook_protocol::{Grant, Scope};

use super::transport::Transport;
use super::trust;
use super::{Adaptive, SyncClient, SyncSummary, attempts_for, backoff, retryable, with_retries};
use crate::error::{Error, Result};
use crate::observer::ChangeOrigin;
use crate::store::{DEVICE, chunks};

/// Largest push body this client builds (well under the relay's limit).
const PUSH_BUDGET_BYTES: usize = 2 * 1024 * 1024;
/// The first batch of a sync, and the smallest a failing link shrinks it to: at 50 kbit/s
/// 16 KiB takes under 3 s, so it finishes between cuts of a bad mobile link.
const PUSH_START_BYTES: usize = 16 * 1024;
const PUSH_MIN_BYTES: usize = 4 * 1024;

impl SyncClient<'_> {
    pub(super) async fn push_deletes(
        &self,
        relay: &impl Transport,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let docs: Vec<String> = self.lb.store.read(|c| {
            let mut stmt = c.prepare_cached("SELECT doc FROM pending_deletes ORDER BY doc")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        let keys = if docs.is_empty() {
            None
        } else {
            self.lb.store.read(trust::load)?
        };
        for doc in docs {
            // Opaque tombstone: the relay keeps these tags, not the id (docs/SECURITY.md).
            let tags = super::erasure::tags_for(keys.as_ref(), &doc);
            let mut retries = 0;
            let result = with_retries(&mut retries, || relay.delete_doc(&doc, &tags)).await;
            summary.retries += retries;
            match result {
                // 404: the relay never had it; either way it is gone there. 403: this
                // membership may not erase it there (an erasure made under an earlier
                // one); it stays erased here and the relay's own rules decide there.
                Ok(())
                | Err(Error::Relay {
                    status: 404 | 403, ..
                }) => {
                    self.lb.store.write(ChangeOrigin::Sync, |w| {
                        w.tx.execute("DELETE FROM pending_deletes WHERE doc = ?1", [&doc])?;
                        w.touch(DEVICE);
                        Ok(())
                    })?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Push the outbox in batches sized for the link: each batch is acknowledged on its
    /// own (so a cut loses at most the batch in flight), a batch that fails for a
    /// transient reason is retried smaller, and one that succeeds lets the next grow.
    pub(super) async fn push_outbox(
        &self,
        relay: &impl Transport,
        grant: &Grant,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let mut after = 0i64;
        let mut budget = Adaptive::new(PUSH_START_BYTES, PUSH_MIN_BYTES, PUSH_BUDGET_BYTES);
        let mut failures = 0;
        let mut held_back: BTreeSet<i64> = BTreeSet::new();
        let keys = self.lb.store.read(trust::load)?;
        loop {
            // Collect a batch: one blob per document, concatenating its queued changes
            // (automerge loads concatenated chunks), within the size budget.
            let rows: Vec<(i64, String, Vec<u8>)> = self.lb.store.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, doc, data FROM outbox WHERE id > ?1 ORDER BY id LIMIT 2000",
                )?;
                let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })?;
            if rows.is_empty() {
                summary.held_back += held_back.len() as u32;
                return Ok(());
            }
            let mut per_doc: BTreeMap<String, (Vec<u8>, Vec<i64>)> = BTreeMap::new();
            let mut size = 0;
            let mut batch_end = after;
            for (id, doc, data) in &rows {
                if size + data.len() > budget.size() && !per_doc.is_empty() {
                    break;
                }
                // The relay takes at most MAX_DOCS_PER_PUSH documents in one push (413
                // otherwise, which no retry fixes): a big import waits for the next batch.
                if per_doc.len() >= proto::MAX_DOCS_PER_PUSH && !per_doc.contains_key(doc) {
                    break;
                }
                batch_end = *id;
                let allowed = Scope::of_doc(doc).is_ok_and(|s| proto::may_write(grant, &s));
                if !allowed {
                    held_back.insert(*id);
                    continue;
                }
                size += data.len();
                let e = per_doc.entry(doc.clone()).or_default();
                e.0.extend_from_slice(data);
                e.1.push(*id);
            }
            // Seal each document's blob to its scope's key (docs/SECURITY.md). Without a
            // key yet, the changes wait in the outbox for a key round to bring one.
            let mut wire: BTreeMap<String, (Vec<u8>, Option<String>)> = BTreeMap::new();
            for (doc, (bytes, ids)) in &per_doc {
                match &keys {
                    None => {
                        wire.insert(doc.clone(), (bytes.clone(), None));
                    }
                    Some(t) => match trust::seal(t, doc, bytes)? {
                        Some((sealed, key)) => {
                            wire.insert(doc.clone(), (sealed, Some(key)));
                        }
                        None => held_back.extend(ids.iter().copied()),
                    },
                }
            }
            per_doc.retain(|doc, _| wire.contains_key(doc));
            if per_doc.is_empty() {
                after = batch_end;
                continue;
            }
            let request = proto::PushRequest {
                docs: wire
                    .iter()
                    .map(|(doc, (bytes, key))| proto::PushDoc {
                        doc: doc.clone(),
                        blobs: vec![serde_bytes::ByteBuf::from(bytes.clone())],
                        supersedes: vec![],
                        key: key.clone(),
                    })
                    .collect(),
            };
            let body = proto::to_cbor(&request);
            let resp = match relay.push(&body).await {
                Ok(resp) => {
                    failures = 0;
                    budget.grow();
                    resp
                }
                Err(e) if retryable(&e) && failures < attempts_for(&e) => {
                    failures += 1;
                    summary.retries += 1;
                    budget.shrink();
                    tokio::time::sleep(backoff(failures, &e)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            after = batch_end;
            let acked: Vec<i64> = per_doc
                .values()
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect();
            self.lb.store.write(ChangeOrigin::Sync, |w| {
                let mut del = w.tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
                for id in &acked {
                    del.execute([id])?;
                }
                drop(del);
                // Remember what the relay now holds of each document, for compaction.
                for (doc, (bytes, _)) in &wire {
                    chunks::record_pushed(&w.tx, doc, &proto::content_id(bytes))?;
                }
                super::pull::record_own_through(w, &resp)?;
                w.touch(DEVICE);
                Ok(())
            })?;
            summary.pushed_blobs += per_doc.len() as u32;
            summary.pushed_changes += acked.len() as u32;
        }
    }
}

/// A document this device owns is compacted at the relay once it holds this many of its
/// blobs: one snapshot then supersedes them, so the log stays bounded and a new device
/// fetches one blob per document instead of one per sync.
pub(super) const COMPACT_AT_BLOBS: i64 = 8;

impl SyncClient<'_> {
    /// Replace the relay's many blobs of each document this device alone writes (its punch
    /// and review documents) with one snapshot that supersedes them. Runs during sync,
    /// never on a tap. Returns how many documents were compacted.
    pub(super) async fn compact_owned(
        &self,
        relay: &impl Transport,
        summary: &mut SyncSummary,
    ) -> Result<u32> {
        let device = self.lb.device_key();
        let keys = self.lb.store.read(trust::load)?;
        let candidates: Vec<String> = self.lb.store.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT doc FROM pushed GROUP BY doc HAVING count(*) >= ?1 ORDER BY doc",
            )?;
            let rows = stmt.query_map([COMPACT_AT_BLOBS], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })?;
        let mut compacted = 0;
        for doc in candidates {
            // Only documents named for this device: nobody else writes into them.
            if !doc.ends_with(&format!("/{device}")) {
                continue;
            }
            let superseded: Vec<String> = self.lb.store.read(|c| {
                let mut stmt = c.prepare_cached("SELECT content_id FROM pushed WHERE doc = ?1")?;
                let rows = stmt.query_map([&doc], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })?;
            let snapshot = self.lb.store.read_doc(&doc, |d| Ok(d.save()))?;
            let (snapshot, key) = match &keys {
                None => (snapshot, None),
                Some(t) => match trust::seal(t, &doc, &snapshot)? {
                    Some((sealed, key)) => (sealed, Some(key)),
                    None => continue,
                },
            };
            let snapshot_id = proto::content_id(&snapshot);
            let superseded: Vec<String> = superseded
                .into_iter()
                .filter(|id| *id != snapshot_id)
                .collect();
            if superseded.is_empty() {
                continue;
            }
            let body = proto::to_cbor(&proto::PushRequest {
                docs: vec![proto::PushDoc {
                    doc: doc.clone(),
                    blobs: vec![serde_bytes::ByteBuf::from(snapshot)],
                    supersedes: superseded.clone(),
                    key,
                }],
            });
            let mut retries = 0;
            let result = with_retries(&mut retries, || relay.push(&body)).await;
            summary.retries += retries;
            let resp = result?;
            self.lb.store.write(ChangeOrigin::Sync, |w| {
                let mut del =
                    w.tx.prepare_cached("DELETE FROM pushed WHERE doc = ?1 AND content_id = ?2")?;
                for id in &superseded {
                    del.execute([doc.as_str(), id.as_str()])?;
                }
                drop(del);
                chunks::record_pushed(&w.tx, &doc, &snapshot_id)?;
                super::pull::record_own_through(w, &resp)?;
                Ok(())
            })?;
            compacted += 1;
        }
        Ok(compacted)
    }
}
