//! docs/DOMAIN.md story 3: the same worker punched on the kiosk and on their phone while both
//! were offline. After sync every device shows the same shift, counted once, with the
//! duplicate taps recognised.

use logbook_e2e::logbook_core::{HourType, PunchKind, PunchSource, ShiftStatus};
use logbook_e2e::{Coop, at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_and_kiosk_double_punch_counts_once() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let (p, phone, kiosk) = (&aisha.person, &aisha.phone, &coop.kiosk);

    // Both offline: the phone taps first, the kiosk a minute later, in and out.
    let phone_in = phone
        .timesheets()
        .punch(
            p,
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:00:00Z")),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("phone clock-in");
    let kiosk_in = kiosk
        .kiosk()
        .punch(
            p,
            &aisha.pin,
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:01:00Z")),
            Some(HourType::Paid),
        )
        .expect("kiosk clock-in");
    let phone_out = phone
        .timesheets()
        .punch(
            p,
            PunchKind::ClockOut,
            Some(at("2026-11-16T17:00:00Z")),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("phone clock-out");
    let kiosk_out = kiosk
        .kiosk()
        .punch(
            p,
            &aisha.pin,
            PunchKind::ClockOut,
            Some(at("2026-11-16T17:01:00Z")),
            None,
        )
        .expect("kiosk clock-out");

    kiosk.sync().run().await.expect("kiosk sync");
    phone.sync().run().await.expect("phone sync");
    let summary = coop
        .coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    assert!(
        summary.duplicates_found > 0,
        "the coordinator's sync recognised the duplicates: {summary:?}"
    );
    phone.sync().run().await.expect("phone sync again");

    let day = Some("2026-11-16");
    for (who, book) in [("coordinator", &coop.coordinator), ("phone", phone)] {
        let shifts = book.timesheets().shifts(p, day, day).expect("shifts");
        assert_eq!(shifts.len(), 1, "{who}: one shift, not two: {shifts:?}");
        let s = &shifts[0];
        assert_eq!(s.id, phone_in, "{who}: the shift opens at the first tap");
        assert_eq!(s.status, ShiftStatus::Complete, "{who}");
        assert_eq!(s.start, at("2026-11-16T09:00:00Z"), "{who}");
        assert_eq!(s.end, Some(at("2026-11-16T17:00:00Z")), "{who}");
        assert_eq!(s.counted_seconds, 8 * 3600, "{who}: eight hours, once");

        let ignored: Vec<String> = book
            .timesheets()
            .ignored_punches(p)
            .expect("ignored punches")
            .into_iter()
            .map(|i| i.punch_id)
            .collect();
        let mut expected = vec![kiosk_in.clone(), kiosk_out.clone()];
        expected.sort();
        let mut got = ignored.clone();
        got.sort();
        assert_eq!(got, expected, "{who}: the kiosk's taps are the duplicates");
        assert!(!ignored.contains(&phone_out), "{who}");
    }
    assert_eq!(
        coop.coordinator
            .timesheets()
            .shifts(p, day, day)
            .expect("shifts"),
        phone.timesheets().shifts(p, day, day).expect("shifts"),
        "phone and coordinator show the same shift"
    );

    let report = coop
        .coordinator
        .reports()
        .hours("2026-11-16", "2026-11-16")
        .expect("hours report");
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].person_id, *p);
    assert_eq!(report[0].hour_type, HourType::Paid);
    assert_eq!(report[0].shifts, 1);
    assert_eq!(report[0].minutes, 8 * 60);

    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_clock_out_after_phone_clock_in_is_accepted() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let p = &aisha.person;
    aisha
        .phone
        .timesheets()
        .punch(
            p,
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:00:00Z")),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("phone clock-in");
    aisha.phone.sync().run().await.expect("phone sync");
    coop.kiosk.sync().run().await.expect("kiosk sync");
    coop.kiosk
        .kiosk()
        .punch(
            p,
            &aisha.pin,
            PunchKind::ClockOut,
            Some(at("2026-11-16T17:00:00Z")),
            None,
        )
        .expect("the kiosk accepts the clock-out of a shift begun on the phone");
    coop.kiosk.sync().run().await.expect("kiosk sync");
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    let shifts = coop
        .coordinator
        .timesheets()
        .shifts(p, Some("2026-11-16"), Some("2026-11-16"))
        .expect("shifts");
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].status, ShiftStatus::Complete);
    assert_eq!(shifts[0].counted_seconds, 8 * 3600);
    coop.shutdown().await;
}
