//! `logbook.kiosk()`: the shared tablet at a site. People pick their name, enter their
//! PIN and tap; PINs are checked offline, and repeated wrong PINs lock that person out at
//! this kiosk for a while (`LogbookError::LockedOut` says how long).

use logbook_core::{HourType, PunchKind, Site};

use crate::error::{LogbookError, Result};
use crate::logbook::sub_object;

/// A name on a kiosk screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RosterEntry {
    pub person_id: String,
    pub name: String,
}

impl From<Site> for RosterEntry {
    // The core reuses its (id, name) pair type for roster rows: id is the person's.
    fn from(s: Site) -> RosterEntry {
        RosterEntry {
            person_id: s.id,
            name: s.name,
        }
    }
}

sub_object!(
    /// The kiosk flow: roster, PIN check, tap.
    Kiosk
);

#[uniffi::export]
impl Kiosk {
    /// The names this kiosk shows: its site's roster (`site_id` defaults to the site the
    /// kiosk was joined to).
    pub fn roster(&self, site_id: Option<String>) -> Result<Vec<RosterEntry>> {
        let site =
            match site_id {
                Some(s) => s,
                None => self.core.grant()?.and_then(|g| g.site).ok_or_else(|| {
                    LogbookError::Invalid {
                        reason: "this device is not a kiosk: name the site".into(),
                    }
                })?,
            };
        Ok(self
            .core
            .roster(&site)?
            .into_iter()
            .map(RosterEntry::from)
            .collect())
    }

    /// Check a PIN without punching (e.g. before showing the person's screen). A wrong
    /// PIN is `Forbidden`; too many in a row are `LockedOut`.
    pub fn check_pin(&self, person_id: String, pin: String) -> Result<()> {
        Ok(self.core.kiosk_check_pin(&person_id, &pin)?)
    }

    /// Check the PIN, then record the tap now. Returns the punch id.
    #[uniffi::method(default(hour_type = None))]
    pub fn punch(
        &self,
        person_id: String,
        pin: String,
        kind: PunchKind,
        hour_type: Option<HourType>,
    ) -> Result<String> {
        Ok(self
            .core
            .kiosk_punch(&person_id, &pin, kind, None, hour_type)?)
    }

    /// Who is on shift now, by name.
    pub fn on_shift(&self) -> Result<Vec<RosterEntry>> {
        Ok(self
            .core
            .on_shift()?
            .into_iter()
            .map(RosterEntry::from)
            .collect())
    }
}
