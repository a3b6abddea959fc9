//! The timesheet cache: the punch and review-event rows each document contributes, and
//! the derived shifts (`shifts`, `ignored_punches`) kept up to date by re-running the
//! derivation for a person. Everything here can be rebuilt from the documents.

use std::collections::HashMap;

use automerge::Automerge;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, params};

use super::derive::{self, WeekLock};
use super::doc::{PunchDoc, PunchesDoc, ReviewDoc};
use crate::error::{Error, Result};
use crate::model::{Correction, Punch, PunchKind, Shift, UnixSeconds};
use crate::store::meta;

/// Replace the cached punches of one punch document.
pub(crate) fn project_punches(
    conn: &Connection,
    doc_id: &str,
    person: &str,
    doc: &Automerge,
) -> Result<()> {
    let d: PunchesDoc = autosurgeon::hydrate(doc)?;
    conn.prepare_cached("DELETE FROM punches WHERE doc = ?1")?
        .execute([doc_id])?;
    for (id, p) in &d.punches {
        insert_punch(conn, doc_id, person, id, p)?;
    }
    Ok(())
}

/// Cache one punch of a punch document: what a tap adds, without projecting the rest of
/// the month's document again.
pub(crate) fn insert_punch(
    conn: &Connection,
    doc_id: &str,
    person: &str,
    id: &str,
    p: &PunchDoc,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO punches (id, doc, person, kind, at, device, source, hour_type, site)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        doc_id,
        person,
        p.kind,
        p.at,
        p.device,
        p.source,
        p.hour_type,
        p.site
    ])?;
    Ok(())
}

/// Replace the cached review events of one review document.
pub(crate) fn project_review(
    conn: &Connection,
    doc_id: &str,
    person: &str,
    doc: &Automerge,
) -> Result<()> {
    let d: ReviewDoc = autosurgeon::hydrate(doc)?;
    conn.prepare_cached("DELETE FROM reviews WHERE doc = ?1")?
        .execute([doc_id])?;
    let mut ins = conn.prepare_cached(
        "INSERT OR REPLACE INTO reviews (id, doc, person, kind, shift_id, week_start, at, by, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (id, e) in &d.events {
        let body = serde_json::json!({
            "start": e.start, "end": e.end, "hour_type": e.hour_type,
            "break_seconds": e.break_seconds, "void": e.void, "reason": e.reason,
            "before": e.before,
        });
        ins.execute(params![
            id,
            doc_id,
            person,
            e.kind,
            e.shift_id,
            e.week_start,
            e.at,
            e.by,
            body.to_string()
        ])?;
    }
    Ok(())
}

/// A punch row as stored: id, kind, at, device, source, hour type, person, site.
type PunchRow = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn row_to_punch(r: &rusqlite::Row<'_>) -> rusqlite::Result<PunchRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

/// A person's cached punches with (at, id) after `since` (all if `None`), in order.
pub fn punches_of(
    conn: &Connection,
    person: &str,
    since: Option<(i64, &str)>,
) -> Result<Vec<Punch>> {
    let (at, id) = since.unwrap_or((i64::MIN, ""));
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, at, device, source, hour_type, person, site FROM punches
         WHERE person = ?1 AND (at > ?2 OR (at = ?2 AND id > ?3)) ORDER BY at, id",
    )?;
    let rows = stmt.query_map(params![person, at, id], row_to_punch)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, kind, at, device, source, hour_type, person, site) = row?;
        out.push(Punch {
            id,
            person_id: person,
            kind: kind.parse()?,
            at,
            device,
            source: source.parse()?,
            hour_type: hour_type.parse()?,
            site_id: site,
        });
    }
    Ok(out)
}

