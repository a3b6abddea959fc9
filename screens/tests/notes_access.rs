//! The phone's notes-access list on real devices around a real relay (127.0.0.1, from
//! logbook-e2e): a supporter's new device asks, the person approves it on their phone,
//! and after a sync the supporter's device reads the notes. Until then it reads nothing.

use std::sync::Arc;

use logbook_core::Logbook;
use logbook_e2e::{Coop, supporter_grant, worker_grant};
use logbook_protocol::Grant;
use logbook_screens::keys;
use logbook_screens::worker::{WorkerHomeScreen, device_check_code};

const NOTE: &str = "Talked about the bus pass; ask the council on Monday";

/// The coordinator invites a device, which joins and syncs once (the coordinator then
/// syncs too: `Coop::join_device`). Shared (`Arc`) because a screen model holds its logbook.
async fn join(coop: &Coop, grant: Grant, name: &str) -> Arc<Logbook> {
    Arc::new(coop.join_device(&grant, name).await)
}

/// The texts of every note of `person` that `book` can read.
fn readable(book: &Logbook, person: &str) -> Vec<String> {
    book.notes()
        .threads(person)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| t.entries.into_iter().map(|e| e.text))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supporter_reads_the_notes_only_after_the_person_approves_on_the_phone() {
    // One person with no phone yet: this test's phone is theirs, the first device with
    // their notes key.
    let coop = Coop::start(0, 1).await;
    let person = coop.kiosk_only[0].1.clone();
    let phone = join(&coop, worker_grant(&person), "phone").await;
    let home = WorkerHomeScreen::new(phone.clone(), None).expect("phone screen");
    home.write_note(None, NOTE).expect("write a note");
    assert!(home.sync().await, "the phone syncs its note");
    assert!(
        home.state().notes_access.asking.is_empty(),
        "nobody asks yet"
    );

    // A supporter's device joins: it trusts the coop's devices but holds no notes key.
    let supporter = join(&coop, supporter_grant(&[&person]), "supporter").await;
    assert!(supporter.sync().run().await.is_ok());
    assert!(readable(&supporter, &person).is_empty(), "no key, no notes");

    // The coordinator's device vouches for the device it invited at its next sync; the
    // phone's next sync then brings the supporter's device: it asks, with its code.
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator syncs");
    assert!(home.sync().await);
    let access = home.state().notes_access;
    assert_eq!(access.asking.len(), 1, "{access:?}");
    assert!(access.approved.is_empty());
    let row = &access.asking[0];
    assert_eq!(row.device_key, supporter.device_key());
    assert!(row.supporter);
    assert_eq!(row.who.key, keys::NOTES_DEVICE_SUPPORTER);
    assert_eq!(row.code, device_check_code(&supporter.device_key()));
    assert_eq!(row.check.key, keys::NOTES_DEVICE_CODE);
    assert_eq!(row.check.get("code"), Some(row.code.as_str()));
    // The coordinator's device and the kiosk can never be approved for notes.
    let coordinator_key = coop.coordinator.device_key();
    assert_ne!(row.device_key, coordinator_key);

    // "Not now": gone from this screen, nothing recorded; a screen opened later asks again.
    home.not_now(&row.device_key);
    assert!(home.state().notes_access.asking.is_empty());
    let again = WorkerHomeScreen::new(phone.clone(), None).expect("screen again");
    assert_eq!(again.state().notes_access.asking.len(), 1);
    drop(again);
    supporter.sync().run().await.expect("supporter syncs");
    assert!(
        readable(&supporter, &person).is_empty(),
        "not now is not yes"
    );

    // A device that is not one of the candidates (the coordinator's) is refused.
    let refused = home
        .approve_notes_device(&coordinator_key)
        .await
        .expect_err("a coordinator's device");
    assert_eq!(refused.key, keys::NOTES_DEVICE_UNKNOWN);
    assert_eq!(home.state().notes_access.outcome, Some(refused));

    // Approve: the phone syncs the key to the supporter's device at once.
    let done = home
        .approve_notes_device(&supporter.device_key())
        .await
        .expect("approve");
    assert_eq!(done.key, keys::NOTES_DEVICE_APPROVED);
    let access = home.state().notes_access;
    assert!(access.asking.is_empty());
    assert_eq!(access.approved.len(), 1);
    assert_eq!(access.approved[0].device_key, supporter.device_key());
    assert_eq!(access.outcome, Some(done));

    supporter.sync().run().await.expect("supporter syncs");
    assert_eq!(readable(&supporter, &person), [NOTE]);
}

#[test]
fn the_check_code_is_the_device_key_s_random_part_in_groups_of_four() {
    assert_eq!(
        device_check_code("d-0f3a9b12c4d5e6f7"),
        "0F3A 9B12 C4D5 E6F7"
    );
    assert_eq!(device_check_code("abc12"), "ABC1 2");
    assert_eq!(device_check_code(""), "");
}
