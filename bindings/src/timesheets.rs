//! `logbook.timesheets()`: punches, the shifts derived from them, and the coordinators'
//! review (corrections, approvals, week locks, audit trail).

use logbook_core::{
    AuditEntry, HourType, IgnoredPunch, PunchKind, PunchSource, Shift, ShiftCorrection, WeekState,
};

use crate::error::Result;
use crate::logbook::sub_object;

sub_object!(
    /// Time: clock in/out, breaks, shifts, review.
    Timesheets
);

impl Timesheets {
    /// A tap now, as this device. On a kiosk the core refuses it: kiosk taps go through
    /// `kiosk().punch` with the person's PIN.
    fn tap(&self, person_id: &str, kind: PunchKind, hour_type: Option<HourType>) -> Result<String> {
        Ok(self.core.timesheets().tap(person_id, kind, hour_type)?)
    }
}

#[uniffi::export]
impl Timesheets {
    /// Clock in now (hour type defaults to paid). Returns the punch id, which is also the
    /// id of the shift it opens.
    #[uniffi::method(default(hour_type = None))]
    pub fn clock_in(&self, person_id: String, hour_type: Option<HourType>) -> Result<String> {
        self.tap(&person_id, PunchKind::ClockIn, hour_type)
    }

    pub fn clock_out(&self, person_id: String) -> Result<String> {
        self.tap(&person_id, PunchKind::ClockOut, None)
    }

    pub fn start_break(&self, person_id: String) -> Result<String> {
        self.tap(&person_id, PunchKind::BreakStart, None)
    }

    pub fn end_break(&self, person_id: String) -> Result<String> {
        self.tap(&person_id, PunchKind::BreakEnd, None)
    }

    /// Any punch, at any time (`at` in Unix seconds, default now): for back-filling and
    /// for coordinators entering paper timesheets.
    #[uniffi::method(default(at = None, hour_type = None, site_id = None))]
    pub fn punch(
        &self,
        person_id: String,
        kind: PunchKind,
        source: PunchSource,
        at: Option<i64>,
        hour_type: Option<HourType>,
        site_id: Option<String>,
    ) -> Result<String> {
        Ok(self.core.timesheets().punch(
            &person_id,
            kind,
            at,
            hour_type,
            site_id.as_deref(),
            source,
        )?)
    }

    /// A person's shifts on local dates `from_date..=to_date` (`YYYY-MM-DD`; open-ended if
    /// absent). (Not `from`/`to`: `from` is a keyword in Python.)
    #[uniffi::method(default(from_date = None, to_date = None))]
    pub fn shifts(
        &self,
        person_id: String,
        from_date: Option<String>,
        to_date: Option<String>,
    ) -> Result<Vec<Shift>> {
        Ok(self
            .core
            .timesheets()
            .shifts(&person_id, from_date.as_deref(), to_date.as_deref())?)
    }

    /// Punches counted as nothing (duplicates), with the reason.
    pub fn ignored_punches(&self, person_id: String) -> Result<Vec<IgnoredPunch>> {
        Ok(self.core.timesheets().ignored_punches(&person_id)?)
    }

    /// A coordinator corrects (or voids) a shift; returns the correction's id.
    pub fn correct_shift(&self, shift_id: String, correction: ShiftCorrection) -> Result<String> {
        Ok(self
            .core
            .timesheets()
            .correct_shift(&shift_id, correction)?)
    }

    /// Approve (or, with `lock`, lock) the week containing `date` for `people` (everyone
    /// with shifts that week if empty). Returns the review event ids.
    pub fn review_week(
        &self,
        date: String,
        people: Vec<String>,
        lock: bool,
    ) -> Result<Vec<String>> {
        Ok(self.core.timesheets().review_week(&date, &people, lock)?)
    }

    pub fn week_state(&self, person_id: String, date: String) -> Result<WeekState> {
        Ok(self.core.timesheets().week_state(&person_id, &date)?)
    }

    /// Every edit to a shift: who, when, what it was before, what changed.
    pub fn shift_history(&self, shift_id: String) -> Result<Vec<AuditEntry>> {
        Ok(self.core.timesheets().shift_history(&shift_id)?)
    }
}
