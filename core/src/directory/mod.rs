//! The directory: the coop itself (name, time zone, settings), its sites, its people and
//! their roles, each site's kiosk roster (names and PIN verifiers), and each person's
//! profile (the disadvantaged flag). Coordinators write it; everyone reads the names;
//! a kiosk gets only its own site's roster (docs/DOMAIN.md, access table).

pub mod cache;
pub mod doc;

use std::collections::BTreeSet;

use automerge::ROOT;
use logbook_protocol::Scope;

use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::kiosk::pin;
use crate::logbook::Logbook;
use crate::model::{PayPeriod, Person, PersonRole, Settings, Site};
use crate::observer::ChangeOrigin;
use crate::store::documents::{self, DIRECTORY_DOC};
use crate::store::meta;
use crate::store::writer::Writer;
use crate::timesheets::derive;
use doc::{CourseDoc, PersonDoc, RosterEntryDoc, SiteDoc};

/// The coop as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CoopInfo {
    pub name: String,
    pub timezone: String,
    pub settings: Settings,
}

/// The courses every new coop starts with: (name, months until a certificate's review).
const STARTER_COURSES: [(&str, Option<i64>); 3] = [
    ("Food hygiene", Some(36)),
    ("First aid", Some(36)),
    ("Induction", None),
];

/// `logbook.directory()`.
#[derive(Clone, Copy)]
pub struct Directory<'a> {
    lb: &'a Logbook,
}

