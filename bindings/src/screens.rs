//! The screen models of crate logbook-screens, for the apps: each screen is an object
//! with a `state()`, its actions, and `subscribe(listener)`, which calls the listener
//! with the current state at once and then after every change (local writes, syncs,
//! the screen's own actions) until the returned [`ScreenSubscription`] is cancelled or
//! closed. Strings shown to people are [`ScreenMessage`]s (a key and its values): the
//! front end translates them (keys: screens/src/message.rs, docs/ARCHITECTURE.md).
//!
//! Listeners are called on the thread that made the change: hand the state to the UI
//! thread and return; calling one of the screen's actions from inside a listener would
//! wait for itself. Actions are quick blocking calls (a tap waits for its fsync): call
//! them off the UI thread. The records here mirror the Rust ones one to one.

use std::sync::{Arc, Mutex};

use logbook_core::{
    AuditEntry, HourType, PersonRole, PunchKind, Shift, ShiftCorrection, WeekState,
};
use logbook_screens as screens;

use crate::error::LogbookError;
use crate::live::Live;
use crate::logbook::Logbook;
use crate::sync::Grant;

// ---------- shared ----------

/// One value of a message: `{name}` in the text is replaced by `value`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScreenMessageArg {
    pub name: String,
    pub value: String,
}

/// A string shown to people: a key and the values of its placeholders. A message with a
/// `count` value is a plural (`KEY.one` / `KEY.other`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScreenMessage {
    pub key: String,
    pub args: Vec<ScreenMessageArg>,
}

impl From<screens::Message> for ScreenMessage {
    fn from(m: screens::Message) -> Self {
        ScreenMessage {
            key: m.key,
            args: m
                .args
                .into_iter()
                .map(|a| ScreenMessageArg {
                    name: a.name,
                    value: a.value,
                })
                .collect(),
        }
    }
}

fn msg(m: Option<screens::Message>) -> Option<ScreenMessage> {
    m.map(ScreenMessage::from)
}

/// Every message key the screen models produce (for the front ends' strings tests).
#[uniffi::export]
pub fn screen_message_keys() -> Vec<String> {
    screens::keys::ALL.iter().map(|k| k.to_string()).collect()
}

/// A refused action: `reason` says why, as a message to translate (Kotlin reserves
/// `message` on exceptions for their own text).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ScreenError {
    #[error("refused: {}", reason.key)]
    Refused { reason: ScreenMessage },
}

impl From<screens::Message> for ScreenError {
    fn from(m: screens::Message) -> Self {
        ScreenError::Refused { reason: m.into() }
    }
}

/// A listener's hold on a screen: `cancel()` (or closing it) stops the calls.
#[derive(uniffi::Object)]
pub struct ScreenSubscription {
    inner: Mutex<Option<screens::ScreenSubscription>>,
    _live: Live,
}

impl ScreenSubscription {
    fn new(inner: screens::ScreenSubscription) -> Arc<ScreenSubscription> {
        Arc::new(ScreenSubscription {
            inner: Mutex::new(Some(inner)),
            _live: Live::new(),
        })
    }
}

