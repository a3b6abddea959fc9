//! Quarantine: what a device received from the relay but could not take in. A blob that
//! does not decode as automerge, or that leaves its document in a shape the feature cannot
//! read (a punch list set to a number, say), is kept here with a reason instead of being
//! merged, so the page it came in still commits and the cursor moves on: one bad document
//! never stops a coop's sync. Coordinators see the list (`Logbook::quarantined`, `logbook
//! status`) and can tell whose device sent it from the document id.

use automerge::Automerge;
use rusqlite::{Connection, params};

use super::documents::DocKind;
use crate::error::Result;
use crate::model::UnixSeconds;

/// Observers hear this name when something was quarantined.
pub(crate) const SCOPE: &str = "device:quarantine";

/// Why a blob was set aside. Fixed words: a reason never quotes the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Undecodable,
    WrongShape,
    /// Sealed to a scope key, or signed by a device, this device does not know yet: kept
    /// and retried after each key round (docs/SECURITY.md).
    AwaitingKey,
    /// Fails its end-to-end checks (changed bytes, moved from another document, a writer
    /// that may not write there, unsigned): dropped, never merged, reported here.
    FailedVerification,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Undecodable => "does not decode as a document change",
            Reason::WrongShape => "does not fit the shape of its document",
            Reason::AwaitingKey => "sealed to a key or by a device not known here yet",
            Reason::FailedVerification => "failed its signature or writer check: dropped",
        }
    }
}

/// Blobs held for a key or device (row id, document, sealed bytes), oldest first.
pub(crate) fn awaiting_key(conn: &Connection) -> Result<Vec<(i64, String, Vec<u8>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rowid, doc, data FROM quarantine WHERE reason = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([Reason::AwaitingKey.as_str()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn remove(conn: &Connection, row: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM quarantine WHERE rowid = ?1")?
        .execute([row])?;
    Ok(())
}

/// A document this device set aside.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuarantinedDoc {
    pub doc_id: String,
    pub reason: String,
    /// Blobs kept aside for it.
    pub blobs: u32,
    /// When the first was set aside (Unix seconds).
    pub since: UnixSeconds,
}

pub(crate) fn set_aside(
    conn: &Connection,
    doc: &str,
    blob: &[u8],
    reason: Reason,
    at: UnixSeconds,
) -> Result<()> {
    conn.prepare_cached("INSERT INTO quarantine (doc, data, reason, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![doc, blob, reason.as_str(), at])?;
    Ok(())
}

/// Does the document read as its kind's shape? The same hydration each feature's cache
/// projection does (which is what `Writer::merge_remote` runs as its check); kept as a
/// function of its own for the `hydrate_docs` fuzz target, which has no store.
pub fn check_shape(kind: DocKind, doc: &Automerge) -> Result<()> {
    use crate::{cpo, directory, notes, timesheets, training};
    fn hydrate<T: autosurgeon::Hydrate>(doc: &Automerge) -> Result<()> {
        autosurgeon::hydrate::<_, T>(doc)?;
        Ok(())
    }
    match kind {
        DocKind::Directory => hydrate::<directory::doc::DirectoryDoc>(doc)?,
        DocKind::Roster => hydrate::<directory::doc::RosterDoc>(doc)?,
        DocKind::Profile => hydrate::<directory::doc::ProfileDoc>(doc)?,
        DocKind::Punches => hydrate::<timesheets::doc::PunchesDoc>(doc)?,
        DocKind::Review => hydrate::<timesheets::doc::ReviewDoc>(doc)?,
        DocKind::Training => hydrate::<training::doc::TrainingDoc>(doc)?,
        DocKind::Cpo => hydrate::<cpo::doc::CpoDoc>(doc)?,
        DocKind::Notes => hydrate::<notes::doc::NotesDoc>(doc)?,
    }
    Ok(())
}

/// Everything set aside here, one row per document.
pub fn list(conn: &Connection) -> Result<Vec<QuarantinedDoc>> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc, min(reason), count(*), min(at) FROM quarantine GROUP BY doc ORDER BY min(at), doc",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(QuarantinedDoc {
            doc_id: r.get(0)?,
            reason: r.get(1)?,
            blobs: r.get::<_, i64>(2)? as u32,
            since: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use automerge::{ActorId, ROOT, transaction::Transactable};

    use crate::logbook::Logbook;
    use crate::model::{PunchKind, PunchSource};
    use crate::store::documents::{self, DocKind};

    #[test]
    fn a_document_of_the_wrong_shape_is_set_aside_and_the_rest_merges() {
        let dir = tempfile::tempdir().unwrap();
        let phone = Logbook::open(
            dir.path().join("phone"),
            &crate::StoreKey::insecure_test_key(),
        )
        .unwrap();
        phone.directory().init("Test", "Europe/London").unwrap();
        let ann = phone
            .directory()
            .add_person("Ann", &[], &[], false)
            .unwrap();
        phone
            .timesheets()
            .punch(
                &ann,
                PunchKind::ClockIn,
                Some(1_793_610_000),
                None,
                None,
                PunchSource::Phone,
            )
            .unwrap();
        let mut good = phone.export_chunks().unwrap();
        // A valid automerge change that sets Ann's punch list to a number.
        let bad_doc = documents::punches_doc(&ann, "2026-11", "d-evil");
        let mut doc = documents::genesis(DocKind::Punches).unwrap();
        let heads = doc.get_heads();
        doc.set_actor(ActorId::random());
        let mut tx = doc.transaction();
        tx.put(ROOT, "punches", 5).unwrap();
        tx.commit();
        let change = doc.save_after(&heads);
        good.push((bad_doc.clone(), doc.save()));
        good.push((bad_doc.clone(), change));
        good.push(("notes:p-x/n-1".into(), b"not automerge at all".to_vec()));

        let coordinator = Logbook::open(
            dir.path().join("coordinator"),
            &crate::StoreKey::insecure_test_key(),
        )
        .unwrap();
        coordinator.merge_chunks(&good).unwrap();
        // Everything else arrived: the directory, Ann, her shift.
        assert_eq!(coordinator.directory().people().unwrap().len(), 1);
        assert_eq!(
            coordinator
                .timesheets()
                .shifts(&ann, None, None)
                .unwrap()
                .len(),
            1
        );
        let q = coordinator.quarantined().unwrap();
        let ids: Vec<&str> = q.iter().map(|d| d.doc_id.as_str()).collect();
        assert!(ids.contains(&bad_doc.as_str()), "{q:?}");
        assert!(ids.contains(&"notes:p-x/n-1"), "{q:?}");
        assert!(
            q.iter().all(|d| !d.reason.contains('5')),
            "reasons never quote content"
        );
        // Nothing of it reached the chunks: a rebuild still works.
        coordinator.rebuild().unwrap();
        assert_eq!(
            coordinator
                .timesheets()
                .shifts(&ann, None, None)
                .unwrap()
                .len(),
            1
        );
    }
}
