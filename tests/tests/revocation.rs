//! docs/DOMAIN.md story 9: a lost phone is revoked and can no longer sync or read anything
//! new; revocation rotates the keys it could read (docs/SECURITY.md, Revocation), so even a
//! copy of the relay's database opened with its key ring yields nothing written later.

use std::path::Path;

use logbook_crypto::{BlobContext, CryptoError, DeviceDirectory, KeyRing, Scope, open_blob};
use logbook_e2e::logbook_core::{
    Error, HourType, Logbook, NewTraining, PersonRole, PunchKind, PunchSource,
};
use logbook_e2e::{Coop, at, coordinator_grant, device_id, meta, punches, worker_grant};
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

/// Every blob in the relay's log after `after`: (seq, doc, bytes).
fn relay_blobs(relay_dir: &Path, after: i64) -> Vec<(i64, String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("relay db");
    let mut stmt = conn
        .prepare("SELECT seq, doc, data FROM log WHERE kind = 'blob' AND seq > ?1 ORDER BY seq")
        .expect("query");
    stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("blobs")
}

fn last_seq(relay_dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("relay db");
    conn.query_row("SELECT coalesce(max(seq), 0) FROM log", [], |r| r.get(0))
        .expect("max seq")
}

/// How many of `blobs` whose document starts with `prefix` a ring opens: (tried, opened).
/// Writers are checked against `devices` (a directory that knows every writer), so what is
/// measured is only whether the ring's keys open the blob.
fn opens(
    blobs: &[(i64, String, Vec<u8>)],
    coop_id: &str,
    ring: &KeyRing,
    devices: &DeviceDirectory,
    prefix: &str,
) -> (usize, usize) {
    let mut tried = 0;
    let mut opened = 0;
    for (_, doc, bytes) in blobs {
        if !doc.starts_with(prefix) {
            continue;
        }
        tried += 1;
        let ctx = BlobContext::new(coop_id, doc).expect("ctx");
        match open_blob(&ctx, bytes, ring, devices, None) {
            Ok(_) => opened += 1,
            Err(CryptoError::CannotOpen | CryptoError::UnknownKeyVersion) => {}
            Err(e) => panic!("unexpected {e:?} for a genuine blob"),
        }
    }
    (tried, opened)
}

