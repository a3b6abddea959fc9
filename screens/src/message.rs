//! Text shown to people, as message keys with values: the screen models never build an
//! English sentence, each front end looks the key up in its own strings (Android and
//! desktop: `strings_<lang>.properties` in android/logbook-compose) and fills the
//! `{placeholders}` from the arguments.
//!
//! Rules the front ends follow (and [`keys`] is written for):
//! - A message with a `count` argument is a plural: the front end looks up `KEY.one` for
//!   1 and `KEY.other` otherwise (`pin.wrong` → `pin.wrong.one` / `pin.wrong.other`).
//! - Argument values are already formatted (`time` is `08:02` in the coop's time zone,
//!   dates are `YYYY-MM-DD`, counts are decimal integers).
//! - Names (`name`) are the only personal data in a message; nothing else a message
//!   carries identifies anyone.

/// One argument of a message: `{name}` in the text is replaced by `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageArg {
    pub name: String,
    pub value: String,
}

/// A string shown to people: a key from [`keys`] and the values of its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub key: String,
    pub args: Vec<MessageArg>,
}

impl Message {
    pub fn new(key: &str) -> Message {
        Message {
            key: key.to_string(),
            args: Vec::new(),
        }
    }

    /// The message with one more argument.
    pub fn arg(mut self, name: &str, value: impl ToString) -> Message {
        self.args.push(MessageArg {
            name: name.to_string(),
            value: value.to_string(),
        });
        self
    }

    /// A plural message: `count` picks `KEY.one` or `KEY.other`.
    pub fn count(key: &str, count: impl ToString) -> Message {
        Message::new(key).arg("count", count)
    }

    /// The value of an argument, if the message has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }
}

/// Every message key the screen models produce, in one place. The kiosk keys are the
/// ones the Kotlin kiosk already had (android/logbook-compose strings files), so its
/// strings files keep working; keys marked *plural* take `count`.
pub mod keys {
    // ---------- kiosk ----------
    /// `{name}`: the PIN pad's heading.
    pub const PIN_HEADING: &str = "pin.heading";
    /// Type your 4-digit PIN.
    pub const PIN_PROMPT: &str = "pin.prompt";
    /// *Plural*: wrong PIN, `{count}` tries left.
    pub const PIN_WRONG: &str = "pin.wrong";
    /// A tap is being saved.
    pub const PIN_BUSY: &str = "pin.busy";
    /// Which kind of hours: asked at clock-in when there is more than one.
    pub const HOUR_TYPE_QUESTION: &str = "hourType.question";
    /// `{time}`: clocked in at.
    pub const DONE_CLOCK_IN: &str = "done.clockIn";
    /// `{time}`: clocked out at.
    pub const DONE_CLOCK_OUT: &str = "done.clockOut";
    /// `{time}`: break started at.
    pub const DONE_BREAK_START: &str = "done.breakStart";
    /// `{time}`: break ended at.
    pub const DONE_BREAK_END: &str = "done.breakEnd";
    /// `{name}`: thank you.
    pub const DONE_THANKS: &str = "done.thanks";
    /// *Plural*, `{name}`: too many wrong PINs, wait `{count}` minutes.
    pub const LOCKED_BODY: &str = "locked.body";
    /// `{reason}`: the core's own words (no personal data), when no key fits.
    pub const REFUSED_BODY: &str = "refused.body";
    /// A clock-in while already clocked in (a double tap).
    pub const REFUSED_ALREADY_CLOCKED_IN: &str = "refused.alreadyClockedIn";
    /// A clock-out right after a clock-out (a double tap).
    pub const REFUSED_ALREADY_CLOCKED_OUT: &str = "refused.alreadyClockedOut";
    /// A clock-out or break with no shift open.
    pub const REFUSED_NOT_CLOCKED_IN: &str = "refused.notClockedIn";
    /// A break start during a break (a double tap).
    pub const REFUSED_ALREADY_ON_BREAK: &str = "refused.alreadyOnBreak";
    /// A break end with no break open.
    pub const REFUSED_NOT_ON_BREAK: &str = "refused.notOnBreak";
    /// The week is locked by a coordinator.
    pub const REFUSED_WEEK_LOCKED: &str = "refused.weekLocked";
    /// The person has no PIN yet: ask a coordinator.
    pub const REFUSED_NO_PIN: &str = "refused.noPin";
    /// This device may not do that.
    pub const REFUSED_FORBIDDEN: &str = "refused.forbidden";
    /// The person (or thing) is no longer here.
    pub const REFUSED_NOT_FOUND: &str = "refused.notFound";
    /// Something went wrong saving (storage, a bug): try again, tell a coordinator.
    pub const REFUSED_ERROR: &str = "refused.error";
    /// *Plural*: offline, `{count}` taps waiting to sync.
    pub const OFFLINE_WAITING: &str = "offline.waiting";
    /// Nobody on shift yet.
    pub const TILES_ON_SHIFT_NONE: &str = "tiles.onShift.none";
    /// The site has no names yet.
    pub const TILES_EMPTY: &str = "tiles.empty";

