//! The sync line the phone and coordinator screens share: when this device last synced,
//! how many changes wait for the relay, and whether the last try reached it.

use logbook_core::{Error, Logbook};

use crate::message::{Message, clock_time, keys};

/// Where this device stands with the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    /// This device joined a relay (a standalone logbook never syncs).
    pub joined: bool,
    /// When the last sync completed (Unix seconds), if ever.
    pub last_sync_at: Option<i64>,
    /// Local changes the relay has not acknowledged.
    pub pending_changes: u32,
    /// The last sync this screen ran could not reach the relay.
    pub offline: bool,
    /// `sync.last` (with `time` and `date`), `sync.never` or `sync.standalone`.
    pub message: Message,
    /// `sync.waiting` with the count, when changes wait; else none.
    pub waiting: Option<Message>,
    /// `sync.offline`, when the last try did not reach the relay.
    pub problem: Option<Message>,
}

impl SyncStatus {
    /// Read it from the store; `offline` is what the screen's last sync found.
    pub fn read(lb: &Logbook, offline: bool) -> SyncStatus {
        let joined = lb.grant().ok().flatten().is_some();
        let sync = lb.sync();
        let last_sync_at = sync.last_sync_at().ok().flatten();
        let pending_changes = sync.pending_changes().unwrap_or(0) as u32;
        let tz = lb.timezone().unwrap_or(jiff::tz::TimeZone::UTC);
        let message = match (joined, last_sync_at) {
            (false, _) => Message::new(keys::SYNC_STANDALONE),
            (true, None) => Message::new(keys::SYNC_NEVER),
            (true, Some(at)) => Message::new(keys::SYNC_LAST)
                .arg("time", clock_time(at, &tz))
                .arg("date", local_date(at, &tz)),
        };
        SyncStatus {
            joined,
            last_sync_at,
            pending_changes,
            offline,
            message,
            waiting: (pending_changes > 0 && joined)
                .then(|| Message::count(keys::SYNC_WAITING, pending_changes)),
            problem: offline.then(|| Message::new(keys::SYNC_OFFLINE)),
        }
    }
}

/// Whether a sync error means the relay could not be reached (the offline state), as
/// opposed to a refusal.
pub fn is_offline(e: &Error) -> bool {
    matches!(
        e,
        Error::Network(_) | Error::Unreachable | Error::RelayBusy { .. }
    )
}

/// `YYYY-MM-DD` of `at` in `tz`.
pub(crate) fn local_date(at: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| t.to_zoned(tz.clone()).date().to_string())
        .unwrap_or_default()
}
