//! Peer-support notes, written with the person: visible to the person, the note's author
//! and the supporters assigned to them; to coordinators only if the person consents
//! (docs/DOMAIN.md). Each thread is one document, so deleting it erases its history.
//!
//! - [`consent`]: whether coordinators may read a person's notes.
//! - [`doc`]: the thread document. [`cache`]: one row per thread (never the text).

pub mod cache;
pub mod consent;
pub mod doc;

use automerge::ROOT;
use logbook_protocol::Scope;

use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::logbook::Logbook;
use crate::model::{NoteEntry, NoteThread};
use crate::observer::ChangeOrigin;
use crate::store::documents;
use doc::{NoteEntryDoc, NotesDoc};

/// The longest note entry, in bytes.
const MAX_NOTE_BYTES: usize = 20_000;

/// `logbook.notes()`.
#[derive(Clone, Copy)]
pub struct Notes<'a> {
    lb: &'a Logbook,
}

impl<'a> Notes<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Notes<'a> {
        Notes { lb }
    }

    /// Start a peer-support note thread about a person. Returns the thread id.
    pub fn add_thread(&self, about: &str, text: &str) -> Result<String> {
        let text = validate_note(text)?;
        // A supporter's or worker's device knows people from the directory too.
        self.lb.directory().person(about)?;
        self.lb
            .access()
            .require_write(&Scope::Notes(about.to_string()))?;
        let thread = new_id("n");
        self.write_entry(&documents::notes_doc(about, &thread), text, true)?;
        Ok(thread)
    }

    /// Add an entry to an existing thread. Returns the entry id.
    pub fn reply(&self, thread_id: &str, text: &str) -> Result<String> {
        let text = validate_note(text)?;
        let doc_id = self.thread_doc(thread_id)?;
        self.lb.access().require_write(
            &Scope::of_doc(&doc_id).map_err(|_| Error::Corrupt("bad note id".into()))?,
        )?;
        self.write_entry(&doc_id, text, false)
    }

    /// Append an entry (by whoever this device acts for) to a note thread; a new thread
    /// also gets its creation time. Returns the entry id.
    fn write_entry(&self, doc_id: &str, text: String, new_thread: bool) -> Result<String> {
        let entry = new_id("e");
        let author = self.lb.actor_label();
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let at = w.now;
            w.change(doc_id, |t| {
                if new_thread {
                    autosurgeon::reconcile_prop(t, ROOT, "created_at", at)?;
                }
                let entries = documents::container(t, "entries")?;
                autosurgeon::reconcile_prop(
                    t,
                    &entries,
                    entry.as_str(),
                    NoteEntryDoc {
                        author,
                        text,
                        created_at: at,
                        edited_at: None,
                    },
                )?;
                Ok(())
            })
        })?;
        Ok(entry)
    }

    fn thread_doc(&self, thread_id: &str) -> Result<String> {
        self.lb
            .store
            .read(|c| cache::thread_doc(c, thread_id))?
            .ok_or_else(|| Error::not_found(format!("unknown note thread {thread_id}")))
    }

    /// The note threads about a person that this device holds, with their text.
    pub fn threads(&self, about: &str) -> Result<Vec<NoteThread>> {
        self.lb
            .access()
            .require_read(&Scope::Notes(about.to_string()))?;
        let doc_ids = self.lb.store.read(|c| cache::threads_about(c, about))?;
        let mut out = Vec::new();
        for (thread, doc_id) in doc_ids {
            let d: NotesDoc = self
                .lb
                .store
                .read_doc(&doc_id, |doc| Ok(autosurgeon::hydrate(doc)?))?;
            let mut entries: Vec<NoteEntry> = d
                .entries
                .into_iter()
                .map(|(id, e)| NoteEntry {
                    id,
                    author: e.author,
                    text: e.text,
                    created_at: e.created_at,
                    edited_at: e.edited_at,
                })
                .collect();
            entries.sort_by(|a, b| {
                a.created_at
                    .cmp(&b.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            out.push(NoteThread {
                id: thread,
                person_id: about.to_string(),
                created_at: d.created_at.unwrap_or(0),
                entries,
            });
        }
        Ok(out)
    }

    /// Erase a note thread: its document, history and cached rows, here now and, through
    /// the relay, on every other device.
    pub fn delete_thread(&self, thread_id: &str) -> Result<()> {
        let doc_id = self.thread_doc(thread_id)?;
        self.lb.erase_doc(&doc_id)
    }
}

fn validate_note(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_NOTE_BYTES {
        return Err(Error::invalid("a note is 1-20000 characters"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use crate::logbook::Logbook;

    #[test]
    fn an_erased_thread_is_never_merged_back_by_blobs_that_arrive_later() {
        let dir = tempfile::tempdir().unwrap();
        let lb = Logbook::open(dir.path(), &crate::StoreKey::insecure_test_key()).unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let ann = lb.directory().add_person("Ann", &[], &[], false).unwrap();
        let thread = lb
            .notes()
            .add_thread(&ann, "talked about the bus pass")
            .unwrap();
        // What the relay may still send: the thread's own blobs, echoed back from a push
        // that was in flight when it was erased.
        let echo: Vec<(String, Vec<u8>)> = lb
            .export_chunks()
            .unwrap()
            .into_iter()
            .filter(|(doc, _)| doc.starts_with("notes:"))
            .collect();
        lb.notes().delete_thread(&thread).unwrap();
        assert_eq!(lb.merge_chunks(&echo).unwrap(), 0);
        assert!(lb.notes().threads(&ann).unwrap().is_empty());
        let raw = std::fs::read(dir.path().join(crate::store::STORE_FILE)).unwrap();
        assert!(
            !raw.windows(8).any(|w| w == b"bus pass"),
            "the erased text is not back on disk"
        );
    }
}
