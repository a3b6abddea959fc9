//! One bad document never stops a coop's sync: a worker's phone pushes a valid automerge
//! change of the wrong shape (its punch list set to a number) into its own timesheet scope,
//! which the relay accepts (it cannot read content). Every device that pulls it sets it
//! aside with a reason, its cursor moves on, and what comes after still arrives.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use logbook_e2e::logbook_core::{PunchKind, PunchSource};
use logbook_e2e::{Coop, at};
use reqwest::StatusCode;

#[tokio::test]
async fn a_document_of_the_wrong_shape_is_quarantined_and_everything_after_it_arrives() {
    let coop = Coop::start(2, 0).await;
    let aisha = &coop.workers[0];
    let ben = &coop.workers[1];
    coop.coordinator.sync().run().await.expect("first sync");

    // Aisha's phone (broken or hostile) pushes a punch list that is a number.
    let bad_doc = format!(
        "timesheet:{}/2026-11/{}",
        aisha.person,
        aisha.phone.device_key()
    );
    let mut doc = AutoCommit::new().with_actor(ActorId::random());
    doc.put(ROOT, "punches", 5).expect("put");
    let bytes = doc.save();
    let raw = coop.raw(&aisha.phone);
    let (status, _) = raw.push(&[(bad_doc.as_str(), bytes.as_slice())]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the relay cannot tell: it never reads content"
    );

    // Then ordinary work: Ben clocks in and out on his phone.
    for (kind, when) in [
        (PunchKind::ClockIn, "2026-11-23T09:00:00Z"),
        (PunchKind::ClockOut, "2026-11-23T13:00:00Z"),
    ] {
        ben.phone
            .timesheets()
            .punch(
                &ben.person,
                kind,
                Some(at(when)),
                None,
                None,
                PunchSource::Phone,
            )
            .expect("punch");
    }
    ben.phone.sync().run().await.expect("Ben's sync");

    // The coordinator's sync completes, Ben's shift arrives, the bad document is aside.
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("the coordinator keeps syncing");
    let shifts = coop
        .coordinator
        .timesheets()
        .shifts(&ben.person, None, None)
        .expect("shifts");
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].counted_seconds, 4 * 3600);
    let q = coop.coordinator.quarantined().expect("quarantine");
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].doc_id, bad_doc);

    // And the next change still arrives: the cursor moved past the bad page.
    ben.phone
        .timesheets()
        .punch(
            &ben.person,
            PunchKind::ClockIn,
            Some(at("2026-11-24T09:00:00Z")),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("punch");
    ben.phone.sync().run().await.expect("Ben's sync");
    let s = coop.coordinator.sync().run().await.expect("sync again");
    assert!(s.pulled_blobs >= 1, "{s:?}");
    assert_eq!(
        coop.coordinator
            .timesheets()
            .shifts(&ben.person, None, None)
            .expect("shifts")
            .len(),
        2
    );
}
