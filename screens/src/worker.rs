//! A worker's phone: today's state and the one right button, this week's hours by kind,
//! CPO progress, training and certificates due, note threads with their supporter (and
//! the consent switch), and the sync line. Everything here is the person's own: the
//! phone reads nobody else's records.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use logbook_core::{Error, HourType, Logbook, PunchKind, ShiftStatus, UnixSeconds};

use crate::live::{Published, ScreenListener, ScreenSubscription, follow_store};
use crate::message::{Message, clock_time, keys, refusal};
use crate::sync_status::{SyncStatus, is_offline};

/// Certificates due within this many days show on the phone.
pub const TRAINING_DUE_DAYS: i32 = 60;

/// Where the person's day stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayStatus {
    OffShift,
    OnShift,
    OnBreak,
}

/// A button: what it records and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerButton {
    pub action: PunchKind,
    pub label: Message,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodayState {
    pub status: DayStatus,
    /// When the shift (or the break) began.
    pub since: Option<UnixSeconds>,
    /// `today.off`, `today.onShift` or `today.onBreak` (with `time`).
    pub message: Message,
    /// The one right button: clock in, clock out, or end the break.
    pub primary: WorkerButton,
    /// Start a break, while on shift.
    pub secondary: Option<WorkerButton>,
    /// The kinds of hours clock-in offers; with more than one the front end asks and
    /// passes the choice to `tap`.
    pub hour_types: Vec<HourType>,
    /// What the last tap did (`done.clockIn` with `time`…), until the next action.
    pub confirmation: Option<Message>,
    /// Why the last action was refused, until the next action.
    pub refusal: Option<Message>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursByType {
    pub hour_type: HourType,
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpoCard {
    pub order_id: String,
    pub hours_ordered: u32,
    pub deadline: String,
    pub done_minutes: u32,
    pub left_minutes: u32,
    pub other_activity_counted_minutes: u32,
    pub other_activity_cap_minutes: u32,
    pub days_to_deadline: i32,
    pub complete: bool,
    pub on_track: bool,
    /// `cpo.complete`, `cpo.daysLeft` or `cpo.overdue` (plurals of days).
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingDue {
    pub record_id: String,
    pub course_name: String,
    pub expires_on: String,
    pub expired: bool,
    /// `training.due` or `training.expired`, with `course` and `date`.
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteEntryView {
    pub entry_id: String,
    pub author: String,
    pub text: String,
    pub created_at: UnixSeconds,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteThreadView {
    pub thread_id: String,
    pub entries: Vec<NoteEntryView>,
}

/// A device that asks to read the person's notes: a supporter's, or another device of the
/// person's own. It gets the person's notes key only once approved on this phone
/// (docs/SECURITY.md, *Notes keys*); a coordinator's device never shows here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesAccessRow {
    pub device_key: String,
    /// The code the asking device shows ([`device_check_code`]): the person compares the
    /// two before approving.
    pub code: String,
    pub supporter: bool,
    /// Who is asking: `notesAccess.supporter` or `notesAccess.ownDevice`.
    pub who: Message,
    /// `notesAccess.code` with `code`.
    pub check: Message,
}

/// The notes-access part of the phone: who asks to read the notes, who already may.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotesAccess {
    /// Waiting for the person's answer (those put off with "not now" left out until the
    /// screen is opened again).
    pub asking: Vec<NotesAccessRow>,
    /// Approved on this phone: they can read the notes (after their next sync).
    pub approved: Vec<NotesAccessRow>,
    /// What the last approval did (`notesAccess.approved`) or why it failed.
    pub outcome: Option<Message>,
}

/// The short code a device shows so a person can check it is the one asking to read their
/// notes: the device key's random part, upper case, in groups of four ("1A2B 3C4D …").
pub fn device_check_code(device_key: &str) -> String {
    let random = device_key.rsplit('-').next().unwrap_or(device_key);
    let chars: Vec<char> = random
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything the worker's home screen draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerHomeState {
    pub person_id: String,
    pub name: String,
    pub today: TodayState,
    /// The Monday of this week, `YYYY-MM-DD`.
    pub week_start: String,
    /// Counted minutes this week by kind of hours (kinds with none left out).
    pub week: Vec<HoursByType>,
    pub cpo: Vec<CpoCard>,
    pub training_due: Vec<TrainingDue>,
    pub notes: Vec<NoteThreadView>,
    /// Whether coordinators may read the notes (`None`: never set on this device).
    pub consent: Option<bool>,
    /// Devices asking to read these notes, and those approved.
    pub notes_access: NotesAccess,
    pub sync: SyncStatus,
}

struct Inner {
    lb: Arc<Logbook>,
    person_id: String,
    published: Published<WorkerHomeState>,
    /// The last action's outcome, kept across reloads until the next action.
    outcome: Mutex<(Option<Message>, Option<Message>)>,
    offline: AtomicBool,
    /// Devices put off with "not now", and the last approval's outcome.
    notes_access: Mutex<(BTreeSet<String>, Option<Message>)>,
}

/// The worker's phone home screen model.
pub struct WorkerHomeScreen {
    inner: Arc<Inner>,
    _follow: logbook_core::Subscription,
}

impl WorkerHomeScreen {
    /// The home screen of `person_id`, or of the person this phone was joined for.
    pub fn new(lb: Arc<Logbook>, person_id: Option<String>) -> Result<WorkerHomeScreen, Error> {
        let person_id = match person_id {
            Some(p) => p,
            None => lb.grant()?.and_then(|g| g.person).ok_or_else(|| {
                Error::invalid("this device is not a worker's phone: name the person")
            })?,
        };
        let first = build(&lb, &person_id, (None, None), false, &Default::default())?;
        let inner = Arc::new(Inner {
            lb: lb.clone(),
            person_id,
            published: Published::new(first),
            outcome: Mutex::new((None, None)),
            offline: AtomicBool::new(false),
            notes_access: Mutex::new(Default::default()),
        });
        let follow = follow_store(&lb, &inner, |inner, _, _| inner.reload());
        Ok(WorkerHomeScreen {
            inner,
            _follow: follow,
        })
    }

    pub fn state(&self) -> WorkerHomeState {
        self.inner.published.get()
    }

    /// Hear the current state now, then every change, until the handle is dropped.
    pub fn subscribe(
        &self,
        listener: Arc<dyn ScreenListener<WorkerHomeState>>,
    ) -> ScreenSubscription {
        self.inner.published.subscribe(listener)
    }

    /// Clock in, out or take a break now. Returns the confirmation, or why not (both
    /// also in `today`).
    pub fn tap(&self, action: PunchKind, hour_type: Option<HourType>) -> Result<Message, Message> {
        let i = &self.inner;
        let choices = i.published.get().today.hour_types;
        let hour_type = match (action, hour_type, choices.as_slice()) {
            (PunchKind::ClockIn, None, [only]) => Some(*only),
            (PunchKind::ClockIn, None, many) if many.len() > 1 => {
                return i.finish(Err(Message::new(keys::CHOOSE_HOUR_TYPE)));
            }
            (_, given, _) => given,
        };
        let result =
            i.lb.timesheets()
                .tap(&i.person_id, action, hour_type)
                .map(|_| {
                    let tz = i.lb.timezone().unwrap_or(jiff::tz::TimeZone::UTC);
                    Message::new(done_key(action)).arg("time", clock_time(i.lb.now(), &tz))
                })
                .map_err(|e| refusal(&e));
        i.finish(result)
    }

    /// Write in a note thread: a reply to `thread_id`, or a new thread.
    pub fn write_note(&self, thread_id: Option<&str>, text: &str) -> Result<(), Message> {
        let i = &self.inner;
        if text.trim().is_empty() {
            return i.finish(Err(Message::new(keys::NOTE_EMPTY))).map(|_| ());
        }
        let notes = i.lb.notes();
        let result = match thread_id {
            Some(t) => notes.reply(t, text),
            None => notes.add_thread(&i.person_id, text),
        };
        i.clear_outcome();
        result.map(|_| ()).map_err(|e| refusal(&e))
    }

    /// The consent switch: may coordinators read these notes? Needs the relay once joined.
    pub async fn set_consent(&self, coordinators_may_read: bool) -> Result<(), Message> {
        let i = &self.inner;
        let result =
            i.lb.notes()
                .set_consent(&i.person_id, coordinators_may_read)
                .await;
        i.reload();
        result.map_err(|e| refusal(&e))
    }

    /// Let a device that asks read these notes: it gets the person's notes key with the
    /// next sync, which this starts (if the relay cannot be reached now, a later sync
    /// delivers it). The person checked that the code shown is the one the device shows.
    pub async fn approve_notes_device(&self, device_key: &str) -> Result<Message, Message> {
        let i = &self.inner;
        let result = match i.lb.sync().approve_notes_device(&i.person_id, device_key) {
            Ok(()) => Ok(Message::new(keys::NOTES_DEVICE_APPROVED)),
            Err(Error::Invalid(_)) => Err(Message::new(keys::NOTES_DEVICE_UNKNOWN)),
            Err(e) => Err(refusal(&e)),
        };
        {
            let mut access = i.notes_access.lock().unwrap_or_else(|e| e.into_inner());
            access.0.remove(device_key);
            access.1 = Some(match &result {
                Ok(m) | Err(m) => m.clone(),
            });
        }
        i.reload();
        if result.is_ok() {
            self.sync().await;
        }
        result
    }

    /// Not now: the device leaves the list until the screen is opened again (nothing is
    /// recorded; it can be approved later).
    pub fn not_now(&self, device_key: &str) {
        let i = &self.inner;
        {
            let mut access = i.notes_access.lock().unwrap_or_else(|e| e.into_inner());
            access.0.insert(device_key.to_string());
            access.1 = None;
        }
        i.reload();
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
    fn reload(&self) {
        let outcome = self
            .outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let access = self
            .notes_access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Ok(state) = build(
            &self.lb,
            &self.person_id,
            outcome,
            self.offline.load(Ordering::SeqCst),
            &access,
        ) {
            self.published.update(|s| *s = state);
        }
    }

    fn clear_outcome(&self) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = (None, None);
        self.reload();
    }

    fn finish(&self, result: Result<Message, Message>) -> Result<Message, Message> {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = match &result {
            Ok(m) => (Some(m.clone()), None),
            Err(m) => (None, Some(m.clone())),
        };
        self.reload();
        result
    }
}

fn done_key(action: PunchKind) -> &'static str {
    match action {
        PunchKind::ClockIn => keys::DONE_CLOCK_IN,
        PunchKind::ClockOut => keys::DONE_CLOCK_OUT,
        PunchKind::BreakStart => keys::DONE_BREAK_START,
        PunchKind::BreakEnd => keys::DONE_BREAK_END,
    }
}

fn button(action: PunchKind) -> WorkerButton {
    let key = match action {
        PunchKind::ClockIn => keys::ACTION_CLOCK_IN,
        PunchKind::ClockOut => keys::ACTION_CLOCK_OUT,
        PunchKind::BreakStart => keys::ACTION_BREAK_START,
        PunchKind::BreakEnd => keys::ACTION_BREAK_END,
    };
    WorkerButton {
        action,
        label: Message::new(key),
    }
}

/// Read the whole screen from the store.
fn build(
    lb: &Logbook,
    person_id: &str,
    (confirmation, refused): (Option<Message>, Option<Message>),
    offline: bool,
    (not_now, access_outcome): &(BTreeSet<String>, Option<Message>),
) -> Result<WorkerHomeState, Error> {
    let tz = lb.timezone().unwrap_or(jiff::tz::TimeZone::UTC);
    let today = lb.directory().today()?;
    let name = lb
        .directory()
        .person(person_id)
        .map(|p| p.name)
        .unwrap_or_default();
    let shifts = lb.timesheets().shifts(person_id, None, None)?;

    // Today: the open shift, and whether its last break is still open.
    let open = shifts
        .iter()
        .rev()
        .find(|s| s.status == ShiftStatus::Open && s.end.is_none());
    let (status, since) = match open {
        None => (DayStatus::OffShift, None),
        Some(shift) => {
            let ignored: Vec<String> = lb
                .timesheets()
                .ignored_punches(person_id)?
                .into_iter()
                .map(|p| p.punch_id)
                .collect();
            let last_break = lb
                .timesheets()
                .punches(person_id)?
                .into_iter()
                .filter(|p| p.at >= shift.start && !ignored.contains(&p.id))
                .filter(|p| matches!(p.kind, PunchKind::BreakStart | PunchKind::BreakEnd))
                .max_by_key(|p| (p.at, p.id.clone()));
            match last_break {
                Some(p) if p.kind == PunchKind::BreakStart => (DayStatus::OnBreak, Some(p.at)),
                _ => (DayStatus::OnShift, Some(shift.start)),
            }
        }
    };
    let cpo = lb.cpo().progress(person_id).unwrap_or_default();
    let mut hour_types: Vec<HourType> = shifts.iter().map(|s| s.hour_type).collect();
    if cpo.iter().any(|o| !o.complete) {
        hour_types.extend([HourType::CpoUnpaidWork, HourType::CpoOtherActivity]);
    }
    hour_types.sort();
    hour_types.dedup();
    let at = |t: Option<UnixSeconds>| clock_time(t.unwrap_or_default(), &tz);
    let (message, primary, secondary) = match status {
        DayStatus::OffShift => (
            Message::new(keys::TODAY_OFF),
            button(PunchKind::ClockIn),
            None,
        ),
        DayStatus::OnShift => (
            Message::new(keys::TODAY_ON_SHIFT).arg("time", at(since)),
            button(PunchKind::ClockOut),
            Some(button(PunchKind::BreakStart)),
        ),
        DayStatus::OnBreak => (
            Message::new(keys::TODAY_ON_BREAK).arg("time", at(since)),
            button(PunchKind::BreakEnd),
            None,
        ),
    };

    // This week (Monday to Sunday), counted minutes by kind.
    let monday = today
        .checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
        .unwrap_or(today);
    let sunday = monday
        .checked_add(jiff::Span::new().days(6))
        .unwrap_or(today);
    let mut week: BTreeMap<HourType, i64> = BTreeMap::new();
    for s in lb.timesheets().shifts(
        person_id,
        Some(&monday.to_string()),
        Some(&sunday.to_string()),
    )? {
        if s.counted_seconds > 0 {
            *week.entry(s.hour_type).or_default() += s.counted_seconds;
        }
    }

    let training_due = lb
        .training()
        .records(person_id)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            let expires: jiff::civil::Date = r.expires_on.as_deref()?.parse().ok()?;
            let days = (expires - today).get_days();
            (days <= TRAINING_DUE_DAYS).then(|| {
                let expired = expires < today;
                let key = if expired {
                    keys::TRAINING_EXPIRED
                } else {
                    keys::TRAINING_DUE
                };
                TrainingDue {
                    message: Message::new(key)
                        .arg("course", &r.course_name)
                        .arg("date", expires),
                    record_id: r.id,
                    course_name: r.course_name,
                    expires_on: expires.to_string(),
                    expired,
                }
            })
        })
        .collect();

    let notes = lb
        .notes()
        .threads(person_id)
        .unwrap_or_default()
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
        .collect();

    Ok(WorkerHomeState {
        person_id: person_id.to_string(),
        name,
        today: TodayState {
            status,
            since,
            message,
            primary,
            secondary,
            hour_types,
            confirmation,
            refusal: refused,
        },
        week_start: monday.to_string(),
        week: week
            .into_iter()
            .map(|(hour_type, seconds)| HoursByType {
                hour_type,
                minutes: (seconds / 60) as u32,
            })
            .collect(),
        cpo: cpo.into_iter().map(cpo_card).collect(),
        training_due,
        notes,
        consent: lb.notes().consent(person_id).unwrap_or(None),
        notes_access: notes_access(lb, person_id, not_now, access_outcome.clone()),
        sync: SyncStatus::read(lb, offline),
    })
}

