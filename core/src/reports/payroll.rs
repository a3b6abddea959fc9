//! The payroll export for a pay period: per person their payroll number and the minutes
//! of each hour type, counting only shifts in weeks a coordinator approved or locked;
//! and, separately, each (person, week) with shifts in the period that is not approved
//! yet, so the coordinator sees what is missing before payroll runs.
//!
//! Minutes are whole minutes rounded down from the summed seconds, per person and hour
//! type (per person, week and hour type for the weeks not approved). A shift belongs to
//! the local date of its clock-in, and to the week (Monday to Sunday) of that date; a
//! week is approved for one person at a time. The pay period is `from..=to` as typed,
//! or one period of the coop's pay-period setting (weekly, fortnightly, four-weekly from
//! the setting's start day, or calendar months): [`pay_period_of`].
//!
//! CSV (`docs/REPORTS.md`): the columns of [`PAYROLL_CSV_HEADER`]; first the `approved`
//! rows (one per person, `week_start` empty), then the `not_approved` rows (one per
//! person and week, with that week's minutes, which the `approved` rows leave out).

use std::collections::BTreeMap;

use jiff::civil::Date;
use rusqlite::params;
use serde::Serialize;

use super::Reports;
use super::cpo::csv_string;
use crate::error::{Error, Result};
use crate::model::{HourType, PayPeriod};
use crate::store::meta;
use crate::timesheets::{cache as ts_cache, derive};

/// Minutes per hour type (whole minutes, rounded down from the summed seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PayrollMinutes {
    pub paid: u64,
    pub volunteer: u64,
    pub cpo_unpaid_work: u64,
    pub cpo_other_activity: u64,
    pub training: u64,
}

/// One person's approved hours in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PayrollRow {
    pub person_id: String,
    pub person_name: String,
    /// Empty if the coordinator has not set one.
    pub payroll_number: Option<String>,
    pub minutes: PayrollMinutes,
}

/// A person's week with shifts in the period that no coordinator approved or locked yet:
/// its minutes are not in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PendingWeek {
    pub person_id: String,
    pub person_name: String,
    pub payroll_number: Option<String>,
    /// The week's Monday, `YYYY-MM-DD`.
    pub week_start: String,
    /// Shifts of that week in the period (counted or not).
    pub shifts: u32,
    pub minutes: PayrollMinutes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PayrollReport {
    pub from: String,
    pub to: String,
    /// One row per person with an approved week in the period, by name.
    pub rows: Vec<PayrollRow>,
    /// What is missing: by name, then week.
    pub not_approved: Vec<PendingWeek>,
}

/// The CSV columns of the payroll export (`docs/REPORTS.md`).
pub const PAYROLL_CSV_HEADER: &str = "status,person_id,person_name,payroll_number,week_start,paid_minutes,volunteer_minutes,cpo_unpaid_work_minutes,cpo_other_activity_minutes,training_minutes";

#[derive(Default)]
struct Seconds([i64; 5], u32);

fn slot(t: HourType) -> usize {
    match t {
        HourType::Paid => 0,
        HourType::Volunteer => 1,
        HourType::CpoUnpaidWork => 2,
        HourType::CpoOtherActivity => 3,
        HourType::Training => 4,
    }
}

impl Seconds {
    fn minutes(&self) -> PayrollMinutes {
        let m = |i: usize| (self.0[i].max(0) / 60) as u64;
        PayrollMinutes {
            paid: m(0),
            volunteer: m(1),
            cpo_unpaid_work: m(2),
            cpo_other_activity: m(3),
            training: m(4),
        }
    }
}

