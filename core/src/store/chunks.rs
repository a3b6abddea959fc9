//! The chunk log, the truth of every document: automerge changes and compacted
//! snapshots per document, and the outbox of changes the relay has not acknowledged.

use rusqlite::{Connection, params};

use super::meta;
use crate::error::Result;

/// All chunks of a document, in the order they were stored, with the last chunk's id.
pub fn doc_chunks(conn: &Connection, doc: &str) -> Result<(Vec<Vec<u8>>, i64)> {
    let mut stmt = conn.prepare_cached("SELECT id, data FROM chunks WHERE doc = ?1 ORDER BY id")?;
    let mut last = 0;
    let mut out = Vec::new();
    let rows = stmt.query_map([doc], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    for row in rows {
        let (id, data) = row?;
        last = id;
        out.push(data);
    }
    Ok((out, last))
}

/// The id of the newest chunk of a document (0 if none): cheap cache validation.
pub fn last_chunk_id(conn: &Connection, doc: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM chunks WHERE doc = ?1")?
        .query_row([doc], |r| r.get(0))?)
}

pub fn chunk_count(conn: &Connection, doc: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM chunks WHERE doc = ?1")?
        .query_row([doc], |r| r.get(0))?)
}

/// Append a chunk; if `outgoing`, also queue it for the relay. Returns the chunk id.
pub fn append_chunk(conn: &Connection, doc: &str, data: &[u8], outgoing: bool) -> Result<i64> {
    conn.prepare_cached("INSERT INTO chunks (doc, data) VALUES (?1, ?2)")?
        .execute(params![doc, data])?;
    let id = conn.last_insert_rowid();
    if outgoing {
        conn.prepare_cached("INSERT INTO outbox (doc, data) VALUES (?1, ?2)")?
            .execute(params![doc, data])?;
    }
    Ok(id)
}

/// Prefix of the `meta` rows naming documents due for compaction (see
/// [`mark_compaction_due`]): one row per document, found by a range scan of the key.
const COMPACT_DUE: &str = "compact_due:";

/// Mark a document as due for compaction (its chunks are many). The write that crosses
/// the threshold (possibly a kiosk tap) only marks it; [`super::Store::compact_due`]
/// compacts it later, at sync time or when the logbook opens.
pub fn mark_compaction_due(conn: &Connection, doc: &str) -> Result<()> {
    meta::mark(conn, COMPACT_DUE, doc)
}

/// Up to `limit` documents due for compaction, in id order.
pub fn compaction_due(conn: &Connection, limit: usize) -> Result<Vec<String>> {
    meta::marked(conn, COMPACT_DUE, limit)
}

/// The document is no longer due for compaction (compacted, or erased).
pub fn clear_compaction_due(conn: &Connection, doc: &str) -> Result<()> {
    meta::unmark(conn, COMPACT_DUE, doc)
}

/// Replace all of a document's chunks with one snapshot. The outbox is untouched: what
/// the relay has not acknowledged is still sent as the original changes.
pub fn replace_with_snapshot(conn: &Connection, doc: &str, snapshot: &[u8]) -> Result<i64> {
    conn.prepare_cached("DELETE FROM chunks WHERE doc = ?1")?
        .execute([doc])?;
    conn.prepare_cached("INSERT INTO chunks (doc, data, snapshot) VALUES (?1, ?2, 1)")?
        .execute(params![doc, snapshot])?;
    Ok(conn.last_insert_rowid())
}

/// Every document id held, in id order.
pub fn all_docs(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT doc FROM chunks ORDER BY doc")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Erase a document: its chunks, anything queued for the relay. Derived rows are the
/// caller's (the index knows which tables hold them).
pub fn erase_doc(conn: &Connection, doc: &str) -> Result<()> {
    conn.execute("DELETE FROM chunks WHERE doc = ?1", [doc])?;
    conn.execute("DELETE FROM outbox WHERE doc = ?1", [doc])?;
    // Whatever of it was set aside goes too: a quarantined note is still a note.
    conn.execute("DELETE FROM quarantine WHERE doc = ?1", [doc])?;
    conn.execute("DELETE FROM pushed WHERE doc = ?1", [doc])?;
    // Its id must not outlive it as a compaction mark either.
    clear_compaction_due(conn, doc)?;
    Ok(())
}

/// Every stored chunk with its document id, in the order stored.
pub fn all_chunks(conn: &Connection) -> Result<Vec<(String, Vec<u8>)>> {
    let mut stmt = conn.prepare("SELECT doc, data FROM chunks ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Queue a document's erasure for the relay (kept until the relay confirms it).
pub fn queue_delete(conn: &Connection, doc: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO pending_deletes (doc) VALUES (?1)",
        [doc],
    )?;
    Ok(())
}

/// Remember that a document was erased here (by a hash of its id).
pub fn remember_erased(conn: &Connection, doc: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO erased_docs (hash) VALUES (?1)")?
        .execute([erased_hash(doc)])?;
    Ok(())
}

/// Was this document erased here?
pub fn was_erased(conn: &Connection, doc: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM erased_docs WHERE hash = ?1)")?
        .query_row([erased_hash(doc)], |r| r.get(0))?)
}

fn erased_hash(doc: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(doc.as_bytes()))
}

/// Remember that the relay holds this blob of a document this device pushed (for
/// compaction).
pub fn record_pushed(conn: &Connection, doc: &str, content_id: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO pushed (doc, content_id) VALUES (?1, ?2)")?
        .execute([doc, content_id])?;
    Ok(())
}
