//! Operator commands that work on the store directly: the data directory (SQLite in WAL
//! mode allows this while a relay process is serving the same directory) or the
//! PostgreSQL database the relay processes share. Each takes anything that names a
//! [`Database`]: a data directory path or a `Database`.

use crate::credentials::{self, DEFAULT_CODE_HOURS, MAX_CODE_HOURS};
use crate::error::RelayError;
use crate::store::{Database, RelayStore};
use logbook_protocol::{DeviceInfo, Grant, Role};

/// A new coop and its first coordinator join code.
#[derive(Debug, Clone)]
pub struct CreatedCoop {
    pub coop_id: String,
    /// One-time code for the first coordinator device, e.g. `K7QF-2M9X-T4PA`.
    pub coordinator_code: String,
    /// Unix seconds.
    pub expires_at: i64,
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Mints a one-time join code for `grant` in `coop_id`, valid for `hours` (default 72,
/// 1 to 720). Returns the code (shown once, stored hashed) and its expiry.
pub(crate) fn mint_join_code(
    store: &dyn RelayStore,
    coop_id: &str,
    grant: &Grant,
    hours: Option<u32>,
    now: i64,
) -> Result<(String, i64), RelayError> {
    crate::access::validate_grant(grant).map_err(RelayError::Invalid)?;
    let hours = hours.unwrap_or(DEFAULT_CODE_HOURS);
    if hours == 0 || hours > MAX_CODE_HOURS {
        return Err(RelayError::Invalid(
            "expires_in_hours must be between 1 and 720",
        ));
    }
    let code = credentials::new_join_code();
    let hash = credentials::join_code_hash(&code).ok_or(RelayError::Invalid("join code"))?;
    let expires_at = now + i64::from(hours) * 3600;
    store.add_join_code(coop_id, grant, &hash, expires_at, now)?;
    Ok((code, expires_at))
}

/// Creates a coop and mints its first coordinator join code (valid 72 hours).
pub fn create_coop(db: impl Into<Database>, name: &str) -> Result<CreatedCoop, RelayError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(RelayError::Invalid(
            "coop name must be 1-200 printable characters",
        ));
    }
    let store = db.into().open(Default::default())?;
    let now = now();
    let coop_id = credentials::new_coop_id();
    store.create_coop(&coop_id, name, now)?;
    let grant = Grant {
        role: Role::Coordinator,
        person: None,
        site: None,
        supports: vec![],
    };
    let (coordinator_code, expires_at) =
        mint_join_code(store.as_ref(), &coop_id, &grant, None, now)?;
    Ok(CreatedCoop {
        coop_id,
        coordinator_code,
        expires_at,
    })
}

/// Every device of a coop, revoked ones included.
pub fn list_devices(db: impl Into<Database>, coop_id: &str) -> Result<Vec<DeviceInfo>, RelayError> {
    let store = db.into().open(Default::default())?;
    if !store.coop_exists(coop_id)? {
        return Err(RelayError::NotFound("no such coop"));
    }
    store.list_devices(coop_id)
}

/// Revokes a device: its next request is refused with 401.
pub fn revoke_device(db: impl Into<Database>, device_id: &str) -> Result<(), RelayError> {
    db.into()
        .open(Default::default())?
        .revoke_device(None, device_id)
}

/// Mints a join code for any grant in an existing coop, from the command line.
pub fn create_invite(
    db: impl Into<Database>,
    coop_id: &str,
    grant: &Grant,
    hours: Option<u32>,
) -> Result<(String, i64), RelayError> {
    let store = db.into().open(Default::default())?;
    if !store.coop_exists(coop_id)? {
        return Err(RelayError::NotFound("no such coop"));
    }
    mint_join_code(store.as_ref(), coop_id, grant, hours, now())
}
