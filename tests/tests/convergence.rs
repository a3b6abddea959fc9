//! Four kinds of device edit offline and sync in different orders and interleavings;
//! afterwards every device shows the same shifts, and every device that may read a
//! report or a timesheet shows the same numbers as the coordinator.

use std::collections::BTreeSet;

use logbook_e2e::logbook_core::{
    Error, HourType, Logbook, NewTraining, PunchKind, PunchSource, ShiftCorrection, ShiftStatus,
};
use logbook_e2e::{Coop, at, coordinator_grant};

fn tap(
    book: &Logbook,
    person: &str,
    kind: PunchKind,
    when: &str,
    ht: Option<HourType>,
    source: PunchSource,
) -> String {
    book.timesheets()
        .punch(person, kind, Some(at(when)), ht, None, source)
        .unwrap_or_else(|e| panic!("{kind:?} at {when}: {e}"))
}

/// A shift in, out (and optionally a break) on one device.
fn shift(
    book: &Logbook,
    person: &str,
    day: &str,
    from: &str,
    to: &str,
    ht: HourType,
    source: PunchSource,
) -> String {
    let t = |hm: &str| format!("{day}T{hm}:00Z");
    let id = tap(book, person, PunchKind::ClockIn, &t(from), Some(ht), source);
    tap(book, person, PunchKind::ClockOut, &t(to), None, source);
    id
}

fn kiosk_shift(
    coop: &Coop,
    person: &str,
    pin: &str,
    day: &str,
    from: &str,
    to: &str,
    ht: HourType,
) {
    let t = |hm: &str| at(&format!("{day}T{hm}:00Z"));
    coop.kiosk
        .kiosk()
        .punch(person, pin, PunchKind::ClockIn, Some(t(from)), Some(ht))
        .expect("kiosk clock-in");
    coop.kiosk
        .kiosk()
        .punch(person, pin, PunchKind::ClockOut, Some(t(to)), None)
        .expect("kiosk clock-out");
}