impl<'a> Directory<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Directory<'a> {
        Directory { lb }
    }

    /// Whether this store holds a coop yet (after `init`, or after joining a relay).
    pub fn is_initialised(&self) -> Result<bool> {
        self.lb.store.read(|c| {
            Ok(meta::get_meta(c, "coop_name")?.is_some() || meta::get_meta(c, "grant")?.is_some())
        })
    }

    /// Start a new coop on this device: a standalone logbook, or the first coordinator
    /// of a coop whose relay holds no directory yet.
    pub fn init(&self, coop_name: &str, timezone: &str) -> Result<()> {
        let name = coop_name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid("a coop name is 1-200 characters"));
        }
        if jiff::tz::TimeZone::get(timezone).is_err() {
            return Err(Error::invalid(
                "unknown time zone: use an IANA name such as Europe/London",
            ));
        }
        self.lb.access().require_write(&Scope::Directory)?;
        let (name, tz) = (name.to_string(), timezone.to_string());
        self.lb.store.write(ChangeOrigin::Local, |w| {
            if meta::get_meta(&w.tx, "coop_name")?.is_some() {
                return Err(Error::conflict("this logbook is already initialised"));
            }
            write_genesis_directory(w, &name, &tz)
        })
    }

    pub fn coop(&self) -> Result<CoopInfo> {
        self.lb.store.read(|c| {
            let name = match meta::get_meta(c, "coop_name")? {
                Some(name) => name,
                None if meta::get_meta(c, "grant")?.is_some() => {
                    return Err(Error::conflict(
                        "this device has joined but has not received the coop's directory yet: sync when the relay can be reached",
                    ));
                }
                None => return Err(Error::NotInitialised),
            };
            Ok(CoopInfo {
                name,
                timezone: meta::get_meta(c, "timezone")?.unwrap_or_else(|| "UTC".into()),
                settings: meta::settings(c)?,
            })
        })
    }

    /// Today's date in the coop's time zone.
    pub fn today(&self) -> Result<jiff::civil::Date> {
        let tz = self.lb.store.read(meta::coop_timezone)?;
        Ok(derive::local_date(self.lb.store.now(), &tz))
    }

    pub fn add_site(&self, name: &str) -> Result<String> {
        let name = validate_name(name, "a site name")?;
        self.lb.access().require_write(&Scope::Directory)?;
        self.require_initialised()?;
        let id = new_id("s");
        self.lb.store.write(ChangeOrigin::Local, |w| {
            w.change(DIRECTORY_DOC, |t| {
                let sites = documents::container(t, "sites")?;
                autosurgeon::reconcile_prop(t, &sites, id.as_str(), SiteDoc { name })?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    fn require_initialised(&self) -> Result<()> {
        self.coop().map(drop)
    }

    pub fn sites(&self) -> Result<Vec<Site>> {
        self.lb.store.read(cache::sites)
    }

    /// Add a person to the directory (and, if given, to sites' kiosk rosters).
    pub fn add_person(
        &self,
        name: &str,
        roles: &[PersonRole],
        site_ids: &[String],
        disadvantaged: bool,
    ) -> Result<String> {
        let name = validate_name(name, "a name")?;
        self.lb.access().require_write(&Scope::Directory)?;
        self.require_initialised()?;
        let roles: Vec<String> = if roles.is_empty() {
            vec![PersonRole::Worker.as_str().to_string()]
        } else {
            roles.iter().map(|r| r.as_str().to_string()).collect()
        };
        let id = new_id("p");
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let known: BTreeSet<String> = cache::sites(&w.tx)?.into_iter().map(|s| s.id).collect();
            if let Some(bad) = site_ids.iter().find(|s| !known.contains(*s)) {
                return Err(Error::not_found(format!("unknown site {bad}")));
            }
            w.change(DIRECTORY_DOC, |t| {
                let people = documents::container(t, "people")?;
                autosurgeon::reconcile_prop(
                    t,
                    &people,
                    id.as_str(),
                    PersonDoc {
                        name: name.clone(),
                        roles,
                        sites: site_ids.to_vec(),
                        active: true,
                        payroll_number: None,
                    },
                )?;
                Ok(())
            })?;
            for site in site_ids {
                put_roster_entry(w, site, &id, &name, None)?;
            }
            w.change(&documents::profile_doc(&id), |t| {
                autosurgeon::reconcile_prop(t, ROOT, "disadvantaged", disadvantaged)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        self.lb.store.read(cache::people)
    }

    pub fn person(&self, person_id: &str) -> Result<Person> {
        self.people()?
            .into_iter()
            .find(|p| p.id == person_id)
            .ok_or_else(|| Error::not_found(format!("unknown person {person_id}")))
    }

    /// Set a person's 4-digit kiosk PIN (stored only as a slow salted verifier, in the
    /// rosters of the person's sites).
    pub fn set_pin(&self, person_id: &str, new_pin: &str) -> Result<()> {
        pin::validate_pin(new_pin)?;
        let person = self.person(person_id)?;
        if person.site_ids.is_empty() {
            return Err(Error::conflict(
                "this person is at no site: add them to a site first",
            ));
        }
        let access = self.lb.access();
        for s in &person.site_ids {
            access.require_write(&Scope::Site(s.clone()))?;
        }
        let verifier = pin::make_verifier(new_pin)?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            for site in &person.site_ids {
                put_roster_entry(w, site, &person.id, &person.name, Some(verifier.clone()))?;
            }
            Ok(())
        })
    }

    /// Add an existing person to a site (and its kiosk roster).
    pub fn assign_site(&self, person_id: &str, site_id: &str) -> Result<()> {
        let person = self.person(person_id)?;
        if !self.sites()?.iter().any(|s| s.id == site_id) {
            return Err(Error::not_found(format!("unknown site {site_id}")));
        }
        self.lb.access().require_write(&Scope::Directory)?;
        if person.site_ids.iter().any(|s| s == site_id) {
            return Ok(());
        }
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let pin = cache::any_pin(&w.tx, person_id)?;
            // Rewriting the person keeps a number the directory still carries from
            // before schema 5 (until it is moved); the profile's is never copied here.
            let payroll_number = cache::legacy_payroll_numbers(&w.tx)?
                .into_iter()
                .find(|(p, _)| p == person_id)
                .map(|(_, n)| n);
            w.change(DIRECTORY_DOC, |t| {
                let people = documents::container(t, "people")?;
                let mut sites = person.site_ids.clone();
                sites.push(site_id.to_string());
                autosurgeon::reconcile_prop(
                    t,
                    &people,
                    person_id,
                    PersonDoc {
                        name: person.name.clone(),
                        roles: person
                            .roles
                            .iter()
                            .map(|r| r.as_str().to_string())
                            .collect(),
                        sites,
                        active: person.active,
                        payroll_number,
                    },
                )?;
                Ok(())
            })?;
            put_roster_entry(w, site_id, person_id, &person.name, pin)
        })
    }

    /// Set (or with `None` clear) a person's payroll number, for the payroll export.
    /// Coordinators only. 1–32 characters, no control characters; surrounding spaces
    /// are trimmed. It is kept in the person's profile (records scope: coordinators and
    /// the person read it, other workers never receive it); a number the directory still
    /// carries from before is deleted there at the same time.
    pub fn set_payroll_number(&self, person_id: &str, number: Option<&str>) -> Result<()> {
        let number = match number.map(str::trim) {
            None => None,
            Some(n)
                if n.is_empty() || n.chars().count() > 32 || n.chars().any(char::is_control) =>
            {
                return Err(Error::invalid(
                    "a payroll number is 1 to 32 characters, without control characters",
                ));
            }
            Some(n) => Some(n.to_string()),
        };
        self.person(person_id)?;
        let access = self.lb.access();
        access.require_coordinator()?;
        access.require_write(&Scope::Records(person_id.to_string()))?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            put_payroll_number(w, person_id, number.clone())?;
            if cache::legacy_payroll_numbers(&w.tx)?
                .iter()
                .any(|(p, _)| p == person_id)
            {
                drop_legacy_payroll_number(w, person_id)?;
            }
            Ok(())
        })
    }

    /// Move payroll numbers a directory from before schema 5 still carries into each
    /// person's profile, and delete them from the directory (which every worker reads).
    /// A profile that already has a number keeps it. Runs by itself when a coordinator's
    /// device (or a standalone logbook) opens; elsewhere it does nothing. Returns how
    /// many numbers moved. The directory's history still holds the old values: the
    /// directory is never erased (docs/SECURITY.md).
    pub fn move_payroll_numbers(&self) -> Result<u32> {
        let access = self.lb.access();
        if access.require_coordinator().is_err() || access.require_write(&Scope::Directory).is_err()
        {
            return Ok(0);
        }
        let legacy = self.lb.store.read(cache::legacy_payroll_numbers)?;
        if legacy.is_empty() {
            return Ok(0);
        }
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let mut moved = 0;
            for (person, number) in &legacy {
                let held = w.tx.query_row(
                    "SELECT count(*) FROM payroll_numbers WHERE person = ?1",
                    [person],
                    |r| r.get::<_, i64>(0),
                )? > 0;
                if !held {
                    put_payroll_number(w, person, Some(number.clone()))?;
                }
                drop_legacy_payroll_number(w, person)?;
                moved += 1;
            }
            Ok(moved)
        })
    }

    /// Set how often payroll runs and a day a period starts on (weekly, fortnightly and
    /// four-weekly periods step from it; monthly periods are calendar months and ignore
    /// it). Coordinators only; a setting every device reads from the directory.
    pub fn set_pay_period(&self, period: PayPeriod, starting: Option<&str>) -> Result<()> {
        let starting = starting.map(crate::timesheets::parse_date).transpose()?;
        let access = self.lb.access();
        access.require_coordinator()?;
        access.require_write(&Scope::Directory)?;
        self.require_initialised()?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            w.change(DIRECTORY_DOC, |t| {
                autosurgeon::reconcile_prop(t, ROOT, "pay_period", period.as_str())?;
                if let Some(d) = starting {
                    autosurgeon::reconcile_prop(t, ROOT, "pay_period_start", d.to_string())?;
                }
                Ok(())
            })
        })
    }

    /// Set the retention rules (docs/DOMAIN.md): days after a CPO order's deadline until
    /// its data is erased, and days after a note thread's last entry until it is erased
    /// (0: never). `None` leaves a rule as it is. Coordinators only; at most 100 years.
    pub fn set_retention(&self, cpo_days: Option<u32>, notes_days: Option<u32>) -> Result<()> {
        if cpo_days.into_iter().chain(notes_days).any(|d| d > 36_500) {
            return Err(Error::invalid("a retention period is 0 to 36500 days"));
        }
        let access = self.lb.access();
        access.require_coordinator()?;
        access.require_write(&Scope::Directory)?;
        self.require_initialised()?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            w.change(DIRECTORY_DOC, |t| {
                if let Some(d) = cpo_days {
                    autosurgeon::reconcile_prop(t, ROOT, "cpo_retention_days", i64::from(d))?;
                }
                if let Some(d) = notes_days {
                    autosurgeon::reconcile_prop(t, ROOT, "notes_retention_days", i64::from(d))?;
                }
                Ok(())
            })
        })
    }

    /// A person's payroll number, if one is set. Coordinators only.
    pub fn payroll_number(&self, person_id: &str) -> Result<Option<String>> {
        self.person(person_id)?;
        self.lb.access().require_coordinator()?;
        self.lb.store.read(|c| cache::payroll_number(c, person_id))
    }

    /// Record whether a person counts as disadvantaged (Law 381/1991 head count).
    pub fn set_disadvantaged(&self, person_id: &str, disadvantaged: bool) -> Result<()> {
        self.person(person_id)?;
        self.lb
            .access()
            .require_write(&Scope::Records(person_id.to_string()))?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            w.change(&documents::profile_doc(person_id), |t| {
                autosurgeon::reconcile_prop(t, ROOT, "disadvantaged", disadvantaged)?;
                Ok(())
            })
        })
    }

    /// The coop's courses (the training feature reads and adds them).
    pub(crate) fn add_course_in(
        w: &mut Writer<'_>,
        id: &str,
        name: String,
        review_months: Option<i64>,
    ) -> Result<()> {
        w.change(DIRECTORY_DOC, |t| {
            let courses = documents::container(t, "courses")?;
            autosurgeon::reconcile_prop(
                t,
                &courses,
                id,
                CourseDoc {
                    name,
                    review_months,
                },
            )?;
            Ok(())
        })
    }
}

