//! Issue 10, what a pull applies and when (docs/PERFORMANCE.md, "Sync cost"):
//! - a new device's first pull, spread over many pages, leaves exactly the cached rows,
//!   screens and reports that deriving everything at once gives (the pull derives each
//!   person's shifts once, after its last page, not once per page);
//! - a phone's month document that crossed the local chunk threshold during its taps is
//!   compacted at the next sync, not inside a tap, and the relay and other devices see
//!   exactly what they would have seen without it.

use logbook_e2e::logbook_core::{HourType, Logbook, PunchKind, PunchSource};
use logbook_e2e::{Coop, at, coordinator_grant, punches};

/// Every screen and report a coordinator reads about these people, as text.
fn everything(book: &Logbook, people: &[String]) -> String {
    let mut out = String::new();
    for p in people {
        out += &format!(
            "{:?}\n{:?}\n",
            book.timesheets().shifts(p, None, None).expect("shifts"),
            punches(book, p)
        );
    }
    out += &book
        .reports()
        .payroll_csv("2021-01-01", "2026-12-31")
        .expect("payroll");
    for month in ["2022-03", "2026-11"] {
        out += &book.reports().attendance_csv(month).expect("attendance");
    }
    out
}

#[tokio::test]
async fn a_first_pull_over_many_pages_gives_the_rows_of_one_derivation() {
    let coop = Coop::start(3, 0).await;
    let people: Vec<String> = coop.workers.iter().map(|w| w.person.clone()).collect();
    // 60 months of one shift each per person: 180 punch documents, one blob each, more
    // than three pages of the first pull (it starts at 50 entries a page).
    for w in &coop.workers {
        for m in 0..60 {
            let (y, mo) = (2021 + m / 12, 1 + m % 12);
            for (kind, time, t) in [
                (PunchKind::ClockIn, "09:00", Some(HourType::Paid)),
                (PunchKind::ClockOut, "13:30", None),
            ] {
                w.phone
                    .timesheets()
                    .punch(
                        &w.person,
                        kind,
                        Some(at(&format!("{y}-{mo:02}-03T{time}:00Z"))),
                        t,
                        None,
                        PunchSource::Phone,
                    )
                    .expect("punch");
            }
        }
        w.phone.sync().run().await.expect("sync");
    }
    coop.coordinator.sync().run().await.expect("sync");

    let laptop = coop.join_device(&coordinator_grant(), "new laptop").await;
    let pulled = everything(&laptop, &people);
    for p in &people {
        assert_eq!(
            laptop
                .timesheets()
                .shifts(p, None, None)
                .expect("shifts")
                .len(),
            60,
            "every month's shift is derived"
        );
    }
    // The coordinator took the same punches in over several syncs, each deriving.
    assert_eq!(pulled, everything(&coop.coordinator, &people));
    // And deriving everything at once from the documents gives the same.
    laptop.rebuild().expect("rebuild");
    assert_eq!(pulled, everything(&laptop, &people));
}

#[tokio::test]
async fn a_month_that_crosses_the_chunk_threshold_is_compacted_by_the_next_sync() {
    let coop = Coop::start(1, 0).await;
    let aisha = &coop.workers[0];
    let doc = format!(
        "timesheet:{}/2026-11/{}",
        aisha.person,
        aisha.phone.device_key()
    );
    let chunks_of = |book: &Logbook| {
        book.export_chunks()
            .expect("chunks")
            .iter()
            .filter(|(d, _)| *d == doc)
            .count()
    };
    // 100 taps, no sync between them: each only appends its change.
    for i in 0..100 {
        let (kind, t) = if i % 2 == 0 {
            (PunchKind::ClockIn, Some(HourType::Paid))
        } else {
            (PunchKind::ClockOut, None)
        };
        let minute = 9 * 60 + i * 5;
        aisha
            .phone
            .timesheets()
            .punch(
                &aisha.person,
                kind,
                Some(at(&format!(
                    "2026-11-03T{:02}:{:02}:00Z",
                    minute / 60,
                    minute % 60
                ))),
                t,
                None,
                PunchSource::Phone,
            )
            .expect("punch");
        assert_eq!(chunks_of(&aisha.phone), i as usize + 1, "tap {i}");
    }
    let before = aisha
        .phone
        .timesheets()
        .shifts(&aisha.person, None, None)
        .expect("shifts");
    assert_eq!(before.len(), 50);

    let summary = aisha.phone.sync().run().await.expect("sync");
    assert_eq!(chunks_of(&aisha.phone), 1, "compacted at sync");
    assert_eq!(aisha.phone.sync().pending_changes().expect("pending"), 0);
    assert!(summary.pushed_changes >= 100, "every change went out");
    assert_eq!(
        aisha
            .phone
            .timesheets()
            .shifts(&aisha.person, None, None)
            .expect("shifts"),
        before
    );
    // Nothing is pushed again: the relay already holds every change.
    let again = aisha.phone.sync().run().await.expect("sync");
    assert_eq!(again.pushed_changes, 0);

    // Another device sees the same.
    coop.coordinator.sync().run().await.expect("sync");
    assert_eq!(
        coop.coordinator
            .timesheets()
            .shifts(&aisha.person, None, None)
            .expect("shifts"),
        before
    );
}
