//! CPO unpaid work: a coordinator records a Community Payback Order (hours ordered,
//! start, deadline); hours logged as "unpaid work" or "other activity" count towards it.
//! The person and coordinators read the orders and their progress; nobody else.
//!
//! - [`rules`]: the order rules (hours, deadlines, the other-activity cap, progress).
//! - [`doc`]: one document per order. [`cache`]: its row and the hour sums.

pub mod cache;
pub mod doc;
pub mod rules;

pub use rules::CpoProgress;

use automerge::ROOT;
use logbook_protocol::Scope;

use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::logbook::Logbook;
use crate::model::{CpoOrder, HourType};
use crate::observer::ChangeOrigin;
use crate::store::documents;
use crate::timesheets::parse_date;

/// `logbook.cpo()`.
#[derive(Clone, Copy)]
pub struct Cpo<'a> {
    lb: &'a Logbook,
}

impl<'a> Cpo<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Cpo<'a> {
        Cpo { lb }
    }

    /// Record a CPO order. The deadline defaults by the hours (3 or 6 months).
    pub fn set_order(
        &self,
        person_id: &str,
        hours: u32,
        start: &str,
        deadline: Option<&str>,
    ) -> Result<String> {
        rules::validate_hours(hours)?;
        let start = parse_date(start)?;
        let deadline = match deadline {
            Some(d) => parse_date(d)?,
            None => rules::default_deadline(start, hours),
        };
        if deadline <= start {
            return Err(Error::invalid("the deadline must be after the start date"));
        }
        self.lb.directory().person(person_id)?;
        self.lb
            .access()
            .require_write(&Scope::Records(person_id.to_string()))?;
        let id = new_id("o");
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let at = w.now;
            w.change(&documents::cpo_doc(person_id, &id), |t| {
                autosurgeon::reconcile_prop(t, ROOT, "hours_ordered", i64::from(hours))?;
                autosurgeon::reconcile_prop(t, ROOT, "start_date", start.to_string())?;
                autosurgeon::reconcile_prop(t, ROOT, "deadline", deadline.to_string())?;
                autosurgeon::reconcile_prop(
                    t,
                    ROOT,
                    "other_activity_cap_minutes",
                    i64::from(rules::other_activity_cap_minutes(hours)),
                )?;
                autosurgeon::reconcile_prop(t, ROOT, "created_at", at)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    pub fn orders(&self, person_id: &str) -> Result<Vec<CpoOrder>> {
        self.lb
            .access()
            .require_read(&Scope::Records(person_id.to_string()))?;
        self.lb.store.read(|c| cache::orders(c, person_id))
    }

    /// Progress on each of a person's orders, as of today: CPO hours from an order's
    /// start until the next order starts count towards it.
    pub fn progress(&self, person_id: &str) -> Result<Vec<CpoProgress>> {
        self.lb
            .access()
            .require_read(&Scope::Records(person_id.to_string()))?;
        let today = self.lb.directory().today()?;
        self.lb.store.read(|c| {
            let orders = cache::orders(c, person_id)?;
            let mut out = Vec::new();
            for (i, order) in orders.iter().enumerate() {
                let until = orders
                    .get(i + 1)
                    .map(|o| o.start_date.clone())
                    .unwrap_or_else(|| "9999-12-31".into());
                let sum = |t: HourType| {
                    cache::counted_seconds(c, person_id, t, &order.start_date, &until)
                };
                out.push(rules::progress(
                    order,
                    sum(HourType::CpoUnpaidWork)?,
                    sum(HourType::CpoOtherActivity)?,
                    today,
                )?);
            }
            Ok(out)
        })
    }

    /// Set (or with `None` clear) the day a CPO order's conviction is spent: retention
    /// erases the order from that day instead of the default (the setting's days after
    /// the deadline). Coordinators only.
    pub fn set_spent_on(&self, person_id: &str, order_id: &str, date: Option<&str>) -> Result<()> {
        let date = date.map(parse_date).transpose()?;
        self.lb
            .access()
            .require_write(&Scope::Records(person_id.to_string()))?;
        self.lb.access().require_coordinator()?;
        if !self.orders(person_id)?.iter().any(|o| o.id == order_id) {
            return Err(Error::not_found(format!("no CPO order {order_id}")));
        }
        self.lb.store.write(ChangeOrigin::Local, |w| {
            w.change(&documents::cpo_doc(person_id, order_id), |t| {
                autosurgeon::reconcile_prop(t, ROOT, "spent_on", date.map(|d| d.to_string()))?;
                Ok(())
            })
        })
    }

    /// Erase a person's CPO order (e.g. when the conviction is spent): history included,
    /// here and, through the relay, everywhere.
    pub fn purge(&self, person_id: &str, order_id: &str) -> Result<()> {
        self.lb.erase_doc(&documents::cpo_doc(person_id, order_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::model::{PunchKind, PunchSource};

    /// 2026-11-02 09:00 UTC, a Monday.
    const MON: i64 = 1_793_610_000;
    const H: i64 = 3600;

    fn shift(lb: &Logbook, p: &str, start: i64, hours: i64, t: HourType) {
        let ts = lb.timesheets();
        ts.punch(
            p,
            PunchKind::ClockIn,
            Some(start),
            Some(t),
            None,
            PunchSource::Coordinator,
        )
        .unwrap();
        ts.punch(
            p,
            PunchKind::ClockOut,
            Some(start + hours * H),
            None,
            None,
            PunchSource::Coordinator,
        )
        .unwrap();
    }

    #[test]
    fn hours_count_towards_the_order_in_force_and_other_activity_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let lb = Logbook::open_with_clock(
            dir.path(),
            &crate::StoreKey::insecure_test_key(),
            ManualClock::at(MON + 20 * 86_400),
        )
        .unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let p = lb.directory().add_person("Ann", &[], &[], false).unwrap();
        let cpo = lb.cpo();
        // 40 hours: other activity may count for at most 12 h (30 %).
        let first = cpo.set_order(&p, 40, "2026-11-02", None).unwrap();
        // A second order starting a week later takes the hours from then on.
        let second = cpo.set_order(&p, 20, "2026-11-09", None).unwrap();
        shift(&lb, &p, MON, 5, HourType::CpoUnpaidWork);
        shift(&lb, &p, MON + 86_400, 8, HourType::CpoOtherActivity);
        shift(&lb, &p, MON + 2 * 86_400, 7, HourType::CpoOtherActivity);
        shift(&lb, &p, MON + 3 * 86_400, 6, HourType::Paid);
        shift(&lb, &p, MON + 7 * 86_400, 4, HourType::CpoUnpaidWork);
        let progress = cpo.progress(&p).unwrap();
        assert_eq!(progress.len(), 2);
        let a = progress.iter().find(|o| o.order_id == first).unwrap();
        assert_eq!(a.unpaid_work_minutes, 5 * 60);
        assert_eq!(a.other_activity_minutes, 15 * 60);
        assert_eq!(
            a.other_activity_counted_minutes,
            12 * 60,
            "capped at 30 % of 40 h"
        );
        assert_eq!(a.done_minutes, 17 * 60);
        assert_eq!(a.left_minutes, 23 * 60);
        assert_eq!(a.deadline, "2027-02-02", "up to 100 hours: three months");
        let b = progress.iter().find(|o| o.order_id == second).unwrap();
        assert_eq!(
            b.unpaid_work_minutes,
            4 * 60,
            "hours after the second order starts are its"
        );
        assert_eq!(b.other_activity_cap_minutes, 6 * 60);
    }

    #[test]
    fn an_order_outside_the_legal_range_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let lb = Logbook::open(dir.path(), &crate::StoreKey::insecure_test_key()).unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let p = lb.directory().add_person("Ann", &[], &[], false).unwrap();
        assert!(matches!(
            lb.cpo().set_order(&p, 19, "2026-11-02", None),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            lb.cpo().set_order(&p, 301, "2026-11-02", None),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            lb.cpo().set_order(&p, 40, "2026-11-02", Some("2026-11-01")),
            Err(Error::Invalid(_))
        ));
        assert!(lb.cpo().orders(&p).unwrap().is_empty());
    }
}
