//! The cache: plain tables derived from the documents, indexed for screens and reports.
//! `refresh_doc` replaces the rows one document contributes; `rederive_person` re-runs
//! the shift derivation for a person from the cached punches and review events.
//! Everything here can be thrown away and rebuilt from the chunks (`rebuild`).

use std::collections::BTreeSet;

use automerge::Automerge;
use jiff::tz::TimeZone;
use rusqlite::{Connection, params};

use crate::derive::{self, WeekLock};
use crate::docs::{self, DocKind};
use crate::error::{Error, Result};
use crate::model::{Correction, HourType, Punch, PunchKind, PunchSource, Shift, UnixSeconds};

/// Tables holding rows derived from one document, keyed by that document's id.
const PER_DOC_TABLES: &[&str] = &[
    "punches",
    "reviews",
    "training",
    "induction",
    "cpo_orders",
    "note_threads",
];

/// Every cache table, cleared by a rebuild.
const CACHE_TABLES: &[&str] = &[
    "people",
    "sites",
    "courses",
    "roster",
    "profiles",
    "punches",
    "reviews",
    "shifts",
    "ignored_punches",
    "training",
    "induction",
    "cpo_orders",
    "note_threads",
];

/// Replace the cached rows of one document. Returns the people whose shifts must be
/// derived again (the document held their punches or review events).
pub fn refresh_doc(conn: &Connection, doc_id: &str, doc: &Automerge) -> Result<Option<String>> {
    let kind = DocKind::of(doc_id)?;
    let person = docs::doc_person(doc_id);
    let person_ref = person.as_deref().unwrap_or_default();
    match kind {
        DocKind::Directory => {
            let dir: docs::DirectoryDoc = autosurgeon::hydrate(doc)?;
            conn.execute("DELETE FROM people", [])?;
            conn.execute("DELETE FROM sites", [])?;
            conn.execute("DELETE FROM courses", [])?;
            let mut ins = conn.prepare_cached(
                "INSERT INTO people (id, name, roles, sites, active) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (id, p) in &dir.people {
                ins.execute(params![
                    id,
                    p.name,
                    p.roles.join(","),
                    p.sites.join(","),
                    p.active
                ])?;
            }
            let mut ins = conn.prepare_cached("INSERT INTO sites (id, name) VALUES (?1, ?2)")?;
            for (id, s) in &dir.sites {
                ins.execute(params![id, s.name])?;
            }
            let mut ins = conn.prepare_cached(
                "INSERT INTO courses (id, name, review_months) VALUES (?1, ?2, ?3)",
            )?;
            for (id, c) in &dir.courses {
                ins.execute(params![id, c.name, c.review_months])?;
            }
            let meta = |k: &str, v: Option<String>| -> Result<()> {
                if let Some(v) = v {
                    crate::db::set_meta(conn, k, &v)?;
                }
                Ok(())
            };
            meta("coop_name", dir.coop_name.clone())?;
            meta("timezone", dir.timezone.clone())?;
            let settings = crate::model::Settings {
                review_after_seconds: dir.review_after_seconds.unwrap_or(16 * 3600),
                pin_max_failures: dir.pin_max_failures.map_or(5, |v| v.clamp(1, 100) as u32),
                pin_lockout_seconds: dir.pin_lockout_seconds.unwrap_or(15 * 60),
                disadvantaged_min_percent: dir
                    .disadvantaged_min_percent
                    .map_or(30, |v| v.clamp(0, 100) as u32),
            };
            meta(
                "settings",
                Some(serde_json::to_string(&settings).map_err(|e| Error::Corrupt(e.to_string()))?),
            )?;
            Ok(None)
        }
        DocKind::Roster => {
            let site = doc_id
                .split_once('/')
                .and_then(|(s, _)| s.strip_prefix("site:"))
                .unwrap_or_default();
            let roster: docs::RosterDoc = autosurgeon::hydrate(doc)?;
            conn.execute("DELETE FROM roster WHERE site = ?1", [site])?;
            let mut ins = conn.prepare_cached(
                "INSERT INTO roster (site, person, name, pin, active) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (person, m) in &roster.members {
                ins.execute(params![site, person, m.name, m.pin, m.active])?;
            }
            Ok(None)
        }
        DocKind::Punches => {
            let d: docs::PunchesDoc = autosurgeon::hydrate(doc)?;
            conn.prepare_cached("DELETE FROM punches WHERE doc = ?1")?
                .execute([doc_id])?;
            let mut ins = conn.prepare_cached(
                "INSERT OR REPLACE INTO punches (id, doc, person, kind, at, device, source, hour_type, site)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for (id, p) in &d.punches {
                ins.execute(params![
                    id,
                    doc_id,
                    person_ref,
                    p.kind,
                    p.at,
                    p.device,
                    p.source,
                    p.hour_type,
                    p.site
                ])?;
            }
            Ok(person)
        }
        DocKind::Review => {
            let d: docs::ReviewDoc = autosurgeon::hydrate(doc)?;
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
                    person_ref,
                    e.kind,
                    e.shift_id,
                    e.week_start,
                    e.at,
                    e.by,
                    body.to_string()
                ])?;
            }
            Ok(person)
        }
        DocKind::Training => {
            let d: docs::TrainingDoc = autosurgeon::hydrate(doc)?;
            conn.execute("DELETE FROM training WHERE doc = ?1", [doc_id])?;
            conn.execute("DELETE FROM induction WHERE doc = ?1", [doc_id])?;
            let mut ins = conn.prepare_cached(
                "INSERT INTO training (id, doc, person, course_id, course_name, date, minutes, provider,
                    certificate_ref, expires_on, trainee_signed_at, supervisor_signed_at, supervisor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for (id, t) in &d.records {
                ins.execute(params![
                    id,
                    doc_id,
                    person_ref,
                    t.course_id,
                    t.course_name,
                    t.date,
                    t.minutes,
                    t.provider,
                    t.certificate_ref,
                    t.expires_on,
                    t.trainee_signed_at,
                    t.supervisor_signed_at,
                    t.supervisor
                ])?;
            }
            let mut ins = conn.prepare_cached(
                "INSERT INTO induction (id, doc, person, label, trainee_signed_at, supervisor_signed_at, supervisor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (id, i) in &d.induction {
                ins.execute(params![
                    id,
                    doc_id,
                    person_ref,
                    i.label,
                    i.trainee_signed_at,
                    i.supervisor_signed_at,
                    i.supervisor
                ])?;
            }
            Ok(None)
        }
        DocKind::Profile => {
            let d: docs::ProfileDoc = autosurgeon::hydrate(doc)?;
            conn.execute("DELETE FROM profiles WHERE person = ?1", [person_ref])?;
            if let Some(flag) = d.disadvantaged {
                conn.execute(
                    "INSERT INTO profiles (person, disadvantaged) VALUES (?1, ?2)",
                    params![person_ref, flag],
                )?;
            }
            Ok(None)
        }
        DocKind::Cpo => {
            let d: docs::CpoDoc = autosurgeon::hydrate(doc)?;
            conn.execute("DELETE FROM cpo_orders WHERE doc = ?1", [doc_id])?;
            let order = doc_id.rsplit('/').next().unwrap_or_default();
            if let (Some(h), Some(s), Some(dl), Some(cap)) = (
                d.hours_ordered,
                d.start_date,
                d.deadline,
                d.other_activity_cap_minutes,
            ) {
                conn.execute(
                    "INSERT INTO cpo_orders (id, doc, person, hours_ordered, start_date, deadline, cap_minutes, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![order, doc_id, person_ref, h, s, dl, cap, d.created_at.unwrap_or(0)],
                )?;
            }
            Ok(None)
        }
        DocKind::Notes => {
            let d: docs::NotesDoc = autosurgeon::hydrate(doc)?;
            conn.execute("DELETE FROM note_threads WHERE doc = ?1", [doc_id])?;
            let thread = doc_id.rsplit('/').next().unwrap_or_default();
            let updated = d
                .entries
                .values()
                .map(|e| e.edited_at.unwrap_or(e.created_at))
                .max()
                .unwrap_or(0);
            conn.execute(
                "INSERT INTO note_threads (id, doc, person, created_at, updated_at, entries)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    thread,
                    doc_id,
                    person_ref,
                    d.created_at.unwrap_or(0),
                    updated,
                    d.entries.len() as i64
                ],
            )?;
            Ok(None)
        }
    }
}