fn newest_version(ring: &KeyRing, scope: &Scope) -> (u32, bool) {
    let key = ring.newest(scope).expect("a key of the scope");
    (key.id().version, key.is_secret())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_device_gets_401_and_nothing_new() {
    let coop = Coop::start(2, 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let lost = &aisha.phone;
    let lost_id = device_id(lost.home());
    let raw = coop.raw(lost);

    // Before: the phone syncs its own punches fine.
    lost.timesheets()
        .punch(
            &aisha.person,
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:00:00Z")),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("punch");
    lost.sync().run().await.expect("sync before revocation");
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");

    let devices = coop
        .coordinator
        .sync()
        .devices()
        .await
        .expect("list devices");
    assert!(
        devices.iter().any(|d| d.device_id == lost_id && !d.revoked),
        "the coordinator sees the phone"
    );
    coop.coordinator
        .sync()
        .revoke_device(&lost_id)
        .await
        .expect("revoke the lost phone");
    let devices = coop
        .coordinator
        .sync()
        .devices()
        .await
        .expect("list devices");
    assert!(
        devices.iter().any(|d| d.device_id == lost_id && d.revoked),
        "listed as revoked"
    );

    // Others write after the revocation: the kiosk clocks Aisha in next day, the coordinator
    // records her training and adds a person, Ben's phone punches.
    coop.kiosk
        .kiosk()
        .punch(
            &aisha.person,
            &aisha.pin,
            PunchKind::ClockIn,
            Some(at("2026-11-17T09:00:00Z")),
            Some(HourType::Paid),
        )
        .expect("kiosk punch");
    coop.kiosk.sync().run().await.expect("kiosk sync");
    coop.coordinator
        .training()
        .add_training(NewTraining {
            person_id: aisha.person.clone(),
            course: "Food hygiene".into(),
            date: "2026-11-17".into(),
            minutes: 180,
            ..Default::default()
        })
        .expect("add training");
    let newcomer = coop
        .coordinator
        .directory()
        .add_person(
            "Newcomer",
            &[PersonRole::Worker],
            std::slice::from_ref(&coop.site),
            false,
        )
        .expect("add person");
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    ben.phone
        .timesheets()
        .punch(
            &ben.person,
            PunchKind::ClockIn,
            Some(at("2026-11-16T10:00:00Z")),
            Some(HourType::Volunteer),
            None,
            PunchSource::Phone,
        )
        .expect("Ben punches");
    ben.phone.sync().run().await.expect("Ben syncs");

    // The lost phone keeps working offline (a punch is saved locally)...
    lost.timesheets()
        .punch(
            &aisha.person,
            PunchKind::ClockOut,
            Some(at("2026-11-16T16:59:00Z")),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("offline punch on the revoked phone is kept locally");
    let pending = lost.sync().pending_changes().expect("pending");
    assert!(pending > 0);
    // ...but every sync is refused as unauthorized, and nothing new arrives.
    for _ in 0..2 {
        match lost.sync().run().await {
            Err(Error::Unauthorized(_)) => {}
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }
    assert_eq!(
        lost.sync().pending_changes().expect("pending"),
        pending,
        "nothing lost"
    );
    assert!(
        lost.directory()
            .people()
            .expect("people")
            .iter()
            .all(|p| p.id != newcomer),
        "the person added after revocation is not on the revoked phone"
    );
    assert!(
        lost.training()
            .records(&aisha.person)
            .expect("training")
            .is_empty(),
        "training recorded after revocation is not on the revoked phone"
    );
    let held = punches(lost, &aisha.person);
    assert_eq!(held.len(), 2, "only its own two punches: {held:?}");
    assert!(held.iter().all(|p| p.source == PunchSource::Phone));

    // Raw: every endpoint answers 401 to its token.
    assert_eq!(raw.pull_query("after=0").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        raw.push(&[(&format!("timesheet:{}/2026-11/d-x", aisha.person), b"x")])
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        raw.status_of(coop.http.get(raw.url("/v1/me"))).await,
        StatusCode::UNAUTHORIZED
    );
    // Its refused offline punch never reached the relay; the others did.
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    let at_coordinator = punches(&coop.coordinator, &aisha.person);
    assert_eq!(at_coordinator.len(), 2, "{at_coordinator:?}");
    assert!(
        at_coordinator
            .iter()
            .all(|p| p.at != at("2026-11-16T16:59:00Z"))
    );
    // Ben's phone is unaffected.
    ben.phone.sync().run().await.expect("Ben still syncs");

    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_rotates_so_the_revoked_keys_open_nothing_written_later() {
    let coop = Coop::start(2, 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let lost = &aisha.phone;
    let lost_id = device_id(lost.home());
    for book in [&coop.kiosk, &aisha.phone, &ben.phone, &coop.coordinator] {
        book.sync().run().await.expect("everyone syncs");
    }
    // Before: the lost phone's ring opens Aisha's records, her timesheets and the
    // directory (a training record and a kiosk punch written now, say).
    coop.coordinator
        .training()
        .add_training(NewTraining {
            person_id: aisha.person.clone(),
            course: "Knife skills".into(),
            date: "2026-11-10".into(),
            minutes: 60,
            ..Default::default()
        })
        .expect("add training");
    coop.coordinator.sync().run().await.expect("sync");
    let (coop_id, lost_ring, _) = keys_of(lost);
    let (_, _, all_devices) = keys_of(&coop.coordinator);
    let before = relay_blobs(&coop.relay_dir, 0);
    let records = format!("records:{}/", aisha.person);
    let (tried, opened) = opens(&before, &coop_id, &lost_ring, &all_devices, &records);
    assert!(
        tried > 0 && opened == tried,
        "control: before revocation the phone's keys open Aisha's records ({opened}/{tried})"
    );
    let timesheet = Scope::Timesheet(aisha.person.clone());
    assert_eq!(newest_version(&lost_ring, &timesheet), (1, true));

    // Revoke: the coordinator rotates every scope the phone could read at once. The phone
    // brought in no device.
    let brought_in = coop
        .coordinator
        .sync()
        .revoke_device(&lost_id)
        .await
        .expect("revoke the lost phone");
    assert!(brought_in.is_empty(), "{brought_in:?}");
    let (_, ring, _) = keys_of(&coop.coordinator);
    for scope in [
        Scope::Directory,
        timesheet.clone(),
        Scope::Review(aisha.person.clone()),
        Scope::Records(aisha.person.clone()),
    ] {
        assert_eq!(newest_version(&ring, &scope), (2, true), "{scope} rotated");
    }
    // Scopes the phone could not read keep their key.
    for scope in [
        Scope::Timesheet(ben.person.clone()),
        Scope::Site(coop.site.clone()),
    ] {
        assert_eq!(newest_version(&ring, &scope), (1, true), "{scope} kept");
    }
    let mark = last_seq(&coop.relay_dir);

    // The remaining devices learn the new versions on their next sync: the kiosk only the
    // newest public key of Aisha's timesheet, Ben's phone the new directory key.
    coop.kiosk.sync().run().await.expect("kiosk sync");
    ben.phone.sync().run().await.expect("Ben syncs");
    let (_, kiosk_ring, _) = keys_of(&coop.kiosk);
    assert_eq!(newest_version(&kiosk_ring, &timesheet), (2, false));
    assert!(!kiosk_ring.can_read(&timesheet), "still write-only");
    let (_, ben_ring, _) = keys_of(&ben.phone);
    assert_eq!(newest_version(&ben_ring, &Scope::Directory), (2, true));

    // Written afterwards: a kiosk punch for Aisha, her training, a new person, Ben's punch.
    coop.kiosk
        .kiosk()
        .punch(
            &aisha.person,
            &aisha.pin,
            PunchKind::ClockIn,
            Some(at("2026-11-17T09:00:00Z")),
            Some(HourType::Paid),
        )
        .expect("kiosk punch");
    coop.kiosk.sync().run().await.expect("kiosk sync");
    coop.coordinator
        .training()
        .add_training(NewTraining {
            person_id: aisha.person.clone(),
            course: "Food hygiene".into(),
            date: "2026-11-17".into(),
            minutes: 180,
            ..Default::default()
        })
        .expect("add training");
    let newcomer = coop
        .coordinator
        .directory()
        .add_person(
            "Newcomer",
            &[PersonRole::Worker],
            std::slice::from_ref(&coop.site),
            false,
        )
        .expect("add person");
    coop.coordinator.sync().run().await.expect("sync");
    ben.phone
        .timesheets()
        .punch(
            &ben.person,
            PunchKind::ClockIn,
            Some(at("2026-11-17T10:00:00Z")),
            Some(HourType::Volunteer),
            None,
            PunchSource::Phone,
        )
        .expect("Ben punches");
    ben.phone.sync().run().await.expect("Ben syncs");
    coop.coordinator.sync().run().await.expect("sync");

    // The thief's view: the relay's whole database and the lost phone's key ring (as it
    // was when revoked) open nothing written after the revocation.
    let after = relay_blobs(&coop.relay_dir, mark);
    let (_, _, all_devices) = keys_of(&coop.coordinator);
    let (tried, opened) = opens(&after, &coop_id, &lost_ring, &all_devices, "");
    assert!(
        tried >= 4,
        "blobs were written after the revocation: {tried}"
    );
    assert_eq!(opened, 0, "the revoked phone's keys open none of them");
    for prefix in [
        "directory/".to_string(),
        format!("timesheet:{}/", aisha.person),
        records.clone(),
    ] {
        let (tried, _) = opens(&after, &coop_id, &lost_ring, &all_devices, &prefix);
        assert!(tried > 0, "something of {prefix} was written afterwards");
    }
    // Its store's keys never changed (nothing reached it).
    assert_eq!(keys_of(lost).1, lost_ring);

    // The others read on: the coordinator opens all of it; it has Aisha's kiosk punch and
    // her training; Ben's phone has the newcomer.
    let (_, coordinator_ring, _) = keys_of(&coop.coordinator);
    let (tried, opened) = opens(&after, &coop_id, &coordinator_ring, &all_devices, "");
    assert_eq!(opened, tried, "the coordinator opens everything");
    assert!(
        punches(&coop.coordinator, &aisha.person)
            .iter()
            .any(|p| p.at == at("2026-11-17T09:00:00Z")),
        "the kiosk punch arrived"
    );
    ben.phone.sync().run().await.expect("Ben syncs");
    assert!(
        ben.phone
            .directory()
            .people()
            .expect("people")
            .iter()
            .any(|p| p.id == newcomer),
        "Ben's phone reads the directory written under the new key"
    );
    assert!(ben.phone.sync().run().await.expect("sync").dropped_blobs == 0);
    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_coordinator_lists_the_devices_it_brought_in() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    // A second coordinator laptop, which then invites a phone for Aisha and recognises it.
    let second = coop
        .join_device(&coordinator_grant(), "second laptop")
        .await;
    second.sync().run().await.expect("second coordinator syncs");
    let code = second
        .sync()
        .invite(worker_grant(&aisha.person), None)
        .await
        .expect("invite")
        .code;
    let brought = Logbook::open(
        coop.root.path().join("brought"),
        &logbook_e2e::logbook_core::StoreKey::insecure_test_key(),
    )
    .expect("open store");
    brought
        .sync()
        .join(&coop.url, &code, "Aisha's tablet")
        .await
        .expect("join");
    second
        .sync()
        .run()
        .await
        .expect("the second laptop certifies it");
    coop.coordinator.sync().run().await.expect("sync");

    let second_id = device_id(second.home());
    let brought_id = device_id(brought.home());
    let listed = coop
        .coordinator
        .sync()
        .revoke_device(&second_id)
        .await
        .expect("revoke the second laptop");
    let ids: Vec<&str> = listed.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(ids, vec![brought_id.as_str()], "{listed:?}");
    assert_eq!(listed[0].name, "Aisha's tablet");
    // Aisha's phone, which the first coordinator brought in, is not listed; revoking the
    // phone lists nothing.
    let phone_id = device_id(aisha.phone.home());
    assert!(
        coop.coordinator
            .sync()
            .revoke_device(&phone_id)
            .await
            .expect("revoke")
            .is_empty()
    );
    coop.shutdown().await;
}

/// What a hostile relay (or one that a thief of a coordinator's keys controls) could do:
/// list a device of its own making with a certificate signed by a coordinator's key.
fn plant_certified_device(relay_dir: &Path, coop_id: &str, relay_id: &str, signer: &Logbook) {
    let keys = logbook_crypto::Identity::generate(&format!("d-{relay_id}"))
        .expect("identity")
        .public_keys(worker_grant("intruder"));
    let certifier = logbook_e2e::Signer::of(signer.home()).expect("keys");
    let cert =
        logbook_crypto::certify_device(coop_id, &certifier.identity(), &coordinator_grant(), &keys)
            .expect("certify");
    let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("relay db");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    conn.execute(
        "INSERT INTO devices (id, coop, name, grant_json, token_hash, created_at, public_keys, key_id)
         VALUES (?1, ?2, 'planted', ?3, zeroblob(32), 0, ?4, ?5)",
        rusqlite::params![
            relay_id,
            coop_id,
            serde_json::to_string(&worker_grant("intruder")).expect("json"),
            keys.to_bytes().expect("keys"),
            keys.device_id,
        ],
    )
    .expect("plant a device");
    conn.execute(
        "INSERT INTO certificates (device, hash, data) VALUES (?1, zeroblob(32), ?2)",
        rusqlite::params![relay_id, cert],
    )
    .expect("plant its certificate");
    conn.execute(
        "UPDATE keys_epochs SET epoch = epoch + 1 WHERE coop = ?1",
        [coop_id],
    )
    .expect("a key event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_coordinator_certifies_nothing_new() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let second = coop
        .join_device(&coordinator_grant(), "second laptop")
        .await;
    for book in [&second, &aisha.phone, &coop.coordinator] {
        book.sync().run().await.expect("sync");
    }
    let (coop_id, _, devices) = keys_of(&aisha.phone);
    let second_key = second.device_key();
    assert!(
        devices.get(&second_key).is_some(),
        "Aisha trusts the laptop"
    );

    // Control: while the laptop is a member, a certificate it signs is accepted.
    plant_certified_device(&coop.relay_dir, &coop_id, "before", &second);
    aisha.phone.sync().run().await.expect("sync");
    assert!(keys_of(&aisha.phone).2.get("d-before").is_some());

    coop.coordinator
        .sync()
        .revoke_device(&device_id(second.home()))
        .await
        .expect("revoke the laptop");
    aisha.phone.sync().run().await.expect("sync");
    // After its revocation, its key certifies nothing new; a live coordinator's does.
    plant_certified_device(&coop.relay_dir, &coop_id, "after", &second);
    plant_certified_device(&coop.relay_dir, &coop_id, "live", &coop.coordinator);
    aisha.phone.sync().run().await.expect("sync");
    let (_, _, devices) = keys_of(&aisha.phone);
    assert!(devices.get("d-after").is_none(), "refused");
    assert!(devices.get("d-live").is_some(), "accepted");
    // The laptop itself stays known (its past blobs still verify).
    assert!(devices.get(&second_key).is_some());
    coop.shutdown().await;
}
