//! `logbook.reports()`: hours for payroll (also as CSV), the disadvantaged-worker ratio,
//! the papers (CPO, payroll, training matrix, impact summary, head-count and attendance
//! returns) and the subject-access export.

use logbook_core::reports::TrainingCell;
use logbook_core::{
    AttendanceRow, CpoReport, HeadcountReturn, HoursRow, ImpactReport, PayrollReport, RatioReport,
};

use crate::error::{LogbookError, Result};
use crate::logbook::sub_object;

sub_object!(
    /// Coordinators' reports and subject access.
    Reports
);

#[uniffi::export]
impl Reports {
    /// Hours per person and hour type for shifts on local dates `from_date..=to_date` (`YYYY-MM-DD`).
    pub fn hours(&self, from_date: String, to_date: String) -> Result<Vec<HoursRow>> {
        Ok(self.core.reports().hours(&from_date, &to_date)?)
    }

    /// The hours report as CSV: `person_id,person_name,hour_type,shifts,minutes`.
    pub fn hours_csv(&self, from_date: String, to_date: String) -> Result<String> {
        Ok(self.core.reports().hours_csv(&from_date, &to_date)?)
    }

    /// Head-count ratio of disadvantaged workers (Law 381/1991).
    pub fn ratio(&self, from_date: String, to_date: String) -> Result<RatioReport> {
        Ok(self.core.reports().ratio(&from_date, &to_date)?)
    }

    /// The CPO progress report for one of a person's orders (a coordinator, or the
    /// person's own device for their own orders).
    pub fn cpo_report(&self, person_id: String, order_id: String) -> Result<CpoReport> {
        Ok(self.core.reports().cpo_report(&person_id, &order_id)?)
    }

    /// The CPO progress report as CSV (columns in docs/REPORTS.md).
    pub fn cpo_report_csv(&self, person_id: String, order_id: String) -> Result<String> {
        Ok(self.core.reports().cpo_report_csv(&person_id, &order_id)?)
    }

    /// The CPO progress report as a printable PDF (A4), to save or share.
    pub fn cpo_report_pdf(&self, person_id: String, order_id: String) -> Result<Vec<u8>> {
        Ok(self.core.reports().cpo_report_pdf(&person_id, &order_id)?)
    }

    /// The payroll export for shifts on local dates `from_date..=to_date`: approved and
    /// locked weeks only, plus the (person, week) pairs not approved yet.
    pub fn payroll(&self, from_date: String, to_date: String) -> Result<PayrollReport> {
        Ok(self.core.reports().payroll(&from_date, &to_date)?)
    }

    /// The payroll export for one pay period of the coop's setting: the one holding
    /// `date` (`YYYY-MM-DD`), else the last whole period before today's.
    pub fn payroll_for_period(&self, date: Option<String>) -> Result<PayrollReport> {
        Ok(self.core.reports().payroll_for_period(date.as_deref())?)
    }

    /// The payroll export as CSV (columns in docs/REPORTS.md).
    pub fn payroll_csv(&self, from_date: String, to_date: String) -> Result<String> {
        Ok(self.core.reports().payroll_csv(&from_date, &to_date)?)
    }

    /// The training matrix (people × courses: valid, due within `days`, expired,
    /// missing).
    pub fn training_matrix(&self, days: u32) -> Result<Vec<TrainingCell>> {
        Ok(self.core.reports().training_matrix(days)?)
    }

    /// The training matrix as CSV (columns in docs/REPORTS.md).
    pub fn training_matrix_csv(&self, days: u32) -> Result<String> {
        Ok(self.core.reports().training_matrix_csv(days)?)
    }

    /// The training matrix as a printable PDF (A4) for an inspector.
    pub fn training_matrix_pdf(&self, days: u32) -> Result<Vec<u8>> {
        Ok(self.core.reports().training_matrix_pdf(days)?)
    }

    /// The funder's impact summary for local dates `from_date..=to_date`: aggregates
    /// only; a figure about fewer than 5 people has no value ("fewer than 5").
    pub fn impact(&self, from_date: String, to_date: String) -> Result<ImpactReport> {
        Ok(self.core.reports().impact(&from_date, &to_date)?)
    }

    /// The impact summary as JSON (a suppressed figure is the string "fewer than 5").
    pub fn impact_json(&self, from_date: String, to_date: String) -> Result<String> {
        Ok(self.core.reports().impact_json(&from_date, &to_date)?)
    }

    /// The impact summary as a printable PDF (A4) with its chart of hours per week.
    pub fn impact_pdf(&self, from_date: String, to_date: String) -> Result<Vec<u8>> {
        Ok(self.core.reports().impact_pdf(&from_date, &to_date)?)
    }

    /// The Italian head-count return (Law 381/1991 art. 4) for a year.
    pub fn headcount(&self, year: i32) -> Result<HeadcountReturn> {
        Ok(self.core.reports().headcount(year)?)
    }

    /// The head-count return as CSV (columns in docs/REPORTS.md).
    pub fn headcount_csv(&self, year: i32) -> Result<String> {
        Ok(self.core.reports().headcount_csv(year)?)
    }

    /// The head-count return as plain text.
    pub fn headcount_text(&self, year: i32) -> Result<String> {
        Ok(self.core.reports().headcount_text(year)?)
    }

    /// The Swedish monthly attendance return for `month` (`YYYY-MM`).
    pub fn attendance(&self, month: String) -> Result<Vec<AttendanceRow>> {
        Ok(self.core.reports().attendance(&month)?)
    }

    /// The attendance return as CSV (columns in docs/REPORTS.md).
    pub fn attendance_csv(&self, month: String) -> Result<String> {
        Ok(self.core.reports().attendance_csv(&month)?)
    }

    /// Everything this device holds about a person, as pretty-printed JSON (subject
    /// access request).
    pub fn export_person(&self, person_id: String) -> Result<String> {
        let value = self.core.reports().export_person(&person_id)?;
        serde_json::to_string_pretty(&value).map_err(|e| LogbookError::Storage {
            reason: format!("could not write the export: {e}"),
        })
    }
}
