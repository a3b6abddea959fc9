//! Who may do what on this device: every `require_*` check in one place.
//!
//! The rules are the access table (docs/DOMAIN.md), which lives once in
//! `logbook_protocol` (`may_read`, `may_write`, `may_delete`) and is applied both here and
//! by the relay. The device refuses locally what the relay would refuse, so it never
//! queues a change that would block its sync. A logbook that never joined a relay
//! (standalone) may do everything.

use logbook_protocol::{Grant, Role, Scope};

use crate::error::{Error, Result};
use crate::model::PunchSource;

/// This device's grant, read once for the call that checks it.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    grant: Option<Grant>,
}

impl Access {
    pub(crate) fn new(grant: Option<Grant>) -> Access {
        Access { grant }
    }

    pub(crate) fn grant(&self) -> Option<&Grant> {
        self.grant.as_ref()
    }

    pub(crate) fn role(&self) -> Option<Role> {
        self.grant.as_ref().map(|g| g.role)
    }

    pub(crate) fn is_kiosk(&self) -> bool {
        self.role() == Some(Role::Kiosk)
    }

    /// The person this device acts for (a worker's phone), if any.
    pub(crate) fn person(&self) -> Option<&str> {
        self.grant.as_ref().and_then(|g| g.person.as_deref())
    }

    /// The site a kiosk was joined to.
    pub(crate) fn site(&self) -> Option<&str> {
        self.grant.as_ref().and_then(|g| g.site.as_deref())
    }

    pub(crate) fn require_write(&self, scope: &Scope) -> Result<()> {
        match &self.grant {
            Some(g) if !logbook_protocol::may_write(g, scope) => Err(Error::forbidden(format!(
                "a {} device may not change that",
                g.role.as_str()
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) fn require_read(&self, scope: &Scope) -> Result<()> {
        match &self.grant {
            // Coordinators hold notes only when consented; what is held may be shown.
            Some(g) if !logbook_protocol::may_read(g, scope, true) => Err(Error::forbidden(
                format!("a {} device may not see that", g.role.as_str()),
            )),
            _ => Ok(()),
        }
    }

    /// May this device read everything of this scope (and so know a person's whole state)?
    pub(crate) fn reads(&self, scope: &Scope) -> bool {
        match &self.grant {
            Some(g) => logbook_protocol::may_read(g, scope, true),
            None => true,
        }
    }

    pub(crate) fn require_delete(&self, scope: &Scope) -> Result<()> {
        match &self.grant {
            Some(g) if !logbook_protocol::may_delete(g, scope) => Err(Error::forbidden(format!(
                "a {} device may not erase that",
                g.role.as_str()
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) fn require_coordinator(&self) -> Result<()> {
        match &self.grant {
            Some(g) if g.role != Role::Coordinator => Err(Error::forbidden(format!(
                "a {} device may not do that; ask a coordinator",
                g.role.as_str()
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) fn require_reports(&self) -> Result<()> {
        match &self.grant {
            Some(g) if g.role != Role::Coordinator => {
                Err(Error::forbidden("reports are for coordinators"))
            }
            _ => Ok(()),
        }
    }

    /// Only the person's own device or their supporter may set their consent.
    pub(crate) fn require_consent_setter(&self, person_id: &str) -> Result<()> {
        match &self.grant {
            Some(g) if !logbook_protocol::may_set_consent(g, person_id) => Err(Error::forbidden(
                "only the person or their supporter may set their consent",
            )),
            _ => Ok(()),
        }
    }

    /// A tap on a kiosk goes through the kiosk's PIN pad, never straight to a timesheet.
    pub(crate) fn require_not_kiosk_for_taps(&self) -> Result<()> {
        if self.is_kiosk() {
            return Err(Error::forbidden(
                "on a kiosk every tap needs the person's PIN: use the kiosk's PIN pad",
            ));
        }
        Ok(())
    }

    /// PIN taps (the kiosk's PIN pad) are for a kiosk, or a coordinator's device standing
    /// in for one; a worker's or supporter's phone taps as itself.
    pub(crate) fn require_pin_pad(&self) -> Result<()> {
        match self.role() {
            Some(Role::Worker | Role::Supporter) => Err(Error::forbidden(
                "this phone taps for its own person; PIN taps are for the kiosk",
            )),
            _ => Ok(()),
        }
    }

    /// Where a tap on this device comes from, by its role: a kiosk, a worker's or
    /// supporter's phone, or a coordinator (also a standalone logbook).
    pub(crate) fn punch_source(&self) -> PunchSource {
        match self.role() {
            Some(Role::Kiosk) => PunchSource::Kiosk,
            Some(Role::Worker | Role::Supporter) => PunchSource::Phone,
            Some(Role::Coordinator) | None => PunchSource::Coordinator,
        }
    }
}
