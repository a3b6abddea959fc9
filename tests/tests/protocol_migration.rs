//! Migration of a coop from the plaintext protocol (docs/SECURITY.md, "Migration from
//! plaintext"): a coop whose devices joined before end-to-end encryption, and pushed
//! plaintext, upgrades in place. Each device makes its keys at its next sync, the
//! coordinator takes the upgraded devices on first use and certifies them, every device
//! re-seals what it pushed, and the coordinator makes the coop "sealed only". Afterwards
//! the relay's files hold none of the plaintext, the relay refuses plaintext and proof-less
//! key registrations, and every device (and a device that joins later) reads everything
//! it may.

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
    let code = office
        .sync()
        .invite(coordinator_grant(), None)
        .await
        .expect("invite a laptop")
        .code;
    let laptop = open(root.path(), "laptop");
    laptop
        .sync()
        .join(&url, &code, "second laptop")
        .await
        .expect("the laptop joins");
    sync(&office, "the coordinator").await;
    sync(&laptop, "the laptop").await;
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
    let code = office
        .sync()
        .invite(coordinator_grant(), None)
        .await
        .expect("invite a second coordinator")
        .code;
    let laptop = open(root.path(), "laptop");
    laptop
        .sync()
        .act_as_plaintext_client(true)
        .expect("old client");
    laptop
        .sync()
        .join(&url, &code, "second laptop")
        .await
        .expect("the laptop joins");
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
