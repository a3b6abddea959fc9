//! docs/DOMAIN.md story 9: a lost phone is revoked and can no longer sync or read anything new.

use logbook_e2e::logbook_core::{Error, HourType, NewTraining, PersonRole, PunchKind, PunchSource};
use logbook_e2e::{Coop, at, device_id, punches};
use reqwest::StatusCode;

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
