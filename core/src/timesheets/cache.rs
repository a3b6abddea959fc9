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

/// The punches of one punch document (no database: a first pull reads them in parallel).
///
/// The same as `autosurgeon::hydrate::<_, PunchesDoc>` (the tests hold them to it), read
/// one object at a time with `map_range` instead of one `get` per field: a first pull
/// reads every punch of five years, and this is about twice as fast.
pub(crate) fn read_punches(doc: &Automerge) -> Result<PunchesDoc> {
    use automerge::{ObjType, ReadDoc, ScalarValueRef as Scalar, Value, ValueRef};
    fn shape(what: &str) -> Error {
        Error::Hydrate(autosurgeon::HydrateError::unexpected(
            "a punch document's shape",
            what.to_string(),
        ))
    }
    // autosurgeon's `String` takes a string scalar only (a text object is refused).
    fn string(field: &automerge::iter::MapRangeItem<'_>) -> Result<String> {
        match &field.value {
            ValueRef::Scalar(Scalar::Str(s)) => Ok(s.to_string()),
            _ => Err(shape("a field that is not a string")),
        }
    }
    let mut out = PunchesDoc::default();
    let punches = match doc.get(automerge::ROOT, "punches")? {
        None => return Ok(out),
        Some((Value::Object(ObjType::Map | ObjType::Table), id)) => id,
        Some(_) => return Err(shape("punches that are not a map")),
    };
    for item in doc.map_range(&punches, ..) {
        if !matches!(item.value, ValueRef::Object(ObjType::Map | ObjType::Table)) {
            return Err(shape("a punch that is not a map"));
        }
        let (mut kind, mut at, mut device, mut source, mut hour_type) =
            (None, None, None, None, None);
        let mut site = None;
        for field in doc.map_range(item.id(), ..) {
            match field.key.as_ref() {
                "kind" => kind = Some(string(&field)?),
                "device" => device = Some(string(&field)?),
                "source" => source = Some(string(&field)?),
                "hour_type" => hour_type = Some(string(&field)?),
                "at" => match field.value {
                    ValueRef::Scalar(Scalar::Int(i)) => at = Some(i),
                    _ => return Err(shape("a time that is not an integer")),
                },
                "site" => match field.value {
                    ValueRef::Scalar(Scalar::Null) => {}
                    _ => site = Some(string(&field)?),
                },
                _ => {}
            }
        }
        let (Some(kind), Some(at), Some(device), Some(source), Some(hour_type)) =
            (kind, at, device, source, hour_type)
        else {
            return Err(shape("a punch with a field missing"));
        };
        let punch = PunchDoc {
            kind,
            at,
            device,
            source,
            hour_type,
            site,
        };
        out.punches.insert(item.key.into_owned(), punch);
    }
    Ok(out)
}