#[uniffi::export]
impl ScreenSubscription {
    /// Stop the calls. Safe to call more than once.
    pub fn cancel(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    pub fn is_active(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

/// Adapts a foreign listener of one screen to the Rust listener trait: converts the state
/// into its record; a listener that throws is logged and otherwise ignored (the screen
/// goes on).
macro_rules! forward_listener {
    ($name:ident, $listener:ident, $state:ty, $record:ty) => {
        struct $name(Arc<dyn $listener>);

        impl screens::ScreenListener<$state> for $name {
            fn on_state(&self, state: $state) {
                if self.0.on_state(<$record>::from(state)).is_err() {
                    tracing::warn!("a screen listener failed; the screen goes on");
                }
            }
        }
    };
}

/// Where this device stands with the relay.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScreenSyncStatus {
    pub joined: bool,
    pub last_sync_at: Option<i64>,
    pub pending_changes: u32,
    pub offline: bool,
    pub message: ScreenMessage,
    pub waiting: Option<ScreenMessage>,
    pub problem: Option<ScreenMessage>,
}

impl From<screens::SyncStatus> for ScreenSyncStatus {
    fn from(s: screens::SyncStatus) -> Self {
        ScreenSyncStatus {
            joined: s.joined,
            last_sync_at: s.last_sync_at,
            pending_changes: s.pending_changes,
            offline: s.offline,
            message: s.message.into(),
            waiting: msg(s.waiting),
            problem: msg(s.problem),
        }
    }
}

// ---------- kiosk ----------

/// How a kiosk screen behaves (see logbook-screens `KioskConfig`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KioskScreenConfig {
    /// The site whose names to show; none: the site this kiosk joined for.
    #[uniffi(default)]
    pub site_id: Option<String>,
    /// Kinds of hours offered at clock-in; more than one: clock-in asks.
    #[uniffi(default)]
    pub hour_types: Vec<HourType>,
    #[uniffi(default = 5)]
    pub outcome_seconds: i64,
    #[uniffi(default = 30)]
    pub pin_idle_seconds: i64,
}

/// A name on the tiles: initials and a colour (palette index), never a photo.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KioskTile {
    pub person_id: String,
    pub name: String,
    pub initials: String,
    pub colour: u32,
    pub on_shift: bool,
}