    // ---------- join ----------
    /// Type or scan the one-time code.
    pub const JOIN_PROMPT: &str = "join.prompt";
    /// A scanned QR code that is not a Co-op Logbook invite.
    pub const JOIN_SCAN_FOREIGN: &str = "join.scan.foreign";
    /// A scanned invite with its address or code missing or damaged.
    pub const JOIN_SCAN_DAMAGED: &str = "join.scan.damaged";
    /// Joining: talking to the relay.
    pub const JOIN_BUSY: &str = "join.busy";
    /// `{coop}`: joined as a worker's phone.
    pub const JOIN_DONE_PHONE: &str = "join.done.phone";
    /// `{coop}`: joined as a site's kiosk.
    pub const JOIN_DONE_KIOSK: &str = "join.done.kiosk";
    /// `{coop}`: joined as a coordinator's device.
    pub const JOIN_DONE_COORDINATOR: &str = "join.done.coordinator";
    /// `{coop}`: joined as a supporter's device.
    pub const JOIN_DONE_SUPPORTER: &str = "join.done.supporter";
    /// The code is not a join code (typo, expired, used).
    pub const JOIN_BAD_CODE: &str = "join.badCode";
    /// The relay could not be reached.
    pub const JOIN_OFFLINE: &str = "join.offline";
    /// This device has joined already.
    pub const JOIN_ALREADY: &str = "join.already";
    /// Joined, but the first sync did not finish (it will next time).
    pub const JOIN_NOT_SYNCED: &str = "join.notSynced";

    // ---------- worker phone ----------
    /// Not on shift.
    pub const TODAY_OFF: &str = "today.off";
    /// `{time}`: on shift since.
    pub const TODAY_ON_SHIFT: &str = "today.onShift";
    /// `{time}`: on a break since.
    pub const TODAY_ON_BREAK: &str = "today.onBreak";
    /// Button: clock in.
    pub const ACTION_CLOCK_IN: &str = "action.clockIn";
    /// Button: clock out.
    pub const ACTION_CLOCK_OUT: &str = "action.clockOut";
    /// Button: start break.
    pub const ACTION_BREAK_START: &str = "action.breakStart";
    /// Button: end break.
    pub const ACTION_BREAK_END: &str = "action.breakEnd";
    /// Clock-in needs the kind of hours (more than one is possible).
    pub const CHOOSE_HOUR_TYPE: &str = "worker.chooseHourType";
    /// `{course}`, `{date}`: a certificate is due for review on date.
    pub const TRAINING_DUE: &str = "training.due";
    /// `{course}`, `{date}`: a certificate expired on date.
    pub const TRAINING_EXPIRED: &str = "training.expired";
    /// *Plural*: `{count}` days to the CPO deadline.
    pub const CPO_DAYS_LEFT: &str = "cpo.daysLeft";
    /// *Plural*: the CPO deadline passed `{count}` days ago.
    pub const CPO_OVERDUE: &str = "cpo.overdue";
    /// The CPO order is complete.
    pub const CPO_COMPLETE: &str = "cpo.complete";
    /// A note thread needs some text.
    pub const NOTE_EMPTY: &str = "notes.empty";