/// A person's corrections and week locks. An event that does not read is an error, not
/// skipped: these decide what payroll counts.
pub fn reviews_of(conn: &Connection, person: &str) -> Result<(Vec<Correction>, Vec<WeekLock>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, shift_id, week_start, at, by, body FROM reviews WHERE person = ?1",
    )?;
    let mut corrections = Vec::new();
    let mut locks = Vec::new();
    let rows = stmt.query_map([person], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    for row in rows {
        let (id, kind, shift_id, week, at, by, body) = row?;
        let body: serde_json::Value = serde_json::from_str(&body)
            .map_err(|_| Error::Corrupt("unreadable review event".into()))?;
        match (kind.as_str(), shift_id, week) {
            ("correction", Some(shift_id), _) => corrections.push(Correction {
                id,
                shift_id,
                start: body["start"].as_i64(),
                end: body["end"].as_i64(),
                hour_type: body["hour_type"].as_str().map(str::parse).transpose()?,
                break_seconds: body["break_seconds"].as_i64(),
                void: body["void"].as_bool().unwrap_or(false),
                reason: body["reason"].as_str().unwrap_or_default().to_string(),
                by,
                at,
            }),
            ("lock", _, Some(week)) => locks.push(WeekLock {
                week_start: week
                    .parse()
                    .map_err(|_| Error::Corrupt("unreadable week in a lock".into()))?,
                at,
            }),
            _ => {}
        }
    }
    Ok((corrections, locks))
}

/// Derive a person's shifts again and replace their cached rows.
///
/// With `since` (a punch's (at, id)), only shifts that can have changed are derived
/// again: state resets at every clock-out, so everything after the last clock-out
/// before `since` is re-derived and everything before it is left as it is.
pub fn rederive_person(conn: &Connection, person: &str, since: Option<(i64, &str)>) -> Result<()> {
    let tz = meta::coop_timezone(conn)?;
    let settings = meta::settings(conn)?;
    let (corrections, locks) = reviews_of(conn, person)?;
    let anchor: Option<(i64, String)> = match since {
        None => None,
        Some((at, id)) => conn
            .prepare_cached(
                "SELECT at, id FROM punches WHERE person = ?1 AND kind = 'clock_out'
                 AND (at < ?2 OR (at = ?2 AND id < ?3)) ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row(params![person, at, id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
    };
    let punches = punches_of(conn, person, anchor.as_ref().map(|(a, i)| (*a, i.as_str())))?;
    let derived = derive::derive_shifts(
        &punches,
        &corrections,
        &locks,
        settings.review_after_seconds,
        &tz,
    );
    match &anchor {
        None => {
            conn.prepare_cached("DELETE FROM shifts WHERE person = ?1")?
                .execute([person])?;
            conn.prepare_cached("DELETE FROM ignored_punches WHERE person = ?1")?
                .execute([person])?;
        }
        Some((at, id)) => {
            // Shifts opened after the anchoring clock-out (their clock-in is later).
            conn.prepare_cached("DELETE FROM shifts WHERE person = ?1 AND origin_at >= ?2 AND id IN (SELECT id FROM punches WHERE person = ?1 AND kind = 'clock_in' AND (at > ?2 OR (at = ?2 AND id > ?3)))")?
                .execute(params![person, at, id])?;
            conn.prepare_cached("DELETE FROM ignored_punches WHERE person = ?1 AND punch_id IN (SELECT id FROM punches WHERE person = ?1 AND (at > ?2 OR (at = ?2 AND id > ?3)))")?
                .execute(params![person, at, id])?;
        }
    }
    let origin: HashMap<&str, i64> = punches.iter().map(|p| (p.id.as_str(), p.at)).collect();
    let mut ins = conn.prepare_cached(
        "INSERT OR REPLACE INTO shifts (id, person, origin_at, hour_type, start, end, break_seconds,
            counted_seconds, status, local_date, duplicates)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for s in &derived.shifts {
        ins.execute(params![
            s.id,
            person,
            origin.get(s.id.as_str()).copied().unwrap_or(s.start),
            s.hour_type.as_str(),
            s.start,
            s.end,
            s.break_seconds,
            s.counted_seconds,
            s.status.as_str(),
            s.local_date,
            s.duplicate_punch_ids.join(","),
        ])?;
    }
    let mut ins = conn.prepare_cached(
        "INSERT OR REPLACE INTO ignored_punches (punch_id, person, at, reason) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for i in &derived.ignored {
        ins.execute(params![
            i.punch_id,
            person,
            origin.get(i.punch_id.as_str()).copied().unwrap_or(0),
            i.reason
        ])?;
    }
    Ok(())
}

/// The columns [`shift_from_row`] reads, in its order.
pub const SHIFT_COLUMNS: &str = "id, person, hour_type, start, end, break_seconds, counted_seconds, status, local_date, origin_at, duplicates";

/// A cached shift. A stored hour type or status that does not parse is an error (these
/// are payroll data: never guess "paid" or "needs review").
pub fn shift_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Shift> {
    fn parsed<T: std::str::FromStr<Err = Error>>(
        r: &rusqlite::Row<'_>,
        idx: usize,
    ) -> rusqlite::Result<T> {
        r.get::<_, String>(idx)?
            .parse()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
    }
    let dup: String = r.get(10)?;
    Ok(Shift {
        id: r.get(0)?,
        person_id: r.get(1)?,
        hour_type: parsed(r, 2)?,
        start: r.get(3)?,
        end: r.get(4)?,
        break_seconds: r.get(5)?,
        counted_seconds: r.get(6)?,
        status: parsed(r, 7)?,
        local_date: r.get(8)?,
        duplicate_punch_ids: if dup.is_empty() {
            vec![]
        } else {
            dup.split(',').map(str::to_string).collect()
        },
        // Column 9 is origin_at, not part of the public shape.
    })
}

/// The shift a punch id opened.
pub fn shift_by_id(conn: &Connection, shift_id: &str) -> Result<Option<Shift>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = ?1"))?
        .query_row([shift_id], shift_from_row)
        .optional()?)
}

/// The last shift a person opened at or before `at`: their state just before it.
pub fn last_shift_before(
    conn: &Connection,
    person: &str,
    at: UnixSeconds,
) -> Result<Option<Shift>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SHIFT_COLUMNS} FROM shifts WHERE person = ?1 AND origin_at <= ?2 ORDER BY origin_at DESC, id DESC LIMIT 1"
        ))?
        .query_row(params![person, at], shift_from_row)
        .optional()?)
}

