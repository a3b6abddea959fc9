//! Consent: whether coordinators may read a person's notes. Only the person's own device
//! or their supporter may set it; the relay records and enforces it (a coordinator's
//! pulls carry the people whose notes it may read, and it erases the others'). This
//! device keeps its own copy so the screens can show the switch.

use crate::error::{Error, Result};
use crate::observer::ChangeOrigin;
use crate::store::meta;

use super::Notes;

impl Notes<'_> {
    /// Whether the person consents, as this device last knew (`None`: never set here).
    pub fn consent(&self, person_id: &str) -> Result<Option<bool>> {
        self.lb
            .store
            .read(|c| Ok(meta::get_meta(c, &consent_key(person_id))?.map(|v| v == "yes")))
    }

    /// Set whether coordinators may read a person's notes. On a joined device the relay
    /// is told first (it enforces it); a standalone logbook records it locally.
    pub async fn set_consent(self, person_id: &str, coordinator_notes: bool) -> Result<()> {
        logbook_protocol::validate_entity_id(person_id)
            .map_err(|_| Error::invalid("invalid person id"))?;
        let access = self.lb.access();
        access.require_consent_setter(person_id)?;
        if access.grant().is_some() {
            self.lb
                .sync()
                .send_consent(person_id, coordinator_notes)
                .await?;
        }
        self.store_consent(person_id, coordinator_notes)
    }

    pub(crate) fn store_consent(&self, person_id: &str, consent: bool) -> Result<()> {
        self.lb.store.write(ChangeOrigin::Local, |w| {
            w.set_meta(&consent_key(person_id), if consent { "yes" } else { "no" })?;
            w.touch(&format!("consent:{person_id}"));
            Ok(())
        })
    }
}

fn consent_key(person_id: &str) -> String {
    format!("consent:{person_id}")
}
