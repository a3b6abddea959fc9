//! The CPO cache: one row per order, and the sums of CPO hours behind its progress.

use automerge::Automerge;
use rusqlite::{Connection, params};

use super::doc::CpoDoc;
use crate::error::Result;
use crate::model::{CpoOrder, HourType};

/// Replace the row of one order document (an order missing a field is not shown).
pub(crate) fn project_order(
    conn: &Connection,
    doc_id: &str,
    person: &str,
    doc: &Automerge,
) -> Result<()> {
    let d: CpoDoc = autosurgeon::hydrate(doc)?;
    conn.execute("DELETE FROM cpo_orders WHERE doc = ?1", [doc_id])?;
    let order = doc_id.rsplit('/').next().unwrap_or_default();
    if let (Some(h), Some(s), Some(dl), Some(cap)) = (
        d.hours_ordered,
        d.start_date,
        d.deadline,
        d.other_activity_cap_minutes,
    ) {
        conn.execute(
            "INSERT INTO cpo_orders (id, doc, person, hours_ordered, start_date, deadline, cap_minutes, created_at, spent_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![order, doc_id, person, h, s, dl, cap, d.created_at.unwrap_or(0), d.spent_on],
        )?;
    }
    Ok(())
}

pub fn orders(conn: &Connection, person: &str) -> Result<Vec<CpoOrder>> {
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

/// Counted seconds of one hour type on local dates `from..until` (until exclusive).
pub(crate) fn counted_seconds(
    conn: &Connection,
    person: &str,
    hour_type: HourType,
    from: &str,
    until: &str,
) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(sum(counted_seconds), 0) FROM shifts
             WHERE person = ?1 AND hour_type = ?2 AND local_date >= ?3 AND local_date < ?4",
        )?
        .query_row(params![person, hour_type.as_str(), from, until], |r| {
            r.get(0)
        })?)
}
