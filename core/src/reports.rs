//! Reports for payroll, funders and justice social work. They read only the cached
//! tables, so a month's report for a 40-person coop is one indexed query.
//!
//! Sums use exact seconds and print whole minutes, rounded down, per person and hour type.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::logbook::{Logbook, parse_date};
use crate::model::{CpoOrder, HourType, TrainingRecord};

/// One row of the hours report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HoursRow {
    pub person_id: String,
    pub person_name: String,
    pub hour_type: HourType,
    pub shifts: u32,
    /// Whole minutes, rounded down from the summed seconds.
    pub minutes: u64,
}

/// The head-count ratio of disadvantaged workers over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RatioReport {
    pub from: String,
    pub to: String,
    /// Months counted (each month's head count is averaged, per Law 381/1991 art. 4).
    pub months: u32,
    pub average_workers: f64,
    pub average_disadvantaged: f64,
    pub percent: f64,
    pub minimum_percent: u32,
    pub meets_minimum: bool,
}

pub const HOURS_CSV_HEADER: &str = "person_id,person_name,hour_type,shifts,minutes";

/// Hours per person and hour type for shifts whose local date is in `from..=to`.
pub fn hours_rows(conn: &Connection, from: Date, to: Date) -> Result<Vec<HoursRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.person, coalesce(p.name, ''), s.hour_type, count(*), sum(s.counted_seconds)
         FROM shifts s LEFT JOIN people p ON p.id = s.person
         WHERE s.local_date >= ?1 AND s.local_date <= ?2 AND s.counted_seconds > 0
         GROUP BY s.person, s.hour_type",
    )?;
    let rows = stmt.query_map(params![from.to_string(), to.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (person_id, person_name, hour_type, shifts, seconds) = row?;
        out.push(HoursRow {
            person_id,
            person_name,
            hour_type: hour_type
                .parse()
                .map_err(|_| Error::Corrupt("unknown hour type".into()))?,
            shifts: shifts as u32,
            minutes: (seconds.max(0) / 60) as u64,
        });
    }
    out.sort_by(|a, b| {
        (a.person_name.as_str(), a.person_id.as_str(), a.hour_type).cmp(&(
            b.person_name.as_str(),
            b.person_id.as_str(),
            b.hour_type,
        ))
    });
    Ok(out)
}