/// The last punch this device holds for a person at or before `at` (kind, time).
pub fn last_punch_before(
    conn: &Connection,
    person: &str,
    at: UnixSeconds,
) -> Result<Option<(PunchKind, UnixSeconds)>> {
    let row: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT kind, at FROM punches WHERE person = ?1 AND at <= ?2 ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![person, at], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(k, t)| Ok((k.parse()?, t))).transpose()
}

/// Is a break open in the person's open shift? (Last break punch since clock-in.)
pub fn break_open(conn: &Connection, person: &str, since: UnixSeconds) -> Result<bool> {
    let last: Option<String> = conn
        .prepare_cached(
            "SELECT kind FROM punches WHERE person = ?1 AND at >= ?2 AND kind IN ('break_start','break_end')
             AND id NOT IN (SELECT punch_id FROM ignored_punches WHERE person = ?1)
             ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![person, since], |r| r.get(0))
        .optional()?;
    Ok(last.as_deref() == Some(PunchKind::BreakStart.as_str()))
}

/// Has the person's week (its Monday, `YYYY-MM-DD`) had a review event of this kind
/// (`approval` or `lock`)?
pub fn week_reviewed(
    conn: &Connection,
    person: &str,
    kind: &str,
    week_start: &str,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM reviews WHERE person = ?1 AND kind = ?2 AND week_start = ?3)",
        )?
        .query_row(params![person, kind, week_start], |r| r.get(0))?)
}

/// How many punches are counted as nothing, across everyone this device holds.
pub fn ignored_count(conn: &Connection) -> Result<u32> {
    Ok(
        conn.query_row("SELECT count(*) FROM ignored_punches", [], |r| {
            r.get::<_, i64>(0)
        })? as u32,
    )
}
