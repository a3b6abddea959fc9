//! The coordinator's screens, as one model with one state (a coop is a few dozen people,
//! so reading it whole after each change stays cheap; see docs/PERFORMANCE.md):
//!
//! - the review queue: shifts that need review and duplicate punches in weeks not yet
//!   approved; open a shift with its audit trail, correct it, approve or lock a week;
//! - people, sites and PINs;
//! - invite a device (the code also as a QR image: an SVG string and the module matrix),
//!   the coop's devices and revoking one (these need the relay);
//! - training records that expire soon, CPO orders and their progress, the notes of
//!   people who consented;
//! - reports (hours, payroll, ratio) written to files;
//! - the sync line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use logbook_core::{
    AuditEntry, Error, HourType, Logbook, PersonRole, Shift, ShiftCorrection, ShiftStatus,
    UnixSeconds, WeekState,
};
use logbook_protocol::Grant;

use crate::join::{DeviceMode, join_payload};
use crate::live::{Published, ScreenListener, ScreenSubscription, follow_store};
use crate::message::{Message, keys, refusal};
use crate::sync_status::{SyncStatus, is_offline, local_date};
use crate::worker::{CpoCard, NoteEntryView, NoteThreadView, cpo_card};

/// Certificates that expire within this many days are listed.
pub const EXPIRY_WINDOW_DAYS: u32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKind {
    /// Longer than the review threshold, or never clocked out: counts 0 until corrected.
    NeedsReview,
    /// A punch counted as a duplicate of another tap.
    Duplicate,
}

/// One line of the review queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub kind: ReviewKind,
    pub person_id: String,
    pub person_name: String,
    /// The shift to open and correct (needs-review items).
    pub shift_id: Option<String>,
    /// The punch counted as nothing (duplicates).
    pub punch_id: Option<String>,
    pub at: UnixSeconds,
    pub local_date: String,
    pub hour_type: Option<HourType>,
    /// `review.needsReview`, or `review.duplicate` with the derivation's `reason`.
    pub message: Message,
}

/// A shift opened for correction: as it is now, and its audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftDetail {
    pub shift: Shift,
    pub history: Vec<AuditEntry>,
    pub week: WeekState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub person_id: String,
    pub name: String,
    pub roles: Vec<PersonRole>,
    pub site_ids: Vec<String>,
    pub active: bool,
    pub has_pin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRow {
    pub site_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryRow {
    pub record_id: String,
    pub person_id: String,
    pub person_name: String,
    pub course_name: String,
    pub expires_on: String,
    pub expired: bool,
    /// `training.due` or `training.expired`.
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpoRow {
    pub person_id: String,
    pub person_name: String,
    pub progress: CpoCard,
}

/// The note threads of one person who consented to coordinators reading them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonNotes {
    pub person_id: String,
    pub person_name: String,
    pub threads: Vec<NoteThreadView>,
}

/// An invite: the code to type, and the same (with the relay's address) as a QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteView {
    pub code: String,
    pub expires_at: UnixSeconds,
    pub mode: DeviceMode,
    /// What the QR code encodes (the join screen reads it back).
    pub payload: String,
    /// The QR code as a standalone SVG document.
    pub qr_svg: String,
    /// Modules per side.
    pub qr_width: u32,
    /// `qr_width × qr_width` modules, row by row; `true` is dark.
    pub qr_modules: Vec<bool>,
    /// `invite.code` with `code` and `expires` (`YYYY-MM-DD HH:MM`).
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub device_id: String,
    pub name: String,
    pub mode: DeviceMode,
    pub person_id: Option<String>,
    pub site_id: Option<String>,
    pub last_seen_at: Option<UnixSeconds>,
    pub revoked: bool,
}

/// The reports a coordinator exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Hours per person and kind (CSV).
    Hours,
    /// Payroll minutes per person (CSV).
    Payroll,
    /// The disadvantaged workers' ratio (JSON).
    Ratio,
}

