//! The kiosk screen: the shared tablet at a site. People tap their name (initials and a
//! colour, never a photo), type their PIN, and clock in, out or take a break; the screen
//! confirms ("clocked in at 08:02") and goes back to the names after a few idle seconds.
//! It shows who is on shift and, when the relay cannot be reached, an offline badge with
//! the number of taps waiting to sync. It never shows notes, training, CPO records or
//! anyone's hours: it reads only the site's roster, who is on shift, its lockouts and its
//! own outbox count.
//!
//! The Compose kiosk (android/logbook-compose, `KioskController`) and the SwiftUI kiosk
//! draw this model and hold no kiosk logic of their own. Time comes from the logbook's
//! clock: the front end calls [`KioskScreen::tick`] about once a second, and the idle
//! return and the lockout countdown follow the clock, so tests set it instead of waiting.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use logbook_core::{Error, HourType, Logbook, PunchKind, UnixSeconds};

use crate::live::{Published, ScreenListener, ScreenSubscription, follow_store};
use crate::message::{Message, clock_time, initials, keys, refusal};

/// Digits in a kiosk PIN (the core accepts exactly four).
pub const PIN_LENGTH: u32 = 4;

/// Colours in the kiosk palette (the front end owns the colours themselves).
pub const PALETTE_SIZE: u32 = 8;

/// How a kiosk screen behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskConfig {
    /// The site whose names to show; `None`: the site this kiosk was joined to.
    pub site_id: Option<String>,
    /// The kinds of hours this kiosk offers at clock-in. With more than one, clock-in
    /// asks which; with one or none, it records that one (or the core's default, paid).
    /// A kiosk cannot know a person's kinds of hours (they would reveal a CPO), so this
    /// is the site's choice, not the person's.
    pub hour_types: Vec<HourType>,
    /// Seconds a confirmation, lockout or refusal stays before the names come back.
    pub outcome_seconds: i64,
    /// Seconds an untouched PIN pad stays before the names come back.
    pub pin_idle_seconds: i64,
}

impl Default for KioskConfig {
    fn default() -> KioskConfig {
        KioskConfig {
            site_id: None,
            hour_types: Vec::new(),
            outcome_seconds: 5,
            pin_idle_seconds: 30,
        }
    }
}

/// A name on the tiles: initials and a colour, never a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonTile {
    pub person_id: String,
    pub name: String,
    pub initials: String,
    /// Index into the kiosk palette (`0..PALETTE_SIZE`), stable for a person.
    pub colour: u32,
    pub on_shift: bool,
}

/// What the kiosk shows in its main area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KioskStage {
    /// The names: the idle screen.
    Tiles,
    /// The PIN pad. Only the number of digits typed is state: the PIN itself stays in
    /// the model, so it is never drawn, logged or screenshotted.
    Pin {
        person: PersonTile,
        digits: u32,
        /// Tries left after a wrong PIN; `None` until the first mistake.
        tries_left: Option<u32>,
        /// `pin.wrong` with the tries left, after a wrong PIN.
        wrong: Option<Message>,
        /// The buttons: clock in when off shift; out or a break when on shift.
        actions: Vec<PunchKind>,
        /// All the digits are typed: the action buttons work.
        complete: bool,
        /// A tap is being saved.
        busy: bool,
    },
    /// Clock-in asks which kind of hours (the kiosk offers more than one).
    HourType {
        person: PersonTile,
        choices: Vec<HourType>,
        question: Message,
    },
    /// The tap was recorded: `message` is e.g. `done.clockIn` with `time` `08:02`.
    Done {
        person: PersonTile,
        action: PunchKind,
        time: String,
        message: Message,
        thanks: Message,
    },
    /// Too many wrong PINs: `seconds_left` counts down (with [`KioskScreen::tick`]).
    LockedOut {
        person: PersonTile,
        seconds_left: i64,
        /// `locked.body` with `name` and the minutes left as `count`.
        message: Message,
    },
    /// The tap was refused (a double tap, a locked week…): `reason` says why.
    Refused {
        person: PersonTile,
        action: PunchKind,
        reason: Message,
    },
}

