//! End-to-end encryption (docs/SECURITY.md), seen from outside: what the relay's files hold
//! after a day of use, what each device can open, and what a relay that tampers with its
//! log achieves (nothing but reports).

use std::path::Path;

use logbook_crypto::{BlobContext, CryptoError, DeviceDirectory, KeyRing, open_blob};
use logbook_e2e::logbook_core::{HourType, Logbook, PersonRole, PunchKind, PunchSource};
use logbook_e2e::logbook_protocol as proto;
use logbook_e2e::{Coop, at, file_contains, meta};
use reqwest::StatusCode;

/// A device's scope keys and trusted devices, as its store keeps them.
fn keys_of(book: &Logbook) -> (String, KeyRing, DeviceDirectory) {
    let home = book.home();
    let hex_meta = |k: &str| hex::decode(meta(home, k).expect("joined with keys")).expect("hex");
    (
        meta(home, "coop_id").expect("joined"),
        KeyRing::from_bytes(&hex_meta("e2e_keys")).expect("key ring"),
        DeviceDirectory::from_bytes(&hex_meta("e2e_devices")).expect("directory"),
    )
}

/// Every blob in the relay's log: (seq, doc, bytes).
fn relay_blobs(relay_dir: &Path) -> Vec<(i64, String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("relay db");
    let mut stmt = conn
        .prepare("SELECT seq, doc, data FROM log WHERE kind = 'blob' ORDER BY seq")
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("blobs")
}

/// Append a blob to the relay's log behind its back, as a hostile relay would serve it.
fn inject(relay_dir: &Path, coop: &str, doc: &str, data: &[u8]) {
    let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("relay db");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    let scope = proto::Scope::of_doc(doc).expect("doc id").to_string();
    conn.execute(
        "INSERT INTO log (coop, scope, doc, kind, content_id, key, device, data)
         VALUES (?1, ?2, ?3, 'blob', ?4, NULL, 'dev-hostile', ?5)",
        rusqlite::params![coop, scope, doc, proto::content_id(data), data],
    )
    .expect("inject a blob");
}

/// Documents with blobs this device dropped, and how many blobs each.
fn dropped(book: &Logbook) -> Vec<String> {
    dropped_counts(book).into_iter().map(|(d, _)| d).collect()
}