/// Everything the coordinator's screens draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinatorState {
    pub review: Vec<ReviewItem>,
    /// `review.empty` when nothing is left to review.
    pub review_empty: Option<Message>,
    /// The shift opened with `open_shift`, as it is now.
    pub open_shift: Option<ShiftDetail>,
    pub people: Vec<PersonRow>,
    pub sites: Vec<SiteRow>,
    pub expiring: Vec<ExpiryRow>,
    pub cpo: Vec<CpoRow>,
    pub notes: Vec<PersonNotes>,
    /// The last invite made on this screen.
    pub invite: Option<InviteView>,
    /// The coop's devices, as last loaded from the relay.
    pub devices: Vec<DeviceRow>,
    /// What the last action did or why it was refused, until the next action.
    pub outcome: Option<Message>,
    pub sync: SyncStatus,
}

#[derive(Default)]
struct Extra {
    open_shift: Option<String>,
    invite: Option<InviteView>,
    devices: Vec<DeviceRow>,
    outcome: Option<Message>,
}

struct Inner {
    lb: Arc<Logbook>,
    relay_url: String,
    published: Published<CoordinatorState>,
    extra: Mutex<Extra>,
    offline: AtomicBool,
}

/// The coordinator's screens model.
pub struct CoordinatorScreens {
    inner: Arc<Inner>,
    _follow: logbook_core::Subscription,
}

impl CoordinatorScreens {
    /// `relay_url`: the relay this device joined, written into invite QR codes.
    pub fn new(lb: Arc<Logbook>, relay_url: &str) -> Result<CoordinatorScreens, Error> {
        let first = build(&lb, &Extra::default(), false)?;
        let inner = Arc::new(Inner {
            lb: lb.clone(),
            relay_url: relay_url.trim().to_string(),
            published: Published::new(first),
            extra: Mutex::new(Extra::default()),
            offline: AtomicBool::new(false),
        });
        let follow = follow_store(&lb, &inner, |inner, _, _| inner.reload());
        Ok(CoordinatorScreens {
            inner,
            _follow: follow,
        })
    }

    pub fn state(&self) -> CoordinatorState {
        self.inner.published.get()
    }

    /// Hear the current state now, then every change, until the handle is dropped.
    pub fn subscribe(
        &self,
        listener: Arc<dyn ScreenListener<CoordinatorState>>,
    ) -> ScreenSubscription {
        self.inner.published.subscribe(listener)
    }

    /// Open a shift with its audit trail (`open_shift` in the state; `None` closes it).
    pub fn open_shift(&self, shift_id: Option<&str>) {
        self.inner.extra().open_shift = shift_id.map(str::to_string);
        self.inner.reload();
    }

    /// Correct a shift (the reason is required); the audit trail keeps what it was.
    pub fn correct_shift(&self, shift_id: &str, fix: ShiftCorrection) -> Result<(), Message> {
        let r = self.inner.lb.timesheets().correct_shift(shift_id, fix);
        self.inner.done(r)
    }

    /// Approve (or, with `lock`, lock) the week containing `date` for `people` (all
    /// active people if empty).
    pub fn review_week(&self, date: &str, people: &[String], lock: bool) -> Result<(), Message> {
        let r = self.inner.lb.timesheets().review_week(date, people, lock);
        self.inner.done(r)
    }

    pub fn add_site(&self, name: &str) -> Result<(), Message> {
        let r = self.inner.lb.directory().add_site(name);
        self.inner.done(r)
    }

    pub fn add_person(
        &self,
        name: &str,
        roles: &[PersonRole],
        site_ids: &[String],
        disadvantaged: bool,
    ) -> Result<(), Message> {
        let r = self
            .inner
            .lb
            .directory()
            .add_person(name, roles, site_ids, disadvantaged);
        self.inner.done(r)
    }

