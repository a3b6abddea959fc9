//! `logbook.kiosk()`: the shared tablet at a site. People pick their name, enter their
//! PIN and tap; PINs are checked offline, and repeated wrong PINs lock that person out at
//! this kiosk for a while (`LogbookError::LockedOut` says how long).

use logbook_core::{HourType, PunchKind, RosterEntry};

use crate::error::{LogbookError, Result};
use crate::logbook::sub_object;

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
        Ok(self.core.kiosk().roster(&site)?)
    }

    /// Check a PIN without punching (e.g. before showing the person's screen). A wrong
    /// PIN is `WrongPin` (with the tries left); too many in a row are `LockedOut`.
    pub fn check_pin(&self, person_id: String, pin: String) -> Result<()> {
        Ok(self.core.kiosk().check_pin(&person_id, &pin)?)
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
            .kiosk()
            .punch(&person_id, &pin, kind, None, hour_type)?)
    }

    /// Who is on shift now, by name.
    pub fn on_shift(&self) -> Result<Vec<RosterEntry>> {
        Ok(self.core.kiosk().on_shift()?)
    }
}
