//! Consent: whether coordinators may read a person's notes. Only the person's own device
//! or their supporter may set it; the relay records and enforces it (a coordinator's
//! pulls carry the people whose notes it may read, and it erases the others'). This
//! device keeps its own copy so the screens can show the switch.

use crate::error::{Error, Result};
use crate::observer::ChangeOrigin;
use crate::store::meta;
use crate::store::writer::Writer;

use super::Notes;

impl Notes<'_> {
    /// Whether the person consents, as this device last knew (`None`: never set here).
    pub fn consent(&self, person_id: &str) -> Result<Option<bool>> {
        self.lb.store.read(|c| shown(c, person_id))
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
        self.lb
            .store
            .write(ChangeOrigin::Local, |w| show(w, person_id, consent))
    }
}

/// The consent this device shows for a person (`None`: never set or reported here).
pub(crate) fn shown(conn: &rusqlite::Connection, person_id: &str) -> Result<Option<bool>> {
    Ok(meta::get_meta(conn, &consent_key(person_id))?.map(|v| v == "yes"))
}

/// Record the consent this device shows for a person (set here, or as the relay reports
/// it after another of their devices set it); observers hear only if it changed.
pub(crate) fn show(w: &mut Writer<'_>, person_id: &str, consent: bool) -> Result<()> {
    let value = if consent { "yes" } else { "no" };
    if meta::get_meta(&w.tx, &consent_key(person_id))?.as_deref() == Some(value) {
        return Ok(());
    }
    w.set_meta(&consent_key(person_id), value)?;
    w.touch(&format!("consent:{person_id}"));
    Ok(())
}

fn consent_key(person_id: &str) -> String {
    format!("consent:{person_id}")
}

#[cfg(test)]
mod tests {
    use crate::logbook::Logbook;

    #[test]
    fn a_standalone_logbook_records_consent_locally_and_observers_hear_it() {
        use std::sync::{Arc, Mutex};
        struct Heard(Mutex<Vec<String>>);
        impl crate::observer::LogbookObserver for Heard {
            fn on_change(&self, _: crate::observer::ChangeOrigin, scopes: Vec<String>) {
                self.0.lock().unwrap().extend(scopes);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let lb = Logbook::open(dir.path(), &crate::StoreKey::insecure_test_key()).unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let p = lb.directory().add_person("Ann", &[], &[], false).unwrap();
        let heard = Arc::new(Heard(Mutex::new(Vec::new())));
        let _sub = lb.subscribe(heard.clone());
        assert_eq!(lb.notes().consent(&p).unwrap(), None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(lb.notes().set_consent(&p, true)).unwrap();
        assert_eq!(lb.notes().consent(&p).unwrap(), Some(true));
        rt.block_on(lb.notes().set_consent(&p, false)).unwrap();
        assert_eq!(lb.notes().consent(&p).unwrap(), Some(false));
        assert_eq!(heard.0.lock().unwrap().len(), 2, "each change is heard");
        assert!(
            rt.block_on(lb.notes().set_consent("not an id!", true))
                .is_err()
        );
    }

    #[test]
    fn only_the_person_or_their_supporter_may_set_consent() {
        use crate::access::Access;
        use logbook_protocol::{Grant, Role};
        let grant = |role, person: Option<&str>, supports: &[&str]| {
            Access::new(Some(Grant {
                role,
                person: person.map(str::to_string),
                site: None,
                supports: supports.iter().map(|s| s.to_string()).collect(),
            }))
        };
        assert!(
            grant(Role::Worker, Some("p-ann"), &[])
                .require_consent_setter("p-ann")
                .is_ok()
        );
        assert!(
            grant(Role::Worker, Some("p-bob"), &[])
                .require_consent_setter("p-ann")
                .is_err()
        );
        assert!(
            grant(Role::Supporter, None, &["p-ann"])
                .require_consent_setter("p-ann")
                .is_ok()
        );
        assert!(
            grant(Role::Coordinator, None, &[])
                .require_consent_setter("p-ann")
                .is_err()
        );
        assert!(
            grant(Role::Kiosk, None, &[])
                .require_consent_setter("p-ann")
                .is_err()
        );
    }
}