    /// Set a person's kiosk PIN (four digits).
    pub fn set_pin(&self, person_id: &str, pin: &str) -> Result<(), Message> {
        let r = self.inner.lb.directory().set_pin(person_id, pin);
        self.inner.done(r)
    }

    /// Ask the relay for a one-time join code; the state shows it with its QR code.
    pub async fn invite(
        &self,
        grant: Grant,
        expires_in_hours: Option<u32>,
    ) -> Result<InviteView, Message> {
        let mode = DeviceMode::of(grant.role);
        let result = self.inner.lb.sync().invite(grant, expires_in_hours).await;
        let view = result.map_err(|e| refusal(&e)).and_then(|r| {
            invite_view(
                &self.inner.relay_url,
                &r.code,
                r.expires_at,
                mode,
                &self.inner.lb.timezone().unwrap_or(jiff::tz::TimeZone::UTC),
            )
        });
        match view {
            Ok(view) => {
                self.inner.extra().invite = Some(view.clone());
                self.inner.finish(Ok(None))?;
                Ok(view)
            }
            Err(m) => {
                self.inner.finish(Err(m.clone()))?;
                Err(m)
            }
        }
    }

    /// Load the coop's devices from the relay into the state.
    pub async fn load_devices(&self) -> Result<(), Message> {
        let devices = match self.inner.lb.sync().devices().await {
            Ok(d) => d,
            Err(e) => return self.inner.done(Err::<(), _>(e)),
        };
        self.inner.extra().devices = devices
            .into_iter()
            .map(|d| DeviceRow {
                device_id: d.device_id,
                name: d.name,
                mode: DeviceMode::of(d.grant.role),
                person_id: d.grant.person,
                site_id: d.grant.site,
                last_seen_at: d.last_seen_at,
                revoked: d.revoked,
            })
            .collect();
        self.inner.finish(Ok(None))
    }

    /// Revoke a device at the relay, then reload the device list.
    pub async fn revoke_device(&self, device_id: &str) -> Result<(), Message> {
        if let Err(e) = self.inner.lb.sync().revoke_device(device_id).await {
            return self.inner.done(Err::<(), _>(e));
        }
        self.load_devices().await
    }

    /// Write a report for local dates `from..=to` into `dir`; returns the file's path.
    pub fn export_report(
        &self,
        kind: ReportKind,
        from: &str,
        to: &str,
        dir: &Path,
    ) -> Result<PathBuf, Message> {
        let reports = self.inner.lb.reports();
        let (name, body) = match kind {
            ReportKind::Hours => ("hours", reports.hours_csv(from, to).map(String::into_bytes)),
            ReportKind::Payroll => (
                "payroll",
                reports.payroll_csv(from, to).map(String::into_bytes),
            ),
            ReportKind::Ratio => (
                "ratio",
                reports.ratio(from, to).and_then(|r| {
                    serde_json::to_vec_pretty(&r).map_err(|e| Error::Corrupt(e.to_string()))
                }),
            ),
        };
        let ext = if kind == ReportKind::Ratio {
            "json"
        } else {
            "csv"
        };
        let path = dir.join(format!("{name}-{from}-{to}.{ext}"));
        let written = body.and_then(|b| std::fs::write(&path, b).map_err(Error::from));
        match written {
            Ok(()) => {
                self.inner.finish(Ok(Some(
                    Message::new(keys::REPORT_WRITTEN).arg("path", path.display()),
                )))?;
                Ok(path)
            }
            Err(e) => self.inner.done(Err::<(), _>(e)).map(|_| path),
        }
    }

    /// Sync once; the sync line follows. Returns whether the relay was reached.
    pub async fn sync(&self) -> bool {
        let result = self.inner.lb.sync().run().await;
        self.inner
            .offline
            .store(result.as_ref().is_err_and(is_offline), Ordering::SeqCst);
        self.inner.reload();
        result.is_ok()
    }
}