fn put_payroll_number(w: &mut Writer<'_>, person_id: &str, number: Option<String>) -> Result<()> {
    w.change(&documents::profile_doc(person_id), |t| {
        autosurgeon::reconcile_prop(t, ROOT, "payroll_number", number.clone())?;
        Ok(())
    })
}

fn drop_legacy_payroll_number(w: &mut Writer<'_>, person_id: &str) -> Result<()> {
    w.change(DIRECTORY_DOC, |t| {
        use automerge::ReadDoc;
        use automerge::transaction::Transactable;
        let people = documents::container(t, "people")?;
        if let Some((automerge::Value::Object(_), person)) = t.get(&people, person_id)?
            && t.get(&person, "payroll_number")?.is_some()
        {
            t.delete(&person, "payroll_number")?;
        }
        Ok(())
    })
}

/// The directory a new coop starts with: its name, time zone and starter courses.
pub(crate) fn write_genesis_directory(w: &mut Writer<'_>, name: &str, tz: &str) -> Result<()> {
    w.change(DIRECTORY_DOC, |t| {
        autosurgeon::reconcile_prop(t, ROOT, "coop_name", name)?;
        autosurgeon::reconcile_prop(t, ROOT, "timezone", tz)?;
        let courses = documents::container(t, "courses")?;
        for (label, months) in STARTER_COURSES {
            autosurgeon::reconcile_prop(
                t,
                &courses,
                new_id("c").as_str(),
                CourseDoc {
                    name: label.into(),
                    review_months: months,
                },
            )?;
        }
        Ok(())
    })
}