/// Remove every cached row that came from one document (used when it is erased).
pub fn forget_doc(conn: &Connection, doc_id: &str) -> Result<Option<String>> {
    for table in PER_DOC_TABLES {
        conn.execute(&format!("DELETE FROM {table} WHERE doc = ?1"), [doc_id])?;
    }
    let person = docs::doc_person(doc_id);
    match DocKind::of(doc_id)? {
        DocKind::Profile => {
            conn.execute(
                "DELETE FROM profiles WHERE person = ?1",
                [person.as_deref()],
            )?;
            Ok(None)
        }
        DocKind::Punches | DocKind::Review => Ok(person),
        _ => Ok(None),
    }
}

pub fn clear_cache(conn: &Connection) -> Result<()> {
    for table in CACHE_TABLES {
        conn.execute(&format!("DELETE FROM {table}"), [])?;
    }
    Ok(())
}

pub fn coop_timezone(conn: &Connection) -> Result<TimeZone> {
    let name = crate::db::get_meta(conn, "timezone")?.unwrap_or_else(|| "UTC".into());
    TimeZone::get(&name).map_err(|_| Error::Corrupt("unknown time zone in the directory".into()))
}

pub fn settings(conn: &Connection) -> Result<crate::model::Settings> {
    Ok(crate::db::get_meta(conn, "settings")?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
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
            source: source.parse::<PunchSource>()?,
            hour_type: hour_type
                .parse::<HourType>()
                .map_err(|_| Error::Corrupt("unknown hour type".into()))?,
            site_id: site,
        });
    }
    Ok(out)
}