/// Everything the kiosk screen draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskState {
    /// The site's name, as the coordinator typed it.
    pub site_name: String,
    pub people: Vec<PersonTile>,
    /// Who is on shift now (a subset of `people`).
    pub on_shift: Vec<PersonTile>,
    pub stage: KioskStage,
    /// The last sync could not reach the relay.
    pub offline: bool,
    /// Taps the relay has not acknowledged yet.
    pub pending_taps: u32,
    /// `offline.waiting` with the taps waiting, while offline; else none.
    pub badge: Option<Message>,
}

impl KioskState {
    fn empty() -> KioskState {
        KioskState {
            site_name: String::new(),
            people: Vec::new(),
            on_shift: Vec::new(),
            stage: KioskStage::Tiles,
            offline: false,
            pending_taps: 0,
            badge: None,
        }
    }
}

/// The buttons offered to someone: clock in when off shift; out or a break when on.
pub fn actions_for(on_shift: bool) -> Vec<PunchKind> {
    if on_shift {
        vec![
            PunchKind::ClockOut,
            PunchKind::BreakStart,
            PunchKind::BreakEnd,
        ]
    } else {
        vec![PunchKind::ClockIn]
    }
}

/// What the model holds besides the published state: never shown.
#[derive(Default)]
struct Session {
    pin: String,
    /// When the current stage goes back to the names (clock seconds).
    back_at: Option<UnixSeconds>,
    /// The end of the lockout shown, while `LockedOut`.
    locked_until: Option<UnixSeconds>,
    /// Tries left per person after their last wrong PIN here (the core decides; this
    /// only keeps what it said, so the pad can show it again).
    tries_left: HashMap<String, u32>,
}

struct Inner {
    lb: Arc<Logbook>,
    config: KioskConfig,
    site_id: String,
    published: Published<KioskState>,
    session: Mutex<Session>,
    offline: AtomicBool,
}

/// The kiosk screen model. Cheap to keep for the app's lifetime; actions are quick
/// blocking calls (a tap waits for its fsync): call them off the UI thread.
pub struct KioskScreen {
    inner: Arc<Inner>,
    _follow: logbook_core::Subscription,
}

impl KioskScreen {
    /// The kiosk of `config.site_id`, or of the site this device joined as a kiosk.
    pub fn new(lb: Arc<Logbook>, config: KioskConfig) -> Result<KioskScreen, Error> {
        let site_id = match &config.site_id {
            Some(s) => s.clone(),
            None => lb
                .grant()?
                .and_then(|g| g.site)
                .ok_or_else(|| Error::invalid("this device is not a kiosk: name the site"))?,
        };
        let inner = Arc::new(Inner {
            lb: lb.clone(),
            config,
            site_id,
            published: Published::new(KioskState::empty()),
            session: Mutex::new(Session::default()),
            offline: AtomicBool::new(false),
        });
        inner.reload();
        let follow = follow_store(&lb, &inner, |inner, _, _| inner.reload());
        Ok(KioskScreen {
            inner,
            _follow: follow,
        })
    }

    pub fn state(&self) -> KioskState {
        self.inner.published.get()
    }

    /// Hear the current state now, then every change, until the handle is dropped.
    /// Listeners are called on the thread that made the change: hand the state to the
    /// UI thread and return (calling an action from inside a listener would wait for
    /// itself).
    pub fn subscribe(&self, listener: Arc<dyn ScreenListener<KioskState>>) -> ScreenSubscription {
        self.inner.published.subscribe(listener)
    }

