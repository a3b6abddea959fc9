//! The automerge documents: their kinds, how their ids are built, how every device
//! starts them identically, and how they are loaded from their chunks. Each feature
//! owns its documents' shapes (`<feature>/doc.rs`).
//!
//! Documents are small and bounded (docs/ARCHITECTURE.md): the directory; a site's kiosk roster;
//! one punch document per person, month and writing device; one review document per
//! person, year and coordinator device; one training document and one profile per
//! person; one document per CPO order; one per note thread.
//!
//! Two writers must never initialise the same map key concurrently, or automerge keeps
//! one object and hides the other. So every document starts from a *genesis* change
//! that is byte-for-byte the same on every device (fixed actor, time 0, fixed content):
//! it creates the document's top-level maps, and every device then writes inside them.

use automerge::transaction::Transactable;
use std::sync::OnceLock;

use automerge::{
    ActorId, Automerge, ChangeHash, ObjType, ROOT, ReadDoc, transaction::CommitOptions,
};
use logbook_protocol::Scope;

use crate::error::{Error, Result};

/// The kinds of document, each with its own shape and id pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// `directory/main`
    Directory,
    /// `site:<site>/roster`
    Roster,
    /// `timesheet:<person>/<yyyy-mm>/<device>`
    Punches,
    /// `review:<person>/<yyyy>/<device>`
    Review,
    /// `records:<person>/training`
    Training,
    /// `records:<person>/profile`
    Profile,
    /// `records:<person>/cpo/<order>`
    Cpo,
    /// `notes:<person>/<thread>`
    Notes,
}

impl DocKind {
    /// Work out a document's kind from its id, refusing ids that fit no pattern.
    pub fn of(doc_id: &str) -> Result<DocKind> {
        let scope = Scope::of_doc(doc_id).map_err(|_| Error::invalid("invalid document id"))?;
        let rest: Vec<&str> = doc_id.split('/').skip(1).collect();
        let kind = match (&scope, rest.as_slice()) {
            (Scope::Directory, ["main"]) => DocKind::Directory,
            (Scope::Site(_), ["roster"]) => DocKind::Roster,
            (Scope::Timesheet(_), [_month, _device]) => DocKind::Punches,
            (Scope::Review(_), [_year, _device]) => DocKind::Review,
            (Scope::Records(_), ["training"]) => DocKind::Training,
            (Scope::Records(_), ["profile"]) => DocKind::Profile,
            (Scope::Records(_), ["cpo", _order]) => DocKind::Cpo,
            (Scope::Notes(_), [_thread]) => DocKind::Notes,
            _ => return Err(Error::invalid("invalid document id")),
        };
        Ok(kind)
    }

    /// The top-level maps the genesis change creates.
    fn containers(self) -> &'static [&'static str] {
        match self {
            DocKind::Directory => &["sites", "people", "courses"],
            DocKind::Roster => &["members"],
            DocKind::Punches => &["punches"],
            DocKind::Review => &["events"],
            DocKind::Training => &["records", "induction"],
            DocKind::Profile | DocKind::Cpo => &[],
            DocKind::Notes => &["entries"],
        }
    }
}

pub const DIRECTORY_DOC: &str = "directory/main";

pub fn roster_doc(site: &str) -> String {
    format!("site:{site}/roster")
}
pub fn punches_doc(person: &str, month: &str, device: &str) -> String {
    format!("timesheet:{person}/{month}/{device}")
}
pub fn review_doc(person: &str, year: i16, device: &str) -> String {
    format!("review:{person}/{year}/{device}")
}
pub fn training_doc(person: &str) -> String {
    format!("records:{person}/training")
}
pub fn profile_doc(person: &str) -> String {
    format!("records:{person}/profile")
}
pub fn cpo_doc(person: &str, order: &str) -> String {
    format!("records:{person}/cpo/{order}")
}
pub fn notes_doc(person: &str, thread: &str) -> String {
    format!("notes:{person}/{thread}")
}

/// The person a per-person document is about.
pub fn doc_person(doc_id: &str) -> Option<String> {
    Scope::of_doc(doc_id).ok()?.person().map(str::to_string)
}

/// The genesis of a document: the same bytes on every device.
pub fn genesis(kind: DocKind) -> Result<Automerge> {
    let mut doc = Automerge::new().with_actor(ActorId::from([0u8; 16]));
    let containers = kind.containers();
    if !containers.is_empty() {
        let mut tx = doc.transaction();
        for name in containers {
            tx.put_object(ROOT, *name, ObjType::Map)?;
        }
        tx.commit_with(
            CommitOptions::default()
                .with_time(0)
                .with_message("genesis".to_string()),
        );
    }
    Ok(doc)
}

/// A document from its stored chunks. The chunks are loaded in one pass (automerge reads
/// a concatenation of chunks; an empty document takes its fast whole-document path), then
/// the genesis is merged in if the chunks do not already hold it.
pub fn load(kind: DocKind, chunks: &[Vec<u8>]) -> Result<Automerge> {
    let mut doc = Automerge::new();
    if !chunks.is_empty() {
        doc.load_incremental(&chunks.concat())?;
    }
    ensure_genesis(kind, &mut doc)?;
    Ok(doc)
}

/// Merge the genesis of `kind` into `doc` unless it already holds it. Nearly every
/// document does (it grew from its genesis on the device that made it), and checking by
/// the genesis change's hash costs a lookup where building and merging the genesis would
/// cost a transaction and a merge: a new device's first pull does this for every document.
pub fn ensure_genesis(kind: DocKind, doc: &mut Automerge) -> Result<()> {
    // The genesis of each kind never changes (same bytes on every device): its heads are
    // worked out once per process.
    static HEADS: [OnceLock<Vec<ChangeHash>>; 8] = [const { OnceLock::new() }; 8];
    let slot = &HEADS[kind as usize];
    let heads = match slot.get() {
        Some(heads) => heads,
        None => {
            let heads = genesis(kind)?.get_heads();
            slot.get_or_init(|| heads)
        }
    };
    if heads.is_empty() || doc.get_missing_deps(heads).is_empty() {
        return Ok(());
    }
    doc.merge(&mut genesis(kind)?)?;
    Ok(())
}

/// The id of a top-level map created by genesis.
pub fn container<D: automerge::ReadDoc>(doc: &D, name: &str) -> Result<automerge::ObjId> {
    match doc.get(ROOT, name)? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(Error::Corrupt("document is missing a top-level map".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_is_identical_on_every_device() {
        for kind in [
            DocKind::Directory,
            DocKind::Punches,
            DocKind::Notes,
            DocKind::Cpo,
        ] {
            let a = genesis(kind).unwrap().save();
            let b = genesis(kind).unwrap().save();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn doc_ids_have_a_kind() {
        assert_eq!(DocKind::of("directory/main").unwrap(), DocKind::Directory);
        assert_eq!(
            DocKind::of("timesheet:p-1/2026-11/dev").unwrap(),
            DocKind::Punches
        );
        assert_eq!(DocKind::of("records:p-1/cpo/o-1").unwrap(), DocKind::Cpo);
        assert!(DocKind::of("records:p-1/other").is_err());
        assert!(DocKind::of("timesheet:p-1/2026-11").is_err());
    }
}
