//! The coordinators' review: correcting a shift, approving and locking a week, and the
//! audit trail. Every edit is an event in the review document of the coordinator's
//! device, and a correction carries what the shift was before, so the audit trail is
//! the data itself.

use logbook_protocol::Scope;
use rusqlite::params;

use super::cache;
use super::derive;
use super::doc::ReviewEventDoc;
use super::{Timesheets, parse_date};
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::model::{HourType, Shift, UnixSeconds};
use crate::observer::ChangeOrigin;
use crate::store::documents;
use crate::store::writer::Writer;

/// One entry of a shift's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuditEntry {
    pub event_id: String,
    /// `correction`, `approval` or `lock`.
    pub kind: String,
    pub by: String,
    pub at: UnixSeconds,
    pub reason: String,
    /// The shift as it was before, as JSON (corrections only).
    pub before: Option<String>,
    /// What the correction set, as JSON (corrections only).
    pub change: Option<String>,
}

/// What a coordinator changes about a shift. `None` keeps the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ShiftCorrection {
    pub start: Option<UnixSeconds>,
    pub end: Option<UnixSeconds>,
    pub hour_type: Option<HourType>,
    pub break_seconds: Option<i64>,
    pub void: bool,
    pub reason: String,
}

/// How far a person's week has been reviewed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WeekState {
    /// A coordinator approved it (it can still be corrected).
    pub approved: bool,
    /// A coordinator locked it: no more taps or corrections.
    pub locked: bool,
}

impl Timesheets<'_> {
    fn shift_by_id(&self, shift_id: &str) -> Result<Shift> {
        self.lb
            .store
            .read(|c| cache::shift_by_id(c, shift_id))?
            .ok_or_else(|| Error::not_found(format!("unknown shift {shift_id}")))
    }

    /// A coordinator corrects a shift. The correction is an event: the shift as it was
    /// stays in the audit trail.
    pub fn correct_shift(&self, shift_id: &str, fix: ShiftCorrection) -> Result<String> {
        let access = self.lb.access();
        access.require_coordinator()?;
        let shift = self.shift_by_id(shift_id)?;
        access.require_write(&Scope::Review(shift.person_id.clone()))?;
        if fix.reason.trim().is_empty() {
            return Err(Error::invalid("a correction needs a reason"));
        }
        if let (Some(s), Some(e)) = (fix.start.or(Some(shift.start)), fix.end.or(shift.end))
            && e <= s
        {
            return Err(Error::invalid("a shift must end after it starts"));
        }
        let week = derive::week_start(
            shift
                .local_date
                .parse()
                .map_err(|_| Error::Corrupt("bad date".into()))?,
        )
        .to_string();
        let id = new_id("r");
        let by = self.lb.actor_label();
        let before = serde_json::to_string(&shift).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            if cache::week_reviewed(&w.tx, &shift.person_id, "lock", &week)? {
                return Err(Error::conflict("that week is locked"));
            }
            let event = ReviewEventDoc {
                kind: "correction".into(),
                shift_id: Some(shift_id.to_string()),
                start: fix.start,
                end: fix.end,
                hour_type: fix.hour_type.map(|h| h.as_str().to_string()),
                break_seconds: fix.break_seconds,
                void: fix.void,
                week_start: None,
                reason: fix.reason.trim().to_string(),
                before: Some(before),
                by,
                at: w.now,
            };
            append_event(w, &shift.person_id, &id, &event)
        })?;
        Ok(id)
    }

    /// Approve (or lock) the week containing `date` for the given people (everyone with
    /// shifts that week if empty). Returns the review event ids.
    pub fn review_week(&self, date: &str, people: &[String], lock: bool) -> Result<Vec<String>> {
        let access = self.lb.access();
        access.require_coordinator()?;
        let week = derive::week_start(parse_date(date)?);
        let week_end = week.checked_add(jiff::Span::new().days(6)).unwrap_or(week);
        let people: Vec<String> = if people.is_empty() {
            self.lb.store.read(|c| {
                let mut stmt = c.prepare_cached("SELECT DISTINCT person FROM shifts WHERE local_date >= ?1 AND local_date <= ?2 ORDER BY person")?;
                let rows = stmt.query_map(params![week.to_string(), week_end.to_string()], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })?
        } else {
            let directory = self.lb.directory();
            for p in people {
                directory.person(p)?;
            }
            people.to_vec()
        };
        for p in &people {
            access.require_write(&Scope::Review(p.clone()))?;
        }
        let by = self.lb.actor_label();
        let kind = if lock { "lock" } else { "approval" };
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let mut ids = Vec::new();
            for p in &people {
                let id = new_id("r");
                let event = ReviewEventDoc {
                    kind: kind.into(),
                    week_start: Some(week.to_string()),
                    by: by.clone(),
                    at: w.now,
                    ..Default::default()
                };
                append_event(w, p, &id, &event)?;
                ids.push(id);
            }
            Ok(ids)
        })
    }

    /// The review state of the week containing `date`, for a person.
    pub fn week_state(&self, person_id: &str, date: &str) -> Result<WeekState> {
        let week = derive::week_start(parse_date(date)?).to_string();
        self.lb.store.read(|c| {
            Ok(WeekState {
                approved: cache::week_reviewed(c, person_id, "approval", &week)?,
                locked: cache::week_reviewed(c, person_id, "lock", &week)?,
            })
        })
    }

    /// Every edit to a shift: who, when, what it was before, what changed.
    pub fn shift_history(&self, shift_id: &str) -> Result<Vec<AuditEntry>> {
        let shift = self.shift_by_id(shift_id)?;
        self.lb
            .access()
            .require_read(&Scope::Review(shift.person_id.clone()))?;
        self.lb.store.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, kind, by, at, body FROM reviews WHERE shift_id = ?1 ORDER BY at, id",
            )?;
            let rows = stmt.query_map([shift_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (event_id, kind, by, at, body) = row?;
                let mut body: serde_json::Value = serde_json::from_str(&body)
                    .map_err(|_| Error::Corrupt("unreadable review event".into()))?;
                let before = body["before"].as_str().map(str::to_string);
                let reason = body["reason"].as_str().unwrap_or_default().to_string();
                if let Some(o) = body.as_object_mut() {
                    o.remove("before");
                    o.remove("reason");
                }
                out.push(AuditEntry {
                    event_id,
                    kind,
                    by,
                    at,
                    reason,
                    before,
                    change: Some(body.to_string()),
                });
            }
            Ok(out)
        })
    }
}

/// Append a review event to this device's review document for the person and the
/// year of the write.
fn append_event(w: &mut Writer<'_>, person: &str, id: &str, event: &ReviewEventDoc) -> Result<()> {
    let year = jiff::Timestamp::from_second(w.now)
        .map_err(|_| Error::invalid("time out of range"))?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    let doc_id = documents::review_doc(person, year, w.device_key());
    w.change(&doc_id, |t| {
        let events = documents::container(t, "events")?;
        autosurgeon::reconcile_prop(t, &events, id, event)?;
        Ok(())
    })
}