    /// A name was tapped: the PIN pad (or the countdown, if that person is locked out).
    pub fn pick_person(&self, person_id: &str) {
        let i = &self.inner;
        let mut s = i.session();
        let Some(person) = i
            .published
            .get()
            .people
            .into_iter()
            .find(|p| p.person_id == person_id)
        else {
            return;
        };
        s.pin.clear();
        let now = i.lb.now();
        let remaining = i.lb.kiosk().lockout_remaining(person_id).unwrap_or(0);
        if remaining > 0 {
            i.show_locked_out(&mut s, person, now, now + remaining);
            return;
        }
        let tries_left = s.tries_left.get(person_id).copied();
        i.show_pin(&mut s, person, tries_left, now);
    }

    /// A digit on the pad.
    pub fn digit(&self, digit: u8) {
        let i = &self.inner;
        let mut s = i.session();
        if digit > 9 || s.pin.len() as u32 >= PIN_LENGTH {
            return;
        }
        let KioskStage::Pin { busy: false, .. } = i.published.get().stage else {
            return;
        };
        s.pin.push(char::from(b'0' + digit));
        i.set_digits(&mut s);
    }

    /// Delete the last digit.
    pub fn delete_digit(&self) {
        let i = &self.inner;
        let mut s = i.session();
        let KioskStage::Pin { busy: false, .. } = i.published.get().stage else {
            return;
        };
        if s.pin.pop().is_some() {
            i.set_digits(&mut s);
        }
    }

    /// One of the pad's action buttons. A clock-in at a kiosk offering several kinds of
    /// hours asks which first ([`KioskScreen::choose_hour_type`]).
    pub fn act(&self, action: PunchKind) {
        let i = &self.inner;
        let mut s = i.session();
        let KioskStage::Pin {
            person,
            complete: true,
            busy: false,
            actions,
            ..
        } = i.published.get().stage
        else {
            return;
        };
        if !actions.contains(&action) {
            return;
        }
        if action == PunchKind::ClockIn && i.config.hour_types.len() > 1 {
            s.back_at = Some(i.lb.now() + i.config.pin_idle_seconds);
            i.published.update(|st| {
                st.stage = KioskStage::HourType {
                    person,
                    choices: i.config.hour_types.clone(),
                    question: Message::new(keys::HOUR_TYPE_QUESTION),
                }
            });
            return;
        }
        let hour_type = match (action, i.config.hour_types.as_slice()) {
            (PunchKind::ClockIn, [only]) => Some(*only),
            _ => None,
        };
        i.punch(&mut s, person, action, hour_type);
    }

    /// The kind of hours for a clock-in, when asked.
    pub fn choose_hour_type(&self, hour_type: HourType) {
        let i = &self.inner;
        let mut s = i.session();
        let KioskStage::HourType {
            person, choices, ..
        } = i.published.get().stage
        else {
            return;
        };
        if choices.contains(&hour_type) {
            i.punch(&mut s, person, PunchKind::ClockIn, Some(hour_type));
        }
    }

    /// Back to the names (the back button, or "done").
    pub fn back_to_tiles(&self) {
        let mut s = self.inner.session();
        self.inner.back_to_tiles(&mut s);
    }

    /// Let time pass: the front end calls this about once a second. Counts a lockout down
    /// and goes back to the names once the current stage has been idle long enough.
    pub fn tick(&self) {
        let i = &self.inner;
        let mut s = i.session();
        let now = i.lb.now();
        if let (KioskStage::LockedOut { person, .. }, Some(until)) =
            (i.published.get().stage, s.locked_until)
        {
            if until <= now {
                // The lockout is over: the core starts counting wrong PINs again.
                s.locked_until = None;
                s.tries_left.remove(&person.person_id);
                i.show_pin(&mut s, person, None, now);
                return;
            }
            i.published.update(|st| {
                if let KioskStage::LockedOut {
                    person,
                    seconds_left,
                    message,
                } = &mut st.stage
                {
                    *seconds_left = until - now;
                    *message = locked_message(person, until - now);
                }
            });
        }
        if s.back_at.is_some_and(|at| at <= now) {
            i.back_to_tiles(&mut s);
        }
    }