fn dropped_counts(book: &Logbook) -> Vec<(String, u32)> {
    book.quarantined()
        .expect("quarantine list")
        .into_iter()
        .filter(|q| q.reason.contains("dropped"))
        .map(|q| (q.doc_id, q.blobs))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_holds_no_plaintext_after_a_day_of_use() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    // Markers the relay must never see: a name, a note, a PIN verifier.
    let name = "Quentin Zarathustra-Marker";
    let note = "NOTE-MARKER-7f3c: talked about the court date";
    let quentin = coop
        .coordinator
        .directory()
        .add_person(
            name,
            &[PersonRole::Worker],
            std::slice::from_ref(&coop.site),
            true,
        )
        .expect("add person");
    coop.coordinator
        .directory()
        .set_pin(&quentin, "4827")
        .expect("PIN");
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    // The kiosk gets Quentin's timesheet key (wrapped) and roster, then punches him.
    coop.kiosk.sync().run().await.expect("kiosk sync");
    for (kind, t, hours) in [
        (
            PunchKind::ClockIn,
            "2026-11-16T09:00:00Z",
            Some(HourType::Paid),
        ),
        (PunchKind::ClockOut, "2026-11-16T17:00:00Z", None),
    ] {
        coop.kiosk
            .kiosk()
            .punch(&quentin, "4827", kind, Some(at(t)), hours)
            .expect("kiosk punch");
    }
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
        .add_thread(&aisha.person, note)
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
    // Not vacuous: the data went through the relay and was read back.
    let shifts = coop
        .coordinator
        .timesheets()
        .shifts(&quentin, Some("2026-11-16"), Some("2026-11-16"))
        .expect("shifts");
    assert_eq!(shifts.len(), 1, "the coordinator reads the kiosk's punches");
    assert!(
        !aisha
            .phone
            .notes()
            .threads(&aisha.person)
            .expect("threads")
            .is_empty(),
        "the note is there"
    );
    assert!(!relay_blobs(&coop.relay_dir).is_empty());

    for marker in [
        name.as_bytes(),
        b"NOTE-MARKER-7f3c",
        b"argon2id$m=",
        b"Zarathustra",
    ] {
        for entry in walk(&coop.relay_dir) {
            assert!(
                !file_contains(&entry, marker),
                "{} holds {:?}",
                entry.display(),
                String::from_utf8_lossy(marker)
            );
        }
    }
    // And the devices do hold them (the search would find them), inside their own
    // encryption at rest (tests/tests/at_rest.rs).
    assert!(
        !logbook_e2e::sqlite_contains(
            &coop.coordinator.home().join("logbook.sqlite3"),
            name.as_bytes()
        )
        .is_empty()
    );
    coop.shutdown().await;
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    assert!(!out.is_empty(), "the relay wrote files");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_cannot_open_its_own_punch_nor_a_phone_a_colleagues_data() {
    let coop = Coop::start(2, 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    coop.kiosk
        .kiosk()
        .punch(
            &ben.person,
            &ben.pin,
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:00:00Z")),
            Some(HourType::Paid),
        )
        .expect("kiosk punch");
    for w in [aisha, ben] {
        w.phone
            .timesheets()
            .punch(
                &w.person,
                PunchKind::ClockIn,
                Some(at("2026-11-17T09:00:00Z")),
                Some(HourType::Paid),
                None,
                PunchSource::Phone,
            )
            .expect("phone punch");
        w.phone
            .notes()
            .add_thread(&w.person, "a note")
            .expect("note");
    }
    coop.kiosk.sync().run().await.expect("kiosk sync");
    for w in [aisha, ben] {
        w.phone.sync().run().await.expect("phone sync");
    }
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    for w in [aisha, ben] {
        w.phone.sync().run().await.expect("phone sync");
    }

    // Every blob of the relay's database, tried with each device's scope keys. Writers are
    // checked against the coordinator's directory (it knows every device), so what is
    // measured is only whether the device's keys open the blob.
    let blobs = relay_blobs(&coop.relay_dir);
    let (_, _, devices) = keys_of(&coop.coordinator);
    let opens = |book: &Logbook, doc_prefix: &str| -> (usize, usize) {
        let (coop_id, ring, _) = keys_of(book);
        let mut tried = 0;
        let mut opened = 0;
        for (_, doc, bytes) in &blobs {
            if !doc.starts_with(doc_prefix) {
                continue;
            }
            tried += 1;
            let ctx = BlobContext::new(&coop_id, doc).expect("ctx");
            match open_blob(&ctx, bytes, &ring, &devices, None) {
                Ok(_) => opened += 1,
                Err(CryptoError::CannotOpen | CryptoError::UnknownKeyVersion) => {}
                Err(e) => panic!("unexpected {e:?} for a genuine blob"),
            }
        }
        (tried, opened)
    };
    let kiosk_doc = format!(
        "timesheet:{}/2026-11/{}",
        ben.person,
        coop.kiosk.device_key()
    );
    let (tried, opened) = opens(&coop.kiosk, &kiosk_doc);
    assert!(tried > 0, "the kiosk's punch reached the relay");
    assert_eq!(opened, 0, "the kiosk cannot read back the punch it wrote");
    assert_eq!(
        opens(&coop.coordinator, &kiosk_doc).1,
        tried,
        "the coordinator can"
    );
    assert_eq!(opens(&ben.phone, &kiosk_doc).1, tried, "and Ben can");

    for prefix in [
        format!("timesheet:{}/", ben.person),
        format!("notes:{}/", ben.person),
        format!("records:{}/", ben.person),
    ] {
        let (tried, opened) = opens(&aisha.phone, &prefix);
        assert_eq!(
            opened, 0,
            "Aisha's phone opens none of {prefix} ({tried} blobs)"
        );
    }
    let (tried, opened) = opens(&ben.phone, &format!("timesheet:{}/", ben.person));
    assert!(tried >= 2 && opened == tried, "Ben opens his own");
    let (tried, opened) = opens(&aisha.phone, &format!("notes:{}/", aisha.person));
    assert!(tried >= 1 && opened == tried, "Aisha opens her own notes");
    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampering_relay_is_detected_and_the_rest_keeps_syncing() {
    let coop = Coop::start(2, 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let coop_id = meta(coop.coordinator.home(), "coop_id").expect("coop id");
    let punch = |w: &logbook_e2e::Worker, kind, t: &str| {
        w.phone
            .timesheets()
            .punch(
                &w.person,
                kind,
                Some(at(t)),
                (kind == PunchKind::ClockIn).then_some(HourType::Paid),
                None,
                PunchSource::Phone,
            )
            .expect("punch")
    };
    punch(aisha, PunchKind::ClockIn, "2026-11-16T09:00:00Z");
    punch(ben, PunchKind::ClockIn, "2026-11-16T10:00:00Z");
    aisha
        .phone
        .notes()
        .add_thread(&aisha.person, "one")
        .expect("note");
    aisha
        .phone
        .notes()
        .add_thread(&aisha.person, "two")
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    ben.phone.sync().run().await.expect("sync");

    let blobs = relay_blobs(&coop.relay_dir);
    let of = |prefix: &str| -> Vec<(String, Vec<u8>)> {
        blobs
            .iter()
            .filter(|(_, d, _)| d.starts_with(prefix))
            .map(|(_, d, b)| (d.clone(), b.clone()))
            .collect()
    };
    let aisha_ts = of(&format!("timesheet:{}/", aisha.person));
    let ben_ts = of(&format!("timesheet:{}/", ben.person));
    let aisha_notes = of(&format!("notes:{}/", aisha.person));
    assert!(!aisha_ts.is_empty() && !ben_ts.is_empty() && aisha_notes.len() >= 2);

    // 1. A flipped byte in Aisha's punch blob, served again.
    let (doc, mut flipped) = aisha_ts[0].clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    inject(&coop.relay_dir, &coop_id, &doc, &flipped);
    // 2. Two blobs swapped between documents: Ben's punch served as Aisha's, and back.
    inject(&coop.relay_dir, &coop_id, &aisha_ts[0].0, &ben_ts[0].1);
    inject(&coop.relay_dir, &coop_id, &ben_ts[0].0, &aisha_ts[0].1);
    // 3. An old note blob replayed into the other thread.
    let (thread_a, blob_a) = aisha_notes[0].clone();
    let thread_b = aisha_notes
        .iter()
        .map(|(d, _)| d.clone())
        .find(|d| *d != thread_a)
        .expect("two threads");
    inject(&coop.relay_dir, &coop_id, &thread_b, &blob_a);
    // Then honest work goes on.
    punch(aisha, PunchKind::ClockOut, "2026-11-16T17:00:00Z");
    aisha
        .phone
        .sync()
        .run()
        .await
        .expect("sync after tampering");

    // The coordinator: detects the timesheet ones, keeps syncing, reads the clock-out.
    let summary = coop
        .coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    assert_eq!(summary.dropped_blobs, 3, "flip and both swaps: {summary:?}");
    let gone = dropped_counts(&coop.coordinator);
    assert!(
        gone.contains(&(aisha_ts[0].0.clone(), 2)) && gone.contains(&(ben_ts[0].0.clone(), 1)),
        "reported per document: {gone:?}"
    );
    let shifts = coop
        .coordinator
        .timesheets()
        .shifts(&aisha.person, Some("2026-11-16"), Some("2026-11-16"))
        .expect("shifts");
    assert_eq!(shifts.len(), 1);
    assert_eq!(
        shifts[0].end,
        Some(at("2026-11-16T17:00:00Z")),
        "the rest synced"
    );
    let ben_shifts = coop
        .coordinator
        .timesheets()
        .shifts(&ben.person, Some("2026-11-16"), Some("2026-11-16"))
        .expect("shifts");
    assert_eq!(ben_shifts.len(), 1, "Ben's hours unchanged by the swap");

    // Aisha's phone: the flip and the swap into her document, and the replayed note.
    aisha.phone.sync().run().await.expect("phone sync");
    let gone = dropped_counts(&aisha.phone);
    assert!(
        gone.contains(&(thread_b.clone(), 1)),
        "the replayed note: {gone:?}"
    );
    assert!(
        gone.contains(&(aisha_ts[0].0.clone(), 2)),
        "the flip and the swap into her document: {gone:?}"
    );
    let threads = aisha.phone.notes().threads(&aisha.person).expect("threads");
    assert_eq!(
        threads.len(),
        2,
        "no thread gained the replayed entry twice"
    );
    // Ben's phone: the swap into his document.
    ben.phone.sync().run().await.expect("phone sync");
    assert!(
        dropped(&ben.phone)
            .iter()
            .any(|d| d.starts_with(&format!("timesheet:{}/", ben.person))),
        "Ben's phone reports the blob swapped into his document"
    );
    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_into_the_kiosks_document_is_refused_and_ignored() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let coop_id = meta(coop.coordinator.home(), "coop_id").expect("coop id");
    // Aisha's phone records a shift it never syncs; its changes become the forgery.
    aisha
        .phone
        .timesheets()
        .punch(
            &aisha.person,
            PunchKind::ClockIn,
            Some(at("2026-11-18T09:00:00Z")),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("punch");
    let changes: Vec<u8> = {
        let conn = logbook_core::open_raw_store(
            aisha.phone.home(),
            &logbook_core::StoreKey::insecure_test_key(),
        )
        .expect("phone store");
        let rows: Vec<Vec<u8>> = conn
            .prepare("SELECT data FROM outbox ORDER BY id")
            .expect("outbox")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("outbox rows");
        rows.concat()
    };
    let kiosk_doc = format!(
        "timesheet:{}/2026-11/{}",
        aisha.person,
        coop.kiosk.device_key()
    );
    let raw = coop.raw(&aisha.phone);
    let signer = raw.signer.clone().expect("the phone has keys");
    let forged = signer.seal(&kiosk_doc, &changes);
    let (status, _) = raw.push_as_is(&[(&kiosk_doc, &forged)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the relay refuses it");

    let before = coop
        .coordinator
        .timesheets()
        .shifts(&aisha.person, Some("2026-11-18"), Some("2026-11-18"))
        .expect("shifts");
    assert!(before.is_empty());
    // A relay that lets it through anyway: readers ignore it.
    inject(&coop.relay_dir, &coop_id, &kiosk_doc, &forged);
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    let after = coop
        .coordinator
        .timesheets()
        .shifts(&aisha.person, Some("2026-11-18"), Some("2026-11-18"))
        .expect("shifts");
    assert_eq!(after, before, "the hours are unchanged");
    assert!(dropped(&coop.coordinator).contains(&kiosk_doc));
    coop.shutdown().await;
}
