//! `logbook.notes()`: peer-support note threads about a person, and that person's consent
//! to coordinators reading them.

use logbook_core::NoteThread;

use crate::error::Result;
use crate::logbook::sub_object;

sub_object!(
    /// Note threads and consent.
    Notes
);

#[uniffi::export(async_runtime = "tokio")]
impl Notes {
    /// Start a thread about a person; returns the thread id.
    pub fn add(&self, about_person_id: String, text: String) -> Result<String> {
        Ok(self.core.notes().add_thread(&about_person_id, &text)?)
    }

    /// Add an entry to a thread; returns the entry id.
    pub fn reply(&self, thread_id: String, text: String) -> Result<String> {
        Ok(self.core.notes().reply(&thread_id, &text)?)
    }

    /// The threads about a person this device holds (coordinators: only with consent).
    pub fn threads(&self, about_person_id: String) -> Result<Vec<NoteThread>> {
        Ok(self.core.notes().threads(&about_person_id)?)
    }

    /// Erase a thread here and, through the relay, everywhere.
    pub fn delete_thread(&self, thread_id: String) -> Result<()> {
        Ok(self.core.notes().delete_thread(&thread_id)?)
    }

    /// The consent this device knows of (`None`: never set here).
    pub fn consent(&self, person_id: String) -> Result<Option<bool>> {
        Ok(self.core.notes().consent(&person_id)?)
    }

    /// Set whether coordinators may read the person's notes (the person's own device or
    /// their supporter; online when joined to a relay).
    pub async fn set_consent(&self, person_id: String, coordinator_notes: bool) -> Result<()> {
        Ok(self
            .core
            .notes()
            .set_consent(&person_id, coordinator_notes)
            .await?)
    }
}
