//! The CPO progress report for the unpaid work officer: one person, one order, every
//! session counted towards it, the totals, and a line for the placement supervisor's
//! signature. It holds nothing but the order and its sessions: no notes, no training,
//! no other people.
//!
//! An order's sessions are its person's shifts of a CPO hour type (unpaid work, other
//! activity) that count (complete or corrected), on local dates from the order's start
//! until the next order starts, exactly as `cpo().progress` counts them.
//!
//! CSV (`docs/REPORTS.md`): one row per session, then one `total` row, with the columns
//! of [`CPO_CSV_HEADER`]; the order's figures repeat on every row so each row reads on
//! its own.

use jiff::tz::TimeZone;
use logbook_protocol::Scope;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::Reports;
use super::pdf::{self, Line};
use crate::cpo::{CpoProgress, cache as cpo_cache};
use crate::error::{Error, Result};
use crate::model::HourType;

/// One session counted towards an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CpoSession {
    /// Local date of the clock-in, `YYYY-MM-DD`.
    pub date: String,
    /// Local clock time, `HH:MM`.
    pub start: String,
    /// Local clock time, `HH:MM`.
    pub end: String,
    /// Counted minutes, rounded down (breaks taken off).
    pub minutes: u32,
    /// `cpo_unpaid_work` or `cpo_other_activity`.
    pub hour_type: HourType,
}

/// The CPO progress report for one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CpoReport {
    pub coop_name: String,
    pub person_name: String,
    /// "up to 100 hours" or "101–300 hours".
    pub level: String,
    /// The day the report was made (coop time zone), `YYYY-MM-DD`.
    pub as_of: String,
    pub progress: CpoProgress,
    pub sessions: Vec<CpoSession>,
}

/// The CSV columns of the CPO report (`docs/REPORTS.md`).
pub const CPO_CSV_HEADER: &str = "row,order_id,person_id,person_name,hours_ordered,level,start_date,deadline,as_of,date,start,end,hour_type,minutes,unpaid_work_minutes,other_activity_minutes,other_activity_cap_minutes,other_activity_counted_minutes,done_minutes,left_minutes,days_to_deadline,on_track";

/// The order's level, by its hours (docs/DOMAIN.md).
pub fn level(hours_ordered: u32) -> &'static str {
    if hours_ordered <= 100 {
        "up to 100 hours"
    } else {
        "101\u{2013}300 hours"
    }
}

impl Reports<'_> {
    /// The CPO progress report for one of a person's orders. For a coordinator, or the
    /// person's own device (their own orders); a kiosk, or anyone else, is refused.
    pub fn cpo_report(&self, person_id: &str, order_id: &str) -> Result<CpoReport> {
        let access = self.lb.access();
        if access.is_kiosk() {
            return Err(Error::forbidden("reports are not shown on a kiosk"));
        }
        access.require_read(&Scope::Records(person_id.to_string()))?;
        access.require_read(&Scope::Timesheet(person_id.to_string()))?;
        let person = self.lb.directory().person(person_id)?;
        let coop = self.lb.directory().coop()?;
        let tz = TimeZone::get(&coop.timezone)
            .map_err(|_| Error::Corrupt("unknown time zone in the directory".into()))?;
        let progress = self
            .lb
            .cpo()
            .progress(person_id)?
            .into_iter()
            .find(|p| p.order_id == order_id)
            .ok_or_else(|| Error::not_found(format!("no CPO order {order_id} for that person")))?;
        let sessions = self.lb.store.read(|c| {
            let orders = cpo_cache::orders(c, person_id)?;
            let i = orders
                .iter()
                .position(|o| o.id == order_id)
                .ok_or_else(|| Error::not_found(format!("no CPO order {order_id}")))?;
            let until = orders
                .get(i + 1)
                .map(|o| o.start_date.clone())
                .unwrap_or_else(|| "9999-12-31".into());
            sessions(c, person_id, &orders[i].start_date, &until, &tz)
        })?;
        Ok(CpoReport {
            coop_name: coop.name,
            person_name: person.name,
            level: level(progress.hours_ordered).to_string(),
            as_of: self.lb.directory().today()?.to_string(),
            progress,
            sessions,
        })
    }

    /// The CPO report as CSV with the columns of [`CPO_CSV_HEADER`].
    pub fn cpo_report_csv(&self, person_id: &str, order_id: &str) -> Result<String> {
        cpo_csv(&self.cpo_report(person_id, order_id)?)
    }

    /// The CPO report as a printable PDF (A4).
    pub fn cpo_report_pdf(&self, person_id: &str, order_id: &str) -> Result<Vec<u8>> {
        Ok(cpo_pdf(&self.cpo_report(person_id, order_id)?))
    }
}

