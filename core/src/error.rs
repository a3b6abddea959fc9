//! The core's rich error. Messages are shown to users and written to logs, so they must
//! never contain personal data: no names, note text, PINs or tokens. Ids are allowed only
//! where the caller supplied them (e.g. "unknown person p-…").

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input from a user or caller: nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The thing named does not exist here.
    #[error("{0}")]
    NotFound(String),
    /// The action contradicts the current state (e.g. clock-out while not clocked in).
    #[error("{0}")]
    Conflict(String),
    /// This device may not do that (its role says no).
    #[error("{0}")]
    Forbidden(String),
    /// The PIN did not match; `tries_left` more wrong PINs lock the person out here.
    #[error("wrong PIN ({tries_left} tries left)")]
    WrongPin { tries_left: u32 },
    /// Too many wrong PINs: try again later.
    #[error("locked out after too many wrong PINs; try again in {retry_after_seconds} s")]
    LockedOut { retry_after_seconds: i64 },
    /// The store was written by a newer version of the app.
    #[error(
        "this store was written by a newer version (schema {found}, this app knows {supported}); update the app"
    )]
    NewerSchema { found: i64, supported: i64 },
    /// The store file is damaged; it was moved aside (never deleted).
    #[error(
        "the store file was damaged and has been moved aside to {moved_to}; a new, empty store will be created on next open"
    )]
    Damaged { moved_to: String },
    /// The store key does not open this store (or, with no key check beside it, the file
    /// is damaged): nothing was changed.
    #[error(
        "this store cannot be opened with this key (wrong key or passphrase); nothing was changed"
    )]
    WrongKey,
    /// The store is not initialised (no `init` and no `join` yet).
    #[error("no logbook here yet: run `init` or `join` first")]
    NotInitialised,
    /// Something in the stored data does not parse.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("document mapping error: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    #[error("document mapping error: {0}")]
    Hydrate(#[from] autosurgeon::HydrateError),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// The relay could not be reached (offline, DNS, TLS, timeout): retry later.
    #[error("network: {0}")]
    Network(String),
    /// No connection to the relay could be opened at all (it is down, or this device is
    /// offline): retried a few times, then left for the next sync.
    #[error("network: could not connect to the relay")]
    Unreachable,
    /// The relay asked this device to slow down (429): try again after the wait.
    #[error("the relay is busy; try again in {retry_after_seconds} s")]
    RelayBusy { retry_after_seconds: u64 },
    /// The relay answered with an error status.
    #[error("relay refused the request ({status}): {message}")]
    Relay { status: u16, message: String },
    /// The device's credential is unknown or revoked.
    #[error("this device is not (or no longer) allowed by the relay: {0}")]
    Unauthorized(String),
    /// The operation was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Error {
        Error::Invalid(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Error {
        Error::NotFound(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Error {
        Error::Conflict(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Error {
        Error::Forbidden(msg.into())
    }
}