/// Replace the cached punches of one punch document with `d`'s.
pub(crate) fn write_punches(
    conn: &Connection,
    doc_id: &str,
    person: &str,
    d: &PunchesDoc,
) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT, ReadDoc, ScalarValue};
    use autosurgeon::reconcile;

    use super::*;

    fn punch(i: i64, site: Option<&str>) -> PunchDoc {
        PunchDoc {
            kind: if i % 2 == 0 { "clock_in" } else { "clock_out" }.into(),
            at: 1_700_000_000 + i * 3600,
            device: "dev-1".into(),
            source: "kiosk".into(),
            hour_type: "cpo".into(),
            site: site.map(str::to_string),
        }
    }

    #[test]
    fn read_punches_reads_what_autosurgeon_reads() {
        let mut doc = Automerge::new();
        let mut d = PunchesDoc::default();
        for i in 0..20 {
            d.punches
                .insert(format!("p-{i}"), punch(i, (i % 3 == 0).then_some("site-1")));
        }
        let mut tx = doc.transaction();
        reconcile(&mut tx, &d).unwrap();
        // A null site and an unknown field read as autosurgeon reads them.
        let punches = match tx.get(ROOT, "punches").unwrap() {
            Some((_, id)) => id,
            None => panic!("no punches map"),
        };
        let p = tx.put_object(&punches, "p-text", ObjType::Map).unwrap();
        for (k, v) in [
            ("kind", "clock_in"),
            ("device", "dev-2"),
            ("source", "phone"),
            ("hour_type", "paid"),
        ] {
            tx.put(&p, k, v).unwrap();
        }
        tx.put(&p, "at", 1_700_000_000i64).unwrap();
        tx.put(&p, "site", ScalarValue::Null).unwrap();
        tx.put(&p, "extra", "ignored").unwrap();
        tx.commit();
        let ours = read_punches(&doc).unwrap();
        let theirs: PunchesDoc = autosurgeon::hydrate(&doc).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.punches.len(), 21);
        assert_eq!(ours.punches["p-text"].hour_type, "paid");
        assert_eq!(ours.punches["p-text"].site, None);
        assert_eq!(
            read_punches(&Automerge::new()).unwrap(),
            PunchesDoc::default()
        );
    }

    #[test]
    fn read_punches_refuses_what_autosurgeon_refuses() {
        type Make = Box<dyn Fn(&mut automerge::transaction::Transaction<'_>)>;
        let cases: Vec<Make> = vec![
            Box::new(|tx| {
                tx.put(ROOT, "punches", "not a map").unwrap();
            }),
            Box::new(|tx| {
                let m = tx.put_object(ROOT, "punches", ObjType::Map).unwrap();
                tx.put(&m, "p-1", 5i64).unwrap();
            }),
            Box::new(|tx| {
                let m = tx.put_object(ROOT, "punches", ObjType::Map).unwrap();
                let p = tx.put_object(&m, "p-1", ObjType::Map).unwrap();
                for k in ["kind", "device", "source", "hour_type"] {
                    tx.put(&p, k, "x").unwrap();
                }
                // An unsigned time: autosurgeon's i64 takes signed integers only.
                tx.put(&p, "at", ScalarValue::Uint(5)).unwrap();
            }),
            Box::new(|tx| {
                let m = tx.put_object(ROOT, "punches", ObjType::Map).unwrap();
                let p = tx.put_object(&m, "p-1", ObjType::Map).unwrap();
                for k in ["kind", "device", "source"] {
                    tx.put(&p, k, "x").unwrap();
                }
                tx.put(&p, "at", 5i64).unwrap();
            }),
            Box::new(|tx| {
                let m = tx.put_object(ROOT, "punches", ObjType::Map).unwrap();
                let p = tx.put_object(&m, "p-1", ObjType::Map).unwrap();
                for k in ["kind", "device", "source", "hour_type"] {
                    tx.put(&p, k, "x").unwrap();
                }
                tx.put(&p, "at", 5i64).unwrap();
                tx.put(&p, "site", 7i64).unwrap();
            }),
            Box::new(|tx| {
                // A string field written as a text object.
                let m = tx.put_object(ROOT, "punches", ObjType::Map).unwrap();
                let p = tx.put_object(&m, "p-1", ObjType::Map).unwrap();
                for k in ["kind", "device", "source"] {
                    tx.put(&p, k, "x").unwrap();
                }
                let t = tx.put_object(&p, "hour_type", ObjType::Text).unwrap();
                tx.splice_text(&t, 0, 0, "paid").unwrap();
                tx.put(&p, "at", 5i64).unwrap();
            }),
        ];
        for (i, make) in cases.iter().enumerate() {
            let mut doc = Automerge::new();
            let mut tx = doc.transaction();
            make(&mut tx);
            tx.commit();
            assert!(
                autosurgeon::hydrate::<_, PunchesDoc>(&doc).is_err(),
                "case {i}: autosurgeon"
            );
            assert!(
                matches!(read_punches(&doc), Err(Error::Hydrate(_))),
                "case {i}: read_punches"
            );
        }
    }
}