/// The devices that could get `person_id`'s notes key from this phone, split by whether
/// they may already. A phone that has not joined a relay lists none.
fn notes_access(
    lb: &Logbook,
    person_id: &str,
    not_now: &BTreeSet<String>,
    outcome: Option<Message>,
) -> NotesAccess {
    let mut access = NotesAccess {
        outcome,
        ..NotesAccess::default()
    };
    for d in lb.sync().notes_devices(person_id).unwrap_or_default() {
        let supporter = d.role == logbook_protocol::Role::Supporter;
        let code = device_check_code(&d.device_key);
        let row = NotesAccessRow {
            who: Message::new(if supporter {
                keys::NOTES_DEVICE_SUPPORTER
            } else {
                keys::NOTES_DEVICE_OWN
            }),
            check: Message::new(keys::NOTES_DEVICE_CODE).arg("code", &code),
            device_key: d.device_key,
            code,
            supporter,
        };
        if d.approved {
            access.approved.push(row);
        } else if !not_now.contains(&row.device_key) {
            access.asking.push(row);
        }
    }
    access
}

pub(crate) fn cpo_card(p: logbook_core::CpoProgress) -> CpoCard {
    let message = if p.complete {
        Message::new(keys::CPO_COMPLETE)
    } else if p.days_to_deadline < 0 {
        Message::count(keys::CPO_OVERDUE, -p.days_to_deadline)
    } else {
        Message::count(keys::CPO_DAYS_LEFT, p.days_to_deadline)
    };
    CpoCard {
        order_id: p.order_id,
        hours_ordered: p.hours_ordered,
        deadline: p.deadline,
        done_minutes: p.done_minutes,
        left_minutes: p.left_minutes,
        other_activity_counted_minutes: p.other_activity_counted_minutes,
        other_activity_cap_minutes: p.other_activity_cap_minutes,
        days_to_deadline: p.days_to_deadline,
        complete: p.complete,
        on_track: p.on_track,
        message,
    }
}