    /// The notes-access list: who is asking and the code to compare.
    /// `{code}`: the device's check code, as its own screen shows it.
    pub const NOTES_DEVICE_CODE: &str = "notesAccess.code";
    /// A supporter's device asks to read the person's notes.
    pub const NOTES_DEVICE_SUPPORTER: &str = "notesAccess.supporter";
    /// Another device of the person's own asks to read their notes.
    pub const NOTES_DEVICE_OWN: &str = "notesAccess.ownDevice";
    /// Approved: the device gets the notes key with the next sync.
    pub const NOTES_DEVICE_APPROVED: &str = "notesAccess.approved";
    /// The device is no longer one that may be approved (revoked, or never trusted here).
    pub const NOTES_DEVICE_UNKNOWN: &str = "notesAccess.unknown";

    // ---------- sync status (every screen but the kiosk) ----------
    /// Never synced.
    pub const SYNC_NEVER: &str = "sync.never";
    /// `{time}`, `{date}`: last synced at.
    pub const SYNC_LAST: &str = "sync.last";
    /// *Plural*: `{count}` changes waiting to sync.
    pub const SYNC_WAITING: &str = "sync.waiting";
    /// The last sync could not reach the relay.
    pub const SYNC_OFFLINE: &str = "sync.offline";
    /// This device has not joined a relay (standalone).
    pub const SYNC_STANDALONE: &str = "sync.standalone";

    // ---------- coordinator ----------
    /// A shift longer than the review threshold, or never clocked out.
    pub const REVIEW_NEEDS_REVIEW: &str = "review.needsReview";
    /// `{reason}` (the derivation's): a punch counted as a duplicate.
    pub const REVIEW_DUPLICATE: &str = "review.duplicate";
    /// Nothing to review.
    pub const REVIEW_EMPTY: &str = "review.empty";
    /// A correction needs a reason.
    pub const CORRECTION_NEEDS_REASON: &str = "correction.needsReason";
    /// `{code}`, `{expires}`: the invite code to type or scan.
    pub const INVITE_CODE: &str = "invite.code";
    /// `{path}`: a report was written to this file.
    pub const REPORT_WRITTEN: &str = "report.written";
    /// The action needs the relay and it could not be reached.
    pub const NEEDS_RELAY: &str = "coordinator.needsRelay";

    /// Every key above: the front ends' strings tests check each has a text.
    pub const ALL: &[&str] = &[
        PIN_HEADING,
        PIN_PROMPT,
        PIN_WRONG,
        PIN_BUSY,
        HOUR_TYPE_QUESTION,
        DONE_CLOCK_IN,
        DONE_CLOCK_OUT,
        DONE_BREAK_START,
        DONE_BREAK_END,
        DONE_THANKS,
        LOCKED_BODY,
        REFUSED_BODY,
        REFUSED_ALREADY_CLOCKED_IN,
        REFUSED_ALREADY_CLOCKED_OUT,
        REFUSED_NOT_CLOCKED_IN,
        REFUSED_ALREADY_ON_BREAK,
        REFUSED_NOT_ON_BREAK,
        REFUSED_WEEK_LOCKED,
        REFUSED_NO_PIN,
        REFUSED_FORBIDDEN,
        REFUSED_NOT_FOUND,
        REFUSED_ERROR,
        OFFLINE_WAITING,
        TILES_ON_SHIFT_NONE,
        TILES_EMPTY,
        JOIN_PROMPT,
        JOIN_BUSY,
        JOIN_SCAN_FOREIGN,
        JOIN_SCAN_DAMAGED,
        JOIN_DONE_PHONE,
        JOIN_DONE_KIOSK,
        JOIN_DONE_COORDINATOR,
        JOIN_DONE_SUPPORTER,
        JOIN_BAD_CODE,
        JOIN_OFFLINE,
        JOIN_ALREADY,
        JOIN_NOT_SYNCED,
        TODAY_OFF,
        TODAY_ON_SHIFT,
        TODAY_ON_BREAK,
        ACTION_CLOCK_IN,
        ACTION_CLOCK_OUT,
        ACTION_BREAK_START,
        ACTION_BREAK_END,
        CHOOSE_HOUR_TYPE,
        TRAINING_DUE,
        TRAINING_EXPIRED,
        CPO_DAYS_LEFT,
        CPO_OVERDUE,
        CPO_COMPLETE,
        NOTE_EMPTY,
        NOTES_DEVICE_CODE,
        NOTES_DEVICE_SUPPORTER,
        NOTES_DEVICE_OWN,
        NOTES_DEVICE_APPROVED,
        NOTES_DEVICE_UNKNOWN,
        SYNC_NEVER,
        SYNC_LAST,
        SYNC_WAITING,
        SYNC_OFFLINE,
        SYNC_STANDALONE,
        REVIEW_NEEDS_REVIEW,
        REVIEW_DUPLICATE,
        REVIEW_EMPTY,
        CORRECTION_NEEDS_REASON,
        INVITE_CODE,
        REPORT_WRITTEN,
        NEEDS_RELAY,
    ];
}

