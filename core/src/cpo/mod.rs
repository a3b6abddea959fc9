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

    /// Erase a person's CPO order (e.g. when the conviction is spent): history included,
    /// here and, through the relay, everywhere.
    pub fn purge(&self, person_id: &str, order_id: &str) -> Result<()> {
        self.lb.erase_doc(&documents::cpo_doc(person_id, order_id))
    }
}
