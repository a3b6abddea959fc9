//! Opening the SQLite store (WAL, one writer, fsync on commit), the numbered schema
//! migrations, moving a damaged file aside, and encryption at rest (SQLCipher, keyed
//! with a [`StoreKey`]; a plaintext store from before is encrypted in place).
//!
//! Tables fall in two groups:
//! - truth: `meta`, `chunks` (automerge changes and snapshots per document), `outbox`
//!   (changes this device made that the relay has not acknowledged), `pending_deletes`;
//! - cache: everything else (people, punches, shifts, …), derived from the chunks by each
//!   feature's projection (see `store::cache`) and rebuilt on demand. Screens and reports
//!   read only the cache, so opening a store never loads documents.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::key::{KEY_CHECK_FILE, StoreKey};
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

/// Open (creating if needed) the store in `home` with `key`, migrating it to
/// [`SCHEMA_VERSION`]. A plaintext store (written before encryption at rest) is first
/// encrypted in place ([`encrypt_plaintext`]). A key that does not match the key check
/// is refused with [`Error::WrongKey`] and nothing is touched.
pub fn open(home: &Path, key: &StoreKey) -> Result<Connection> {
    std::fs::create_dir_all(home)?;
    let path = home.join(STORE_FILE);
    if key.is_plaintext() {
        // The benchmark's baseline: a plain SQLite file, as before encryption at rest.
        return match open_file(&path, key) {
            Err(Error::Sqlite(e)) if is_damage(&e) => Err(move_aside(&path)?),
            other => other,
        };
    }
    finish_interrupted_encryption(&path)?;
    let check_path = home.join(KEY_CHECK_FILE);
    if !path.exists() {
        // A new store: a key check left from a store moved aside is stale.
        remove_if_exists(&check_path)?;
    } else if is_plaintext(&path)? {
        encrypt_plaintext(&path, key)?;
    }
    let check = match std::fs::read(&check_path) {
        Ok(c) => Some(c),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(c) = &check
        && !key.matches(c)
    {
        return Err(Error::WrongKey);
    }
    match open_file(&path, key) {
        Ok(conn) => {
            if check.is_none() {
                write_durably(&check_path, &key.check())?;
            }
            Ok(conn)
        }
        // The key is known right (it matched the check): the file itself is damaged.
        Err(Error::Sqlite(e)) if is_damage(&e) && check.is_some() => Err(move_aside(&path)?),
        // No key check to tell them apart: never move a store aside for what may be a
        // wrong key.
        Err(Error::Sqlite(e)) if is_damage(&e) => Err(Error::WrongKey),
        Err(e) => Err(e),
    }
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Does the file start with SQLite's plaintext header? (An encrypted file starts with
/// its random salt.)
fn is_plaintext(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n == head.len() && &head == SQLITE_HEADER)
}

fn side_file(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = side_file(path, ".tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Encrypt a plaintext store in place (a device upgraded from a version before encryption
/// at rest): `sqlcipher_export` copies every table into a new encrypted file beside it,
/// which replaces the old one; the old file is then overwritten with zeros and deleted.
/// Interrupted at any point, the next open finishes or starts again
/// ([`finish_interrupted_encryption`]); the plaintext is never lost before the encrypted
/// copy is in place. What the file system or flash keeps of the old blocks is out of
/// reach (docs/SECURITY.md).
fn encrypt_plaintext(path: &Path, key: &StoreKey) -> Result<()> {
    let fresh = side_file(path, ".encrypting");
    let old = side_file(path, ".plaintext");
    remove_if_exists(&fresh)?;
    // SQLCipher adds `sqlcipher_export` to each new connection once the library has
    // finished initialising; a connection opened while another thread is still inside
    // SQLite's first initialisation can lack it (seen with two stores opened at once at
    // process start). Such a connection is closed and the export tried again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match export_encrypted(path, &fresh, key) {
            Err(crate::error::Error::Sqlite(e))
                if attempts < 5 && e.to_string().contains("no such function: sqlcipher_export") =>
            {
                remove_if_exists(&fresh)?;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other?,
        }
    }
    std::fs::File::open(&fresh)?.sync_all()?;
    std::fs::rename(path, &old)?;
    std::fs::rename(&fresh, path)?;
    for suffix in ["-wal", "-shm"] {
        remove_if_exists(&side_file(path, suffix))?;
    }
    write_durably(&path.with_file_name(KEY_CHECK_FILE), &key.check())?;
    scrub_and_remove(&old)?;
    tracing::info!("a plaintext store was encrypted at rest");
    Ok(())
}

/// Copies the plaintext store at `path` into a new encrypted file `fresh`.
fn export_encrypted(path: &Path, fresh: &Path, key: &StoreKey) -> Result<()> {
    let plain = Connection::open(path)?;
    plain.busy_timeout(std::time::Duration::from_secs(10))?;
    // Everything into the main file first, so the export sees all of it.
    plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    plain.execute(
        "ATTACH DATABASE ?1 AS encrypted KEY ?2",
        rusqlite::params![fresh.to_string_lossy(), key.sqlcipher_key().as_str()],
    )?;
    plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version}"))?;
    plain.execute_batch("DETACH DATABASE encrypted")?;
    Ok(())
}

/// After a crash inside [`encrypt_plaintext`]: if the store was renamed away but the
/// encrypted copy not yet put in its place, put the plaintext back (it is encrypted again
/// now); if both are in place, scrub the plaintext left over.
fn finish_interrupted_encryption(path: &Path) -> Result<()> {
    let old = side_file(path, ".plaintext");
    if !old.exists() {
        return Ok(());
    }
    if path.exists() {
        scrub_and_remove(&old)
    } else {
        std::fs::rename(&old, path)?;
        Ok(())
    }
}

/// Overwrite a file with zeros, then delete it (best effort against casual recovery).
fn scrub_and_remove(path: &Path) -> Result<()> {
    use std::io::Write;
    let len = std::fs::metadata(path)?.len();
    {
        let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
        let zeros = vec![0u8; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            f.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        f.sync_all()?;
    }
    std::fs::remove_file(path)?;
    Ok(())
}

fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn open_file(path: &Path, key: &StoreKey) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The key first: SQLCipher encrypts every page of the file and of its WAL.
    super::key::apply(&conn, key)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL: readers never block the one writer. synchronous=FULL: each commit is fsynced,
    // so a punch acknowledged to the user survives a crash or a flat battery.
    // secure_delete: erased notes are overwritten, not left in free pages.
    // temp_store=MEMORY: sorts and temporary tables never reach an unencrypted temp file.
    // cache_size 16 MiB (SQLite's default is 2 MiB): a first pull writes 150,000 punch
    // and 75,000 shift rows into indexes several times larger than 2 MiB, and with the
    // small cache every page evicted mid-transaction is encrypted, written and read back
    // (docs/PERFORMANCE.md: the shifts' derivation took 0.69 s of writing, 0.18 s with it).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16384;",
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
            let c = open(dir.path(), &key()).unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        match open(dir.path(), &key()) {
            Err(Error::NewerSchema { found, .. }) => assert_eq!(found, SCHEMA_VERSION + 1),
            other => panic!("expected NewerSchema, got {other:?}"),
        }
        assert!(dir.path().join(STORE_FILE).exists());
    }

    fn key() -> StoreKey {
        StoreKey::insecure_test_key()
    }

    #[test]
    fn a_damaged_file_is_moved_aside_never_deleted() {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path(), &key()).unwrap());
        let garbage = b"this is not a database, it is a shopping list ".repeat(200);
        std::fs::write(dir.path().join(STORE_FILE), &garbage).unwrap();
        let err = open(dir.path(), &key()).unwrap_err();
        let Error::Damaged { moved_to } = err else {
            panic!("expected Damaged, got {err:?}")
        };
        assert_eq!(std::fs::read(&moved_to).unwrap(), garbage);
        // The next open starts a fresh store.
        assert!(open(dir.path(), &key()).is_ok());
    }

    #[test]
    fn garbage_without_a_key_check_is_refused_as_a_wrong_key_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = b"not a store ".repeat(400);
        std::fs::write(dir.path().join(STORE_FILE), &garbage).unwrap();
        assert!(matches!(open(dir.path(), &key()), Err(Error::WrongKey)));
        assert_eq!(std::fs::read(dir.path().join(STORE_FILE)).unwrap(), garbage);
    }

    #[test]
    fn a_wrong_key_is_refused_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = open(dir.path(), &key()).unwrap();
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
        }
        let before: Vec<_> = [STORE_FILE, KEY_CHECK_FILE]
            .iter()
            .map(|f| std::fs::read(dir.path().join(f)).unwrap())
            .collect();
        let other = StoreKey::generate();
        let err = open(dir.path(), &other).unwrap_err();
        assert!(matches!(err, Error::WrongKey), "{err:?}");
        assert!(err.to_string().contains("key"), "{err}");
        // Even with the key check gone, the wrong key is refused, not taken for damage.
        std::fs::remove_file(dir.path().join(KEY_CHECK_FILE)).unwrap();
        assert!(matches!(open(dir.path(), &other), Err(Error::WrongKey)));
        assert_eq!(
            std::fs::read(dir.path().join(STORE_FILE)).unwrap(),
            before[0]
        );
        // The right key still opens it (and writes the key check again).
        assert!(open(dir.path(), &key()).is_ok());
        assert_eq!(
            std::fs::read(dir.path().join(KEY_CHECK_FILE)).unwrap(),
            before[1]
        );
    }

    #[test]
    fn a_plaintext_store_is_encrypted_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE t (x TEXT);
                 INSERT INTO t VALUES ('plaintext-marker-4471');",
            )
            .unwrap();
            // Skip the schema migrations: this is about the file, not the tables.
            c.pragma_update(None, "user_version", SCHEMA_VERSION)
                .unwrap();
            c.execute_batch("INSERT INTO t VALUES ('in the WAL');")
                .unwrap();
            // Leave the row in the WAL, as a crash would.
            std::mem::forget(c);
        }
        let c = open(dir.path(), &key()).unwrap();
        let x: Vec<String> = c
            .prepare("SELECT x FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(x, ["plaintext-marker-4471", "in the WAL"]);
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
        drop(c);
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(21).any(|w| w == b"plaintext-marker-4471"));
            assert!(!bytes.starts_with(SQLITE_HEADER));
        }
        assert!(!side_file(&path, ".plaintext").exists());
    }

    #[test]
    fn an_encryption_interrupted_before_the_swap_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('kept');")
                .unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION)
                .unwrap();
        }
        // The crash came after the plaintext was renamed away, before the copy took its place.
        std::fs::rename(&path, side_file(&path, ".plaintext")).unwrap();
        std::fs::write(side_file(&path, ".encrypting"), b"half written").unwrap();
        let c = open(dir.path(), &key()).unwrap();
        let x: String = c.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, "kept");
        assert!(!side_file(&path, ".encrypting").exists());
    }
}