impl From<screens::PersonTile> for KioskTile {
    fn from(p: screens::PersonTile) -> Self {
        KioskTile {
            person_id: p.person_id,
            name: p.name,
            initials: p.initials,
            colour: p.colour,
            on_shift: p.on_shift,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum KioskStage {
    Tiles,
    Pin {
        person: KioskTile,
        digits: u32,
        tries_left: Option<u32>,
        wrong: Option<ScreenMessage>,
        actions: Vec<PunchKind>,
        complete: bool,
        busy: bool,
    },
    /// Clock-in asks the kind of hours (named so in Kotlin it does not hide `HourType`).
    ChooseHourType {
        person: KioskTile,
        choices: Vec<HourType>,
        question: ScreenMessage,
    },
    Done {
        person: KioskTile,
        action: PunchKind,
        time: String,
        message: ScreenMessage,
        thanks: ScreenMessage,
    },
    LockedOut {
        person: KioskTile,
        seconds_left: i64,
        message: ScreenMessage,
    },
    Refused {
        person: KioskTile,
        action: PunchKind,
        reason: ScreenMessage,
    },
}

impl From<screens::KioskStage> for KioskStage {
    fn from(s: screens::KioskStage) -> Self {
        use screens::KioskStage as S;
        match s {
            S::Tiles => KioskStage::Tiles,
            S::Pin {
                person,
                digits,
                tries_left,
                wrong,
                actions,
                complete,
                busy,
            } => KioskStage::Pin {
                person: person.into(),
                digits,
                tries_left,
                wrong: msg(wrong),
                actions,
                complete,
                busy,
            },
            S::HourType {
                person,
                choices,
                question,
            } => KioskStage::ChooseHourType {
                person: person.into(),
                choices,
                question: question.into(),
            },
            S::Done {
                person,
                action,
                time,
                message,
                thanks,
            } => KioskStage::Done {
                person: person.into(),
                action,
                time,
                message: message.into(),
                thanks: thanks.into(),
            },
            S::LockedOut {
                person,
                seconds_left,
                message,
            } => KioskStage::LockedOut {
                person: person.into(),
                seconds_left,
                message: message.into(),
            },
            S::Refused {
                person,
                action,
                reason,
            } => KioskStage::Refused {
                person: person.into(),
                action,
                reason: reason.into(),
            },
        }
    }
}

/// Everything the kiosk draws. Nothing about hours, notes, training or CPO.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KioskScreenState {
    pub site_name: String,
    pub people: Vec<KioskTile>,
    pub on_shift: Vec<KioskTile>,
    pub stage: KioskStage,
    pub offline: bool,
    pub pending_taps: u32,
    pub badge: Option<ScreenMessage>,
}

impl From<screens::KioskState> for KioskScreenState {
    fn from(s: screens::KioskState) -> Self {
        KioskScreenState {
            site_name: s.site_name,
            people: s.people.into_iter().map(Into::into).collect(),
            on_shift: s.on_shift.into_iter().map(Into::into).collect(),
            stage: s.stage.into(),
            offline: s.offline,
            pending_taps: s.pending_taps,
            badge: msg(s.badge),
        }
    }
}

forward_listener!(
    ForwardKiosk,
    KioskScreenListener,
    screens::KioskState,
    KioskScreenState
);

/// Implemented by the front end: hears the kiosk's states.
#[uniffi::export(with_foreign)]
pub trait KioskScreenListener: Send + Sync {
    fn on_state(&self, state: KioskScreenState) -> Result<(), LogbookError>;
}

/// The kiosk screen model.
#[derive(uniffi::Object)]
pub struct KioskScreen {
    inner: screens::KioskScreen,
    _live: Live,
}

#[uniffi::export(async_runtime = "tokio")]
impl KioskScreen {
    #[uniffi::constructor]
    pub fn new(
        logbook: Arc<Logbook>,
        config: KioskScreenConfig,
    ) -> Result<Arc<KioskScreen>, LogbookError> {
        let inner = screens::KioskScreen::new(
            logbook.core().clone(),
            screens::KioskConfig {
                site_id: config.site_id,
                hour_types: config.hour_types,
                outcome_seconds: config.outcome_seconds,
                pin_idle_seconds: config.pin_idle_seconds,
            },
        )?;
        Ok(Arc::new(KioskScreen {
            inner,
            _live: Live::new(),
        }))
    }

    pub fn state(&self) -> KioskScreenState {
        self.inner.state().into()
    }

    pub fn subscribe(&self, listener: Arc<dyn KioskScreenListener>) -> Arc<ScreenSubscription> {
        ScreenSubscription::new(self.inner.subscribe(Arc::new(ForwardKiosk(listener))))
    }

    pub fn pick_person(&self, person_id: String) {
        self.inner.pick_person(&person_id)
    }

    pub fn digit(&self, digit: u8) {
        self.inner.digit(digit)
    }

    pub fn delete_digit(&self) {
        self.inner.delete_digit()
    }

    pub fn act(&self, action: PunchKind) {
        self.inner.act(action)
    }

    pub fn choose_hour_type(&self, hour_type: HourType) {
        self.inner.choose_hour_type(hour_type)
    }

    pub fn back_to_tiles(&self) {
        self.inner.back_to_tiles()
    }

    /// Call about once a second: the lockout countdown and the idle return follow it.
    pub fn tick(&self) {
        self.inner.tick()
    }

    pub fn set_offline(&self, offline: bool) {
        self.inner.set_offline(offline)
    }

    /// Sync once; returns whether the relay was reached (the badge follows).
    pub async fn sync(&self) -> bool {
        self.inner.sync().await
    }
}

// ---------- join ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceMode {
    Phone,
    Kiosk,
    Coordinator,
    Supporter,
}

impl From<screens::join::DeviceMode> for DeviceMode {
    fn from(m: screens::join::DeviceMode) -> Self {
        use screens::join::DeviceMode as M;
        match m {
            M::Phone => DeviceMode::Phone,
            M::Kiosk => DeviceMode::Kiosk,
            M::Coordinator => DeviceMode::Coordinator,
            M::Supporter => DeviceMode::Supporter,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum JoinStage {
    Entering,
    Joining,
    Joined {
        mode: DeviceMode,
        coop_name: String,
        message: ScreenMessage,
        note: Option<ScreenMessage>,
    },
    Failed {
        reason: ScreenMessage,
    },
}

impl From<screens::join::JoinStage> for JoinStage {
    fn from(s: screens::join::JoinStage) -> Self {
        use screens::join::JoinStage as S;
        match s {
            S::Entering => JoinStage::Entering,
            S::Joining => JoinStage::Joining,
            S::Joined {
                mode,
                coop_name,
                message,
                note,
            } => JoinStage::Joined {
                mode: mode.into(),
                coop_name,
                message: message.into(),
                note: msg(note),
            },
            S::Failed { reason } => JoinStage::Failed {
                reason: reason.into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JoinScreenState {
    pub relay_url: String,
    pub code: String,
    pub can_join: bool,
    pub prompt: ScreenMessage,
    pub stage: JoinStage,
}

impl From<screens::JoinState> for JoinScreenState {
    fn from(s: screens::JoinState) -> Self {
        JoinScreenState {
            relay_url: s.relay_url,
            code: s.code,
            can_join: s.can_join,
            prompt: s.prompt.into(),
            stage: s.stage.into(),
        }
    }
}

forward_listener!(
    ForwardJoin,
    JoinScreenListener,
    screens::JoinState,
    JoinScreenState
);

#[uniffi::export(with_foreign)]
pub trait JoinScreenListener: Send + Sync {
    fn on_state(&self, state: JoinScreenState) -> Result<(), LogbookError>;
}

/// The join screen model: type or scan a one-time code.
#[derive(uniffi::Object)]
pub struct JoinScreen {
    inner: screens::JoinScreen,
    _live: Live,
}

#[uniffi::export(async_runtime = "tokio")]
impl JoinScreen {
    #[uniffi::constructor]
    pub fn new(logbook: Arc<Logbook>, relay_url: String) -> Arc<JoinScreen> {
        Arc::new(JoinScreen {
            inner: screens::JoinScreen::new(logbook.core().clone(), &relay_url),
            _live: Live::new(),
        })
    }

    pub fn state(&self) -> JoinScreenState {
        self.inner.state().into()
    }

    pub fn subscribe(&self, listener: Arc<dyn JoinScreenListener>) -> Arc<ScreenSubscription> {
        ScreenSubscription::new(self.inner.subscribe(Arc::new(ForwardJoin(listener))))
    }

    pub fn set_code(&self, code: String) {
        self.inner.set_code(&code)
    }

    pub fn set_relay_url(&self, url: String) {
        self.inner.set_relay_url(&url)
    }

    /// A scanned QR code's text; false if it is not an invite (or a damaged one): the
    /// stage then says which.
    pub fn scanned(&self, payload: String) -> bool {
        self.inner.scanned(&payload).is_ok()
    }

    pub async fn join(&self, device_name: String) -> JoinStage {
        self.inner.join(&device_name).await.into()
    }
}

// ---------- worker phone ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DayStatus {
    OffShift,
    OnShift,
    OnBreak,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkerButton {
    pub action: PunchKind,
    pub label: ScreenMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkerToday {
    pub status: DayStatus,
    pub since: Option<i64>,
    pub message: ScreenMessage,
    pub primary: WorkerButton,
    pub secondary: Option<WorkerButton>,
    pub hour_types: Vec<HourType>,
    pub confirmation: Option<ScreenMessage>,
    pub refusal: Option<ScreenMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HoursByType {
    pub hour_type: HourType,
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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
    pub message: ScreenMessage,
}

impl From<screens::worker::CpoCard> for CpoCard {
    fn from(c: screens::worker::CpoCard) -> Self {
        CpoCard {
            order_id: c.order_id,
            hours_ordered: c.hours_ordered,
            deadline: c.deadline,
            done_minutes: c.done_minutes,
            left_minutes: c.left_minutes,
            other_activity_counted_minutes: c.other_activity_counted_minutes,
            other_activity_cap_minutes: c.other_activity_cap_minutes,
            days_to_deadline: c.days_to_deadline,
            complete: c.complete,
            on_track: c.on_track,
            message: c.message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TrainingDue {
    pub record_id: String,
    pub course_name: String,
    pub expires_on: String,
    pub expired: bool,
    pub message: ScreenMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoteEntryView {
    pub entry_id: String,
    pub author: String,
    pub text: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoteThreadView {
    pub thread_id: String,
    pub entries: Vec<NoteEntryView>,
}

impl From<screens::worker::NoteThreadView> for NoteThreadView {
    fn from(t: screens::worker::NoteThreadView) -> Self {
        NoteThreadView {
            thread_id: t.thread_id,
            entries: t
                .entries
                .into_iter()
                .map(|e| NoteEntryView {
                    entry_id: e.entry_id,
                    author: e.author,
                    text: e.text,
                    created_at: e.created_at,
                })
                .collect(),
        }
    }
}

/// A device that asks to read the person's notes (or already may).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotesAccessRow {
    pub device_key: String,
    /// The code the asking device shows: compare before approving.
    pub code: String,
    pub supporter: bool,
    pub who: ScreenMessage,
    pub check: ScreenMessage,
}

impl From<screens::worker::NotesAccessRow> for NotesAccessRow {
    fn from(r: screens::worker::NotesAccessRow) -> Self {
        NotesAccessRow {
            device_key: r.device_key,
            code: r.code,
            supporter: r.supporter,
            who: r.who.into(),
            check: r.check.into(),
        }
    }
}

/// Who asks to read the person's notes, who already may, and the last approval's outcome.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotesAccess {
    pub asking: Vec<NotesAccessRow>,
    pub approved: Vec<NotesAccessRow>,
    pub outcome: Option<ScreenMessage>,
}

/// The code a device shows so a person can check it is the one asking to read their notes
/// (the worker's phone shows the same code for each device asking).
#[uniffi::export]
pub fn device_check_code(device_key: String) -> String {
    screens::worker::device_check_code(&device_key)
}

/// A scanned invite: the relay's address and the one-time code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JoinPayload {
    pub relay_url: String,
    pub code: String,
}

/// The relay's address and code from a scanned QR code's text; refused with
/// `join.scan.foreign` (another QR code) or `join.scan.damaged` (a broken invite).
#[uniffi::export]
pub fn parse_join_payload(payload: String) -> Result<JoinPayload, ScreenError> {
    screens::join::parse_join_payload(&payload)
        .map(|p| JoinPayload {
            relay_url: p.relay_url,
            code: p.code,
        })
        .map_err(|e| e.message().into())
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkerHomeScreenState {
    pub person_id: String,
    pub name: String,
    pub today: WorkerToday,
    pub week_start: String,
    pub week: Vec<HoursByType>,
    pub cpo: Vec<CpoCard>,
    pub training_due: Vec<TrainingDue>,
    pub notes: Vec<NoteThreadView>,
    pub consent: Option<bool>,
    pub notes_access: NotesAccess,
    pub sync: ScreenSyncStatus,
}

impl From<screens::WorkerHomeState> for WorkerHomeScreenState {
    fn from(s: screens::WorkerHomeState) -> Self {
        use screens::worker::DayStatus as D;
        let button = |b: screens::worker::WorkerButton| WorkerButton {
            action: b.action,
            label: b.label.into(),
        };
        WorkerHomeScreenState {
            person_id: s.person_id,
            name: s.name,
            today: WorkerToday {
                status: match s.today.status {
                    D::OffShift => DayStatus::OffShift,
                    D::OnShift => DayStatus::OnShift,
                    D::OnBreak => DayStatus::OnBreak,
                },
                since: s.today.since,
                message: s.today.message.into(),
                primary: button(s.today.primary),
                secondary: s.today.secondary.map(button),
                hour_types: s.today.hour_types,
                confirmation: msg(s.today.confirmation),
                refusal: msg(s.today.refusal),
            },
            week_start: s.week_start,
            week: s
                .week
                .into_iter()
                .map(|h| HoursByType {
                    hour_type: h.hour_type,
                    minutes: h.minutes,
                })
                .collect(),
            cpo: s.cpo.into_iter().map(Into::into).collect(),
            training_due: s
                .training_due
                .into_iter()
                .map(|t| TrainingDue {
                    record_id: t.record_id,
                    course_name: t.course_name,
                    expires_on: t.expires_on,
                    expired: t.expired,
                    message: t.message.into(),
                })
                .collect(),
            notes: s.notes.into_iter().map(Into::into).collect(),
            consent: s.consent,
            notes_access: NotesAccess {
                asking: s.notes_access.asking.into_iter().map(Into::into).collect(),
                approved: s
                    .notes_access
                    .approved
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                outcome: msg(s.notes_access.outcome),
            },
            sync: s.sync.into(),
        }
    }
}

forward_listener!(
    ForwardWorkerHome,
    WorkerHomeScreenListener,
    screens::WorkerHomeState,
    WorkerHomeScreenState
);

#[uniffi::export(with_foreign)]
pub trait WorkerHomeScreenListener: Send + Sync {
    fn on_state(&self, state: WorkerHomeScreenState) -> Result<(), LogbookError>;
}

/// A worker's phone home screen model.
#[derive(uniffi::Object)]
pub struct WorkerHomeScreen {
    inner: screens::WorkerHomeScreen,
    _live: Live,
}

#[uniffi::export(async_runtime = "tokio")]
impl WorkerHomeScreen {
    /// `person_id`: none for the person this phone joined for.
    #[uniffi::constructor(default(person_id = None))]
    pub fn new(
        logbook: Arc<Logbook>,
        person_id: Option<String>,
    ) -> Result<Arc<WorkerHomeScreen>, LogbookError> {
        Ok(Arc::new(WorkerHomeScreen {
            inner: screens::WorkerHomeScreen::new(logbook.core().clone(), person_id)?,
            _live: Live::new(),
        }))
    }

    pub fn state(&self) -> WorkerHomeScreenState {
        self.inner.state().into()
    }

    pub fn subscribe(
        &self,
        listener: Arc<dyn WorkerHomeScreenListener>,
    ) -> Arc<ScreenSubscription> {
        ScreenSubscription::new(self.inner.subscribe(Arc::new(ForwardWorkerHome(listener))))
    }

    /// Clock in, out or take a break now; returns the confirmation.
    #[uniffi::method(default(hour_type = None))]
    pub fn tap(
        &self,
        action: PunchKind,
        hour_type: Option<HourType>,
    ) -> Result<ScreenMessage, ScreenError> {
        Ok(self.inner.tap(action, hour_type)?.into())
    }

    // No default for `thread_id`: a defaulted argument before `text` is not valid Python.
    pub fn write_note(&self, thread_id: Option<String>, text: String) -> Result<(), ScreenError> {
        Ok(self.inner.write_note(thread_id.as_deref(), &text)?)
    }

    pub async fn set_consent(&self, coordinators_may_read: bool) -> Result<(), ScreenError> {
        Ok(self.inner.set_consent(coordinators_may_read).await?)
    }

    /// Let a device that asks read these notes (after checking its code); the key goes
    /// with the sync this starts. Returns the confirmation.
    pub async fn approve_notes_device(
        &self,
        device_key: String,
    ) -> Result<ScreenMessage, ScreenError> {
        Ok(self.inner.approve_notes_device(&device_key).await?.into())
    }

    /// Not now: the device leaves the list until the screen is opened again.
    pub fn not_now(&self, device_key: String) {
        self.inner.not_now(&device_key)
    }

    pub async fn sync(&self) -> bool {
        self.inner.sync().await
    }
}

// ---------- coordinator ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReviewKind {
    NeedsReview,
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReviewItem {
    pub kind: ReviewKind,
    pub person_id: String,
    pub person_name: String,
    pub shift_id: Option<String>,
    pub punch_id: Option<String>,
    pub at: i64,
    pub local_date: String,
    pub hour_type: Option<HourType>,
    pub message: ScreenMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShiftDetail {
    pub shift: Shift,
    pub history: Vec<AuditEntry>,
    pub week: WeekState,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonRow {
    pub person_id: String,
    pub name: String,
    pub roles: Vec<PersonRole>,
    pub site_ids: Vec<String>,
    pub active: bool,
    pub has_pin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SiteRow {
    pub site_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExpiryRow {
    pub record_id: String,
    pub person_id: String,
    pub person_name: String,
    pub course_name: String,
    pub expires_on: String,
    pub expired: bool,
    pub message: ScreenMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CpoRow {
    pub person_id: String,
    pub person_name: String,
    pub progress: CpoCard,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonNotes {
    pub person_id: String,
    pub person_name: String,
    pub threads: Vec<NoteThreadView>,
}

/// An invite code, and the same with the relay's address as a QR code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InviteView {
    pub code: String,
    pub expires_at: i64,
    pub mode: DeviceMode,
    pub payload: String,
    pub qr_svg: String,
    pub qr_width: u32,
    /// Row by row; true is dark.
    pub qr_modules: Vec<bool>,
    pub message: ScreenMessage,
}

impl From<screens::coordinator::InviteView> for InviteView {
    fn from(v: screens::coordinator::InviteView) -> Self {
        InviteView {
            code: v.code,
            expires_at: v.expires_at,
            mode: v.mode.into(),
            payload: v.payload,
            qr_svg: v.qr_svg,
            qr_width: v.qr_width,
            qr_modules: v.qr_modules,
            message: v.message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceRow {
    pub device_id: String,
    pub name: String,
    pub mode: DeviceMode,
    pub person_id: Option<String>,
    pub site_id: Option<String>,
    pub last_seen_at: Option<i64>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReportKind {
    Hours,
    Payroll,
    Ratio,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CoordinatorScreenState {
    pub review: Vec<ReviewItem>,
    pub review_empty: Option<ScreenMessage>,
    pub open_shift: Option<ShiftDetail>,
    pub people: Vec<PersonRow>,
    pub sites: Vec<SiteRow>,
    pub expiring: Vec<ExpiryRow>,
    pub cpo: Vec<CpoRow>,
    pub notes: Vec<PersonNotes>,
    pub invite: Option<InviteView>,
    pub devices: Vec<DeviceRow>,
    pub outcome: Option<ScreenMessage>,
    pub sync: ScreenSyncStatus,
}

impl From<screens::CoordinatorState> for CoordinatorScreenState {
    fn from(s: screens::CoordinatorState) -> Self {
        use screens::coordinator::ReviewKind as K;
        CoordinatorScreenState {
            review: s
                .review
                .into_iter()
                .map(|i| ReviewItem {
                    kind: match i.kind {
                        K::NeedsReview => ReviewKind::NeedsReview,
                        K::Duplicate => ReviewKind::Duplicate,
                    },
                    person_id: i.person_id,
                    person_name: i.person_name,
                    shift_id: i.shift_id,
                    punch_id: i.punch_id,
                    at: i.at,
                    local_date: i.local_date,
                    hour_type: i.hour_type,
                    message: i.message.into(),
                })
                .collect(),
            review_empty: msg(s.review_empty),
            open_shift: s.open_shift.map(|d| ShiftDetail {
                shift: d.shift,
                history: d.history,
                week: d.week,
            }),
            people: s
                .people
                .into_iter()
                .map(|p| PersonRow {
                    person_id: p.person_id,
                    name: p.name,
                    roles: p.roles,
                    site_ids: p.site_ids,
                    active: p.active,
                    has_pin: p.has_pin,
                })
                .collect(),
            sites: s
                .sites
                .into_iter()
                .map(|x| SiteRow {
                    site_id: x.site_id,
                    name: x.name,
                })
                .collect(),
            expiring: s
                .expiring
                .into_iter()
                .map(|e| ExpiryRow {
                    record_id: e.record_id,
                    person_id: e.person_id,
                    person_name: e.person_name,
                    course_name: e.course_name,
                    expires_on: e.expires_on,
                    expired: e.expired,
                    message: e.message.into(),
                })
                .collect(),
            cpo: s
                .cpo
                .into_iter()
                .map(|c| CpoRow {
                    person_id: c.person_id,
                    person_name: c.person_name,
                    progress: c.progress.into(),
                })
                .collect(),
            notes: s
                .notes
                .into_iter()
                .map(|n| PersonNotes {
                    person_id: n.person_id,
                    person_name: n.person_name,
                    threads: n.threads.into_iter().map(Into::into).collect(),
                })
                .collect(),
            invite: s.invite.map(Into::into),
            devices: s
                .devices
                .into_iter()
                .map(|d| DeviceRow {
                    device_id: d.device_id,
                    name: d.name,
                    mode: d.mode.into(),
                    person_id: d.person_id,
                    site_id: d.site_id,
                    last_seen_at: d.last_seen_at,
                    revoked: d.revoked,
                })
                .collect(),
            outcome: msg(s.outcome),
            sync: s.sync.into(),
        }
    }
}

forward_listener!(
    ForwardCoordinator,
    CoordinatorScreenListener,
    screens::CoordinatorState,
    CoordinatorScreenState
);

#[uniffi::export(with_foreign)]
pub trait CoordinatorScreenListener: Send + Sync {
    fn on_state(&self, state: CoordinatorScreenState) -> Result<(), LogbookError>;
}

/// The coordinator's screens model.
#[derive(uniffi::Object)]
pub struct CoordinatorScreens {
    inner: screens::CoordinatorScreens,
    _live: Live,
}

#[uniffi::export(async_runtime = "tokio")]
impl CoordinatorScreens {
    /// `relay_url`: the relay this device joined (written into invite QR codes).
    #[uniffi::constructor]
    pub fn new(
        logbook: Arc<Logbook>,
        relay_url: String,
    ) -> Result<Arc<CoordinatorScreens>, LogbookError> {
        Ok(Arc::new(CoordinatorScreens {
            inner: screens::CoordinatorScreens::new(logbook.core().clone(), &relay_url)?,
            _live: Live::new(),
        }))
    }

    pub fn state(&self) -> CoordinatorScreenState {
        self.inner.state().into()
    }

    pub fn subscribe(
        &self,
        listener: Arc<dyn CoordinatorScreenListener>,
    ) -> Arc<ScreenSubscription> {
        ScreenSubscription::new(self.inner.subscribe(Arc::new(ForwardCoordinator(listener))))
    }

    pub fn open_shift(&self, shift_id: Option<String>) {
        self.inner.open_shift(shift_id.as_deref())
    }

    pub fn correct_shift(&self, shift_id: String, fix: ShiftCorrection) -> Result<(), ScreenError> {
        Ok(self.inner.correct_shift(&shift_id, fix)?)
    }

    pub fn review_week(
        &self,
        date: String,
        people: Vec<String>,
        lock: bool,
    ) -> Result<(), ScreenError> {
        Ok(self.inner.review_week(&date, &people, lock)?)
    }

    pub fn add_site(&self, name: String) -> Result<(), ScreenError> {
        Ok(self.inner.add_site(&name)?)
    }

    pub fn add_person(
        &self,
        name: String,
        roles: Vec<PersonRole>,
        site_ids: Vec<String>,
        disadvantaged: bool,
    ) -> Result<(), ScreenError> {
        Ok(self
            .inner
            .add_person(&name, &roles, &site_ids, disadvantaged)?)
    }

    pub fn set_pin(&self, person_id: String, pin: String) -> Result<(), ScreenError> {
        Ok(self.inner.set_pin(&person_id, &pin)?)
    }

    #[uniffi::method(default(expires_in_hours = None))]
    pub async fn invite(
        &self,
        grant: Grant,
        expires_in_hours: Option<u32>,
    ) -> Result<InviteView, ScreenError> {
        Ok(self
            .inner
            .invite(grant.into(), expires_in_hours)
            .await?
            .into())
    }

    pub async fn load_devices(&self) -> Result<(), ScreenError> {
        Ok(self.inner.load_devices().await?)
    }

    pub async fn revoke_device(&self, device_id: String) -> Result<(), ScreenError> {
        Ok(self.inner.revoke_device(&device_id).await?)
    }

    /// Write a report into `dir`; returns the file's path.
    pub fn export_report(
        &self,
        kind: ReportKind,
        from: String,
        to: String,
        dir: String,
    ) -> Result<String, ScreenError> {
        let kind = match kind {
            ReportKind::Hours => screens::coordinator::ReportKind::Hours,
            ReportKind::Payroll => screens::coordinator::ReportKind::Payroll,
            ReportKind::Ratio => screens::coordinator::ReportKind::Ratio,
        };
        Ok(self
            .inner
            .export_report(kind, &from, &to, std::path::Path::new(&dir))?
            .display()
            .to_string())
    }

    pub async fn sync(&self) -> bool {
        self.inner.sync().await
    }
}
