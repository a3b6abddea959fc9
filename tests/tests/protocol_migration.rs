//! Migration of a coop from the plaintext protocol (docs/SECURITY.md, "Migration from
//! plaintext"): a coop whose devices joined before end-to-end encryption, and pushed
//! plaintext, upgrades in place. Each device makes its keys at its next sync, the
//! coordinator takes the upgraded devices on first use and certifies them, every device
//! re-seals what it pushed, and the coordinator makes the coop "sealed only". Afterwards
//! the relay's files hold none of the plaintext, the relay refuses plaintext and proof-less
//! key registrations, and every device (and a device that joins later) reads everything
//! it may. A kiosk, which forgot its plaintext taps, re-seals them from the relay's copy;
//! a revoked device that never upgraded has its punches re-sealed by a coordinator as
//! custodian and its notes by the person's other device.

use std::path::{Path, PathBuf};

use logbook_e2e::logbook_core::{HourType, Logbook, PersonRole, PunchKind, PunchSource, StoreKey};
use logbook_e2e::logbook_protocol as proto;
use logbook_e2e::{
    Raw, TZ, at, coordinator_grant, file_contains, files_under, meta, token, worker_grant,
};
use reqwest::StatusCode;

const NAME: &str = "Quentin Zarathustra-Migrant";
const NOTE: &str = "MIGRATION-NOTE-MARKER-51d2: talked about the court date";
const PIN_VERIFIER: &[u8] = b"argon2id$m=";
const LOST_NOTE: &str = "LOST-PHONE-NOTE-MARKER-77e1: written on a phone lost before the upgrade";

fn open(root: &Path, name: &str) -> Logbook {
    Logbook::open(root.join(name), &StoreKey::insecure_test_key()).expect("open store")
}

/// The files under the relay's data directory that hold `marker`.
fn relay_files_with(relay_dir: &Path, marker: &[u8]) -> Vec<PathBuf> {
    files_under(relay_dir)
        .into_iter()
        .filter(|p| file_contains(p, marker))
        .collect()
}

/// Blobs in the relay's log that are not sealed (first byte not `0xE5`).
fn plaintext_blobs(relay_dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        relay_dir.join("relay.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the relay database read-only");
    conn.query_row(
        "SELECT count(*) FROM log WHERE kind = 'blob' AND substr(data, 1, 1) IS NOT x'E5'",
        [],
        |r| r.get(0),
    )
    .expect("count")
}

/// Blobs a device dropped as failing their checks (a migration must report none).
fn dropped(book: &Logbook) -> u32 {
    book.quarantined()
        .expect("quarantine list")
        .into_iter()
        .filter(|q| q.reason.contains("dropped"))
        .map(|q| q.blobs)
        .sum()
}

async fn sync(book: &Logbook, who: &str) {
    book.sync()
        .run()
        .await
        .unwrap_or_else(|e| panic!("{who} syncs: {e}"));
}

/// A device with an app from before end-to-end encryption (it joins without keys, as
/// those did) joins by the office's invite for `grant`; its store is `dir` under `root`.
async fn join_old_client(
    root: &Path,
    office: &Logbook,
    url: &str,
    grant: proto::Grant,
    dir: &str,
    name: &str,
) -> Logbook {
    let code = office
        .sync()
        .invite(grant, None)
        .await
        .expect("invite")
        .code;
    let book = open(root, dir);
    book.sync()
        .act_as_plaintext_client(true)
        .expect("old client");
    book.sync()
        .join(url, &code, name)
        .await
        .expect("the old client joins");
    book
}

/// A second coordinator laptop joins by the office's invite (after the migration, so
/// from sealed blobs alone); both sync, so the office vouches for it.
async fn join_laptop(root: &Path, office: &Logbook, url: &str) -> Logbook {
    let code = office
        .sync()
        .invite(coordinator_grant(), None)
        .await
        .expect("invite a laptop")
        .code;
    let laptop = open(root, "laptop");
    laptop
        .sync()
        .join(url, &code, "second laptop")
        .await
        .expect("the laptop joins");
    sync(office, "the coordinator").await;
    sync(&laptop, "the laptop").await;
    laptop
}

