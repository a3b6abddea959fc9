//! Timesheets: punches (clock in, clock out, breaks), the shifts derived from them, and
//! the coordinators' review (corrections, approvals, week locks, audit trail).
//!
//! - [`taps`]: the rules a tap must pass (one place).
//! - [`derive`]: the one pure function from punches and review events to shifts.
//! - [`review`]: corrections, approvals and locks, the audit trail, week state.
//! - [`doc`]: the punch and review documents. [`cache`]: their rows and derived shifts.

pub mod cache;
pub mod derive;
pub mod doc;
pub mod review;
pub mod taps;

pub use review::{AuditEntry, ShiftCorrection, WeekState};

use std::collections::BTreeMap;

use logbook_protocol::Scope;

use crate::error::{Error, Result};
use crate::ids::new_punch_id;
use crate::logbook::Logbook;
use crate::model::{HourType, IgnoredPunch, Punch, PunchKind, PunchSource, Shift, UnixSeconds};
use crate::observer::ChangeOrigin;
use crate::store::{documents, meta};
use doc::PunchDoc;
use taps::Knowledge;

/// `logbook.timesheets()`.
#[derive(Clone, Copy)]
pub struct Timesheets<'a> {
    lb: &'a Logbook,
}

impl<'a> Timesheets<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Timesheets<'a> {
        Timesheets { lb }
    }

    /// Clock in, out or take a break now, as this device (the source follows its role).
    /// On a kiosk this is refused: kiosk taps need the person's PIN (`kiosk().punch`).
    pub fn tap(
        &self,
        person_id: &str,
        kind: PunchKind,
        hour_type: Option<HourType>,
    ) -> Result<String> {
        let source = self.punch_source()?;
        self.punch(person_id, kind, None, hour_type, None, source)
    }

    /// Record a punch at `at` (default now). Refused (nothing written) if the person is
    /// unknown, the hour type is given on anything but a clock-in, the tap contradicts
    /// what this device knows of the person's state, or this device is a kiosk (kiosk
    /// taps go through the PIN pad). Durable when it returns.
    pub fn punch(
        &self,
        person_id: &str,
        kind: PunchKind,
        at: Option<UnixSeconds>,
        hour_type: Option<HourType>,
        site_id: Option<&str>,
        source: PunchSource,
    ) -> Result<String> {
        let access = self.lb.access();
        access.require_not_kiosk_for_taps()?;
        self.record(&access, person_id, kind, at, hour_type, site_id, source)
    }

    /// Where a tap on this device comes from, by its role.
    pub fn punch_source(&self) -> Result<PunchSource> {
        Ok(self.lb.access().punch_source())
    }

    /// Record a punch after the caller's own checks (the kiosk's PIN): the tap rules,
    /// then the write, in one transaction. `access` is the grant the caller read once.
    ///
    /// The hot path: the month's document comes from the document cache, the change
    /// adds one punch, and the cache gets that one punch row (the rest of the document
    /// is not projected again); shifts are derived again from this punch on.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        &self,
        access: &crate::access::Access,
        person_id: &str,
        kind: PunchKind,
        at: Option<UnixSeconds>,
        hour_type: Option<HourType>,
        site_id: Option<&str>,
        source: PunchSource,
    ) -> Result<String> {
        let scope = Scope::Timesheet(person_id.to_string());
        access.require_write(&scope)?;
        taps::check_hour_type(kind, hour_type)?;
        let at = at.unwrap_or_else(|| self.lb.store.now());
        let month = month_of(at)?;
        let knows = if access.reads(&scope) {
            Knowledge::Everything
        } else {
            Knowledge::OwnTapsOnly
        };
        let device = self.lb.device_key();
        let doc_id = documents::punches_doc(person_id, &month, &device);
        let id = new_punch_id();
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let Some(default_site) = crate::directory::cache::default_site(&w.tx, person_id)?
            else {
                return Err(Error::not_found(format!("unknown person {person_id}")));
            };
            let settings = meta::settings(&w.tx)?;
            let tz = meta::coop_timezone(&w.tx)?;
            taps::check_tap(&w.tx, person_id, kind, at, knows, &settings, &tz)?;
            let punch = PunchDoc {
                kind: kind.as_str().into(),
                at,
                device: device.clone(),
                source: source.as_str().into(),
                hour_type: hour_type.unwrap_or(HourType::Paid).as_str().into(),
                site: site_id.map(str::to_string).or(default_site),
            };
            w.change_projected(
                &doc_id,
                |t| {
                    let punches = documents::container(t, "punches")?;
                    autosurgeon::reconcile_prop(t, &punches, id.as_str(), &punch)?;
                    Ok(())
                },
                |c| {
                    cache::insert_punch(c, &doc_id, person_id, &id, &punch)?;
                    Ok(Some(person_id.to_string()))
                },
            )?;
            w.narrow_rederive(person_id, at, &id);
            Ok(())
        })?;
        Ok(id)
    }

    /// A person's shifts with local dates in `from..=to` (all if not given), with their
    /// status as of now (an old open shift reads as needing review).
    pub fn shifts(
        &self,
        person_id: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Shift>> {
        self.lb
            .access()
            .require_read(&Scope::Timesheet(person_id.to_string()))?;
        let from = from
            .map(parse_date)
            .transpose()?
            .map(|d| d.to_string())
            .unwrap_or_default();
        let to = to
            .map(parse_date)
            .transpose()?
            .map(|d| d.to_string())
            .unwrap_or_else(|| "9999-12-31".into());
        let t = self.lb.store.now();
        self.lb.store.read(|c| {
            let settings = meta::settings(c)?;
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {} FROM shifts WHERE person = ?1 AND local_date >= ?2 AND local_date <= ?3 ORDER BY origin_at, id",
                cache::SHIFT_COLUMNS
            ))?;
            let rows = stmt.query_map(rusqlite::params![person_id, from, to], cache::shift_from_row)?;
            let mut out = Vec::new();
            for row in rows {
                let mut s = row?;
                s.status = derive::classify_open(&s, t, settings.review_after_seconds);
                out.push(s);
            }
            Ok(out)
        })
    }

    /// Punches counted as nothing (duplicates), with the reason.
    pub fn ignored_punches(&self, person_id: &str) -> Result<Vec<IgnoredPunch>> {
        self.lb
            .access()
            .require_read(&Scope::Timesheet(person_id.to_string()))?;
        self.lb.store.read(|c| {
            let mut stmt = c.prepare_cached("SELECT punch_id, reason FROM ignored_punches WHERE person = ?1 ORDER BY at, punch_id")?;
            let rows = stmt.query_map([person_id], |r| Ok(IgnoredPunch { punch_id: r.get(0)?, reason: r.get(1)? }))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// A person's punches as this device holds them (subject access).
    pub fn punches(&self, person_id: &str) -> Result<Vec<Punch>> {
        self.lb
            .access()
            .require_read(&Scope::Timesheet(person_id.to_string()))?;
        self.lb
            .store
            .read(|c| cache::punches_of(c, person_id, None))
    }

    /// Bulk import of historical punches (e.g. from paper timesheets or another system):
    /// one change per person and month, one transaction. Taps are not checked against
    /// the person's state: the derivation marks duplicates as it always does.
    pub fn import_punches(&self, punches: &[Punch]) -> Result<u64> {
        let access = self.lb.access();
        access.require_coordinator()?;
        let device = self.lb.device_key();
        let mut by_doc: BTreeMap<String, Vec<&Punch>> = BTreeMap::new();
        for p in punches {
            if logbook_protocol::validate_entity_id(&p.person_id).is_err() {
                return Err(Error::invalid("invalid person id"));
            }
            access.require_write(&Scope::Timesheet(p.person_id.clone()))?;
            by_doc
                .entry(documents::punches_doc(
                    &p.person_id,
                    &month_of(p.at)?,
                    &device,
                ))
                .or_default()
                .push(p);
        }
        self.lb.store.write(ChangeOrigin::Local, |w| {
            for (doc_id, ps) in &by_doc {
                w.change(doc_id, |t| {
                    let container = documents::container(t, "punches")?;
                    for p in ps {
                        autosurgeon::reconcile_prop(
                            t,
                            &container,
                            p.id.as_str(),
                            PunchDoc {
                                kind: p.kind.as_str().into(),
                                at: p.at,
                                device: p.device.clone(),
                                source: p.source.as_str().into(),
                                hour_type: p.hour_type.as_str().into(),
                                site: p.site_id.clone(),
                            },
                        )?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(punches.len() as u64)
    }
}

/// The month (`YYYY-MM`, UTC) whose punch document holds a punch at `at`.
fn month_of(at: UnixSeconds) -> Result<String> {
    Ok(jiff::Timestamp::from_second(at)
        .map_err(|_| Error::invalid("time out of range"))?
        .strftime("%Y-%m")
        .to_string())
}

/// A date as typed by a person: `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Result<jiff::civil::Date> {
    s.parse()
        .map_err(|_| Error::invalid("dates are written YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::model::ShiftStatus;

    const T0: i64 = 1_793_610_000; // 2026-11-02 09:00 UTC

    #[test]
    fn a_forgotten_clock_out_reads_as_needing_review_once_sixteen_hours_have_passed() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at(T0);
        let lb = Logbook::open_with_clock(
            dir.path(),
            &crate::StoreKey::insecure_test_key(),
            clock.clone(),
        )
        .unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let p = lb.directory().add_person("Ann", &[], &[], false).unwrap();
        lb.timesheets().tap(&p, PunchKind::ClockIn, None).unwrap();
        let status = |lb: &Logbook| lb.timesheets().shifts(&p, None, None).unwrap()[0].status;
        assert_eq!(status(&lb), ShiftStatus::Open);
        clock.advance(16 * 3600 - 1);
        assert_eq!(status(&lb), ShiftStatus::Open);
        clock.advance(1);
        assert_eq!(status(&lb), ShiftStatus::NeedsReview);
        assert_eq!(
            lb.timesheets().shifts(&p, None, None).unwrap()[0].counted_seconds,
            0
        );
    }
}
