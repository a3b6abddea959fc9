//! The notes cache: one row per thread (who it is about, when, how many entries). Note
//! text is never copied into the cache: it stays in the thread's document, so erasing
//! the document erases the text.

use automerge::Automerge;
use rusqlite::{Connection, OptionalExtension, params};

use super::doc::NotesDoc;
use crate::error::Result;

pub(crate) fn project_thread(
    conn: &Connection,
    doc_id: &str,
    person: &str,
    doc: &Automerge,
) -> Result<()> {
    let d: NotesDoc = autosurgeon::hydrate(doc)?;
    conn.execute("DELETE FROM note_threads WHERE doc = ?1", [doc_id])?;
    let thread = doc_id.rsplit('/').next().unwrap_or_default();
    let updated = d
        .entries
        .values()
        .map(|e| e.edited_at.unwrap_or(e.created_at))
        .max()
        .unwrap_or(0);
    conn.execute(
        "INSERT INTO note_threads (id, doc, person, created_at, updated_at, entries)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            thread,
            doc_id,
            person,
            d.created_at.unwrap_or(0),
            updated,
            d.entries.len() as i64
        ],
    )?;
    Ok(())
}

/// The document of a thread, if held here.
pub(crate) fn thread_doc(conn: &Connection, thread_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT doc FROM note_threads WHERE id = ?1")?
        .query_row([thread_id], |r| r.get(0))
        .optional()?)
}

/// The threads about a person held here: (thread id, document id), oldest first.
pub(crate) fn threads_about(conn: &Connection, person: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, doc FROM note_threads WHERE person = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every thread held here with the person it is about: (document id, person).
pub(crate) fn all_threads(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT doc, person FROM note_threads")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
