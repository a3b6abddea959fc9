//! Training: the coop's courses, each person's training records and certificates (with
//! their review or expiry dates), and induction checklists signed off by trainee and
//! supervisor. Coordinators write them; the person and coordinators read them.

pub mod cache;
pub mod doc;

use logbook_protocol::Scope;

use crate::directory::{Directory, validate_name};
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::logbook::Logbook;
use crate::model::{InductionItem, TrainingCourse, TrainingRecord};
use crate::observer::ChangeOrigin;
use crate::store::documents;
use crate::timesheets::parse_date;
use doc::{InductionDoc, TrainingRecordDoc};

/// The most training time one record may hold: 720 hours (a month, full time).
pub const MAX_TRAINING_MINUTES: u32 = 720 * 60;

/// A new training record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewTraining {
    pub person_id: String,
    /// A course id, or a course name (matched case-insensitively; created if new).
    pub course: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub minutes: u32,
    pub provider: Option<String>,
    pub certificate_ref: Option<String>,
    /// `YYYY-MM-DD`; defaults to the date plus the course's review period.
    pub expires_on: Option<String>,
    pub trainee_signed: bool,
    pub supervisor_signed: bool,
}

/// Training time within the limit of one record.
pub fn validate_training_minutes(minutes: u32) -> Result<()> {
    if minutes > MAX_TRAINING_MINUTES {
        return Err(Error::invalid(
            "training time is at most 720 hours per record",
        ));
    }
    Ok(())
}

/// `logbook.training()`.
#[derive(Clone, Copy)]
pub struct Training<'a> {
    lb: &'a Logbook,
}

impl<'a> Training<'a> {
    pub(crate) fn new(lb: &'a Logbook) -> Training<'a> {
        Training { lb }
    }

    pub fn courses(&self) -> Result<Vec<TrainingCourse>> {
        self.lb.store.read(cache::courses)
    }

    pub fn add_course(&self, name: &str, review_months: Option<u32>) -> Result<String> {
        let name = validate_name(name, "a course name")?;
        self.lb.access().require_write(&Scope::Directory)?;
        self.lb.directory().coop()?;
        let id = new_id("c");
        self.lb.store.write(ChangeOrigin::Local, |w| {
            Directory::add_course_in(w, &id, name, review_months.map(i64::from))
        })?;
        Ok(id)
    }

    /// Record training a person did. Everything is checked before anything is written;
    /// a new course named here is created in the same transaction as the record.
    pub fn add_training(&self, new: NewTraining) -> Result<String> {
        self.lb.directory().person(&new.person_id)?;
        let access = self.lb.access();
        access.require_write(&Scope::Records(new.person_id.clone()))?;
        let date = parse_date(&new.date)?;
        validate_training_minutes(new.minutes)?;
        let explicit_expiry = new.expires_on.as_deref().map(parse_date).transpose()?;
        let existing = self
            .courses()?
            .into_iter()
            .find(|c| c.id == new.course || c.name.eq_ignore_ascii_case(new.course.trim()));
        let (course, new_course) = match existing {
            Some(c) => (c, false),
            None => {
                let name = validate_name(&new.course, "a course name")?;
                access.require_write(&Scope::Directory)?;
                let course = TrainingCourse {
                    id: new_id("c"),
                    name,
                    review_months: None,
                };
                (course, true)
            }
        };
        let expires_on = match explicit_expiry {
            Some(e) => Some(e.to_string()),
            None => course
                .review_months
                .and_then(|m| {
                    date.checked_add(jiff::Span::new().months(i64::from(m)))
                        .ok()
                })
                .map(|d| d.to_string()),
        };
        let by = self.lb.actor_label();
        let id = new_id("t");
        self.lb.store.write(ChangeOrigin::Local, |w| {
            if new_course {
                Directory::add_course_in(w, &course.id, course.name.clone(), None)?;
            }
            let rec = TrainingRecordDoc {
                course_id: course.id.clone(),
                course_name: course.name.clone(),
                date: date.to_string(),
                minutes: i64::from(new.minutes),
                provider: new.provider.clone().filter(|s| !s.trim().is_empty()),
                certificate_ref: new.certificate_ref.clone().filter(|s| !s.trim().is_empty()),
                expires_on,
                trainee_signed_at: new.trainee_signed.then_some(w.now),
                supervisor_signed_at: new.supervisor_signed.then_some(w.now),
                supervisor: new.supervisor_signed.then_some(by),
            };
            w.change(&documents::training_doc(&new.person_id), |t| {
                let records = documents::container(t, "records")?;
                autosurgeon::reconcile_prop(t, &records, id.as_str(), &rec)?;
                Ok(())
            })
        })?;
        Ok(id)
    }

    /// Sign off an induction checklist item (created if new) for trainee and/or supervisor.
    pub fn sign_induction(
        &self,
        person_id: &str,
        label: &str,
        trainee: bool,
        supervisor: bool,
    ) -> Result<String> {
        self.lb.directory().person(person_id)?;
        self.lb
            .access()
            .require_write(&Scope::Records(person_id.to_string()))?;
        let label = label.trim().to_string();
        if label.is_empty() || label.len() > 200 {
            return Err(Error::invalid("a checklist item is 1-200 characters"));
        }
        if !trainee && !supervisor {
            return Err(Error::invalid(
                "say who signs: the trainee, the supervisor, or both",
            ));
        }
        let by = self.lb.actor_label();
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let existing = cache::induction(&w.tx, person_id)?
                .into_iter()
                .find(|i| i.label.eq_ignore_ascii_case(&label));
            let at = w.now;
            let id = existing
                .as_ref()
                .map(|i| i.id.clone())
                .unwrap_or_else(|| new_id("i"));
            let item = InductionDoc {
                label: existing.as_ref().map(|i| i.label.clone()).unwrap_or(label),
                trainee_signed_at: existing
                    .as_ref()
                    .and_then(|i| i.trainee_signed_at)
                    .or(trainee.then_some(at)),
                supervisor_signed_at: existing
                    .as_ref()
                    .and_then(|i| i.supervisor_signed_at)
                    .or(supervisor.then_some(at)),
                supervisor: existing
                    .as_ref()
                    .and_then(|i| i.supervisor.clone())
                    .or(supervisor.then_some(by)),
            };
            w.change(&documents::training_doc(person_id), |t| {
                let induction = documents::container(t, "induction")?;
                autosurgeon::reconcile_prop(t, &induction, id.as_str(), &item)?;
                Ok(())
            })?;
            Ok(id)
        })
    }

    /// A person's training records.
    pub fn records(&self, person_id: &str) -> Result<Vec<TrainingRecord>> {
        self.lb
            .access()
            .require_read(&Scope::Records(person_id.to_string()))?;
        self.lb
            .store
            .read(|c| cache::training_rows(c, Some(person_id), None))
    }

    pub fn induction(&self, person_id: &str) -> Result<Vec<InductionItem>> {
        self.lb
            .access()
            .require_read(&Scope::Records(person_id.to_string()))?;
        self.lb.store.read(|c| cache::induction(c, person_id))
    }

    /// Certificates expiring (or already expired) within `days` of today.
    pub fn expiring(&self, days: u32) -> Result<Vec<TrainingRecord>> {
        self.lb.access().require_coordinator()?;
        let today = self.lb.directory().today()?;
        let until = today
            .checked_add(jiff::Span::new().days(i64::from(days)))
            .map_err(|_| Error::invalid("too many days"))?;
        self.lb
            .store
            .read(|c| cache::training_rows(c, None, Some(&until.to_string())))
    }
}