/// A name as typed: trimmed, 1-200 characters.
pub(crate) fn validate_name(name: &str, what: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::invalid(format!("{what} is 1-200 characters")));
    }
    Ok(name.to_string())
}

fn put_roster_entry(
    w: &mut Writer<'_>,
    site: &str,
    person: &str,
    name: &str,
    pin: Option<String>,
) -> Result<()> {
    let coop_name = meta::get_meta(&w.tx, "coop_name")?;
    let timezone = meta::get_meta(&w.tx, "timezone")?;
    let settings = meta::settings(&w.tx)?;
    w.change(&documents::roster_doc(site), |t| {
        // The kiosk reads no directory: it learns the coop's facts from its roster.
        autosurgeon::reconcile_prop(t, ROOT, "coop_name", coop_name.as_deref())?;
        autosurgeon::reconcile_prop(t, ROOT, "timezone", timezone.as_deref())?;
        autosurgeon::reconcile_prop(
            t,
            ROOT,
            "review_after_seconds",
            settings.review_after_seconds,
        )?;
        autosurgeon::reconcile_prop(
            t,
            ROOT,
            "pin_max_failures",
            i64::from(settings.pin_max_failures),
        )?;
        autosurgeon::reconcile_prop(t, ROOT, "pin_lockout_seconds", settings.pin_lockout_seconds)?;
        let members = documents::container(t, "members")?;
        autosurgeon::reconcile_prop(
            t,
            &members,
            person,
            RosterEntryDoc {
                name: name.to_string(),
                pin,
                active: true,
            },
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use crate::logbook::Logbook;

    #[test]
    fn a_kiosk_learns_the_coops_name_time_zone_and_settings_from_its_roster_alone() {
        let dir = tempfile::tempdir().unwrap();
        let coordinator =
            Logbook::open(dir.path().join("c"), &crate::StoreKey::insecure_test_key()).unwrap();
        coordinator
            .directory()
            .init("Riverside", "Europe/Rome")
            .unwrap();
        let site = coordinator.directory().add_site("Cafe").unwrap();
        let ann = coordinator
            .directory()
            .add_person("Ann", &[], std::slice::from_ref(&site), false)
            .unwrap();
        coordinator.directory().set_pin(&ann, "1234").unwrap();
        // What a kiosk receives: the site's roster and nothing else.
        let roster: Vec<(String, Vec<u8>)> = coordinator
            .export_chunks()
            .unwrap()
            .into_iter()
            .filter(|(doc, _)| doc.starts_with("site:"))
            .collect();
        let kiosk =
            Logbook::open(dir.path().join("k"), &crate::StoreKey::insecure_test_key()).unwrap();
        kiosk.merge_chunks(&roster).unwrap();
        let coop = kiosk.directory().coop().unwrap();
        assert_eq!(coop.name, "Riverside");
        assert_eq!(coop.timezone, "Europe/Rome");
        assert_eq!(
            coop.settings,
            coordinator.directory().coop().unwrap().settings
        );
        assert!(
            kiosk.directory().people().unwrap().is_empty(),
            "no directory on a kiosk"
        );
        assert_eq!(kiosk.kiosk().roster(&site).unwrap().len(), 1);
    }
}
