//! Stores written by older versions open and migrate; newer ones are refused.

use logbook_core::store as db;
use logbook_core::{Logbook, PunchKind, PunchSource};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/store-v1.sqlite3"
);

/// Writes the schema-1 fixture (run once by hand: `cargo test -p logbook-core --test
/// migration -- --ignored`). Schema 1 is schema 2 without the kiosk lockout table.
#[test]
#[ignore]
fn write_v1_fixture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book =
        Logbook::open(dir.path(), &logbook_core::StoreKey::insecure_test_key()).expect("open");
    book.directory()
        .init("Old Co-op", "Europe/London")
        .expect("init");
    let site = book.directory().add_site("Kitchen").expect("site");
    let p = book
        .directory()
        .add_person("Ola", &[], &[site], false)
        .expect("person");
    book.directory().set_pin(&p, "2468").expect("pin");
    book.timesheets()
        .punch(
            &p,
            PunchKind::ClockIn,
            Some(1_794_819_600),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("in");
    book.timesheets()
        .punch(
            &p,
            PunchKind::ClockOut,
            Some(1_794_848_400),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("out");
    drop(book);
    // Stores of schema 1 were plaintext (before encryption at rest): export without a key.
    let conn =
        logbook_core::open_raw_store(dir.path(), &logbook_core::StoreKey::insecure_test_key())
            .expect("sqlite");
    conn.execute_batch("DROP TABLE kiosk_lockouts; PRAGMA user_version = 1;")
        .expect("downgrade");
    let _ = std::fs::remove_file(FIXTURE);
    conn.execute("ATTACH DATABASE ?1 AS plain KEY ''", [FIXTURE])
        .expect("attach");
    conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
        .expect("export the fixture");
    conn.execute_batch("PRAGMA plain.user_version = 1; DETACH DATABASE plain;")
        .expect("version");
}

#[test]
fn a_store_from_schema_1_is_migrated_and_keeps_its_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(FIXTURE, dir.path().join(db::STORE_FILE)).expect("copy fixture");
    let book = Logbook::open(dir.path(), &logbook_core::StoreKey::insecure_test_key())
        .expect("open migrates");
    // The fixture is a plaintext store: opening it encrypted it in place.
    let raw = std::fs::read(dir.path().join(db::STORE_FILE)).expect("read");
    assert!(
        !raw.starts_with(b"SQLite format 3"),
        "encrypted at rest now"
    );
    let version: i64 =
        logbook_core::open_raw_store(dir.path(), &logbook_core::StoreKey::insecure_test_key())
            .expect("sqlite")
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
    assert_eq!(version, db::SCHEMA_VERSION);
    let people = book.directory().people().expect("people");
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].name, "Ola");
    let shifts = book
        .timesheets()
        .shifts(&people[0].id, None, None)
        .expect("shifts");
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].counted_seconds, 8 * 3600);
    // The table added by migration 2 works: wrong PINs are counted (a wrong PIN is its
    // own error, no longer a role refusal).
    assert!(matches!(
        book.kiosk().check_pin(&people[0].id, "0000"),
        Err(logbook_core::Error::WrongPin { tries_left: 4 })
    ));
    assert!(book.kiosk().check_pin(&people[0].id, "2468").is_ok());
    // And the documents agree with the migrated cache.
    book.rebuild().expect("rebuild");
    assert_eq!(
        book.timesheets()
            .shifts(&people[0].id, None, None)
            .expect("shifts"),
        shifts
    );
}

#[test]
fn a_store_from_a_newer_version_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(FIXTURE, dir.path().join(db::STORE_FILE)).expect("copy fixture");
    rusqlite::Connection::open(dir.path().join(db::STORE_FILE))
        .expect("sqlite")
        .pragma_update(None, "user_version", db::SCHEMA_VERSION + 7)
        .expect("bump");
    let err = Logbook::open(dir.path(), &logbook_core::StoreKey::insecure_test_key())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("newer version"), "{err}");
}