async fn in_order(round: &str, books: &[(&str, &Logbook)]) {
    for (name, book) in books {
        book.sync()
            .run()
            .await
            .unwrap_or_else(|e| panic!("round {round}: {name} sync: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_devices_converge() {
    let coop = Coop::start(2, 1).await;
    let tablet = coop
        .join_device(&coordinator_grant(), "coordinator-tablet")
        .await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let (a, b) = (aisha.person.as_str(), ben.person.as_str());
    let (carla_id, carla_pin) = (&coop.kiosk_only[0].1, &coop.kiosk_only[0].2);
    let c = carla_id.as_str();
    let (pa, pb, k, coord) = (&aisha.phone, &ben.phone, &coop.kiosk, &coop.coordinator);
    use HourType::*;
    use PunchSource::{Coordinator as ByCoordinator, Phone};

    // ---- offline, before round 1 ----
    let t = |hm: &str| format!("2026-11-16T{hm}:00Z");
    let aisha_monday = tap(pa, a, PunchKind::ClockIn, &t("09:00"), Some(Paid), Phone);
    tap(pa, a, PunchKind::BreakStart, &t("12:30"), None, Phone);
    tap(pa, a, PunchKind::BreakEnd, &t("13:00"), None, Phone);
    tap(pa, a, PunchKind::ClockOut, &t("17:00"), None, Phone);
    kiosk_shift(
        &coop,
        b,
        &ben.pin,
        "2026-11-16",
        "10:00",
        "14:00",
        Volunteer,
    );
    shift(pb, b, "2026-11-17", "10:00", "15:00", Volunteer, Phone);
    kiosk_shift(&coop, c, carla_pin, "2026-11-16", "08:00", "12:00", Paid);
    kiosk_shift(&coop, c, carla_pin, "2026-11-17", "08:00", "12:30", Paid);
    shift(
        coord,
        c,
        "2026-11-18",
        "08:00",
        "11:00",
        Paid,
        ByCoordinator,
    );
    coord
        .training()
        .add_training(NewTraining {
            person_id: a.to_string(),
            course: "Food hygiene".into(),
            date: "2026-11-10".into(),
            minutes: 180,
            trainee_signed: true,
            supervisor_signed: true,
            ..Default::default()
        })
        .expect("training");

    in_order(
        "1",
        &[
            ("A", pa),
            ("B", pb),
            ("K", k),
            ("C", coord),
            ("C2", &tablet),
        ],
    )
    .await;

    // ---- offline again: corrections on both coordinator devices, more punches ----
    coord
        .timesheets()
        .correct_shift(
            &aisha_monday,
            ShiftCorrection {
                end: Some(at("2026-11-16T16:30:00Z")),
                reason: "left early, forgot to tap".into(),
                ..Default::default()
            },
        )
        .expect("coordinator corrects Aisha's Monday");
    let carla_tuesday = tablet
        .timesheets()
        .shifts(c, Some("2026-11-17"), Some("2026-11-17"))
        .expect("shifts")
        .first()
        .expect("the tablet has Carla's Tuesday from the kiosk")
        .id
        .clone();
    tablet
        .timesheets()
        .correct_shift(
            &carla_tuesday,
            ShiftCorrection {
                break_seconds: Some(1800),
                reason: "took a lunch break".into(),
                ..Default::default()
            },
        )
        .expect("tablet corrects Carla's Tuesday");
    shift(pa, a, "2026-11-17", "09:00", "13:00", Paid, Phone);
    kiosk_shift(&coop, a, &aisha.pin, "2026-11-18", "09:00", "17:00", Paid);
    shift(pb, b, "2026-11-18", "10:00", "12:00", Volunteer, Phone);

    in_order(
        "2",
        &[
            ("C", coord),
            ("C2", &tablet),
            ("A", pa),
            ("K", k),
            ("B", pb),
        ],
    )
    .await;

    // ---- offline once more, then everyone syncs at the same time ----
    shift(pa, a, "2026-11-19", "09:00", "11:00", Paid, Phone);
    kiosk_shift(
        &coop,
        c,
        carla_pin,
        "2026-11-19",
        "08:00",
        "09:00",
        Training,
    );
    coord
        .training()
        .add_training(NewTraining {
            person_id: b.to_string(),
            course: "First aid".into(),
            date: "2026-11-12".into(),
            minutes: 360,
            ..Default::default()
        })
        .expect("training");
    let (r1, r2, r3, r4, r5) = tokio::join!(
        pa.sync().run(),
        pb.sync().run(),
        k.sync().run(),
        coord.sync().run(),
        tablet.sync().run()
    );
    for r in [r1, r2, r3, r4, r5] {
        r.expect("concurrent sync");
    }
    // Two more rounds in the two orders, then one more concurrent one: nothing new.
    in_order(
        "4",
        &[
            ("A", pa),
            ("B", pb),
            ("K", k),
            ("C", coord),
            ("C2", &tablet),
        ],
    )
    .await;
    in_order(
        "5",
        &[
            ("C2", &tablet),
            ("C", coord),
            ("K", k),
            ("B", pb),
            ("A", pa),
        ],
    )
    .await;
    let (r1, r2, r3, r4, r5) = tokio::join!(
        pa.sync().run(),
        pb.sync().run(),
        k.sync().run(),
        coord.sync().run(),
        tablet.sync().run()
    );
    for r in [r1, r2, r3, r4, r5] {
        assert_eq!(r.expect("sync").pulled_blobs, 0, "nothing left to pull");
    }

    // ---- everyone agrees ----
    let week = (Some("2026-11-16"), Some("2026-11-22"));
    for p in [a, b, c] {
        assert_eq!(
            coord
                .timesheets()
                .shifts(p, week.0, week.1)
                .expect("shifts"),
            tablet
                .timesheets()
                .shifts(p, week.0, week.1)
                .expect("shifts"),
            "both coordinator devices show the same shifts for {p}"
        );
        assert_eq!(
            coord.timesheets().ignored_punches(p).expect("ignored"),
            tablet.timesheets().ignored_punches(p).expect("ignored")
        );
        assert_eq!(
            coord.training().records(p).expect("training"),
            tablet.training().records(p).expect("training")
        );
    }
    for (w, phone) in [(a, pa), (b, pb)] {
        assert_eq!(
            phone
                .timesheets()
                .shifts(w, week.0, week.1)
                .expect("own shifts"),
            coord
                .timesheets()
                .shifts(w, week.0, week.1)
                .expect("shifts"),
            "a worker's phone shows their shifts as the coordinator does"
        );
        assert_eq!(
            phone.timesheets().ignored_punches(w).expect("ignored"),
            coord.timesheets().ignored_punches(w).expect("ignored")
        );
        assert_eq!(
            phone.training().records(w).expect("own training"),
            coord.training().records(w).expect("training")
        );
        // Workers read only their own timesheet, and no reports.
        let other = if w == a { b } else { a };
        assert!(matches!(
            phone.timesheets().shifts(other, None, None),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            phone.timesheets().shifts(c, None, None),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            phone.reports().hours("2026-11-16", "2026-11-22"),
            Err(Error::Forbidden(_))
        ));
    }
    // The kiosk writes punches and never reads them back.
    for p in [a, b, c] {
        assert!(matches!(
            k.timesheets().shifts(p, None, None),
            Err(Error::Forbidden(_))
        ));
    }
    assert_eq!(pa.training().records(a).expect("training").len(), 1);
    assert_eq!(pb.training().records(b).expect("training").len(), 1);

    // The corrected shifts, their audit trail, on every device that may read them.
    let monday = pa
        .timesheets()
        .shifts(a, Some("2026-11-16"), Some("2026-11-16"))
        .expect("shifts");
    assert_eq!(monday.len(), 1);
    assert_eq!(monday[0].status, ShiftStatus::Corrected);
    assert_eq!(
        monday[0].counted_seconds,
        7 * 3600,
        "09:00-16:30 less a 30 minute break"
    );
    assert_eq!(
        pa.timesheets()
            .shift_history(&aisha_monday)
            .expect("history"),
        coord
            .timesheets()
            .shift_history(&aisha_monday)
            .expect("history")
    );
    assert_eq!(
        tablet
            .timesheets()
            .shift_history(&aisha_monday)
            .expect("history")
            .len(),
        1
    );
    let tuesday = coord
        .timesheets()
        .shifts(c, Some("2026-11-17"), Some("2026-11-17"))
        .expect("shifts");
    assert_eq!(tuesday[0].status, ShiftStatus::Corrected);
    assert_eq!(tuesday[0].counted_seconds, 4 * 3600);

    // The same hours report on both coordinator devices, with the expected numbers.
    let report = coord
        .reports()
        .hours("2026-11-16", "2026-11-22")
        .expect("report");
    assert_eq!(
        report,
        tablet
            .reports()
            .hours("2026-11-16", "2026-11-22")
            .expect("report")
    );
    let got: BTreeSet<(String, HourType, u32, u64)> = report
        .iter()
        .map(|r| (r.person_id.clone(), r.hour_type, r.shifts, r.minutes))
        .collect();
    let expected: BTreeSet<(String, HourType, u32, u64)> = [
        (a.to_string(), Paid, 4, 420 + 240 + 480 + 120),
        (b.to_string(), Volunteer, 3, 240 + 300 + 120),
        (c.to_string(), Paid, 3, 240 + 240 + 180),
        (c.to_string(), Training, 1, 60),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, expected, "{report:#?}");
    // And each worker's own shifts add up to their row of the coordinator's report.
    for (w, phone) in [(a, pa), (b, pb)] {
        let own: i64 = phone
            .timesheets()
            .shifts(w, week.0, week.1)
            .expect("shifts")
            .iter()
            .map(|s| s.counted_seconds)
            .sum();
        let row: u64 = report
            .iter()
            .filter(|r| r.person_id == w)
            .map(|r| r.minutes)
            .sum();
        assert_eq!((own / 60) as u64, row);
    }

    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_corrections_and_a_forgotten_clock_out_converge() {
    let coop = Coop::start(1, 0).await;
    let tablet = coop
        .join_device(&coordinator_grant(), "coordinator-tablet")
        .await;
    let aisha = coop.worker("Aisha");
    let (a, pa, coord) = (aisha.person.as_str(), &aisha.phone, &coop.coordinator);
    let monday = shift(
        pa,
        a,
        "2026-11-16",
        "09:00",
        "17:00",
        HourType::Paid,
        PunchSource::Phone,
    );
    // Tuesday she forgets to clock out.
    let tuesday = tap(
        pa,
        a,
        PunchKind::ClockIn,
        "2026-11-17T09:00:00Z",
        Some(HourType::Paid),
        PunchSource::Phone,
    );
    pa.sync().run().await.expect("sync");
    coord.sync().run().await.expect("sync");
    tablet.sync().run().await.expect("sync");
    for book in [pa, coord, &tablet] {
        let s = book
            .timesheets()
            .shifts(a, Some("2026-11-17"), Some("2026-11-17"))
            .expect("shifts");
        assert_eq!(
            s[0].status,
            ShiftStatus::NeedsReview,
            "never a silent long shift"
        );
        assert_eq!(s[0].counted_seconds, 0);
    }
    // Both coordinator devices correct Monday differently while offline; the tablet
    // also fixes Tuesday.
    coord
        .timesheets()
        .correct_shift(
            &monday,
            ShiftCorrection {
                end: Some(at("2026-11-16T16:00:00Z")),
                reason: "laptop: left at four".into(),
                ..Default::default()
            },
        )
        .expect("correction");
    tablet
        .timesheets()
        .correct_shift(
            &monday,
            ShiftCorrection {
                break_seconds: Some(3600),
                reason: "tablet: an hour's lunch".into(),
                ..Default::default()
            },
        )
        .expect("correction");
    tablet
        .timesheets()
        .correct_shift(
            &tuesday,
            ShiftCorrection {
                end: Some(at("2026-11-17T15:00:00Z")),
                reason: "forgot to clock out".into(),
                ..Default::default()
            },
        )
        .expect("correction");
    let (r1, r2) = tokio::join!(coord.sync().run(), tablet.sync().run());
    r1.expect("sync");
    r2.expect("sync");
    for book in [coord, &tablet, pa] {
        book.sync().run().await.expect("sync");
    }
    coord.sync().run().await.expect("sync");
    let week = (Some("2026-11-16"), Some("2026-11-22"));
    let theirs = coord
        .timesheets()
        .shifts(a, week.0, week.1)
        .expect("shifts");
    assert_eq!(
        theirs,
        tablet
            .timesheets()
            .shifts(a, week.0, week.1)
            .expect("shifts")
    );
    assert_eq!(
        theirs,
        pa.timesheets().shifts(a, week.0, week.1).expect("shifts")
    );
    assert_eq!(
        coord.timesheets().shift_history(&monday).expect("history"),
        tablet.timesheets().shift_history(&monday).expect("history")
    );
    assert_eq!(
        pa.timesheets()
            .shift_history(&monday)
            .expect("history")
            .len(),
        2,
        "both corrections are in the audit trail"
    );
    assert_eq!(theirs[0].status, ShiftStatus::Corrected);
    assert_eq!(theirs[1].status, ShiftStatus::Corrected);
    assert_eq!(theirs[1].counted_seconds, 6 * 3600, "Tuesday 09:00-15:00");
    assert_eq!(
        coord
            .reports()
            .hours("2026-11-16", "2026-11-22")
            .expect("report"),
        tablet
            .reports()
            .hours("2026-11-16", "2026-11-22")
            .expect("report")
    );
    coop.shutdown().await;
}