impl Inner {
    fn extra(&self) -> std::sync::MutexGuard<'_, Extra> {
        self.extra.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reload(&self) {
        let built = {
            let extra = self.extra();
            build(&self.lb, &extra, self.offline.load(Ordering::SeqCst))
        };
        if let Ok(state) = built {
            self.published.update(|s| *s = state);
        }
    }

    /// Keep the action's outcome (what it did, or why not) on screen and reload.
    fn finish(&self, result: Result<Option<Message>, Message>) -> Result<(), Message> {
        let (outcome, out) = match result {
            Ok(m) => (m, Ok(())),
            Err(m) => (Some(m.clone()), Err(m)),
        };
        self.extra().outcome = outcome;
        self.reload();
        out
    }

    /// [`Inner::finish`] for a core call that shows no message of its own when it works.
    fn done<T>(&self, result: Result<T, Error>) -> Result<(), Message> {
        self.finish(result.map(|_| None).map_err(|e| refusal(&e)))
    }
}

fn invite_view(
    relay_url: &str,
    code: &str,
    expires_at: UnixSeconds,
    mode: DeviceMode,
    tz: &jiff::tz::TimeZone,
) -> Result<InviteView, Message> {
    let payload = join_payload(relay_url, code);
    let qr =
        qrcode::QrCode::new(payload.as_bytes()).map_err(|_| Message::new(keys::REFUSED_ERROR))?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build();
    let qr_width = qr.width() as u32;
    let qr_modules = qr
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let expires = format!(
        "{} {}",
        local_date(expires_at, tz),
        crate::message::clock_time(expires_at, tz)
    );
    Ok(InviteView {
        code: code.to_string(),
        expires_at,
        mode,
        message: Message::new(keys::INVITE_CODE)
            .arg("code", code)
            .arg("expires", expires),
        payload,
        qr_svg,
        qr_width,
        qr_modules,
    })
}

