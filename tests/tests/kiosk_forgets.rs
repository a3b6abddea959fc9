//! A stolen kiosk shows nobody's working pattern: once the relay has acknowledged a tap
//! and it is older than the review window, the kiosk forgets it (locally only; the
//! coordinator still has it). A recent tap stays, so the kiosk can still refuse a double
//! tap.

use logbook_e2e::logbook_core::{PunchKind, ShiftStatus};
use logbook_e2e::{Coop, sqlite_contains};

#[tokio::test]
async fn a_kiosk_forgets_acknowledged_taps_older_than_the_review_window() {
    let coop = Coop::start(0, 2).await;
    let (_, old_person, old_pin) = coop.kiosk_only[0].clone();
    let (_, new_person, new_pin) = coop.kiosk_only[1].clone();
    let now = jiff::Timestamp::now().as_second();
    let kiosk = coop.kiosk.kiosk();
    // Two days ago: a whole shift. Just now: a clock-in.
    kiosk
        .punch(
            &old_person,
            &old_pin,
            PunchKind::ClockIn,
            Some(now - 50 * 3600),
            None,
        )
        .expect("old clock-in");
    kiosk
        .punch(
            &old_person,
            &old_pin,
            PunchKind::ClockOut,
            Some(now - 44 * 3600),
            None,
        )
        .expect("old clock-out");
    kiosk
        .punch(&new_person, &new_pin, PunchKind::ClockIn, None, None)
        .expect("clock-in now");
    // Offline, nothing is forgotten: nothing has been acknowledged yet.
    let held = |book: &logbook_e2e::logbook_core::Logbook| {
        book.export_chunks()
            .expect("chunks")
            .iter()
            .filter(|(doc, _)| doc.starts_with("timesheet:"))
            .map(|(doc, _)| doc.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(held(&coop.kiosk).len(), 2);

    let s = coop.kiosk.sync().run().await.expect("kiosk sync");
    assert_eq!(s.forgotten_documents, 1, "{s:?}");
    let left = held(&coop.kiosk);
    assert_eq!(left.len(), 1);
    assert!(left.iter().all(|d| d.contains(&new_person)), "{left:?}");
    // The old person's id is gone from the kiosk's files, the WAL included (searched
    // inside the encryption at rest: free pages and old WAL frames too).
    let left = sqlite_contains(
        &coop.kiosk.home().join("logbook.sqlite3"),
        format!("timesheet:{old_person}").as_bytes(),
    );
    assert!(left.is_empty(), "{left:?} still hold the forgotten taps");
    // The recent tap still guards against a double tap.
    assert!(
        kiosk
            .punch(&new_person, &new_pin, PunchKind::ClockIn, None, None)
            .is_err()
    );

    // The coordinator has everything.
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    let shifts = coop
        .coordinator
        .timesheets()
        .shifts(&old_person, None, None)
        .expect("shifts");
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].status, ShiftStatus::Complete);
}