impl Reports<'_> {
    /// The payroll export for shifts on local dates `from..=to`. Coordinators only.
    pub fn payroll(&self, from: &str, to: &str) -> Result<PayrollReport> {
        let (from, to) = super::period(from, to)?;
        self.lb.access().require_reports()?;
        self.lb.store.read(|c| {
            // (name, person) -> (payroll number, week -> seconds)
            type Weeks = BTreeMap<String, Seconds>;
            let mut people: BTreeMap<(String, String), (Option<String>, Weeks)> = BTreeMap::new();
            let mut stmt = c.prepare_cached(
                "SELECT s.person, coalesce(p.name, ''), coalesce(n.number, p.payroll_number),
                        s.local_date, s.hour_type, s.counted_seconds
                 FROM shifts s LEFT JOIN people p ON p.id = s.person
                      LEFT JOIN payroll_numbers n ON n.person = s.person
                 WHERE s.local_date >= ?1 AND s.local_date <= ?2",
            )?;
            let rows = stmt.query_map(params![from.to_string(), to.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?;
            for row in rows {
                let (person, name, number, date, hour_type, seconds) = row?;
                let date: jiff::civil::Date = date
                    .parse()
                    .map_err(|_| Error::Corrupt("bad shift date".into()))?;
                let hour_type: HourType = hour_type
                    .parse()
                    .map_err(|_| Error::Corrupt("unknown hour type".into()))?;
                let week = derive::week_start(date).to_string();
                let entry = people
                    .entry((name, person))
                    .or_insert_with(|| (number, BTreeMap::new()));
                let s = entry.1.entry(week).or_default();
                s.0[slot(hour_type)] += seconds.max(0);
                s.1 += 1;
            }
            let mut report = PayrollReport {
                from: from.to_string(),
                to: to.to_string(),
                rows: Vec::new(),
                not_approved: Vec::new(),
            };
            for ((name, person), (number, weeks)) in people {
                let mut approved = Seconds::default();
                let mut any = false;
                for (week, s) in weeks {
                    let ok = ts_cache::week_reviewed(c, &person, "approval", &week)?
                        || ts_cache::week_reviewed(c, &person, "lock", &week)?;
                    if ok {
                        any = true;
                        for i in 0..5 {
                            approved.0[i] += s.0[i];
                        }
                    } else {
                        report.not_approved.push(PendingWeek {
                            person_id: person.clone(),
                            person_name: name.clone(),
                            payroll_number: number.clone(),
                            week_start: week,
                            shifts: s.1,
                            minutes: s.minutes(),
                        });
                    }
                }
                if any {
                    report.rows.push(PayrollRow {
                        person_id: person,
                        person_name: name,
                        payroll_number: number,
                        minutes: approved.minutes(),
                    });
                }
            }
            Ok(report)
        })
    }

    /// The pay period (`from`, `to`, both included) of the coop's setting that holds
    /// `date`, or without a date the last whole period before today's.
    pub fn pay_period(&self, date: Option<&str>) -> Result<(String, String)> {
        let date = date.map(crate::timesheets::parse_date).transpose()?;
        self.lb.access().require_reports()?;
        let settings = self.lb.store.read(meta::settings)?;
        let start: Date = settings
            .pay_period_start
            .parse()
            .map_err(|_| Error::Corrupt("bad pay period start".into()))?;
        let (from, to) = match date {
            Some(d) => pay_period_of(settings.pay_period, start, d)?,
            None => {
                let today = self.lb.directory().today()?;
                let (current, _) = pay_period_of(settings.pay_period, start, today)?;
                let before = current
                    .yesterday()
                    .map_err(|_| Error::invalid("date out of range"))?;
                pay_period_of(settings.pay_period, start, before)?
            }
        };
        Ok((from.to_string(), to.to_string()))
    }

    /// The payroll export for the pay period of [`Reports::pay_period`].
    pub fn payroll_for_period(&self, date: Option<&str>) -> Result<PayrollReport> {
        let (from, to) = self.pay_period(date)?;
        self.payroll(&from, &to)
    }

    /// The same as CSV.
    pub fn payroll_for_period_csv(&self, date: Option<&str>) -> Result<String> {
        payroll_csv(&self.payroll_for_period(date)?)
    }

    /// The payroll export as CSV with the columns of [`PAYROLL_CSV_HEADER`].
    pub fn payroll_csv(&self, from: &str, to: &str) -> Result<String> {
        payroll_csv(&self.payroll(from, to)?)
    }
}

/// The pay period holding `date`: a calendar month, or the run of 7, 14 or 28 days
/// from `start` (stepping back as well as forward) that holds it.
pub fn pay_period_of(period: PayPeriod, start: Date, date: Date) -> Result<(Date, Date)> {
    let out = || Error::invalid("date out of range");
    let len: i64 = match period {
        PayPeriod::Monthly => return Ok((date.first_of_month(), date.last_of_month())),
        PayPeriod::Weekly => 7,
        PayPeriod::Fortnightly => 14,
        PayPeriod::FourWeekly => 28,
    };
    let days = i64::from((date - start).get_days());
    let first = start
        .checked_add(jiff::Span::new().days(days.div_euclid(len) * len))
        .map_err(|_| out())?;
    let last = first
        .checked_add(jiff::Span::new().days(len - 1))
        .map_err(|_| out())?;
    Ok((first, last))
}

pub fn payroll_csv(r: &PayrollReport) -> Result<String> {
    let line = |status: &str,
                id: &str,
                name: &str,
                number: &Option<String>,
                week: &str,
                m: &PayrollMinutes| {
        vec![
            status.to_string(),
            id.to_string(),
            name.to_string(),
            number.clone().unwrap_or_default(),
            week.to_string(),
            m.paid.to_string(),
            m.volunteer.to_string(),
            m.cpo_unpaid_work.to_string(),
            m.cpo_other_activity.to_string(),
            m.training.to_string(),
        ]
    };
    let mut rows = vec![PAYROLL_CSV_HEADER.split(',').map(String::from).collect()];
    for p in &r.rows {
        rows.push(line(
            "approved",
            &p.person_id,
            &p.person_name,
            &p.payroll_number,
            "",
            &p.minutes,
        ));
    }
    for w in &r.not_approved {
        rows.push(line(
            "not_approved",
            &w.person_id,
            &w.person_name,
            &w.payroll_number,
            &w.week_start,
            &w.minutes,
        ));
    }
    csv_string(rows)
}