    /// Sync with the relay once; the offline badge follows whether it was reachable.
    /// Returns whether the sync reached the relay.
    pub async fn sync(&self) -> bool {
        let result = self.inner.lb.sync().run().await;
        let offline = matches!(
            result,
            Err(Error::Network(_) | Error::Unreachable | Error::RelayBusy { .. })
        );
        self.inner.offline.store(offline, Ordering::SeqCst);
        self.inner.reload();
        result.is_ok()
    }

    /// Mark the relay unreachable or reachable without a sync (the app's own network
    /// watcher, or a test).
    pub fn set_offline(&self, offline: bool) {
        self.inner.offline.store(offline, Ordering::SeqCst);
        self.inner.reload();
    }
}

impl Inner {
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read the names, who is on shift and the outbox from the store. A read that fails
    /// keeps what was shown (the kiosk must keep working).
    fn reload(&self) {
        let kiosk = self.lb.kiosk();
        let Ok(roster) = kiosk.roster(&self.site_id) else {
            return;
        };
        let on_shift: BTreeSet<String> = kiosk
            .on_shift()
            .map(|v| v.into_iter().map(|r| r.person_id).collect())
            .unwrap_or_default();
        let site_name = self
            .lb
            .directory()
            .sites()
            .ok()
            .and_then(|s| s.into_iter().find(|s| s.id == self.site_id))
            .map(|s| s.name)
            .unwrap_or_default();
        let pending = self.lb.sync().pending_changes().unwrap_or(0) as u32;
        let colours = tile_colours(roster.iter().map(|r| r.person_id.as_str()));
        let people: Vec<PersonTile> = roster
            .into_iter()
            .map(|r| PersonTile {
                initials: initials(&r.name),
                colour: colours.get(&r.person_id).copied().unwrap_or(0),
                on_shift: on_shift.contains(&r.person_id),
                person_id: r.person_id,
                name: r.name,
            })
            .collect();
        let offline = self.offline.load(Ordering::SeqCst);
        self.published.update(|st| {
            st.site_name = site_name;
            st.on_shift = people.iter().filter(|p| p.on_shift).cloned().collect();
            // A PIN pad already open keeps its buttons as they were when it opened: a
            // sync landing mid-PIN must not move the button under a finger.
            st.people = people;
            st.offline = offline;
            st.pending_taps = pending;
            st.badge = offline.then(|| Message::count(keys::OFFLINE_WAITING, pending));
        });
    }

    fn show_pin(
        &self,
        s: &mut Session,
        person: PersonTile,
        tries_left: Option<u32>,
        now: UnixSeconds,
    ) {
        s.back_at = Some(now + self.config.pin_idle_seconds);
        s.locked_until = None;
        let actions = actions_for(person.on_shift);
        self.published.update(|st| {
            st.stage = KioskStage::Pin {
                person,
                digits: 0,
                tries_left,
                wrong: tries_left.map(|n| Message::count(keys::PIN_WRONG, n)),
                actions,
                complete: false,
                busy: false,
            }
        });
    }

    fn show_locked_out(
        &self,
        s: &mut Session,
        person: PersonTile,
        now: UnixSeconds,
        until: UnixSeconds,
    ) {
        s.pin.clear();
        s.back_at = Some(now + self.config.outcome_seconds);
        s.locked_until = Some(until);
        s.tries_left.remove(&person.person_id);
        self.published.update(|st| {
            st.stage = KioskStage::LockedOut {
                message: locked_message(&person, until - now),
                person,
                seconds_left: until - now,
            }
        });
    }

    fn set_digits(&self, s: &mut Session) {
        s.back_at = Some(self.lb.now() + self.config.pin_idle_seconds);
        let typed = s.pin.len() as u32;
        self.published.update(|st| {
            if let KioskStage::Pin {
                digits, complete, ..
            } = &mut st.stage
            {
                *digits = typed;
                *complete = typed == PIN_LENGTH;
            }
        });
    }

