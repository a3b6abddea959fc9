//! `logbook.directory()`: sites, people, roles and kiosk PINs.

use logbook_core::{PayPeriod, Person, PersonRole, Site};

use crate::error::Result;
use crate::logbook::sub_object;

sub_object!(
    /// Sites and people.
    Directory
);

#[uniffi::export]
impl Directory {
    /// Add a site; returns its id.
    pub fn add_site(&self, name: String) -> Result<String> {
        Ok(self.core.directory().add_site(&name)?)
    }

    pub fn sites(&self) -> Result<Vec<Site>> {
        Ok(self.core.directory().sites()?)
    }

    /// Add a person (a worker if `roles` is empty) at the given sites; returns their id.
    pub fn add_person(
        &self,
        name: String,
        roles: Vec<PersonRole>,
        site_ids: Vec<String>,
        disadvantaged: bool,
    ) -> Result<String> {
        Ok(self
            .core
            .directory()
            .add_person(&name, &roles, &site_ids, disadvantaged)?)
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        Ok(self.core.directory().people()?)
    }

    pub fn person(&self, person_id: String) -> Result<Person> {
        Ok(self.core.directory().person(&person_id)?)
    }

    /// Set a person's 4-digit kiosk PIN (stored only as a slow salted verifier).
    pub fn set_pin(&self, person_id: String, pin: String) -> Result<()> {
        Ok(self.core.directory().set_pin(&person_id, &pin)?)
    }

    pub fn assign_site(&self, person_id: String, site_id: String) -> Result<()> {
        Ok(self.core.directory().assign_site(&person_id, &site_id)?)
    }

    pub fn set_disadvantaged(&self, person_id: String, disadvantaged: bool) -> Result<()> {
        Ok(self
            .core
            .directory()
            .set_disadvantaged(&person_id, disadvantaged)?)
    }

    /// Set (or with `None` clear) a person's payroll number (coordinators; kept where
    /// only coordinators and the person can read it).
    pub fn set_payroll_number(&self, person_id: String, number: Option<String>) -> Result<()> {
        Ok(self
            .core
            .directory()
            .set_payroll_number(&person_id, number.as_deref())?)
    }

    /// How often payroll runs, and a day a weekly/fortnightly/four-weekly period starts.
    pub fn set_pay_period(&self, period: PayPeriod, starting: Option<String>) -> Result<()> {
        Ok(self
            .core
            .directory()
            .set_pay_period(period, starting.as_deref())?)
    }

    /// Retention rules in days (CPO: after the deadline; notes: after the last entry,
    /// 0 = never); `None` leaves a rule as it is.
    pub fn set_retention(&self, cpo_days: Option<u32>, notes_days: Option<u32>) -> Result<()> {
        Ok(self.core.directory().set_retention(cpo_days, notes_days)?)
    }

    /// What retention will erase on this device, and from when.
    pub fn retention_plan(&self) -> Result<Vec<logbook_core::RetentionItem>> {
        Ok(self.core.retention().plan()?)
    }

    /// Erase what retention has made due (opening the logbook does this by itself);
    /// returns how many documents were erased.
    pub fn run_retention(&self) -> Result<u32> {
        Ok(self.core.retention().run()?)
    }
}
