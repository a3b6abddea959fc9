//! `logbook.reports()`: hours for payroll (also as CSV), the disadvantaged-worker ratio,
//! and the subject-access export.

use logbook_core::reports::TrainingCell;
use logbook_core::{CpoReport, HoursRow, PayrollReport, RatioReport};

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

    /// Everything this device holds about a person, as pretty-printed JSON (subject
    /// access request).
    pub fn export_person(&self, person_id: String) -> Result<String> {
        let value = self.core.reports().export_person(&person_id)?;
        serde_json::to_string_pretty(&value).map_err(|e| LogbookError::Storage {
            reason: format!("could not write the export: {e}"),
        })
    }
}
