//! The automerge documents: what each kind holds, how its id is built, and how every
//! device starts it identically.
//!
//! Documents are small and bounded (DESIGN.md): the directory; a site's kiosk roster;
//! one punch document per person, month and writing device; one review document per
//! person, year and coordinator device; one training document and one profile per
//! person; one document per CPO order; one per note thread.
//!
//! Two writers must never initialise the same map key concurrently, or automerge keeps
//! one object and hides the other. So every document starts from a *genesis* change
//! that is byte-for-byte the same on every device (fixed actor, time 0, fixed content):
//! it creates the document's top-level maps, and every device then writes inside them.

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ROOT, transaction::CommitOptions};
use autosurgeon::{Hydrate, Reconcile};
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
/// the genesis is merged in, a no-op whenever the chunks already hold it.
pub fn load(kind: DocKind, chunks: &[Vec<u8>]) -> Result<Automerge> {
    let mut doc = Automerge::new();
    if !chunks.is_empty() {
        doc.load_incremental(&chunks.concat())?;
    }
    let mut base = genesis(kind)?;
    doc.merge(&mut base)?;
    Ok(doc)
}

/// The id of a top-level map created by genesis.
pub fn container<D: automerge::ReadDoc>(doc: &D, name: &str) -> Result<automerge::ObjId> {
    match doc.get(ROOT, name)? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(Error::Corrupt("document is missing a top-level map".into())),
    }
}

// ---------- shapes (autosurgeon) ----------

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct DirectoryDoc {
    #[autosurgeon(missing = "Default::default")]
    pub coop_name: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub timezone: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub review_after_seconds: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub pin_max_failures: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub pin_lockout_seconds: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub disadvantaged_min_percent: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub sites: HashMap<String, SiteDoc>,
    #[autosurgeon(missing = "Default::default")]
    pub people: HashMap<String, PersonDoc>,
    #[autosurgeon(missing = "Default::default")]
    pub courses: HashMap<String, CourseDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct SiteDoc {
    pub name: String,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct PersonDoc {
    pub name: String,
    #[autosurgeon(missing = "Default::default")]
    pub roles: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub sites: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub active: bool,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct CourseDoc {
    pub name: String,
    #[autosurgeon(missing = "Default::default")]
    pub review_months: Option<i64>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct RosterDoc {
    #[autosurgeon(missing = "Default::default")]
    pub members: HashMap<String, RosterEntryDoc>,
}

/// What a kiosk knows of a person: a name to tap and a PIN verifier. Nothing else.
#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct RosterEntryDoc {
    pub name: String,
    #[autosurgeon(missing = "Default::default")]
    pub pin: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub active: bool,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct PunchesDoc {
    #[autosurgeon(missing = "Default::default")]
    pub punches: HashMap<String, PunchDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct PunchDoc {
    pub kind: String,
    pub at: i64,
    pub device: String,
    pub source: String,
    pub hour_type: String,
    #[autosurgeon(missing = "Default::default")]
    pub site: Option<String>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct ReviewDoc {
    #[autosurgeon(missing = "Default::default")]
    pub events: HashMap<String, ReviewEventDoc>,
}

/// A coordinator's correction, approval or week lock.
#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct ReviewEventDoc {
    /// `correction`, `approval` or `lock`.
    pub kind: String,
    #[autosurgeon(missing = "Default::default")]
    pub shift_id: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub start: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub end: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub hour_type: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub break_seconds: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub void: bool,
    /// Monday of the week, for approvals and locks.
    #[autosurgeon(missing = "Default::default")]
    pub week_start: Option<String>,
    pub reason: String,
    /// The shift as the coordinator saw it before the edit (JSON), for the audit trail.
    #[autosurgeon(missing = "Default::default")]
    pub before: Option<String>,
    pub by: String,
    pub at: i64,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct TrainingDoc {
    #[autosurgeon(missing = "Default::default")]
    pub records: HashMap<String, TrainingRecordDoc>,
    #[autosurgeon(missing = "Default::default")]
    pub induction: HashMap<String, InductionDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct TrainingRecordDoc {
    pub course_id: String,
    pub course_name: String,
    pub date: String,
    pub minutes: i64,
    #[autosurgeon(missing = "Default::default")]
    pub provider: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub certificate_ref: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub expires_on: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub trainee_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor: Option<String>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct InductionDoc {
    pub label: String,
    #[autosurgeon(missing = "Default::default")]
    pub trainee_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor_signed_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub supervisor: Option<String>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct ProfileDoc {
    #[autosurgeon(missing = "Default::default")]
    pub disadvantaged: Option<bool>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct CpoDoc {
    #[autosurgeon(missing = "Default::default")]
    pub hours_ordered: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub start_date: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub deadline: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub other_activity_cap_minutes: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub created_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct NotesDoc {
    #[autosurgeon(missing = "Default::default")]
    pub created_at: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub entries: HashMap<String, NoteEntryDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct NoteEntryDoc {
    pub author: String,
    pub text: String,
    pub created_at: i64,
    #[autosurgeon(missing = "Default::default")]
    pub edited_at: Option<i64>,
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
    fn two_devices_adding_people_concurrently_both_keep_theirs() {
        let base = genesis(DocKind::Directory).unwrap();
        let mut a = base.fork().with_actor(ActorId::random());
        let mut b = base.fork().with_actor(ActorId::random());
        for (doc, id) in [(&mut a, "p-a"), (&mut b, "p-b")] {
            let people = container(doc, "people").unwrap();
            let mut tx = doc.transaction();
            autosurgeon::reconcile_prop(
                &mut tx,
                &people,
                id,
                PersonDoc {
                    name: id.into(),
                    active: true,
                    ..Default::default()
                },
            )
            .unwrap();
            tx.commit();
        }
        a.merge(&mut b).unwrap();
        let dir: DirectoryDoc = autosurgeon::hydrate(&a).unwrap();
        assert_eq!(dir.people.len(), 2);
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
