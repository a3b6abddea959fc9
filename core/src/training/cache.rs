//! The training cache: training records and induction items of each person's training
//! document, and the courses query.

use std::collections::BTreeMap;

use automerge::Automerge;
use rusqlite::{Connection, params};

use super::doc::TrainingDoc;
use crate::error::Result;
use crate::model::{InductionItem, TrainingCourse, TrainingRecord};

/// Replace the rows of one person's training document.
pub(crate) fn project_training(
    conn: &Connection,
    doc_id: &str,
    person: &str,
    doc: &Automerge,
) -> Result<()> {
    let d: TrainingDoc = autosurgeon::hydrate(doc)?;
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
            person,
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
            person,
            i.label,
            i.trainee_signed_at,
            i.supervisor_signed_at,
            i.supervisor
        ])?;
    }
    Ok(())
}

pub(crate) fn courses(conn: &Connection) -> Result<Vec<TrainingCourse>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name, review_months FROM courses ORDER BY name, id")?;
    let rows = stmt.query_map([], |r| {
        Ok(TrainingCourse {
            id: r.get(0)?,
            name: r.get(1)?,
            review_months: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Training records, of one person or everyone, optionally only those whose certificate
/// expires by a date (then only the latest record per person and course).
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

pub(crate) fn induction(conn: &Connection, person: &str) -> Result<Vec<InductionItem>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, person, label, trainee_signed_at, supervisor_signed_at, supervisor FROM induction WHERE person = ?1 ORDER BY label",
    )?;
    let rows = stmt.query_map([person], |r| {
        Ok(InductionItem {
            id: r.get(0)?,
            person_id: r.get(1)?,
            label: r.get(2)?,
            trainee_signed_at: r.get(3)?,
            supervisor_signed_at: r.get(4)?,
            supervisor: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