/// A coop on the plaintext protocol: a coordinator and Quentin's phone joined without keys
/// (as clients from before end-to-end encryption did); the coordinator added Quentin (a
/// name, a PIN), the phone pushed two punches and a note; both synced.
struct PlaintextCoop {
    root: tempfile::TempDir,
    relay_dir: PathBuf,
    relay: logbook_relay::RunningRelay,
    url: String,
    office: Logbook,
    phone: Logbook,
    quentin: String,
    punch: String,
    thread: String,
}

async fn plaintext_coop() -> PlaintextCoop {
    let root = tempfile::tempdir().expect("temporary directory");
    let relay_dir = root.path().join("relay");
    let relay = logbook_relay::start(logbook_relay::RelayConfig::new(
        &relay_dir,
        "127.0.0.1:0".parse().expect("loopback address"),
    ))
    .await
    .expect("start the relay in-process");
    let created =
        logbook_relay::admin::create_coop(&relay_dir, "Riverside Bakery").expect("create coop");
    let url = relay.url();

    // ---- A coop on the plaintext protocol: devices that join without keys ----
    let office = open(root.path(), "office");
    office
        .sync()
        .act_as_plaintext_client(true)
        .expect("old client");
    office
        .directory()
        .init("Riverside Bakery", TZ)
        .expect("init coop");
    office
        .sync()
        .join(&url, &created.coordinator_code, "office laptop")
        .await
        .expect("the coordinator joins");
    let site = office.directory().add_site("Bakery").expect("site");
    let quentin = office
        .directory()
        .add_person(
            NAME,
            &[PersonRole::Worker],
            std::slice::from_ref(&site),
            true,
        )
        .expect("add person");
    office.directory().set_pin(&quentin, "4827").expect("PIN");
    sync(&office, "the coordinator").await;
    let invite = office
        .sync()
        .invite(worker_grant(&quentin), None)
        .await
        .expect("invite a phone")
        .code;
    assert_eq!(
        invite.len(),
        14,
        "a keyless coordinator's code has no second half"
    );
    let phone = open(root.path(), "phone");
    phone
        .sync()
        .act_as_plaintext_client(true)
        .expect("old client");
    phone
        .sync()
        .join(&url, &invite, "Quentin's phone")
        .await
        .expect("the phone joins");
    let punch = phone
        .timesheets()
        .punch(
            &quentin,
            PunchKind::ClockIn,
            Some(at("2026-11-16T08:00:00Z")),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("phone punch");
    phone
        .timesheets()
        .punch(
            &quentin,
            PunchKind::ClockOut,
            Some(at("2026-11-16T16:00:00Z")),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("phone punch");
    let thread = phone.notes().add_thread(&quentin, NOTE).expect("note");
    sync(&phone, "the phone").await;
    sync(&office, "the coordinator").await;
    PlaintextCoop {
        root,
        relay_dir,
        relay,
        url,
        office,
        phone,
        quentin,
        punch,
        thread,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_coop_upgrades_in_place_and_the_relay_keeps_no_plaintext() {
    let PlaintextCoop {
        root,
        relay_dir,
        relay,
        url,
        office,
        phone,
        quentin,
        punch,
        thread,
    } = plaintext_coop().await;
    for book in [&office, &phone] {
        assert!(
            meta(book.home(), "e2e_identity").is_none(),
            "an old client has no keys"
        );
    }
    // Not vacuous: the coop really ran on plaintext, the relay read it all.
    assert_eq!(
        office
            .timesheets()
            .shifts(&quentin, Some("2026-11-16"), Some("2026-11-16"))
            .expect("shifts")
            .len(),
        1,
        "the coordinator reads the phone's punches"
    );
    assert!(plaintext_blobs(&relay_dir) > 0);
    for marker in [
        NAME.as_bytes(),
        b"MIGRATION-NOTE-MARKER-51d2",
        PIN_VERIFIER,
        punch.as_bytes(),
    ] {
        assert!(
            !relay_files_with(&relay_dir, marker).is_empty(),
            "the plaintext relay holds {:?}",
            String::from_utf8_lossy(marker)
        );
    }
    let refused = office
        .sync()
        .seal_coop()
        .await
        .expect_err("plaintext remains");
    assert!(
        refused.to_string().contains("2 device(s) without keys"),
        "{refused}"
    );

    // ---- The upgrade: the coordinator first ----
    for book in [&office, &phone] {
        book.sync()
            .act_as_plaintext_client(false)
            .expect("this version");
    }
    sync(&office, "the upgraded coordinator").await;
    assert!(meta(office.home(), "e2e_identity").is_some(), "keys made");
    assert_eq!(
        office.sync().plaintext_documents_left().expect("left"),
        0,
        "the coordinator holds every key it needs and re-sealed what it pushed"
    );
    let refused = office
        .sync()
        .seal_coop()
        .await
        .expect_err("the phone is keyless");
    let text = refused.to_string();
    assert!(text.contains("1 device(s) without keys"), "{text}");
    assert!(!text.contains(NAME) && !text.contains(&quentin), "{text}");

    // The phone upgrades and registers; the coordinator takes it on first use, certifies
    // it and wraps its keys; the phone makes its notes key and re-seals.
    sync(&phone, "the upgraded phone").await;
    assert!(meta(phone.home(), "e2e_identity").is_some(), "keys made");
    assert!(
        phone.sync().plaintext_documents_left().expect("left") > 0,
        "no timesheet key yet: nothing re-sealed"
    );
    sync(&office, "the coordinator").await;
    let refused = office
        .sync()
        .seal_coop()
        .await
        .expect_err("the phone's plaintext remains");
    let text = refused.to_string();
    assert!(
        text.contains("0 device(s) without keys") && !text.contains(" 0 blob(s)"),
        "{text}"
    );
    for _ in 0..3 {
        sync(&phone, "the phone").await;
        sync(&office, "the coordinator").await;
        if phone.sync().plaintext_documents_left().expect("left") == 0 {
            break;
        }
    }
    assert_eq!(phone.sync().plaintext_documents_left().expect("left"), 0);
    assert_eq!(
        plaintext_blobs(&relay_dir),
        0,
        "every plaintext blob superseded"
    );

    // ---- The switch ----
    office
        .sync()
        .seal_coop()
        .await
        .expect("the coop is sealed only");
    office
        .sync()
        .seal_coop()
        .await
        .expect("and stays so (idempotent)");
    sync(&phone, "the phone").await;
    sync(&office, "the coordinator").await;
    for book in [&office, &phone] {
        assert!(
            meta(book.home(), "e2e_migrating").is_none(),
            "no more trust on first use once the coop is sealed only"
        );
    }

    // The relay's files (database, WAL, anything else) hold none of it.
    for marker in [
        NAME.as_bytes(),
        b"Zarathustra",
        b"MIGRATION-NOTE-MARKER-51d2",
        PIN_VERIFIER,
        punch.as_bytes(),
    ] {
        let found = relay_files_with(&relay_dir, marker);
        assert!(
            found.is_empty(),
            "{found:?} hold {:?}",
            String::from_utf8_lossy(marker)
        );
    }

    // Every device still reads everything it may, and reported no attack.
    assert_eq!(
        office
            .timesheets()
            .shifts(&quentin, Some("2026-11-16"), Some("2026-11-16"))
            .expect("shifts")
            .len(),
        1
    );
    assert_eq!(
        office.directory().person(&quentin).expect("person").name,
        NAME
    );
    assert!(
        phone
            .notes()
            .threads(&quentin)
            .expect("threads")
            .iter()
            .any(|t| t.id == thread)
    );
    assert_eq!(
        phone
            .timesheets()
            .shifts(&quentin, Some("2026-11-16"), Some("2026-11-16"))
            .expect("shifts")
            .len(),
        1
    );
    assert_eq!(
        dropped(&office) + dropped(&phone),
        0,
        "nothing reported as tampering"
    );
    // After the switch the phone keeps working sealed: a new punch reaches the office.
    for (kind, t, hours) in [
        (
            PunchKind::ClockIn,
            "2026-11-17T08:00:00Z",
            Some(HourType::Paid),
        ),
        (PunchKind::ClockOut, "2026-11-17T12:00:00Z", None),
    ] {
        phone
            .timesheets()
            .punch(&quentin, kind, Some(at(t)), hours, None, PunchSource::Phone)
            .expect("phone punch");
    }
    sync(&phone, "the phone").await;
    sync(&office, "the coordinator").await;
    assert_eq!(
        office
            .timesheets()
            .shifts(&quentin, Some("2026-11-17"), Some("2026-11-17"))
            .expect("shifts")
            .len(),
        1
    );

    // A coordinator laptop that joins now reads the coop from sealed blobs alone.
    let laptop = join_laptop(root.path(), &office, &url).await;
    assert_eq!(
        laptop.directory().person(&quentin).expect("person").name,
        NAME
    );
    assert_eq!(
        laptop
            .timesheets()
            .shifts(&quentin, Some("2026-11-16"), Some("2026-11-17"))
            .expect("shifts")
            .len(),
        2,
        "the re-sealed punches and the new one"
    );
    assert_eq!(dropped(&laptop), 0);

    // ---- Refused after the switch: plaintext, and keys without a join proof ----
    let code = office
        .sync()
        .invite(worker_grant(&quentin), None)
        .await
        .expect("invite")
        .code;
    let relay_part: String = code.chars().take(14).collect();
    let old = open(root.path(), "old-phone");
    old.sync()
        .act_as_plaintext_client(true)
        .expect("old client");
    old.sync()
        .join(&url, &relay_part, "an old app")
        .await
        .expect("an old app still joins (the code is the relay's)");
    let raw = Raw {
        http: reqwest::Client::new(),
        base: url.clone(),
        token: token(old.home()),
        signer: None,
    };
    let thread_doc = format!("notes:{quentin}/plaintext-thread");
    let (status, _) = raw
        .push_as_is(&[(
            thread_doc.as_str(),
            b"\x85\x6f\x4a\x83 plaintext".as_slice(),
        )])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "plaintext is refused");
    let identity = logbook_crypto::Identity::generate("old-app-device").expect("identity");
    let keys = identity
        .public_keys(worker_grant(&quentin))
        .to_bytes()
        .expect("keys");
    let resp = raw
        .http
        .put(raw.url("/v1/keys/me"))
        .bearer_auth(&raw.token)
        .json(&proto::DeviceKeysRequest {
            keys: hex::encode(keys),
            proof: None,
        })
        .send()
        .await
        .expect("register keys");
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "keys without a join proof are refused"
    );
    // Nothing the old app tried reached the log.
    assert_eq!(plaintext_blobs(&relay_dir), 0);
    relay.shutdown().await;
}

/// While a coop migrates, a device that upgraded merges no plaintext (unauthenticated:
/// the relay could have written it) and reports none as tampering; what a device that has
/// not upgraded yet writes reaches it sealed, once that device upgrades and re-seals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_device_ignores_plaintext_until_its_writer_re_seals_it() {
    let PlaintextCoop {
        root: _root,
        relay_dir,
        relay,
        office,
        phone,
        quentin,
        ..
    } = plaintext_coop().await;
    office
        .sync()
        .act_as_plaintext_client(false)
        .expect("this version");
    sync(&office, "the upgraded coordinator").await;
    // The phone is still an old client: it punches and pushes plaintext, which the
    // relay takes while the coop migrates.
    for (kind, t, hours) in [
        (
            PunchKind::ClockIn,
            "2026-11-19T08:00:00Z",
            Some(HourType::Paid),
        ),
        (PunchKind::ClockOut, "2026-11-19T15:00:00Z", None),
    ] {
        phone
            .timesheets()
            .punch(&quentin, kind, Some(at(t)), hours, None, PunchSource::Phone)
            .expect("phone punch");
    }
    let before = plaintext_blobs(&relay_dir);
    sync(&phone, "the old phone").await;
    assert!(plaintext_blobs(&relay_dir) > before, "pushed in plaintext");
    sync(&office, "the coordinator").await;
    let nov19 = |book: &Logbook| {
        book.timesheets()
            .shifts(&quentin, Some("2026-11-19"), Some("2026-11-19"))
            .expect("shifts")
            .len()
    };
    assert_eq!(
        nov19(&office),
        0,
        "plaintext is not merged by an upgraded device"
    );
    assert_eq!(
        dropped(&office),
        0,
        "nor reported as tampering while migrating"
    );
    // The phone upgrades: it is certified, gets its keys, re-seals; the punches arrive.
    phone
        .sync()
        .act_as_plaintext_client(false)
        .expect("this version");
    for _ in 0..3 {
        sync(&phone, "the phone").await;
        sync(&office, "the coordinator").await;
        if nov19(&office) == 1 {
            break;
        }
    }
    assert_eq!(nov19(&office), 1, "the re-sealed punches arrived");
    assert_eq!(phone.sync().plaintext_documents_left().expect("left"), 0);
    assert_eq!(plaintext_blobs(&relay_dir), 0);
    office.sync().seal_coop().await.expect("sealed only");
    assert_eq!(dropped(&office) + dropped(&phone), 0);
    relay.shutdown().await;
}

/// The newest public key of `scope` a device holds (to compare two devices' keys).
fn newest_public(book: &Logbook, scope: &proto::Scope) -> Option<[u8; 32]> {
    let ring = logbook_crypto::KeyRing::from_bytes(
        &hex::decode(meta(book.home(), "e2e_keys")?).expect("hex"),
    )
    .expect("key ring");
    ring.newest(scope).map(|k| *k.public_key().public_bytes())
}

/// Two coordinators upgrade: the first makes the coop's scope keys, the second takes it
/// on first use, waits and gets them wrapped, so there are no rival keys; both re-seal
/// and the coop is switched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_coordinators_upgrade_and_make_one_set_of_keys() {
    let PlaintextCoop {
        root,
        relay_dir,
        relay,
        url,
        office,
        phone,
        quentin,
        ..
    } = plaintext_coop().await;
    let laptop = join_old_client(
        root.path(),
        &office,
        &url,
        coordinator_grant(),
        "laptop",
        "second laptop",
    )
    .await;
    let site = laptop.directory().add_site("Depot").expect("site");
    sync(&laptop, "the old laptop").await;
    sync(&office, "the old office").await;

    for book in [&office, &laptop, &phone] {
        book.sync()
            .act_as_plaintext_client(false)
            .expect("this version");
    }
    let books = [(&office, "office"), (&laptop, "laptop"), (&phone, "phone")];
    for _ in 0..4 {
        for (book, who) in books {
            sync(book, who).await;
        }
        let mut left = 0;
        for (book, _) in books {
            left += book.sync().plaintext_documents_left().expect("left");
        }
        if left == 0 {
            break;
        }
    }
    for (book, who) in books {
        assert_eq!(
            book.sync().plaintext_documents_left().expect("left"),
            0,
            "{who} re-sealed everything"
        );
    }
    assert_eq!(plaintext_blobs(&relay_dir), 0);
    for scope in [
        proto::Scope::Directory,
        proto::Scope::Site(site.clone()),
        proto::Scope::Timesheet(quentin.clone()),
    ] {
        let key = newest_public(&office, &scope);
        assert!(key.is_some(), "{scope} has a key");
        assert_eq!(key, newest_public(&laptop, &scope), "one key for {scope}");
    }
    office.sync().seal_coop().await.expect("sealed only");
    // The laptop's writes, sealed now, reach the office and the phone.
    laptop
        .directory()
        .add_site("Depot North")
        .expect("another site");
    sync(&laptop, "the laptop").await;
    sync(&office, "the office").await;
    assert!(
        office
            .directory()
            .sites()
            .expect("sites")
            .iter()
            .any(|s| s.name == "Depot North")
    );
    for (book, who) in books {
        assert!(
            book.quarantined().expect("quarantine").is_empty(),
            "{who} holds nothing it cannot open"
        );
    }
    relay.shutdown().await;
}