pub fn hours_csv(rows: &[HoursRow]) -> Result<String> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(HOURS_CSV_HEADER.split(','))
        .map_err(|e| Error::Corrupt(e.to_string()))?;
    for r in rows {
        w.write_record([
            r.person_id.as_str(),
            r.person_name.as_str(),
            r.hour_type.as_str(),
            &r.shifts.to_string(),
            &r.minutes.to_string(),
        ])
        .map_err(|e| Error::Corrupt(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Corrupt(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}

pub fn training_rows(
    conn: &Connection,
    person: Option<&str>,
    expiring_by: Option<&str>,
) -> Result<Vec<TrainingRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, person, course_id, course_name, date, minutes, provider, certificate_ref, expires_on,
                trainee_signed_at, supervisor_signed_at, supervisor
         FROM training
         WHERE (?1 IS NULL OR person = ?1) AND (?2 IS NULL OR (expires_on IS NOT NULL AND expires_on <= ?2))
         ORDER BY coalesce(expires_on, '9999'), date, id",
    )?;
    let rows = stmt.query_map(params![person, expiring_by], |r| {
        Ok(TrainingRecord {
            id: r.get(0)?,
            person_id: r.get(1)?,
            course_id: r.get(2)?,
            course_name: r.get(3)?,
            date: r.get(4)?,
            minutes: r.get::<_, i64>(5)? as u32,
            provider: r.get(6)?,
            certificate_ref: r.get(7)?,
            expires_on: r.get(8)?,
            trainee_signed_at: r.get(9)?,
            supervisor_signed_at: r.get(10)?,
            supervisor: r.get(11)?,
        })
    })?;
    let mut out: Vec<TrainingRecord> = rows.collect::<Result<_, _>>()?;
    if expiring_by.is_some() {
        // Only the latest record per person and course matters: a renewed certificate
        // replaces the old one.
        let mut latest: BTreeMap<(String, String), String> = BTreeMap::new();
        for t in training_rows(conn, None, None)? {
            let e = latest
                .entry((t.person_id.clone(), t.course_id.clone()))
                .or_default();
            if t.date > *e {
                *e = t.date.clone();
            }
        }
        out.retain(|t| latest.get(&(t.person_id.clone(), t.course_id.clone())) == Some(&t.date));
    }
    Ok(out)
}

pub fn cpo_orders(conn: &Connection, person: &str) -> Result<Vec<CpoOrder>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, person, hours_ordered, start_date, deadline, cap_minutes, created_at
         FROM cpo_orders WHERE person = ?1 ORDER BY start_date, id",
    )?;
    let rows = stmt.query_map([person], |r| {
        Ok(CpoOrder {
            id: r.get(0)?,
            person_id: r.get(1)?,
            hours_ordered: r.get::<_, i64>(2)? as u32,
            start_date: r.get(3)?,
            deadline: r.get(4)?,
            other_activity_cap_minutes: r.get::<_, i64>(5)? as u32,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Progress on each order: CPO hours done from its start until the next order starts.
pub fn cpo_progress(
    conn: &Connection,
    person: &str,
    today: Date,
) -> Result<Vec<crate::cpo::CpoProgress>> {
    let orders = cpo_orders(conn, person)?;
    let mut out = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let until = orders
            .get(i + 1)
            .map(|o| o.start_date.clone())
            .unwrap_or_else(|| "9999-12-31".into());
        let sum = |t: HourType| -> Result<i64> {
            Ok(conn.query_row(
                "SELECT coalesce(sum(counted_seconds), 0) FROM shifts
                 WHERE person = ?1 AND hour_type = ?2 AND local_date >= ?3 AND local_date < ?4",
                params![person, t.as_str(), order.start_date, until],
                |r| r.get(0),
            )?)
        };
        out.push(crate::cpo::progress(
            order,
            sum(HourType::CpoUnpaidWork)?,
            sum(HourType::CpoOtherActivity)?,
            today,
        )?);
    }
    Ok(out)
}

/// Average monthly head count of active workers and of those flagged disadvantaged,
/// over the months overlapping `from..=to`. A worker counts in a month if they are in
/// the directory as an active worker and worked (a counted shift) in that month.
pub fn ratio(conn: &Connection, from: Date, to: Date, minimum_percent: u32) -> Result<RatioReport> {
    let mut month = from.first_of_month();
    let mut months = 0u32;
    let (mut workers, mut disadvantaged) = (0u64, 0u64);
    let mut stmt = conn.prepare_cached(
        "SELECT count(DISTINCT s.person), count(DISTINCT CASE WHEN f.disadvantaged THEN s.person END)
         FROM shifts s JOIN people p ON p.id = s.person LEFT JOIN profiles f ON f.person = s.person
         WHERE s.local_date >= ?1 AND s.local_date <= ?2 AND s.counted_seconds > 0
           AND p.active AND (',' || p.roles || ',') LIKE '%,worker,%'",
    )?;
    while month <= to {
        let end = month.last_of_month();
        let (w, d): (i64, i64) = stmt
            .query_row(params![month.to_string(), end.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        workers += w as u64;
        disadvantaged += d as u64;
        months += 1;
        month = match end.tomorrow() {
            Ok(m) => m,
            Err(_) => break,
        };
    }
    let avg = |n: u64| {
        if months == 0 {
            0.0
        } else {
            n as f64 / f64::from(months)
        }
    };
    let percent = if workers == 0 {
        0.0
    } else {
        disadvantaged as f64 * 100.0 / workers as f64
    };
    Ok(RatioReport {
        from: from.to_string(),
        to: to.to_string(),
        months,
        average_workers: avg(workers),
        average_disadvantaged: avg(disadvantaged),
        percent,
        minimum_percent,
        meets_minimum: workers > 0 && percent >= f64::from(minimum_percent),
    })
}

fn period(from: &str, to: &str) -> Result<(Date, Date)> {
    let (from, to) = (parse_date(from)?, parse_date(to)?);
    if to < from {
        return Err(Error::invalid("the period ends before it starts"));
    }
    Ok((from, to))
}

impl Logbook {
    /// Hours per person and hour type for shifts on local dates `from..=to`.
    pub fn hours_report(&self, from: &str, to: &str) -> Result<Vec<HoursRow>> {
        let (from, to) = period(from, to)?;
        self.require_reports()?;
        self.read(|c| hours_rows(c, from, to))
    }

    /// The same as CSV with the header `person_id,person_name,hour_type,shifts,minutes`.
    pub fn hours_report_csv(&self, from: &str, to: &str) -> Result<String> {
        hours_csv(&self.hours_report(from, to)?)
    }

    pub fn ratio_report(&self, from: &str, to: &str) -> Result<RatioReport> {
        let (from, to) = period(from, to)?;
        self.require_reports()?;
        self.read(|c| {
            let min = crate::index::settings(c)?.disadvantaged_min_percent;
            ratio(c, from, to, min)
        })
    }

    fn require_reports(&self) -> Result<()> {
        match self.grant()? {
            Some(g) if g.role != logbook_protocol::Role::Coordinator => {
                Err(Error::forbidden("reports are for coordinators"))
            }
            _ => Ok(()),
        }
    }

    /// Everything this device holds about a person, readable (subject access).
    pub fn export_person(&self, person_id: &str) -> Result<serde_json::Value> {
        let person = self.person(person_id)?;
        let mut out = serde_json::json!({
            "format": "co-op-logbook subject access export, version 1",
            "exported_at": jiff::Timestamp::now().to_string(),
            "person": person,
        });
        let put =
            |out: &mut serde_json::Value, key: &str, v: Result<serde_json::Value>| -> Result<()> {
                match v {
                    Ok(v) => out[key] = v,
                    // What this device may not read is simply not part of its export.
                    Err(Error::Forbidden(_)) => {}
                    Err(e) => return Err(e),
                }
                Ok(())
            };
        let j = |v: Result<serde_json::Value, serde_json::Error>| {
            v.map_err(|e| Error::Corrupt(e.to_string()))
        };
        put(
            &mut out,
            "shifts",
            self.shifts(person_id, None, None)
                .and_then(|s| j(serde_json::to_value(s))),
        )?;
        put(
            &mut out,
            "ignored_punches",
            self.ignored_punches(person_id)
                .and_then(|s| j(serde_json::to_value(s))),
        )?;
        let punches = self.read(|c| crate::index::punches_of(c, person_id, None));
        put(
            &mut out,
            "punches",
            self.shifts(person_id, None, None)
                .and(punches)
                .and_then(|p| j(serde_json::to_value(p))),
        )?;
        let reviews = self.read(|c| {
            let mut stmt = c.prepare("SELECT id, kind, shift_id, week_start, at, by, body FROM reviews WHERE person = ?1 ORDER BY at, id")?;
            let rows = stmt.query_map([person_id], |r| {
                Ok(serde_json::json!({
                    "id": r.get::<_, String>(0)?, "kind": r.get::<_, String>(1)?,
                    "shift_id": r.get::<_, Option<String>>(2)?, "week_start": r.get::<_, Option<String>>(3)?,
                    "at": r.get::<_, i64>(4)?, "by": r.get::<_, String>(5)?,
                    "details": serde_json::from_str::<serde_json::Value>(&r.get::<_, String>(6)?).unwrap_or_default(),
                }))
            })?;
            Ok(serde_json::Value::Array(rows.collect::<Result<_, _>>()?))
        });
        put(
            &mut out,
            "reviews",
            self.shifts(person_id, None, None).and(reviews),
        )?;
        put(
            &mut out,
            "training",
            self.training(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        put(
            &mut out,
            "induction",
            self.induction(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        put(
            &mut out,
            "cpo_orders",
            self.cpo_progress(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        put(
            &mut out,
            "notes",
            self.notes(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        out["consent_to_coordinator_notes"] = serde_json::json!(self.consent(person_id)?);
        Ok(out)
    }
}
