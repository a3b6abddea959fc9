//! The Swedish monthly attendance return, for wage-subsidy claims (lönebidrag and the
//! like, where the employer shows the days the person was at work): per person and
//! month, the days present and the days absent.
//!
//! Definitions (docs/REPORTS.md). The logbook holds no work schedules, so:
//! - a day is *present* if the person has a shift with a clock-in on that local date
//!   (coop time zone) of any hour type that a coordinator has not voided: a shift that
//!   still needs review is presence (they clocked in) and is counted in
//!   `shifts_needing_review` so the coordinator corrects it before claiming;
//! - the *working days* of the month are its weekdays, Monday to Friday, up to today
//!   for the current month (public holidays are not known to the logbook: the
//!   coordinator takes them off the absent days);
//! - a day is *absent* if it is a working day without presence. Work on a Saturday or
//!   Sunday is presence but a weekend is never absence.
//!
//! Every active worker in the directory has a row, also with no presence at all.
//!
//! CSV: the columns of [`ATTENDANCE_CSV_HEADER`], one row per person, by name.

use std::collections::{BTreeSet, HashMap};

use jiff::civil::{Date, Weekday};
use rusqlite::params;
use serde::Serialize;

use super::Reports;
use super::cpo::csv_string;
use crate::error::{Error, Result};
use crate::model::PersonRole;

/// One person's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AttendanceRow {
    pub person_id: String,
    pub person_name: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Weekdays of the month (up to today for the current month).
    pub working_days: u32,
    /// Days with presence, weekends included.
    pub days_present: u32,
    /// Working days without presence.
    pub days_absent: u32,
    /// Counted minutes of the month's shifts (whole minutes, rounded down).
    pub minutes: u64,
    /// Shifts of the month that still need a coordinator's review (they count as
    /// presence but 0 minutes).
    pub shifts_needing_review: u32,
}

/// The CSV columns of the attendance return (`docs/REPORTS.md`).
pub const ATTENDANCE_CSV_HEADER: &str = "person_id,person_name,month,working_days,days_present,days_absent,minutes,shifts_needing_review";

/// `YYYY-MM` to the first day of that month.
fn parse_month(month: &str) -> Result<Date> {
    let bad = || Error::invalid("a month is YYYY-MM, e.g. 2026-11");
    let (y, m) = month.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m): (i16, i8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Date::new(y, m, 1).map_err(|_| bad())
}

impl Reports<'_> {
    /// The attendance return for `month` (`YYYY-MM`). Coordinators only; a month that
    /// has not started is refused.
    pub fn attendance(&self, month: &str) -> Result<Vec<AttendanceRow>> {
        let first = parse_month(month)?;
        self.lb.access().require_reports()?;
        let today = self.lb.directory().today()?;
        if first > today {
            return Err(Error::invalid("that month has not started"));
        }
        let last = first.last_of_month().min(today);
        let mut working = 0u32;
        let mut day = first;
        while day <= last {
            if !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
                working += 1;
            }
            day = day
                .tomorrow()
                .map_err(|_| Error::invalid("date out of range"))?;
        }
        let people = self.lb.directory().people()?;
        let label = first.strftime("%Y-%m").to_string();
        self.lb.store.read(|c| {
            // person -> (dates present, seconds, shifts needing review)
            let mut seen: HashMap<String, (BTreeSet<Date>, i64, u32)> = HashMap::new();
            let mut stmt = c.prepare_cached(
                "SELECT person, local_date, counted_seconds, status FROM shifts
                 WHERE local_date >= ?1 AND local_date <= ?2 AND status != 'voided'",
            )?;
            let rows = stmt.query_map(
                params![first.to_string(), first.last_of_month().to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )?;
            for row in rows {
                let (person, date, seconds, status) = row?;
                let date: Date = date
                    .parse()
                    .map_err(|_| Error::Corrupt("bad shift date".into()))?;
                let e = seen.entry(person).or_default();
                e.0.insert(date);
                e.1 += seconds.max(0);
                if status == "needs_review" {
                    e.2 += 1;
                }
            }
            let mut out = Vec::new();
            for p in people
                .iter()
                .filter(|p| p.active && p.roles.contains(&PersonRole::Worker))
            {
                let (dates, seconds, review) = seen.remove(&p.id).unwrap_or_default();
                let weekdays_present = dates
                    .iter()
                    .filter(|d| {
                        **d <= last && !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
                    })
                    .count() as u32;
                out.push(AttendanceRow {
                    person_id: p.id.clone(),
                    person_name: p.name.clone(),
                    month: label.clone(),
                    working_days: working,
                    days_present: dates.len() as u32,
                    days_absent: working.saturating_sub(weekdays_present),
                    minutes: (seconds / 60) as u64,
                    shifts_needing_review: review,
                });
            }
            Ok(out)
        })
    }

    /// The attendance return as CSV with the columns of [`ATTENDANCE_CSV_HEADER`].
    pub fn attendance_csv(&self, month: &str) -> Result<String> {
        let mut rows = vec![
            ATTENDANCE_CSV_HEADER
                .split(',')
                .map(String::from)
                .collect::<Vec<_>>(),
        ];
        for r in self.attendance(month)? {
            rows.push(vec![
                r.person_id,
                r.person_name,
                r.month,
                r.working_days.to_string(),
                r.days_present.to_string(),
                r.days_absent.to_string(),
                r.minutes.to_string(),
                r.shifts_needing_review.to_string(),
            ]);
        }
        csv_string(rows)
    }
}
