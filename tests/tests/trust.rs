//! End-to-end encryption (docs/SECURITY.md), seen from outside: what the relay's files hold
//! after a day of use, what each device can open, and what a relay that tampers with its
//! log achieves (nothing but reports).

use std::path::Path;

use logbook_crypto::{BlobContext, CryptoError, DeviceDirectory, KeyRing, open_blob};
use logbook_e2e::logbook_core::{HourType, Logbook, PersonRole, PunchKind, PunchSource};
use logbook_e2e::logbook_protocol as proto;
use logbook_e2e::{Coop, at, file_contains, files_under, meta};
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
        for entry in files_under(&coop.relay_dir) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_withdrawn_on_the_supporters_device_stops_the_persons_phone_sharing_notes() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let a = aisha.person.as_str();
    let supporter = coop
        .join_device(&logbook_e2e::supporter_grant(&[a]), "supporter-phone")
        .await;
    coop.approve_for_notes(&aisha.phone, a, &supporter).await;
    // Consent given on Aisha's phone: her phone wraps her notes key to coordinators.
    aisha
        .phone
        .notes()
        .set_consent(a, true)
        .await
        .expect("consent");
    supporter.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    let notes = proto::Scope::Notes(a.to_string());
    let (_, ring, _) = keys_of(&coop.coordinator);
    assert!(ring.can_read(&notes), "consented: the key reached it");

    // Withdrawn with Aisha on her supporter's device: it rotates the key.
    supporter
        .notes()
        .set_consent(a, false)
        .await
        .expect("withdraw");
    // Her phone syncs (its key round gets the new version, and must not pass it on to
    // coordinators), then everyone syncs again.
    for _ in 0..2 {
        aisha.phone.sync().run().await.expect("sync");
        coop.coordinator.sync().run().await.expect("sync");
        supporter.sync().run().await.expect("sync");
    }
    let (_, phone_ring, _) = keys_of(&aisha.phone);
    assert_eq!(phone_ring.newest(&notes).expect("key").id().version, 2);
    let (_, coordinator_ring, _) = keys_of(&coop.coordinator);
    assert_eq!(
        coordinator_ring.newest(&notes).expect("key").id().version,
        1,
        "the phone where consent was given must not hand the new key to coordinators"
    );
    // And her phone shows the withdrawal, with nothing to do on it.
    assert_eq!(
        aisha.phone.notes().consent(a).expect("consent"),
        Some(false)
    );

    // A note written on her phone now is not readable by the coordinator.
    let thread = aisha
        .phone
        .notes()
        .add_thread(a, "written after the withdrawal")
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    assert!(
        coop.coordinator
            .notes()
            .threads(a)
            .map(|t| t.iter().all(|x| x.id != thread))
            .unwrap_or(true),
        "the coordinator reads no note written after the withdrawal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawing_consent_rotates_the_notes_key() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let a = aisha.person.as_str();
    let supporter = coop
        .join_device(&logbook_e2e::supporter_grant(&[a]), "supporter-phone")
        .await;
    coop.approve_for_notes(&aisha.phone, a, &supporter).await;
    aisha
        .phone
        .notes()
        .add_thread(a, "written with consent")
        .expect("note");
    aisha
        .phone
        .notes()
        .set_consent(a, true)
        .await
        .expect("consent");
    aisha.phone.sync().run().await.expect("sync");
    supporter.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    let notes = proto::Scope::Notes(a.to_string());
    let (coop_id, with_consent, devices) = keys_of(&coop.coordinator);
    assert!(
        with_consent.can_read(&notes),
        "consented: the key reached it"
    );
    let before = relay_blobs(&coop.relay_dir);
    let mark = before.last().map_or(0, |b| b.0);

    aisha
        .phone
        .notes()
        .set_consent(a, false)
        .await
        .expect("withdraw");
    let (_, phone_ring, _) = keys_of(&aisha.phone);
    assert_eq!(phone_ring.newest(&notes).expect("key").id().version, 2);
    // The supporter gets the new version; the coordinator does not.
    supporter.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    let (_, supporter_ring, _) = keys_of(&supporter);
    assert_eq!(supporter_ring.newest(&notes).expect("key").id().version, 2);
    let (_, coordinator_ring, _) = keys_of(&coop.coordinator);
    assert_eq!(
        coordinator_ring.newest(&notes).expect("key").id().version,
        1
    );

    aisha
        .phone
        .notes()
        .add_thread(a, "written after withdrawal")
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    supporter
        .notes()
        .add_thread(a, "the supporter writes too")
        .expect("note");
    supporter.sync().run().await.expect("sync");
    aisha.phone.sync().run().await.expect("sync");

    // The coordinator's keys (all it ever received) open the notes written with consent,
    // and none written after the withdrawal, even with the relay's whole database.
    let opens = |ring: &KeyRing, after: i64, upto: i64| -> (usize, usize) {
        let mut tried = 0;
        let mut opened = 0;
        for (seq, doc, bytes) in relay_blobs(&coop.relay_dir) {
            if seq <= after || seq > upto || !doc.starts_with(&format!("notes:{a}/")) {
                continue;
            }
            tried += 1;
            let ctx = BlobContext::new(&coop_id, &doc).expect("ctx");
            match open_blob(&ctx, &bytes, ring, &devices, None) {
                Ok(_) => opened += 1,
                Err(CryptoError::CannotOpen | CryptoError::UnknownKeyVersion) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        (tried, opened)
    };
    let (tried, opened) = opens(&coordinator_ring, 0, mark);
    assert!(tried >= 1 && opened == tried, "old notes: {opened}/{tried}");
    let (tried, opened) = opens(&coordinator_ring, mark, i64::MAX);
    assert!(tried >= 2, "two threads written after: {tried}");
    assert_eq!(opened, 0, "new notes are unreadable to the coordinator");
    // The person and the supporter read all of it.
    let (_, phone_ring, _) = keys_of(&aisha.phone);
    let (tried, opened) = opens(&phone_ring, 0, i64::MAX);
    assert_eq!(opened, tried);
    assert_eq!(aisha.phone.notes().threads(a).expect("notes").len(), 3);
    assert_eq!(supporter.notes().threads(a).expect("notes").len(), 3);

    // Consent given again: the new version reaches the coordinator too.
    aisha
        .phone
        .notes()
        .set_consent(a, true)
        .await
        .expect("consent again");
    coop.coordinator.sync().run().await.expect("sync");
    assert_eq!(coop.coordinator.notes().threads(a).expect("notes").len(), 3);
    coop.shutdown().await;
}

/// Every `notes:<person>/` blob at the relay tried with a ring: (tried, opened).
fn notes_opened(coop: &Coop, person: &str, ring: &KeyRing) -> (usize, usize) {
    let (coop_id, _, devices) = keys_of(&coop.coordinator);
    let mut tried = 0;
    let mut opened = 0;
    for (_, doc, bytes) in relay_blobs(&coop.relay_dir) {
        if !doc.starts_with(&format!("notes:{person}/")) {
            continue;
        }
        tried += 1;
        let ctx = BlobContext::new(&coop_id, &doc).expect("ctx");
        if open_blob(&ctx, &bytes, ring, &devices, None).is_ok() {
            opened += 1;
        }
    }
    (tried, opened)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supporter_grant_a_coordinator_mints_for_itself_reads_no_notes() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let a = aisha.person.as_str();
    aisha
        .phone
        .notes()
        .add_thread(a, "private to Aisha")
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    // The coordinator invites a "supporter" device for itself; every device trusts it (the
    // coordinator certified it), and the relay serves it Aisha's notes.
    let own = coop
        .join_device(&logbook_e2e::supporter_grant(&[a]), "coordinator's tablet")
        .await;
    for book in [&aisha.phone, &own, &coop.coordinator, &own] {
        book.sync().run().await.expect("sync");
    }
    let (_, ring, _) = keys_of(&own);
    let notes = proto::Scope::Notes(a.to_string());
    assert!(!ring.can_read(&notes), "no notes key reached it");
    let (tried, opened) = notes_opened(&coop, a, &ring);
    assert!(tried >= 1);
    assert_eq!(opened, 0, "it opens none of Aisha's notes at the relay");
    assert!(own.notes().threads(a).expect("threads").is_empty());
    // It cannot approve itself, nor can the coordinator approve it; Aisha's phone lists it
    // as waiting for her approval.
    let key = own.device_key();
    assert!(own.sync().approve_notes_device(a, &key).is_err());
    assert!(
        coop.coordinator
            .sync()
            .approve_notes_device(a, &key)
            .is_err()
    );
    let listed = aisha.phone.sync().notes_devices(a).expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].device_key, key);
    assert!(!listed[0].approved);
    // Control: once Aisha approves it, the key reaches it and it reads her notes.
    coop.approve_for_notes(&aisha.phone, a, &own).await;
    assert_eq!(own.notes().threads(a).expect("threads").len(), 1);
    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supporters_of_a_person_without_a_phone_make_one_notes_key() {
    let coop = Coop::start(0, 1).await;
    let p = coop.kiosk_only[0].1.clone();
    let p = p.as_str();
    let s1 = coop
        .join_device(&logbook_e2e::supporter_grant(&[p]), "supporter-1")
        .await;
    let s2 = coop
        .join_device(&logbook_e2e::supporter_grant(&[p]), "supporter-2")
        .await;
    for book in [&s1, &s2, &s1, &s2] {
        book.sync().run().await.expect("sync");
    }
    // The supporter with the smaller device key makes the key; the other waits for it.
    let (first, second) = if s1.device_key() < s2.device_key() {
        (&s1, &s2)
    } else {
        (&s2, &s1)
    };
    first
        .notes()
        .add_thread(p, "from the first supporter")
        .expect("note");
    second
        .notes()
        .add_thread(p, "from the second supporter")
        .expect("note");
    for book in [first, second] {
        book.sync().run().await.expect("sync");
    }
    let notes = proto::Scope::Notes(p.to_string());
    assert!(
        keys_of(first).1.can_read(&notes),
        "the first supporter made it"
    );
    assert!(!keys_of(second).1.can_write(&notes), "the second made none");
    assert!(
        second.sync().pending_changes().expect("pending") > 0,
        "its note waits"
    );
    // The first approves the second: one key, both read both notes.
    coop.approve_for_notes(first, p, second).await;
    first.sync().run().await.expect("sync");
    let key = |b: &Logbook| {
        keys_of(b)
            .1
            .newest(&notes)
            .expect("a notes key")
            .public_key()
    };
    assert!(key(first) == key(second), "no rival keys");
    assert_eq!(second.sync().pending_changes().expect("pending"), 0);
    assert_eq!(first.notes().threads(p).expect("notes").len(), 2);
    assert_eq!(second.notes().threads(p).expect("notes").len(), 2);

    // The person gets a phone later: it makes no key of its own, waits for the
    // supporters' key, and reads the notes once a supporter approves it.
    let phone = coop
        .join_device(&logbook_e2e::worker_grant(p), "phone-late")
        .await;
    phone.sync().run().await.expect("sync");
    assert!(!keys_of(&phone).1.can_write(&notes), "no rival key");
    coop.approve_for_notes(first, p, &phone).await;
    assert!(key(&phone) == key(first));
    assert_eq!(phone.notes().threads(p).expect("notes").len(), 2);
    coop.shutdown().await;
}