/// A person's corrections and week locks.
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
        let body: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| Error::Corrupt(e.to_string()))?;
        match (kind.as_str(), shift_id, week) {
            ("correction", Some(shift_id), _) => corrections.push(Correction {
                id,
                shift_id,
                start: body["start"].as_i64(),
                end: body["end"].as_i64(),
                hour_type: body["hour_type"].as_str().and_then(|t| t.parse().ok()),
                break_seconds: body["break_seconds"].as_i64(),
                void: body["void"].as_bool().unwrap_or(false),
                reason: body["reason"].as_str().unwrap_or_default().to_string(),
                by,
                at,
            }),
            ("lock", _, Some(week)) => {
                if let Ok(week_start) = week.parse() {
                    locks.push(WeekLock { week_start, at });
                }
            }
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
    let tz = coop_timezone(conn)?;
    let settings = settings(conn)?;
    let (corrections, locks) = reviews_of(conn, person)?;
    let anchor: Option<(i64, String)> = match since {
        None => None,
        Some((at, id)) => conn
            .prepare_cached(
                "SELECT at, id FROM punches WHERE person = ?1 AND kind = 'clock_out'
                 AND (at < ?2 OR (at = ?2 AND id < ?3)) ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row(params![person, at, id], |r| Ok((r.get(0)?, r.get(1)?)))
            .ok(),
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
        Some((at, _)) => {
            // Shifts opened after the anchoring clock-out (their clock-in is later).
            conn.prepare_cached("DELETE FROM shifts WHERE person = ?1 AND origin_at >= ?2 AND id IN (SELECT id FROM punches WHERE person = ?1 AND kind = 'clock_in' AND (at > ?2 OR (at = ?2 AND id > ?3)))")?
                .execute(params![person, at, anchor.as_ref().map(|(_, i)| i.as_str())])?;
            conn.prepare_cached("DELETE FROM ignored_punches WHERE person = ?1 AND punch_id IN (SELECT id FROM punches WHERE person = ?1 AND (at > ?2 OR (at = ?2 AND id > ?3)))")?
                .execute(params![person, at, anchor.as_ref().map(|(_, i)| i.as_str())])?;
        }
    }
    let origin: std::collections::HashMap<&str, i64> =
        punches.iter().map(|p| (p.id.as_str(), p.at)).collect();
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

/// Every person with cached punches.
pub fn people_with_punches(conn: &Connection) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT person FROM punches")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn shift_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Shift> {
    let dup: String = r.get(10)?;
    Ok(Shift {
        id: r.get(0)?,
        person_id: r.get(1)?,
        hour_type: r.get::<_, String>(2)?.parse().unwrap_or(HourType::Paid),
        start: r.get(3)?,
        end: r.get(4)?,
        break_seconds: r.get(5)?,
        counted_seconds: r.get(6)?,
        status: r
            .get::<_, String>(7)?
            .parse()
            .unwrap_or(crate::model::ShiftStatus::NeedsReview),
        local_date: r.get(8)?,
        duplicate_punch_ids: if dup.is_empty() {
            vec![]
        } else {
            dup.split(',').map(str::to_string).collect()
        },
        // Column 9 is origin_at, not part of the public shape.
    })
}

pub const SHIFT_COLUMNS: &str = "id, person, hour_type, start, end, break_seconds, counted_seconds, status, local_date, origin_at, duplicates";

/// Is a break open in the person's open shift? (Last break punch since clock-in.)
pub fn break_open(conn: &Connection, person: &str, since: UnixSeconds) -> Result<bool> {
    let last: Option<String> = conn
        .prepare_cached(
            "SELECT kind FROM punches WHERE person = ?1 AND at >= ?2 AND kind IN ('break_start','break_end')
             AND id NOT IN (SELECT punch_id FROM ignored_punches WHERE person = ?1)
             ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![person, since], |r| r.get(0))
        .ok();
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
