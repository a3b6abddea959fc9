//! Operator commands that work on the store directly: the data directory (SQLite in WAL
//! mode allows this while a relay process is serving the same directory) or the
//! PostgreSQL database the relay processes share. Each takes anything that names a
//! [`Database`]: a data directory path or a `Database`.

use crate::credentials::{self, DEFAULT_CODE_HOURS, MAX_CODE_HOURS};
use crate::error::RelayError;
use crate::store::{Database, RelayStore, SqliteStore};
use logbook_protocol::{DeviceInfo, Grant, Role};
use std::path::Path;

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

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupInfo {
    /// Size of the backup file.
    pub bytes: u64,
    /// The log generation the backup was taken in.
    pub generation: Option<String>,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreInfo {
    /// The new log generation the restored relay serves (devices that see it pull from
    /// the start and push their documents again).
    pub generation: String,
}

fn sqlite_err(e: rusqlite::Error) -> RelayError {
    RelayError::Storage(e)
}

/// Checks a database file with `PRAGMA quick_check`.
fn quick_check(path: &Path) -> Result<(), RelayError> {
    use rusqlite::{Connection, OpenFlags};
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite_err)?;
    let verdict: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(sqlite_err)?;
    if verdict != "ok" {
        return Err(RelayError::Corrupt(
            "the database file fails its integrity check",
        ));
    }
    Ok(())
}

/// Flushes a file (or directory) to disk.
fn sync_path(path: &Path) -> Result<(), RelayError> {
    std::fs::File::open(path)?.sync_all()?;
    Ok(())
}

/// Only the owner may read what the relay stores (token hashes, ciphertext, ids).
fn owner_only(path: &Path) -> Result<(), RelayError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes a consistent copy of the relay's database to `to`, online: a relay may be
/// serving the directory and taking pushes meanwhile. `VACUUM INTO` copies one read
/// snapshot (the log as of one instant, never half a push) without blocking writers,
/// and leaves out erased pages. The copy is written beside `to`, checked, flushed and
/// then renamed, so `to` is either absent or a whole backup. `to` must not exist.
pub fn backup(data_dir: &Path, to: &Path) -> Result<BackupInfo, RelayError> {
    use rusqlite::{Connection, OpenFlags};
    let db = data_dir.join(crate::store::DB_FILE);
    if !db.is_file() {
        return Err(RelayError::NotFound(
            "no relay database in the data directory",
        ));
    }
    if to.exists() {
        return Err(RelayError::Invalid(
            "the backup file exists already: choose a new name",
        ));
    }
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    // A partial file is only ever left by an interrupted backup.
    if partial.exists() {
        std::fs::remove_file(&partial)?;
    }
    let conn = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(sqlite_err)?;
    let generation: Option<String> = conn
        .query_row(
            "SELECT value FROM relay_meta WHERE key = 'log_generation'",
            [],
            |r| r.get(0),
        )
        .ok();
    let target = partial
        .to_str()
        .ok_or(RelayError::Invalid("the backup path must be valid UTF-8"))?;
    let result = conn
        .execute("VACUUM INTO ?1", [target])
        .map_err(sqlite_err)
        .and_then(|_| owner_only(&partial))
        .and_then(|()| quick_check(&partial))
        .and_then(|()| sync_path(&partial));
    drop(conn);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, to)?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        sync_path(dir)?;
    }
    Ok(BackupInfo {
        bytes: std::fs::metadata(to)?.len(),
        generation,
    })
}

/// Makes `data_dir` a relay data directory holding the backup `from`, under a new log
/// generation. `data_dir` may exist but must not hold a relay database: a restore never
/// overwrites one. The backup is copied, checked and migrated to this relay's schema;
/// `from` itself is left untouched.
pub fn restore(from: &Path, data_dir: &Path) -> Result<RestoreInfo, RelayError> {
    if !from.is_file() {
        return Err(RelayError::NotFound("no backup file there"));
    }
    let db = data_dir.join(crate::store::DB_FILE);
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if db.exists() || Path::new(&wal).exists() {
        return Err(RelayError::Invalid(
            "the data directory holds a relay database already: restore into a new directory",
        ));
    }
    std::fs::create_dir_all(data_dir)?;
    quick_check(from)?;
    let mut partial = db.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    std::fs::copy(from, &partial)?;
    owner_only(&partial)?;
    sync_path(&partial)?;
    std::fs::rename(&partial, &db)?;
    sync_path(data_dir)?;
    let store = SqliteStore::open(data_dir)?;
    let generation = store.new_log_generation()?;
    Ok(RestoreInfo { generation })
}

/// Starts a new log generation (see `restore`; after a PostgreSQL point-in-time
/// recovery too). Relays serving the store keep announcing the old one until they
/// restart: stop them first.
pub fn new_generation(db: impl Into<Database>) -> Result<String, RelayError> {
    let db = db.into();
    if let Database::Sqlite(dir) = &db
        && !dir.join(crate::store::DB_FILE).is_file()
    {
        return Err(RelayError::NotFound(
            "no relay database in the data directory",
        ));
    }
    db.open(Default::default())?.new_log_generation()
}
