//! The one public error of the bindings, and its mapping from the core's rich error.
//!
//! Kotlin turns `LogbookError` into `LogbookException` (so callers write
//! `catch (e: LogbookException.LockedOut)`), Swift keeps `LogbookError`, Python raises
//! `LogbookError.LockedOut`. Every variant carries a `reason` meant for people: it comes from
//! the core's message, which by the core's rule never contains personal data (no names, note
//! text, PINs or tokens; at most an id the caller supplied).

use logbook_core::Error as CoreError;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LogbookError {
    /// Bad input: nothing was written. Fix the input and try again.
    #[error("{reason}")]
    Invalid { reason: String },
    /// The person, site, shift, thread or order named does not exist on this device.
    #[error("{reason}")]
    NotFound { reason: String },
    /// The action contradicts the current state (clock-out while not clocked in, a locked week).
    #[error("{reason}")]
    Conflict { reason: String },
    /// This device's role may not do that.
    #[error("{reason}")]
    Forbidden { reason: String },
    /// The kiosk PIN was wrong; `tries_left` more wrong ones lock the person out here.
    #[error("{reason}")]
    WrongPin { tries_left: u32, reason: String },
    /// Too many wrong PINs for this person at this kiosk: try again after the wait.
    #[error("{reason}")]
    LockedOut {
        retry_after_seconds: i64,
        reason: String,
    },
    /// No coop here yet: call `init` or `join` first.
    #[error("{reason}")]
    NotInitialised { reason: String },
    /// The store was written by a newer version of the app: update the app.
    #[error("{reason}")]
    NewerVersion { reason: String },
    /// The store key does not open this store (wrong key or passphrase): nothing changed.
    #[error("{reason}")]
    WrongKey { reason: String },
    /// The store file was damaged and moved aside (never deleted); reopen to start afresh.
    #[error("{reason}")]
    Damaged { reason: String },
    /// The local database or file system failed, or stored data does not parse.
    #[error("{reason}")]
    Storage { reason: String },
    /// The relay could not be reached: retry later (local work is kept).
    #[error("{reason}")]
    Network { reason: String },
    /// The relay answered with an error status.
    #[error("{reason}")]
    Relay { status: u16, reason: String },
    /// The relay does not (or no longer) accept this device's credential.
    #[error("{reason}")]
    Unauthorized { reason: String },
    /// The operation was cancelled.
    #[error("{reason}")]
    Cancelled { reason: String },
    /// A bug, not the user's doing (e.g. an app's observer threw): worth a report.
    #[error("{reason}")]
    Internal { reason: String },
}

/// A foreign callback (an app's observer) threw something that is not a `LogbookError`.
impl From<uniffi::UnexpectedUniFFICallbackError> for LogbookError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        LogbookError::Internal {
            reason: format!("an app callback failed: {}", e.reason),
        }
    }
}

/// The one place where core errors become public errors.
impl From<CoreError> for LogbookError {
    fn from(e: CoreError) -> Self {
        let reason = e.to_string();
        match e {
            CoreError::Invalid(_) => LogbookError::Invalid { reason },
            CoreError::NotFound(_) => LogbookError::NotFound { reason },
            CoreError::Conflict(_) => LogbookError::Conflict { reason },
            CoreError::Forbidden(_) => LogbookError::Forbidden { reason },
            CoreError::WrongPin { tries_left } => LogbookError::WrongPin { tries_left, reason },
            CoreError::LockedOut {
                retry_after_seconds,
            } => LogbookError::LockedOut {
                retry_after_seconds,
                reason,
            },
            CoreError::NotInitialised => LogbookError::NotInitialised { reason },
            CoreError::NewerSchema { .. } => LogbookError::NewerVersion { reason },
            CoreError::Damaged { .. } => LogbookError::Damaged { reason },
            CoreError::WrongKey => LogbookError::WrongKey { reason },
            CoreError::Corrupt(_)
            | CoreError::Sqlite(_)
            | CoreError::Automerge(_)
            | CoreError::Reconcile(_)
            | CoreError::Hydrate(_)
            | CoreError::Io(_) => LogbookError::Storage { reason },
            CoreError::Network(_) | CoreError::Unreachable => LogbookError::Network { reason },
            CoreError::Relay { status, .. } => LogbookError::Relay { status, reason },
            CoreError::RelayBusy { .. } => LogbookError::Relay {
                status: 429,
                reason,
            },
            CoreError::Unauthorized(_) => LogbookError::Unauthorized { reason },
            CoreError::Cancelled => LogbookError::Cancelled { reason },
        }
    }
}

pub type Result<T, E = LogbookError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lockout_keeps_its_wait_and_a_readable_reason() {
        let e = LogbookError::from(CoreError::LockedOut {
            retry_after_seconds: 900,
        });
        match e {
            LogbookError::LockedOut {
                retry_after_seconds,
                reason,
            } => {
                assert_eq!(retry_after_seconds, 900);
                assert!(reason.contains("900 s"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn storage_failures_flatten_into_one_variant() {
        let io = std::io::Error::other("disk full");
        assert!(matches!(
            LogbookError::from(CoreError::Io(io)),
            LogbookError::Storage { .. }
        ));
        assert!(matches!(
            LogbookError::from(CoreError::Corrupt("bad".into())),
            LogbookError::Storage { .. }
        ));
    }
}
