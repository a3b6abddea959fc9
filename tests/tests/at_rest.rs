//! Device stores encrypted at rest (docs/SECURITY.md, "At rest"): after a full scenario
//! across a relay, a stolen device's files (database, WAL, shared memory) hold none of
//! the names, notes, PIN verifiers or punches, open to nothing without the key, and a
//! wrong key is refused without changing a byte.

use std::path::{Path, PathBuf};

use logbook_e2e::logbook_core::{
    Error, HourType, Logbook, PersonRole, PunchKind, PunchSource, StoreKey,
};
use logbook_e2e::{Coop, at, file_contains, sqlite_contains};

const NAME: &str = "Quentin Zarathustra-Marker";
const NOTE: &str = "NOTE-MARKER-91ab: talked about the court date";

/// The store's files as a thief would copy them.
fn files(home: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| home.join(format!("logbook.sqlite3{s}")))
        .filter(|p| p.exists())
        .collect()
}

fn snapshot(home: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(home)
        .expect("home")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_device_store_holds_nothing_readable_without_its_key() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let quentin = coop
        .coordinator
        .directory()
        .add_person(
            NAME,
            &[PersonRole::Worker],
            std::slice::from_ref(&coop.site),
            true,
        )
        .expect("add person");
    coop.coordinator
        .directory()
        .set_pin(&quentin, "4827")
        .expect("PIN");
    coop.coordinator.sync().run().await.expect("sync");
    coop.kiosk.sync().run().await.expect("kiosk sync");
    coop.kiosk
        .kiosk()
        .punch(
            &quentin,
            "4827",
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:00:00Z")),
            Some(HourType::Paid),
        )
        .expect("kiosk punch");
    aisha
        .phone
        .timesheets()
        .punch(
            &aisha.person,
            PunchKind::ClockIn,
            Some(at("2026-11-16T08:00:00Z")),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("phone punch");
    aisha
        .phone
        .notes()
        .add_thread(&aisha.person, NOTE)
        .expect("note");
    for _ in 0..2 {
        coop.kiosk.sync().run().await.expect("kiosk sync");
        aisha.phone.sync().run().await.expect("phone sync");
        coop.coordinator
            .sync()
            .run()
            .await
            .expect("coordinator sync");
    }
    // Not vacuous: the coordinator holds the kiosk's punch and the name, the phone its note.
    assert_eq!(
        coop.coordinator
            .timesheets()
            .punches(&quentin)
            .expect("punches")
            .len(),
        1
    );
    assert!(
        !aisha
            .phone
            .notes()
            .threads(&aisha.person)
            .expect("threads")
            .is_empty()
    );

    let quentin_punches = format!("timesheet:{quentin}");
    let aisha_punches = format!("timesheet:{}", aisha.person);
    let markers: [&[u8]; 6] = [
        NAME.as_bytes(),
        b"Zarathustra",
        b"NOTE-MARKER-91ab",
        b"argon2id$m=",
        quentin_punches.as_bytes(),
        aisha_punches.as_bytes(),
    ];
    let devices = [
        ("coordinator", &coop.coordinator),
        ("phone", &aisha.phone),
        ("kiosk", &coop.kiosk),
    ];
    for (who, book) in devices {
        let home = book.home();
        let files = files(home);
        assert!(
            files.iter().any(|f| f.to_string_lossy().ends_with("-wal")),
            "{who}: the WAL is searched too"
        );
        for file in &files {
            for marker in markers {
                assert!(
                    !file_contains(file, marker),
                    "{who}: {} holds {:?} in the clear",
                    file.display(),
                    String::from_utf8_lossy(marker)
                );
            }
            // Not even SQLite's own header: the file does not say what it is.
            let head = std::fs::read(file).expect("read");
            assert!(
                !head.starts_with(b"SQLite format 3"),
                "{who}: {}",
                file.display()
            );
        }
        // Opened without its key, the store reads nothing.
        let conn = rusqlite::Connection::open(home.join("logbook.sqlite3")).expect("open file");
        let err = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .expect_err("no key, no schema");
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase),
            "{who}: {err}"
        );
        drop(conn);
    }
    // Positive controls: the same search, decrypting with the key, finds each marker
    // where it belongs, so "not found" above means something.
    let db = |b: &Logbook| b.home().join("logbook.sqlite3");
    for (who, book, marker) in [
        ("coordinator", &coop.coordinator, NAME.as_bytes()),
        ("coordinator", &coop.coordinator, b"argon2id$m=".as_slice()),
        ("coordinator", &coop.coordinator, quentin_punches.as_bytes()),
        ("phone", &aisha.phone, b"NOTE-MARKER-91ab".as_slice()),
        ("phone", &aisha.phone, aisha_punches.as_bytes()),
        ("kiosk", &coop.kiosk, NAME.as_bytes()),
        ("kiosk", &coop.kiosk, b"argon2id$m=".as_slice()),
    ] {
        assert!(
            !sqlite_contains(&db(book), marker).is_empty(),
            "{who} holds {:?} under its key",
            String::from_utf8_lossy(marker)
        );
    }

    // A wrong key: a clear error, and not one byte of the store changes.
    let phone_home = aisha.phone.home().to_path_buf();
    aisha.phone.sync().run().await.expect("settle");
    let before = snapshot(&phone_home);
    let wrong = StoreKey::generate();
    match Logbook::open(&phone_home, &wrong) {
        Err(e @ Error::WrongKey) => assert!(e.to_string().contains("wrong key"), "{e}"),
        Err(e) => panic!("expected WrongKey, got {e}"),
        Ok(_) => panic!("a wrong key opened the store"),
    }
    assert_eq!(
        snapshot(&phone_home),
        before,
        "the wrong key changed nothing"
    );
    coop.shutdown().await;
}
