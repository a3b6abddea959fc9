//! The directory's documents: the coop directory (`directory/main`: coop name, time
//! zone, settings, sites, people, courses), each site's kiosk roster
//! (`site:<site>/roster`: names and PIN verifiers only) and each person's profile
//! (`records:<person>/profile`: the disadvantaged flag, which implies a conviction).

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct DirectoryDoc {
    #[autosurgeon(missing = "Default::default")]
    pub coop_name: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub timezone: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub review_after_seconds: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub pin_max_failures: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub pin_lockout_seconds: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub disadvantaged_min_percent: Option<i64>,
    /// `weekly`, `fortnightly`, `four_weekly` or `monthly` (settings, docs/DOMAIN.md).
    #[autosurgeon(missing = "Default::default")]
    pub pay_period: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub pay_period_start: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub cpo_retention_days: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub notes_retention_days: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub sites: HashMap<String, SiteDoc>,
    #[autosurgeon(missing = "Default::default")]
    pub people: HashMap<String, PersonDoc>,
    #[autosurgeon(missing = "Default::default")]
    pub courses: HashMap<String, CourseDoc>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct SiteDoc {
    pub name: String,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct PersonDoc {
    pub name: String,
    #[autosurgeon(missing = "Default::default")]
    pub roles: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub sites: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub active: bool,
    /// Where payroll numbers were kept before schema 5. The directory is read by every
    /// member, so a number here was readable by every worker: a coordinator's device
    /// moves it to the person's profile (`Directory::move_payroll_numbers`) and deletes
    /// it here. Nothing writes it any more.
    #[autosurgeon(missing = "Default::default")]
    pub payroll_number: Option<String>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct CourseDoc {
    pub name: String,
    #[autosurgeon(missing = "Default::default")]
    pub review_months: Option<i64>,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct RosterDoc {
    #[autosurgeon(missing = "Default::default")]
    pub members: HashMap<String, RosterEntryDoc>,
    /// The coop facts a kiosk needs but may not read from the directory (its name, time
    /// zone, and the settings its PIN pad and tap checks follow), copied here by the
    /// coordinator whenever the roster is written.
    #[autosurgeon(missing = "Default::default")]
    pub coop_name: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub timezone: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub review_after_seconds: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub pin_max_failures: Option<i64>,
    #[autosurgeon(missing = "Default::default")]
    pub pin_lockout_seconds: Option<i64>,
}

/// What a kiosk knows of a person: a name to tap and a PIN verifier. Nothing else.
#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct RosterEntryDoc {
    pub name: String,
    #[autosurgeon(missing = "Default::default")]
    pub pin: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub active: bool,
}

#[derive(Debug, Clone, Default, Reconcile, Hydrate, PartialEq)]
pub struct ProfileDoc {
    #[autosurgeon(missing = "Default::default")]
    pub disadvantaged: Option<bool>,
    /// The person's number in the coop's payroll system: coordinators set it, the
    /// payroll export prints it. In the profile (records scope) so only coordinators
    /// and the person read it.
    #[autosurgeon(missing = "Default::default")]
    pub payroll_number: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::documents::{DocKind, container, genesis};
    use automerge::ActorId;

    #[test]
    fn two_devices_adding_people_concurrently_both_keep_theirs() {
        let base = genesis(DocKind::Directory).unwrap();
        let mut a = base.fork().with_actor(ActorId::random());
        let mut b = base.fork().with_actor(ActorId::random());
        for (doc, id) in [(&mut a, "p-a"), (&mut b, "p-b")] {
            let people = container(doc, "people").unwrap();
            let mut tx = doc.transaction();
            autosurgeon::reconcile_prop(
                &mut tx,
                &people,
                id,
                PersonDoc {
                    name: id.into(),
                    active: true,
                    ..Default::default()
                },
            )
            .unwrap();
            tx.commit();
        }
        a.merge(&mut b).unwrap();
        let dir: DirectoryDoc = autosurgeon::hydrate(&a).unwrap();
        assert_eq!(dir.people.len(), 2);
    }
}