/// Hours per person and hour type over every date, as the coordinator's report shows them.
fn hours(book: &Logbook) -> String {
    format!(
        "{:?}",
        book.reports()
            .hours("2000-01-01", "2100-12-31")
            .expect("hours report")
    )
}

/// Files of a device's store that hold `marker`, searched inside its encryption at rest.
fn store_holds(book: &Logbook, marker: &[u8]) -> bool {
    !logbook_e2e::sqlite_contains(&book.home().join("logbook.sqlite3"), marker).is_empty()
}

/// Sync every device in turn, up to `rounds` times, until none has plaintext left to
/// re-seal and the relay holds no plaintext blob.
async fn sync_until_resealed(books: &[(&Logbook, &str)], relay_dir: &Path, rounds: usize) {
    for _ in 0..rounds {
        for (book, who) in books {
            sync(book, who).await;
        }
        let mut left = 0;
        for (book, _) in books {
            left += book.sync().plaintext_documents_left().expect("left");
        }
        if left == 0 && plaintext_blobs(relay_dir) == 0 {
            return;
        }
    }
}

/// A kiosk is write-only and forgets its taps once the relay holds them, so what it
/// pushed in plaintext before the upgrade is only at the relay: it fetches its own
/// plaintext back, seals it to the person's timesheet key (which it cannot open), pushes
/// it superseding the plaintext, and forgets again. Afterwards the coop is sealed only,
/// the relay holds no plaintext, the hours are what they were, and the kiosk cannot read
/// the punch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_re_seals_the_plaintext_punches_it_had_forgotten() {
    let PlaintextCoop {
        root,
        relay_dir,
        relay,
        url,
        office,
        phone,
        quentin,
        ..
    } = plaintext_coop().await;
    let site = office.directory().sites().expect("sites")[0].id.clone();
    let kiosk = join_old_client(
        root.path(),
        &office,
        &url,
        logbook_e2e::kiosk_grant(&site),
        "kiosk",
        "bakery kiosk",
    )
    .await;
    // Three days ago: a whole shift, older than the review window, so the kiosk forgets
    // it once the relay holds it.
    let now = jiff::Timestamp::now().as_second();
    let tap = kiosk
        .kiosk()
        .punch(
            &quentin,
            "4827",
            PunchKind::ClockIn,
            Some(now - 72 * 3600),
            Some(HourType::Paid),
        )
        .expect("kiosk clock-in");
    kiosk
        .kiosk()
        .punch(
            &quentin,
            "4827",
            PunchKind::ClockOut,
            Some(now - 66 * 3600),
            None,
        )
        .expect("kiosk clock-out");
    let s = kiosk.sync().run().await.expect("the old kiosk syncs");
    assert_eq!(s.forgotten_documents, 1, "{s:?}");
    assert!(!store_holds(&kiosk, tap.as_bytes()), "the kiosk forgot it");
    assert!(
        !relay_files_with(&relay_dir, tap.as_bytes()).is_empty(),
        "the relay holds the tap in plaintext"
    );
    sync(&office, "the coordinator").await;
    let before = hours(&office);
    assert!(
        before.contains("shifts: 2"),
        "the phone's and the kiosk's shifts: {before}"
    );

    // ---- Everyone upgrades ----
    for book in [&office, &phone, &kiosk] {
        book.sync()
            .act_as_plaintext_client(false)
            .expect("this version");
    }
    let books = [
        (&office, "the coordinator"),
        (&phone, "the phone"),
        (&kiosk, "the kiosk"),
    ];
    sync_until_resealed(&books, &relay_dir, 5).await;
    assert_eq!(plaintext_blobs(&relay_dir), 0, "the kiosk's taps re-sealed");
    assert_eq!(
        meta(kiosk.home(), "e2e_own_plaintext_done").as_deref(),
        Some("1")
    );
    office
        .sync()
        .seal_coop()
        .await
        .expect("the coop is sealed only");
    for (book, who) in books {
        sync(book, who).await;
    }

    // The relay's files hold none of it.
    for marker in [
        NAME.as_bytes(),
        b"MIGRATION-NOTE-MARKER-51d2",
        PIN_VERIFIER,
        tap.as_bytes(),
    ] {
        let found = relay_files_with(&relay_dir, marker);
        assert!(
            found.is_empty(),
            "{found:?} hold {:?}",
            String::from_utf8_lossy(marker)
        );
    }
    assert_eq!(hours(&office), before, "the hours report is unchanged");
    // The kiosk sealed what it cannot read back: not in its store, no key to open it.
    assert!(!store_holds(&kiosk, tap.as_bytes()));
    let ring = logbook_crypto::KeyRing::from_bytes(
        &hex::decode(meta(kiosk.home(), "e2e_keys").expect("kiosk keys")).expect("hex"),
    )
    .expect("key ring");
    let scope = proto::Scope::Timesheet(quentin.clone());
    assert!(ring.newest(&scope).is_some() && !ring.can_read(&scope));
    assert!(
        kiosk
            .timesheets()
            .shifts(&quentin, None, None)
            .map(|s| s.is_empty())
            .unwrap_or(true),
        "the kiosk shows no shift"
    );
    for (book, who) in books {
        assert_eq!(dropped(book), 0, "{who} reported no tampering");
    }

    // A coordinator laptop that joins now reads the kiosk's shift from sealed blobs alone.
    let laptop = join_laptop(root.path(), &office, &url).await;
    assert_eq!(hours(&laptop), before);
    assert_eq!(dropped(&laptop), 0);
    relay.shutdown().await;
}

