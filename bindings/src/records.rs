//! `logbook.training()` and `logbook.cpo()`: the records scope of a person — training,
//! certificates and induction sign-offs; community payback (CPO) orders and progress.

use logbook_core::cpo::CpoProgress;
use logbook_core::{CpoOrder, InductionItem, NewTraining, TrainingCourse, TrainingRecord};

use crate::error::Result;
use crate::logbook::sub_object;

sub_object!(
    /// Training, certificates, induction.
    Training
);

#[uniffi::export]
impl Training {
    pub fn courses(&self) -> Result<Vec<TrainingCourse>> {
        Ok(self.core.training().courses()?)
    }

    /// Add a course; certificates of it need review `review_months` after the training.
    #[uniffi::method(default(review_months = None))]
    pub fn add_course(&self, name: String, review_months: Option<u32>) -> Result<String> {
        Ok(self.core.training().add_course(&name, review_months)?)
    }

    /// Record training a person did; returns the record id.
    pub fn add(&self, training: NewTraining) -> Result<String> {
        Ok(self.core.training().add_training(training)?)
    }

    /// Sign off an induction checklist item (created if new) for trainee and/or supervisor.
    pub fn sign_induction(
        &self,
        person_id: String,
        label: String,
        trainee: bool,
        supervisor: bool,
    ) -> Result<String> {
        Ok(self
            .core
            .training()
            .sign_induction(&person_id, &label, trainee, supervisor)?)
    }

    /// A person's training records.
    pub fn records(&self, person_id: String) -> Result<Vec<TrainingRecord>> {
        Ok(self.core.training().records(&person_id)?)
    }

    pub fn induction(&self, person_id: String) -> Result<Vec<InductionItem>> {
        Ok(self.core.training().induction(&person_id)?)
    }

    /// Certificates expiring (or expired) within `days` of today (coordinators).
    pub fn expiring(&self, days: u32) -> Result<Vec<TrainingRecord>> {
        Ok(self.core.training().expiring(days)?)
    }
}

sub_object!(
    /// Community payback orders.
    Cpo
);

#[uniffi::export]
impl Cpo {
    /// Record an order of `hours` starting `start` (`YYYY-MM-DD`); the deadline defaults
    /// by the hours. Returns the order id.
    #[uniffi::method(default(deadline = None))]
    pub fn set_order(
        &self,
        person_id: String,
        hours: u32,
        start: String,
        deadline: Option<String>,
    ) -> Result<String> {
        Ok(self
            .core
            .cpo()
            .set_order(&person_id, hours, &start, deadline.as_deref())?)
    }

    pub fn orders(&self, person_id: String) -> Result<Vec<CpoOrder>> {
        Ok(self.core.cpo().orders(&person_id)?)
    }

    /// Progress on each of a person's orders, as of today.
    pub fn progress(&self, person_id: String) -> Result<Vec<CpoProgress>> {
        Ok(self.core.cpo().progress(&person_id)?)
    }

    /// Set (or with `None` clear) the day an order's conviction is spent: retention
    /// erases the order from that day.
    pub fn set_spent_on(
        &self,
        person_id: String,
        order_id: String,
        date: Option<String>,
    ) -> Result<()> {
        Ok(self
            .core
            .cpo()
            .set_spent_on(&person_id, &order_id, date.as_deref())?)
    }

    /// Erase an order and its history (e.g. when the conviction is spent).
    pub fn purge(&self, person_id: String, order_id: String) -> Result<()> {
        Ok(self.core.cpo().purge(&person_id, &order_id)?)
    }
}