/// The message for a refused action: a key when the core's reason is one the screens know
/// (the tap rules in core/src/timesheets/taps.rs), else the core's own words, which carry
/// no personal data (core/src/error.rs).
pub fn refusal(e: &logbook_core::Error) -> Message {
    use logbook_core::Error as E;
    match e {
        E::Conflict(reason) | E::Invalid(reason) => {
            let key = match reason.as_str() {
                "already clocked in" => keys::REFUSED_ALREADY_CLOCKED_IN,
                "already clocked out" => keys::REFUSED_ALREADY_CLOCKED_OUT,
                "not clocked in" => keys::REFUSED_NOT_CLOCKED_IN,
                "already on a break" => keys::REFUSED_ALREADY_ON_BREAK,
                "not on a break" => keys::REFUSED_NOT_ON_BREAK,
                r if r.starts_with("that week is locked") => keys::REFUSED_WEEK_LOCKED,
                r if r.starts_with("no PIN is set") => keys::REFUSED_NO_PIN,
                r if r.starts_with("a correction needs a reason") => keys::CORRECTION_NEEDS_REASON,
                _ => return Message::new(keys::REFUSED_BODY).arg("reason", reason),
            };
            Message::new(key)
        }
        E::Forbidden(_) => Message::new(keys::REFUSED_FORBIDDEN),
        E::NotFound(_) => Message::new(keys::REFUSED_NOT_FOUND),
        E::Network(_) | E::Unreachable | E::RelayBusy { .. } => Message::new(keys::NEEDS_RELAY),
        _ => Message::new(keys::REFUSED_ERROR),
    }
}

/// Up to two letters: the first of the first and of the last word ("Aisha Khan" → "AK"),
/// as the Kotlin kiosk drew them.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |w: &str| {
        w.chars()
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
    };
    match words.as_slice() {
        [] => "?".into(),
        [one] => first(one).unwrap_or_else(|| "?".into()),
        [a, .., b] => format!(
            "{}{}",
            first(a).unwrap_or_default(),
            first(b).unwrap_or_default()
        ),
    }
}

/// `HH:MM` of `at` in `tz`.
pub fn clock_time(at: i64, tz: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_second(at) {
        Ok(t) => t.to_zoned(tz.clone()).strftime("%H:%M").to_string(),
        Err(_) => "--:--".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_and_last_word() {
        assert_eq!(initials("Aisha Khan"), "AK");
        assert_eq!(initials("  ben  "), "B");
        assert_eq!(initials("Anna Maria Rossi"), "AR");
        assert_eq!(initials(""), "?");
    }

    #[test]
    fn every_key_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for k in keys::ALL {
            assert!(seen.insert(*k), "{k} listed twice");
        }
    }

    #[test]
    fn the_tap_rules_reasons_have_keys_and_unknown_ones_keep_the_core_words() {
        let m = refusal(&logbook_core::Error::conflict("already on a break"));
        assert_eq!(m.key, keys::REFUSED_ALREADY_ON_BREAK);
        let m = refusal(&logbook_core::Error::conflict("something new"));
        assert_eq!(m.key, keys::REFUSED_BODY);
        assert_eq!(m.get("reason"), Some("something new"));
    }
}