/// A custody re-seal of `content` into `doc`, sealed and signed by `book`'s keys and
/// pushed as is: the relay's answer, and the blob.
async fn custody_push(
    url: &str,
    book: &Logbook,
    doc: &str,
    content: &[u8],
) -> (StatusCode, Vec<u8>) {
    let signer = logbook_e2e::Signer::of(book.home()).expect("keys");
    let ring = logbook_crypto::KeyRing::from_bytes(
        &hex::decode(meta(book.home(), "e2e_keys").expect("keys")).expect("hex"),
    )
    .expect("key ring");
    let ctx = logbook_crypto::BlobContext::new(&signer.coop, doc).expect("doc id");
    // Both callers hold the timesheet key of the document's person.
    let sealed = logbook_crypto::seal_custody_blob(&ctx, &signer.identity(), &ring, content)
        .expect("seal")
        .bytes;
    let raw = Raw {
        http: reqwest::Client::new(),
        base: url.to_string(),
        token: token(book.home()),
        signer: None,
    };
    let (status, _) = raw.push_as_is(&[(doc, sealed.as_slice())]).await;
    (status, sealed)
}

/// A device revoked before it upgraded leaves plaintext nobody may write: `seal_coop` is
/// refused (counts only) until a coordinator re-seals it as custodian; afterwards the
/// punch is in the hours of a device that joins later. Its note (a shared thread) is
/// re-sealed by the person's other phone, which holds the notes key. A worker cannot take that path,
/// and a coordinator cannot take it into a live device's document: the relay refuses,
/// and readers drop (and report) such a blob if a relay lets it through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_re_seals_a_revoked_old_devices_plaintext_as_custodian() {
    let PlaintextCoop {
        root,
        relay_dir,
        relay,
        url,
        office,
        phone,
        quentin,
        ..
    } = plaintext_coop().await;
    // Quentin's old phone: an old client that punched, synced, and was lost.
    let lost = join_old_client(
        root.path(),
        &office,
        &url,
        worker_grant(&quentin),
        "lost-phone",
        "Quentin's old phone",
    )
    .await;
    let lost_punch = lost
        .timesheets()
        .punch(
            &quentin,
            PunchKind::ClockIn,
            Some(at("2026-11-18T08:00:00Z")),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("punch");
    lost.timesheets()
        .punch(
            &quentin,
            PunchKind::ClockOut,
            Some(at("2026-11-18T14:00:00Z")),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("punch");
    // And a note, which Quentin's other phone merges (a notes thread is shared).
    let lost_thread = lost.notes().add_thread(&quentin, LOST_NOTE).expect("note");
    sync(&lost, "the old phone").await;
    sync(&office, "the coordinator").await;
    sync(&phone, "the phone, still old").await;
    assert!(!relay_files_with(&relay_dir, b"LOST-PHONE-NOTE-MARKER-77e1").is_empty());
    let lost_doc = format!("timesheet:{quentin}/2026-11/{}", lost.device_key());
    let lost_changes: Vec<u8> = office
        .export_chunks()
        .expect("chunks")
        .into_iter()
        .filter(|(d, _)| *d == lost_doc)
        .flat_map(|(_, b)| b)
        .collect();
    assert!(
        !lost_changes.is_empty(),
        "the coordinator merged its punches"
    );
    office
        .sync()
        .revoke_device(&logbook_e2e::device_id(lost.home()))
        .await
        .expect("revoke the lost phone");
    let before = hours(&office);
    assert!(before.contains("shifts: 2"), "{before}");

    // ---- The others upgrade and re-seal what they pushed ----
    for book in [&office, &phone] {
        book.sync()
            .act_as_plaintext_client(false)
            .expect("this version");
    }
    let books = [(&office, "the coordinator"), (&phone, "the phone")];
    sync_until_resealed(&books, &relay_dir, 4).await;
    for (book, who) in books {
        assert_eq!(
            book.sync().plaintext_documents_left().expect("left"),
            0,
            "{who}"
        );
    }
    let left = plaintext_blobs(&relay_dir);
    assert!(left > 0, "the revoked phone's plaintext remains");
    let refused = office
        .sync()
        .seal_coop()
        .await
        .expect_err("the revoked phone's plaintext remains");
    let text = refused.to_string();
    assert!(
        text.contains(&format!("{left} blob(s) not sealed")) && text.contains("0 device(s)"),
        "{text}"
    );
    assert!(
        !text.contains(NAME) && !text.contains(&quentin) && !text.contains(&lost_doc),
        "{text}"
    );

    // ---- Refused: a worker as custodian, a custodian for a live device ----
    let phone_raw = Raw {
        http: reqwest::Client::new(),
        base: url.clone(),
        token: token(phone.home()),
        signer: None,
    };
    // The phone's listing holds only documents it may read and write (Quentin's), and
    // its own syncs already re-sealed the lost phone's note (it holds the notes key).
    let listed: proto::MigratePageResponse = phone_raw
        .http
        .post(phone_raw.url("/v1/migrate/orphaned"))
        .bearer_auth(&phone_raw.token)
        .json(&proto::MigratePageRequest::default())
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("a page");
    assert_eq!(
        listed
            .docs
            .iter()
            .map(|d| d.doc.as_str())
            .collect::<Vec<_>>(),
        vec![lost_doc.as_str()],
        "only Quentin's, and the note is re-sealed"
    );
    let (status, _) = custody_push(&url, &phone, &lost_doc, &lost_changes).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a worker is no custodian");
    let live_doc = format!("timesheet:{quentin}/2026-11/{}", phone.device_key());
    let (status, forged) = custody_push(&url, &office, &live_doc, &lost_changes).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no custody for a live device"
    );
    // A relay that lets it through anyway: readers drop it and report it.
    let coop_id = meta(office.home(), "coop_id").expect("coop id");
    {
        let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("relay db");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        conn.execute(
            "INSERT INTO log (coop, scope, doc, kind, content_id, key, device, data)
             VALUES (?1, ?2, ?3, 'blob', ?4, NULL, 'dev-hostile', ?5)",
            rusqlite::params![
                coop_id,
                proto::Scope::Timesheet(quentin.clone()).to_string(),
                live_doc,
                proto::content_id(&forged),
                forged
            ],
        )
        .expect("inject");
    }
    sync(&office, "the coordinator").await;
    assert_eq!(dropped(&office), 1, "the forged custody blob is reported");
    assert_eq!(hours(&office), before, "and changes no hours");
    // (Taken out again, so the rest runs on an honest relay.)
    {
        let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("relay db");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        conn.execute("DELETE FROM log WHERE device = 'dev-hostile'", [])
            .expect("remove");
    }

    // ---- The custodian step, then the switch ----
    assert_eq!(
        office.sync().custody_reseal().await.expect("custody"),
        1,
        "the lost phone's month"
    );
    assert_eq!(
        office.sync().custody_reseal().await.expect("again"),
        0,
        "idempotent"
    );
    assert_eq!(plaintext_blobs(&relay_dir), 0);
    office
        .sync()
        .seal_coop()
        .await
        .expect("the coop is sealed only");
    for marker in [lost_punch.as_bytes(), b"LOST-PHONE-NOTE-MARKER-77e1"] {
        assert!(relay_files_with(&relay_dir, marker).is_empty());
    }
    // The lost phone's note reached the sealed log through Quentin's phone.
    assert!(
        phone
            .notes()
            .threads(&quentin)
            .expect("threads")
            .iter()
            .any(|t| t.id == lost_thread)
    );
    // After the switch no custody re-seal is taken at all.
    let (status, _) = custody_push(&url, &office, &lost_doc, &lost_changes).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not once sealed only");

    // A coordinator laptop that joins now has the lost phone's punch in its hours.
    let laptop = join_laptop(root.path(), &office, &url).await;
    assert_eq!(
        laptop
            .timesheets()
            .shifts(&quentin, Some("2026-11-18"), Some("2026-11-18"))
            .expect("shifts")
            .len(),
        1,
        "the custody re-seal is read"
    );
    assert_eq!(hours(&laptop), before);
    assert_eq!(dropped(&laptop), 0);
    relay.shutdown().await;
}
