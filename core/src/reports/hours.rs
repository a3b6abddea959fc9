//! Hours per person and hour type for a period, for payroll and funders. Sums use exact
//! seconds and print whole minutes, rounded down, per person and hour type; a shift
//! belongs to the local date of its clock-in.

use jiff::civil::Date;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::HourType;

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