fn build(lb: &Logbook, extra: &Extra, offline: bool) -> Result<CoordinatorState, Error> {
    let directory = lb.directory();
    let people = directory.people()?;
    let names: BTreeMap<String, String> = people
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_default();
    let timesheets = lb.timesheets();

    // The review queue, oldest first.
    let mut review = Vec::new();
    for p in people.iter().filter(|p| p.active) {
        for s in timesheets.shifts(&p.id, None, None)? {
            if s.status == ShiftStatus::NeedsReview {
                review.push(ReviewItem {
                    kind: ReviewKind::NeedsReview,
                    person_id: p.id.clone(),
                    person_name: p.name.clone(),
                    shift_id: Some(s.id.clone()),
                    punch_id: None,
                    at: s.start,
                    local_date: s.local_date.clone(),
                    hour_type: Some(s.hour_type),
                    message: Message::new(keys::REVIEW_NEEDS_REVIEW),
                });
            }
        }
        let ignored = timesheets.ignored_punches(&p.id)?;
        if ignored.is_empty() {
            continue;
        }
        let punches = timesheets.punches(&p.id)?;
        let tz = lb.timezone().unwrap_or(jiff::tz::TimeZone::UTC);
        for i in ignored {
            let Some(punch) = punches.iter().find(|x| x.id == i.punch_id) else {
                continue;
            };
            let date = local_date(punch.at, &tz);
            // Approving (or locking) the week settles its duplicates.
            let week = timesheets.week_state(&p.id, &date)?;
            if week.approved || week.locked {
                continue;
            }
            review.push(ReviewItem {
                kind: ReviewKind::Duplicate,
                person_id: p.id.clone(),
                person_name: p.name.clone(),
                shift_id: None,
                punch_id: Some(i.punch_id.clone()),
                at: punch.at,
                local_date: date,
                hour_type: None,
                message: Message::new(keys::REVIEW_DUPLICATE).arg("reason", &i.reason),
            });
        }
    }
    review.sort_by(|a, b| (a.at, &a.person_id).cmp(&(b.at, &b.person_id)));

    let open_shift = match &extra.open_shift {
        None => None,
        Some(id) => {
            let history = timesheets.shift_history(id)?;
            let shift = people.iter().find_map(|p| {
                timesheets
                    .shifts(&p.id, None, None)
                    .ok()?
                    .into_iter()
                    .find(|s| &s.id == id)
            });
            match shift {
                Some(shift) => Some(ShiftDetail {
                    week: timesheets.week_state(&shift.person_id, &shift.local_date)?,
                    shift,
                    history,
                }),
                None => None,
            }
        }
    };

    let today = directory.today()?;
    let expiring = lb
        .training()
        .expiring(EXPIRY_WINDOW_DAYS)?
        .into_iter()
        .map(|r| {
            let expires = r.expires_on.clone().unwrap_or_default();
            let expired = expires.as_str() < today.to_string().as_str();
            let key = if expired {
                keys::TRAINING_EXPIRED
            } else {
                keys::TRAINING_DUE
            };
            ExpiryRow {
                message: Message::new(key)
                    .arg("course", &r.course_name)
                    .arg("date", &expires),
                person_name: name_of(&r.person_id),
                record_id: r.id,
                person_id: r.person_id,
                course_name: r.course_name,
                expires_on: expires,
                expired,
            }
        })
        .collect();

    let mut cpo = Vec::new();
    let mut notes = Vec::new();
    for p in &people {
        for progress in lb.cpo().progress(&p.id).unwrap_or_default() {
            cpo.push(CpoRow {
                person_id: p.id.clone(),
                person_name: p.name.clone(),
                progress: cpo_card(progress),
            });
        }
        // A coordinator's device holds only the notes of people who consented (the
        // relay erases the others'), so what it can read is what it may show.
        let threads = lb.notes().threads(&p.id).unwrap_or_default();
        if !threads.is_empty() {
            notes.push(PersonNotes {
                person_id: p.id.clone(),
                person_name: p.name.clone(),
                threads: threads
                    .into_iter()
                    .map(|t| NoteThreadView {
                        thread_id: t.id,
                        entries: t
                            .entries
                            .into_iter()
                            .map(|e| NoteEntryView {
                                entry_id: e.id,
                                author: e.author,
                                text: e.text,
                                created_at: e.created_at,
                            })
                            .collect(),
                    })
                    .collect(),
            });
        }
    }

    Ok(CoordinatorState {
        review_empty: review.is_empty().then(|| Message::new(keys::REVIEW_EMPTY)),
        review,
        open_shift,
        sites: directory
            .sites()?
            .into_iter()
            .map(|s| SiteRow {
                site_id: s.id,
                name: s.name,
            })
            .collect(),
        people: people
            .into_iter()
            .map(|p| PersonRow {
                person_id: p.id,
                name: p.name,
                roles: p.roles,
                site_ids: p.site_ids,
                active: p.active,
                has_pin: p.has_pin,
            })
            .collect(),
        expiring,
        cpo,
        notes,
        invite: extra.invite.clone(),
        devices: extra.devices.clone(),
        outcome: extra.outcome.clone(),
        sync: SyncStatus::read(lb, offline),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_qr_code_encodes_the_payload_the_join_screen_reads() {
        let v = invite_view(
            "https://relay.example",
            "K7QF-2M9X-T4PA",
            1_795_000_000,
            DeviceMode::Kiosk,
            &jiff::tz::TimeZone::UTC,
        )
        .unwrap_or_else(|m| panic!("{m:?}"));
        assert_eq!(
            crate::join::parse_join_payload(&v.payload),
            Ok(crate::join::JoinPayload {
                relay_url: "https://relay.example".into(),
                code: "K7QF-2M9X-T4PA".into()
            })
        );
        assert_eq!(v.qr_modules.len() as u32, v.qr_width * v.qr_width);
        assert!(v.qr_svg.starts_with("<?xml"));
        assert_eq!(v.message.get("expires"), Some("2026-11-18 11:06"));
    }
}
