//! Subject access: everything this device holds about a person, in one readable JSON
//! document. What this device may not read is simply not part of it.

use crate::error::{Error, Result};

use super::Reports;

impl Reports<'_> {
    /// Everything this device holds about a person, readable (subject access).
    pub fn export_person(&self, person_id: &str) -> Result<serde_json::Value> {
        let person = self.lb.directory().person(person_id)?;
        let mut out = serde_json::json!({
            "format": "co-op-logbook subject access export, version 1",
            "exported_at": jiff::Timestamp::from_second(self.lb.store.now()).map(|t| t.to_string()).unwrap_or_default(),
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
            self.lb
                .timesheets()
                .shifts(person_id, None, None)
                .and_then(|s| j(serde_json::to_value(s))),
        )?;
        put(
            &mut out,
            "ignored_punches",
            self.lb
                .timesheets()
                .ignored_punches(person_id)
                .and_then(|s| j(serde_json::to_value(s))),
        )?;
        let punches = self.lb.timesheets().punches(person_id);
        put(
            &mut out,
            "punches",
            self.lb
                .timesheets()
                .shifts(person_id, None, None)
                .and(punches)
                .and_then(|p| j(serde_json::to_value(p))),
        )?;
        let reviews = self.lb.store.read(|c| {
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
            self.lb
                .timesheets()
                .shifts(person_id, None, None)
                .and(reviews),
        )?;
        put(
            &mut out,
            "training",
            self.lb
                .training()
                .records(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        put(
            &mut out,
            "induction",
            self.lb
                .training()
                .induction(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        put(
            &mut out,
            "cpo_orders",
            self.lb
                .cpo()
                .progress(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        put(
            &mut out,
            "notes",
            self.lb
                .notes()
                .threads(person_id)
                .and_then(|t| j(serde_json::to_value(t))),
        )?;
        out["consent_to_coordinator_notes"] =
            serde_json::json!(self.lb.notes().consent(person_id)?);
        Ok(out)
    }
}
