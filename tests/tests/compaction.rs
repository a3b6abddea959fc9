//! Documents are compacted as they age: a phone that synced after every punch has left the
//! relay one blob per sync for its month's punch document; once it holds enough, the phone
//! replaces them with one snapshot that supersedes them (its own blobs only). The relay's
//! log stays bounded, a new device fetches one blob, and every device sees the same shifts.

use logbook_e2e::logbook_core::{HourType, PunchKind, PunchSource};
use logbook_e2e::{Coop, at, coordinator_grant};

#[tokio::test]
async fn a_phones_month_of_punches_becomes_one_blob_at_the_relay() {
    let coop = Coop::start(1, 0).await;
    let aisha = &coop.workers[0];
    let doc = format!(
        "timesheet:{}/2026-11/{}",
        aisha.person,
        aisha.phone.device_key()
    );
    let mut compacted = 0;
    for day in 2..=11 {
        for (kind, time, t) in [
            (PunchKind::ClockIn, "09:00", Some(HourType::Paid)),
            (PunchKind::ClockOut, "13:00", None),
        ] {
            aisha
                .phone
                .timesheets()
                .punch(
                    &aisha.person,
                    kind,
                    Some(at(&format!("2026-11-{day:02}T{time}:00Z"))),
                    t,
                    None,
                    PunchSource::Phone,
                )
                .expect("punch");
        }
        // One sync a day: one blob a day at the relay, until compaction.
        compacted += aisha
            .phone
            .sync()
            .run()
            .await
            .expect("sync")
            .compacted_documents;
    }
    assert!(compacted >= 1, "the month's document was compacted");

    // The relay holds few blobs for the document: the snapshot plus the days since.
    let raw = coop.raw(&coop.coordinator);
    let pulled = raw
        .pull_all(0, Some(&format!("timesheet:{}", aisha.person)))
        .await;
    assert_eq!(pulled.docs, vec![doc.clone()]);
    assert!(
        pulled.blobs < 8,
        "{} blobs for ten syncs after compaction",
        pulled.blobs
    );

    // A new coordinator device fetches it and sees the same ten shifts.
    let laptop = coop.join_device(&coordinator_grant(), "new laptop").await;
    let shifts = laptop
        .timesheets()
        .shifts(&aisha.person, None, None)
        .expect("shifts");
    assert_eq!(shifts.len(), 10);
    assert!(shifts.iter().all(|s| s.counted_seconds == 4 * 3600));
    // And the old coordinator, who had every small blob, still agrees.
    coop.coordinator.sync().run().await.expect("sync");
    assert_eq!(
        coop.coordinator
            .timesheets()
            .shifts(&aisha.person, None, None)
            .expect("shifts"),
        shifts
    );
}
