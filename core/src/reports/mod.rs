//! Reports for payroll, funders and justice social work. They read only the cached
//! tables, so a month's report for a 40-person coop is one indexed query, and they are
//! for coordinators (a kiosk or a worker's phone is refused).
//!
//! - [`hours`]: hours per person and hour type (CSV, JSON).
//! - [`ratio`]: the disadvantaged head-count ratio.
//! - [`subject_access`]: everything held about one person, readable.
//! - [`cpo`]: the CPO progress report for the unpaid work officer (CSV, PDF).
//! - [`payroll`]: the payroll export for a pay period (approved weeks only, CSV).
//! - [`training_matrix`]: people × courses, valid / due / expired / missing (CSV, PDF).
//! - [`impact`]: the funder's impact summary, aggregates only, small counts suppressed
//!   (JSON, PDF with a chart).
//! - [`headcount`]: the Italian head-count return, Law 381/1991 art. 4 (text, CSV).
//! - [`attendance`]: the Swedish monthly attendance return (CSV).
//! - [`pdf`]: the page writer the printable papers use.
//!
//! The CSV columns of every paper are documented in `docs/REPORTS.md`.

pub mod attendance;
pub mod cpo;
pub mod headcount;
pub mod hours;
pub mod impact;
pub mod payroll;
mod pdf;
pub mod ratio;
pub mod subject_access;
#[cfg(test)]
mod tests;
pub mod training_matrix;

pub use attendance::{ATTENDANCE_CSV_HEADER, AttendanceRow};
pub use cpo::{CPO_CSV_HEADER, CpoReport, CpoSession};
pub use headcount::{HEADCOUNT_CSV_HEADER, HeadcountMonth, HeadcountReturn};
pub use hours::{HOURS_CSV_HEADER, HoursRow};
pub use impact::{Figure, ImpactReport, ImpactWeek};
pub use payroll::{PAYROLL_CSV_HEADER, PayrollMinutes, PayrollReport, PayrollRow, PendingWeek};
pub use ratio::RatioReport;
pub use training_matrix::{TRAINING_MATRIX_CSV_HEADER, TrainingCell};

use jiff::civil::Date;

use crate::error::{Error, Result};
use crate::logbook::Logbook;
use crate::store::meta;
use crate::timesheets::parse_date;

/// `logbook.reports()`.
#[derive(Clone, Copy)]
pub struct Reports<'a> {
    lb: &'a Logbook,
}

impl<'a> Reports<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Reports<'a> {
        Reports { lb }
    }

    /// Hours per person and hour type for shifts on local dates `from..=to`.
    pub fn hours(&self, from: &str, to: &str) -> Result<Vec<HoursRow>> {
        let (from, to) = period(from, to)?;
        self.lb.access().require_reports()?;
        self.lb.store.read(|c| hours::hours_rows(c, from, to))
    }

    /// The same as CSV with the header `person_id,person_name,hour_type,shifts,minutes`.
    pub fn hours_csv(&self, from: &str, to: &str) -> Result<String> {
        hours::hours_csv(&self.hours(from, to)?)
    }

    /// The average monthly head count of disadvantaged workers over a period.
    pub fn ratio(&self, from: &str, to: &str) -> Result<RatioReport> {
        let (from, to) = period(from, to)?;
        self.lb.access().require_reports()?;
        self.lb.store.read(|c| {
            let min = meta::settings(c)?.disadvantaged_min_percent;
            ratio::ratio(c, from, to, min)
        })
    }
}

/// A period as typed: two dates, the second not before the first.
fn period(from: &str, to: &str) -> Result<(Date, Date)> {
    let (from, to) = (parse_date(from)?, parse_date(to)?);
    if to < from {
        return Err(Error::invalid("the period ends before it starts"));
    }
    Ok((from, to))
}
