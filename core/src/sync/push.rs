//! Pushing: erasures this device made, then the outbox (one blob per document per round:
//! its queued changes concatenated, which automerge loads as a sequence of chunks).
//! Outbox rows are deleted only after the relay acknowledged them.

use std::collections::BTreeMap;

use logbook_protocol as proto;
use logbook_protocol::{Grant, Scope};

use super::transport::Transport;
use super::{SyncClient, SyncSummary, with_retries};
use crate::error::{Error, Result};
use crate::observer::ChangeOrigin;
use crate::store::DEVICE;

/// Largest push body this client builds (well under the relay's limit).
const PUSH_BUDGET_BYTES: usize = 2 * 1024 * 1024;

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
        for doc in docs {
            let mut retries = 0;
            let result = with_retries(&mut retries, || relay.delete_doc(&doc)).await;
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

    pub(super) async fn push_outbox(
        &self,
        relay: &impl Transport,
        grant: &Grant,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let mut after = 0i64;
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
                return Ok(());
            }
            let mut per_doc: BTreeMap<String, (Vec<u8>, Vec<i64>)> = BTreeMap::new();
            let mut size = 0;
            for (id, doc, data) in &rows {
                if size + data.len() > PUSH_BUDGET_BYTES && !per_doc.is_empty() {
                    break;
                }
                after = *id;
                let allowed = Scope::of_doc(doc).is_ok_and(|s| proto::may_write(grant, &s));
                if !allowed {
                    summary.held_back += 1;
                    continue;
                }
                size += data.len();
                let e = per_doc.entry(doc.clone()).or_default();
                e.0.extend_from_slice(data);
                e.1.push(*id);
            }
            if per_doc.is_empty() {
                continue;
            }
            let request = proto::PushRequest {
                docs: per_doc
                    .iter()
                    .map(|(doc, (bytes, _))| proto::PushDoc {
                        doc: doc.clone(),
                        blobs: vec![serde_bytes::ByteBuf::from(bytes.clone())],
                        supersedes: vec![],
                        key: None,
                    })
                    .collect(),
            };
            let body = proto::to_cbor(&request);
            let mut retries = 0;
            let result = with_retries(&mut retries, || relay.push(&body)).await;
            summary.retries += retries;
            result?;
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
                w.touch(DEVICE);
                Ok(())
            })?;
            summary.pushed_blobs += per_doc.len() as u32;
            summary.pushed_changes += acked.len() as u32;
        }
    }
}