fn sessions(
    c: &Connection,
    person: &str,
    from: &str,
    until: &str,
    tz: &TimeZone,
) -> Result<Vec<CpoSession>> {
    let mut stmt = c.prepare_cached(
        "SELECT local_date, start, end, counted_seconds, hour_type FROM shifts
         WHERE person = ?1 AND hour_type IN (?2, ?3) AND local_date >= ?4 AND local_date < ?5
           AND counted_seconds > 0
         ORDER BY start, id",
    )?;
    let rows = stmt.query_map(
        params![
            person,
            HourType::CpoUnpaidWork.as_str(),
            HourType::CpoOtherActivity.as_str(),
            from,
            until
        ],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        },
    )?;
    let clock = |at: i64| -> Result<String> {
        let t = jiff::Timestamp::from_second(at)
            .map_err(|_| Error::Corrupt("a shift time out of range".into()))?;
        Ok(t.to_zoned(tz.clone()).strftime("%H:%M").to_string())
    };
    let mut out = Vec::new();
    for row in rows {
        let (date, start, end, seconds, hour_type) = row?;
        out.push(CpoSession {
            date,
            start: clock(start)?,
            end: match end {
                Some(e) => clock(e)?,
                None => String::new(),
            },
            minutes: (seconds.max(0) / 60) as u32,
            hour_type: hour_type
                .parse()
                .map_err(|_| Error::Corrupt("unknown hour type".into()))?,
        });
    }
    Ok(out)
}

/// Minutes as `H:MM`.
pub(crate) fn hm(minutes: u32) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

fn kind(t: HourType) -> &'static str {
    match t {
        HourType::CpoOtherActivity => "other activity",
        _ => "unpaid work",
    }
}

pub(crate) fn csv_string(rows: Vec<Vec<String>>) -> Result<String> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(&r)
            .map_err(|e| Error::Corrupt(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Corrupt(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}

pub fn cpo_csv(r: &CpoReport) -> Result<String> {
    let p = &r.progress;
    let order = |row: &str, cells: [String; 5]| -> Vec<String> {
        let mut v = vec![
            row.to_string(),
            p.order_id.clone(),
            p.person_id.clone(),
            r.person_name.clone(),
            p.hours_ordered.to_string(),
            r.level.clone(),
            p.start_date.clone(),
            p.deadline.clone(),
            r.as_of.clone(),
        ];
        v.extend(cells);
        v.extend([
            p.unpaid_work_minutes.to_string(),
            p.other_activity_minutes.to_string(),
            p.other_activity_cap_minutes.to_string(),
            p.other_activity_counted_minutes.to_string(),
            p.done_minutes.to_string(),
            p.left_minutes.to_string(),
            p.days_to_deadline.to_string(),
            if p.on_track { "yes" } else { "no" }.to_string(),
        ]);
        v
    };
    let mut rows = vec![CPO_CSV_HEADER.split(',').map(String::from).collect()];
    for s in &r.sessions {
        rows.push(order(
            "session",
            [
                s.date.clone(),
                s.start.clone(),
                s.end.clone(),
                s.hour_type.as_str().to_string(),
                s.minutes.to_string(),
            ],
        ));
    }
    rows.push(order(
        "total",
        [
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            r.sessions
                .iter()
                .map(|s| s.minutes)
                .sum::<u32>()
                .to_string(),
        ],
    ));
    csv_string(rows)
}

pub fn cpo_pdf(r: &CpoReport) -> Vec<u8> {
    let p = &r.progress;
    let mut lines = vec![
        Line::Title("Community Payback Order: progress report".into()),
        Line::Text(format!("Placement: {}", r.coop_name)),
        Line::Text(format!("Person: {}", r.person_name)),
        Line::Text(format!("Order: {}", p.order_id)),
        Line::Text(format!("Hours ordered: {} ({})", p.hours_ordered, r.level)),
        Line::Text(format!(
            "Start: {}    Deadline: {}",
            p.start_date, p.deadline
        )),
        Line::Text(format!("Report date: {}", r.as_of)),
        Line::Heading("Sessions".into()),
        Line::Row(
            vec![
                (0.0, "Date".into()),
                (90.0, "Start".into()),
                (150.0, "End".into()),
                (210.0, "Hours".into()),
                (270.0, "Activity".into()),
            ],
            true,
        ),
    ];
    for s in &r.sessions {
        lines.push(Line::Row(
            vec![
                (0.0, s.date.clone()),
                (90.0, s.start.clone()),
                (150.0, s.end.clone()),
                (210.0, hm(s.minutes)),
                (270.0, kind(s.hour_type).into()),
            ],
            false,
        ));
    }
    if r.sessions.is_empty() {
        lines.push(Line::Text("No sessions yet.".into()));
    }
    lines.extend([
        Line::Heading("Totals".into()),
        Line::Text(format!("Unpaid work: {}", hm(p.unpaid_work_minutes))),
        Line::Text(format!(
            "Other activity: {} done, {} counted (cap {}: the lesser of 30% and 30 hours)",
            hm(p.other_activity_minutes),
            hm(p.other_activity_counted_minutes),
            hm(p.other_activity_cap_minutes)
        )),
        Line::Text(format!(
            "Hours completed: {} of {}:00",
            hm(p.done_minutes),
            p.hours_ordered
        )),
        Line::Text(format!("Hours left: {}", hm(p.left_minutes))),
        Line::Text(if p.days_to_deadline >= 0 {
            format!("Days to the deadline: {}", p.days_to_deadline)
        } else {
            format!("Deadline passed {} days ago", -p.days_to_deadline)
        }),
        Line::Text(format!(
            "On track: {}",
            if p.complete {
                "complete"
            } else if p.on_track {
                "yes"
            } else {
                "no"
            }
        )),
        Line::Gap,
        Line::Gap,
        Line::Signature("Placement supervisor: name and signature".into()),
    ]);
    pdf::render(
        "CPO progress report",
        &format!("CPO progress report - {} - {}", r.person_name, r.as_of),
        &lines,
    )
}
