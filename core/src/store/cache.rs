//! The cache: plain tables derived from the documents, indexed for screens and reports.
//! Each feature projects its own documents (`<feature>/cache.rs`); this file only routes
//! a document to its feature, forgets an erased document's rows, and clears everything
//! for a rebuild. Everything here can be thrown away and rebuilt from the chunks.

use automerge::Automerge;
use rusqlite::Connection;

use crate::error::Result;
use crate::store::documents::{self, DocKind};
use crate::{cpo, directory, notes, timesheets, training};

/// Tables holding rows derived from one document, keyed by that document's id.
const PER_DOC_TABLES: &[&str] = &[
    "punches",
    "reviews",
    "training",
    "induction",
    "cpo_orders",
    "note_threads",
];

/// Every cache table, cleared by a rebuild.
const CACHE_TABLES: &[&str] = &[
    "people",
    "sites",
    "courses",
    "roster",
    "profiles",
    "payroll_numbers",
    "punches",
    "reviews",
    "shifts",
    "ignored_punches",
    "training",
    "induction",
    "cpo_orders",
    "note_threads",
];

/// A document's cached rows, read out of it before the write ([`project`]). Only the
/// documents a first pull brings by the thousand (a person's month of punches) are read
/// ahead; the others are read by their feature as they are written.
pub(crate) enum Projection {
    /// Nothing to write (no blob brought anything).
    Nothing,
    /// A punch document's punches.
    Punches(timesheets::doc::PunchesDoc),
    /// Read by the feature at the write.
    AtWrite,
}

/// Read a document's cached rows without the database (so it can run in parallel, off
/// the write lock). An error is the document not fitting its feature's shape.
pub(crate) fn project(doc_id: &str, doc: &Automerge) -> Result<Projection> {
    Ok(match DocKind::of(doc_id)? {
        DocKind::Punches => Projection::Punches(timesheets::cache::read_punches(doc)?),
        _ => Projection::AtWrite,
    })
}

/// Whether `projection` holds all of its document's rows, so that
/// [`write_projection`] can store them without the document.
pub(crate) fn complete(projection: &Result<Projection>) -> bool {
    matches!(projection, Ok(Projection::Punches(_)))
}

/// Store a [`complete`] projection's rows; what [`refresh_doc_projected`] returns.
pub(crate) fn write_projection(
    conn: &Connection,
    doc_id: &str,
    projection: Projection,
) -> Result<Option<String>> {
    match projection {
        Projection::Punches(punches) => {
            let person = documents::doc_person(doc_id);
            let person_ref = person.as_deref().unwrap_or_default();
            timesheets::cache::write_punches(conn, doc_id, person_ref, &punches)?;
            Ok(person)
        }
        _ => Err(crate::error::Error::Corrupt(
            "a document's rows were not read ahead".into(),
        )),
    }
}

/// Replace the cached rows of one document. Returns the person whose shifts must be
/// derived again (the document held their punches or review events).
pub fn refresh_doc(conn: &Connection, doc_id: &str, doc: &Automerge) -> Result<Option<String>> {
    refresh_doc_projected(conn, doc_id, doc, Projection::AtWrite)
}

/// [`refresh_doc`] with the rows [`project`] read ahead.
pub(crate) fn refresh_doc_projected(
    conn: &Connection,
    doc_id: &str,
    doc: &Automerge,
    projection: Projection,
) -> Result<Option<String>> {
    let kind = DocKind::of(doc_id)?;
    let person = documents::doc_person(doc_id);
    let person_ref = person.as_deref().unwrap_or_default();
    match kind {
        DocKind::Punches => {
            let projection = match projection {
                p @ Projection::Punches(_) => p,
                _ => Projection::Punches(timesheets::cache::read_punches(doc)?),
            };
            return write_projection(conn, doc_id, projection);
        }
        DocKind::Directory => directory::cache::project_directory(conn, doc)?,
        DocKind::Roster => {
            let site = doc_id
                .split_once('/')
                .and_then(|(s, _)| s.strip_prefix("site:"))
                .unwrap_or_default();
            directory::cache::project_roster(conn, site, doc)?;
        }
        DocKind::Profile => directory::cache::project_profile(conn, person_ref, doc)?,
        DocKind::Review => {
            timesheets::cache::project_review(conn, doc_id, person_ref, doc)?;
            return Ok(person);
        }
        DocKind::Training => training::cache::project_training(conn, doc_id, person_ref, doc)?,
        DocKind::Cpo => cpo::cache::project_order(conn, doc_id, person_ref, doc)?,
        DocKind::Notes => notes::cache::project_thread(conn, doc_id, person_ref, doc)?,
    }
    Ok(None)
}

/// Remove every cached row that came from one document (used when it is erased).
/// Returns the person whose shifts must be derived again.
pub fn forget_doc(conn: &Connection, doc_id: &str) -> Result<Option<String>> {
    for table in PER_DOC_TABLES {
        conn.execute(&format!("DELETE FROM {table} WHERE doc = ?1"), [doc_id])?;
    }
    let person = documents::doc_person(doc_id);
    match DocKind::of(doc_id)? {
        DocKind::Profile => {
            conn.execute(
                "DELETE FROM profiles WHERE person = ?1",
                [person.as_deref()],
            )?;
            conn.execute(
                "DELETE FROM payroll_numbers WHERE person = ?1",
                [person.as_deref()],
            )?;
            Ok(None)
        }
        DocKind::Punches | DocKind::Review => Ok(person),
        _ => Ok(None),
    }
}

pub fn clear_cache(conn: &Connection) -> Result<()> {
    for table in CACHE_TABLES {
        conn.execute(&format!("DELETE FROM {table}"), [])?;
    }
    Ok(())
}
