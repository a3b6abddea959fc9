//! Opening the SQLite store (WAL, one writer, fsync on commit), the numbered schema
//! migrations, and moving a damaged file aside.
//!
//! Tables fall in two groups:
//! - truth: `meta`, `chunks` (automerge changes and snapshots per document), `outbox`
//!   (changes this device made that the relay has not acknowledged), `pending_deletes`;
//! - cache: everything else (people, punches, shifts, …), derived from the chunks by each
//!   feature's projection (see `store::cache`) and rebuilt on demand. Screens and reports
//!   read only the cache, so opening a store never loads documents.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

/// The schema this build writes. Older stores are migrated; newer ones refused.
pub const SCHEMA_VERSION: i64 = 5;
pub const STORE_FILE: &str = "logbook.sqlite3";

/// Migration `n` takes a store from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        doc TEXT NOT NULL,
        data BLOB NOT NULL,
        snapshot INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX chunks_doc ON chunks(doc, id);
    CREATE TABLE outbox (id INTEGER PRIMARY KEY, doc TEXT NOT NULL, data BLOB NOT NULL);
    CREATE INDEX outbox_doc ON outbox(doc);
    CREATE TABLE pending_deletes (doc TEXT PRIMARY KEY);

    CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL,
        sites TEXT NOT NULL, active INTEGER NOT NULL);
    CREATE TABLE sites (id TEXT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE courses (id TEXT PRIMARY KEY, name TEXT NOT NULL, review_months INTEGER);
    CREATE TABLE roster (site TEXT NOT NULL, person TEXT NOT NULL, name TEXT NOT NULL,
        pin TEXT, active INTEGER NOT NULL, PRIMARY KEY (site, person));
    CREATE TABLE profiles (person TEXT PRIMARY KEY, disadvantaged INTEGER NOT NULL);
    CREATE TABLE punches (id TEXT PRIMARY KEY, doc TEXT NOT NULL, person TEXT NOT NULL,
        kind TEXT NOT NULL, at INTEGER NOT NULL, device TEXT NOT NULL, source TEXT NOT NULL,
        hour_type TEXT NOT NULL, site TEXT);
    CREATE INDEX punches_person ON punches(person, at, id);
    CREATE INDEX punches_doc ON punches(doc);
    CREATE TABLE reviews (id TEXT PRIMARY KEY, doc TEXT NOT NULL, person TEXT NOT NULL,
        kind TEXT NOT NULL, shift_id TEXT, week_start TEXT, at INTEGER NOT NULL,
        by TEXT NOT NULL, body TEXT NOT NULL);
    CREATE INDEX reviews_person ON reviews(person, at);
    CREATE INDEX reviews_doc ON reviews(doc);
    CREATE TABLE shifts (id TEXT PRIMARY KEY, person TEXT NOT NULL, origin_at INTEGER NOT NULL,
        hour_type TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER,
        break_seconds INTEGER NOT NULL, counted_seconds INTEGER NOT NULL, status TEXT NOT NULL,
        local_date TEXT NOT NULL, duplicates TEXT NOT NULL);
    CREATE INDEX shifts_date ON shifts(local_date, person);
    CREATE INDEX shifts_person ON shifts(person, origin_at);
    CREATE TABLE ignored_punches (punch_id TEXT PRIMARY KEY, person TEXT NOT NULL,
        at INTEGER NOT NULL, reason TEXT NOT NULL);
    CREATE INDEX ignored_person ON ignored_punches(person, at);
    CREATE TABLE training (id TEXT PRIMARY KEY, doc TEXT NOT NULL, person TEXT NOT NULL,
        course_id TEXT NOT NULL, course_name TEXT NOT NULL, date TEXT NOT NULL,
        minutes INTEGER NOT NULL, provider TEXT, certificate_ref TEXT, expires_on TEXT,
        trainee_signed_at INTEGER, supervisor_signed_at INTEGER, supervisor TEXT);
    CREATE INDEX training_person ON training(person);
    CREATE INDEX training_expiry ON training(expires_on);
    CREATE TABLE induction (id TEXT PRIMARY KEY, doc TEXT NOT NULL, person TEXT NOT NULL,
        label TEXT NOT NULL, trainee_signed_at INTEGER, supervisor_signed_at INTEGER,
        supervisor TEXT);
    CREATE INDEX induction_person ON induction(person);
    CREATE TABLE cpo_orders (id TEXT PRIMARY KEY, doc TEXT NOT NULL, person TEXT NOT NULL,
        hours_ordered INTEGER NOT NULL, start_date TEXT NOT NULL, deadline TEXT NOT NULL,
        cap_minutes INTEGER NOT NULL, created_at INTEGER NOT NULL);
    CREATE INDEX cpo_person ON cpo_orders(person);
    CREATE TABLE note_threads (id TEXT PRIMARY KEY, doc TEXT NOT NULL, person TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, entries INTEGER NOT NULL);
    CREATE INDEX notes_person ON note_threads(person);
    "#,
    // 1 -> 2: kiosk PIN lockouts are kept per person at this device.
    r#"
    CREATE TABLE kiosk_lockouts (person TEXT PRIMARY KEY, failures INTEGER NOT NULL,
        locked_until INTEGER);
    "#,
    // 2 -> 3: blobs from the relay that do not decode or do not fit their document's
    // shape are set aside here (truth, not cache: kept, never merged) so sync moves on;
    // erased documents are remembered so nothing merges them back.
    r#"
    CREATE TABLE quarantine (id INTEGER PRIMARY KEY, doc TEXT NOT NULL, data BLOB NOT NULL,
        reason TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX quarantine_doc ON quarantine(doc);
    -- Documents erased here, by the SHA-256 of their id (the id itself would outlive the
    -- erasure): blobs for them that arrive later (an in-flight push echoed back, a peer
    -- that has not heard yet) are dropped, never merged back.
    CREATE TABLE erased_docs (hash TEXT PRIMARY KEY);
    -- The content ids of the blobs this device pushed and the relay holds, per document,
    -- so it can later replace them with one compacted snapshot (supersedes).
    CREATE TABLE pushed (doc TEXT NOT NULL, content_id TEXT NOT NULL,
        PRIMARY KEY (doc, content_id)) WITHOUT ROWID;
    "#,
    // 3 -> 4: people's payroll numbers (cache of the directory's `payroll_number`; a
    // store upgraded from 3 fills it at the next directory change or `logbook rebuild`).
    r#"
    ALTER TABLE people ADD COLUMN payroll_number TEXT;
    "#,
    // 4 -> 5: payroll numbers move to the person's profile (`records:<person>/profile`,
    // coordinators and the person only), cached here; `people.payroll_number` stays for
    // numbers a directory written before the move still carries until a coordinator's
    // device moves them. A CPO order's spent date (for retention) is cached with it.
    // Both fill at the next change of their document or at `logbook rebuild`.
    r#"
    CREATE TABLE payroll_numbers (person TEXT PRIMARY KEY, number TEXT NOT NULL);
    ALTER TABLE cpo_orders ADD COLUMN spent_on TEXT;
    "#,
];

/// Open (creating if needed) the store in `home`, migrating it to [`SCHEMA_VERSION`].
pub fn open(home: &Path) -> Result<Connection> {
    std::fs::create_dir_all(home)?;
    let path = home.join(STORE_FILE);
    match open_file(&path) {
        Ok(conn) => Ok(conn),
        Err(Error::Sqlite(e)) if is_damage(&e) => Err(move_aside(&path)?),
        Err(e) => Err(e),
    }
}

fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn open_file(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL: readers never block the one writer. synchronous=FULL: each commit is fsynced,
    // so a punch acknowledged to the user survives a crash or a flat battery.
    // secure_delete: erased notes are overwritten, not left in free pages.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    migrate(&conn)?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version == SCHEMA_VERSION {
        // Touch the schema so a damaged file is noticed now, not halfway through a write.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    // Re-read inside the lock: another process may have migrated meanwhile.
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (n + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// Move a damaged store (and its WAL files) aside; never delete it.
fn move_aside(path: &Path) -> Result<Error> {
    let stamp = jiff::Timestamp::now().as_second();
    let moved: PathBuf = path.with_extension(format!("sqlite3.damaged-{stamp}"));
    std::fs::rename(path, &moved)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            std::fs::rename(&side, PathBuf::from(format!("{}{suffix}", moved.display())))?;
        }
    }
    Ok(Error::Damaged {
        moved_to: moved.display().to_string(),
    })
}

/// Start the one writer's transaction. IMMEDIATE takes the write lock at once, so two
/// processes on one store queue instead of failing halfway.
pub fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = open(dir.path()).unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        match open(dir.path()) {
            Err(Error::NewerSchema { found, .. }) => assert_eq!(found, SCHEMA_VERSION + 1),
            other => panic!("expected NewerSchema, got {other:?}"),
        }
        assert!(dir.path().join(STORE_FILE).exists());
    }

    #[test]
    fn a_damaged_file_is_moved_aside_never_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = b"this is not a database, it is a shopping list ".repeat(200);
        std::fs::write(dir.path().join(STORE_FILE), &garbage).unwrap();
        let err = open(dir.path()).unwrap_err();
        let Error::Damaged { moved_to } = err else {
            panic!("expected Damaged, got {err:?}")
        };
        assert_eq!(std::fs::read(&moved_to).unwrap(), garbage);
        // The next open starts a fresh store.
        assert!(open(dir.path()).is_ok());
    }
}