    fn back_to_tiles(&self, s: &mut Session) {
        s.pin.clear();
        s.back_at = None;
        s.locked_until = None;
        self.published.update(|st| st.stage = KioskStage::Tiles);
    }

    /// Check the PIN and record the tap (durable when it returns), then show the outcome.
    fn punch(
        &self,
        s: &mut Session,
        person: PersonTile,
        action: PunchKind,
        hour_type: Option<HourType>,
    ) {
        let entered = std::mem::take(&mut s.pin);
        self.published.update(|st| {
            if let KioskStage::Pin { busy, .. } = &mut st.stage {
                *busy = true;
            }
        });
        let result = self
            .lb
            .kiosk()
            .punch(&person.person_id, &entered, action, None, hour_type);
        let now = self.lb.now();
        // The tap changed who is on shift: the tiles under the outcome are current.
        self.reload();
        let person = self
            .published
            .get()
            .people
            .into_iter()
            .find(|p| p.person_id == person.person_id)
            .unwrap_or(person);
        match result {
            Ok(_) => {
                s.tries_left.remove(&person.person_id);
                s.back_at = Some(now + self.config.outcome_seconds);
                let time = clock_time(now, &self.lb.timezone().unwrap_or(jiff::tz::TimeZone::UTC));
                self.published.update(|st| {
                    st.stage = KioskStage::Done {
                        message: Message::new(done_key(action)).arg("time", &time),
                        thanks: Message::new(keys::DONE_THANKS).arg("name", &person.name),
                        person,
                        action,
                        time,
                    }
                });
            }
            Err(Error::WrongPin { tries_left }) => {
                s.tries_left.insert(person.person_id.clone(), tries_left);
                // The pad keeps the buttons it opened with.
                self.show_pin(s, person, Some(tries_left), now);
            }
            Err(Error::LockedOut {
                retry_after_seconds,
            }) => self.show_locked_out(s, person, now, now + retry_after_seconds),
            Err(e) => {
                s.back_at = Some(now + self.config.outcome_seconds);
                self.published.update(|st| {
                    st.stage = KioskStage::Refused {
                        person,
                        action,
                        reason: refusal(&e),
                    }
                });
            }
        }
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

/// `locked.body`: the minutes left, rounded up, at least one.
fn locked_message(person: &PersonTile, seconds_left: i64) -> Message {
    let minutes = ((seconds_left + 59) / 60).max(1);
    Message::count(keys::LOCKED_BODY, minutes).arg("name", &person.name)
}

/// Java's `String.hashCode` (UTF-16 units), so people keep the colour the Kotlin kiosk
/// gave them.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// A palette index per person: from the id (so a person keeps their colour when others
/// come and go), moved on to the next free colour when two people on one screen would
/// share one (while colours are left).
fn tile_colours<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<String, u32> {
    let mut used = BTreeSet::new();
    let mut out = HashMap::new();
    for id in ids {
        let mut c = ((java_hash(id) & 0x7fff_ffff) as u32) % PALETTE_SIZE;
        if (used.len() as u32) < PALETTE_SIZE {
            while used.contains(&c) {
                c = (c + 1) % PALETTE_SIZE;
            }
        }
        used.insert(c);
        out.insert(id.to_string(), c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_javas() {
        // "hello".hashCode() == 99162322 and "p-1".hashCode() == 109076 in Java.
        assert_eq!(java_hash("hello"), 99_162_322);
        assert_eq!(java_hash("p-1"), 109_076);
    }

    #[test]
    fn people_on_one_screen_get_different_colours_while_colours_last() {
        let ids: Vec<String> = (0..8).map(|i| format!("p-{i}")).collect();
        let colours = tile_colours(ids.iter().map(String::as_str));
        let distinct: BTreeSet<u32> = colours.values().copied().collect();
        assert_eq!(distinct.len(), 8);
    }
}
