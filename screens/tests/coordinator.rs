//! The coordinator's screens: the review queue empties as shifts are corrected, a shift's
//! audit trail, approving and locking a week, people, PINs, and report files.

use std::sync::{Arc, Mutex};

use logbook_core::{
    Logbook, ManualClock, PersonRole, PunchKind, PunchSource, ShiftCorrection, ShiftStatus,
};
use logbook_screens::coordinator::{CoordinatorScreens, CoordinatorState, ReportKind, ReviewKind};
use logbook_screens::keys;

/// 2026-11-18 11:06:40 UTC, a Wednesday.
const T0: i64 = 1_795_000_000;
const HOUR: i64 = 3600;

#[test]
fn the_review_queue_empties_as_shifts_are_corrected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = ManualClock::at(T0);
    let lb = Arc::new(
        Logbook::open_with_clock(
            dir.path(),
            &logbook_core::StoreKey::insecure_test_key(),
            clock.clone(),
        )
        .expect("open"),
    );
    lb.directory()
        .init("Riverside", "Europe/London")
        .expect("init");
    let people: Vec<String> = ["Aisha", "Ben", "Carla"]
        .iter()
        .map(|n| {
            lb.directory()
                .add_person(n, &[PersonRole::Worker], &[], false)
                .expect("person")
        })
        .collect();
    let punch = |p: &str, kind, at| {
        lb.timesheets()
            .punch(p, kind, Some(at), None, None, PunchSource::Coordinator)
            .expect("punch")
    };
    // Aisha and Ben forget to clock out; Carla's is a normal day (entered afterwards).
    clock.set(T0 + 9 * HOUR);
    punch(&people[0], PunchKind::ClockIn, T0);
    punch(&people[1], PunchKind::ClockIn, T0 + HOUR);
    punch(&people[2], PunchKind::ClockIn, T0);
    punch(&people[2], PunchKind::ClockOut, T0 + 8 * HOUR);
    // A day later both open shifts need review.
    clock.set(T0 + 24 * HOUR);

    let screens = CoordinatorScreens::new(lb.clone(), "http://127.0.0.1:1").expect("screens");
    let heard: Arc<Mutex<Vec<CoordinatorState>>> = Arc::default();
    let h = heard.clone();
    let _sub = screens.subscribe(Arc::new(move |s: CoordinatorState| {
        h.lock().unwrap_or_else(|e| e.into_inner()).push(s)
    }));
    let last = || {
        heard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .cloned()
            .expect("a state")
    };
    let queue = last().review;
    let who: Vec<&str> = queue.iter().map(|i| i.person_name.as_str()).collect();
    assert_eq!(who, ["Aisha", "Ben"]);
    assert!(queue.iter().all(|i| i.kind == ReviewKind::NeedsReview));
    assert!(
        queue
            .iter()
            .all(|i| i.message.key == keys::REVIEW_NEEDS_REVIEW)
    );
    assert_eq!(last().review_empty, None);

    // A correction without a reason is refused, and says so with a key.
    let first = queue[0].shift_id.clone().expect("a shift");
    let refused = screens
        .correct_shift(
            &first,
            ShiftCorrection {
                end: Some(T0 + 8 * HOUR),
                ..ShiftCorrection::default()
            },
        )
        .expect_err("no reason");
    assert_eq!(refused.key, keys::CORRECTION_NEEDS_REASON);
    assert_eq!(last().outcome, Some(refused));
    assert_eq!(last().review.len(), 2);

    screens.open_shift(Some(&first));
    screens
        .correct_shift(
            &first,
            ShiftCorrection {
                end: Some(T0 + 8 * HOUR),
                reason: "forgot to clock out; rota says 8 h".into(),
                ..ShiftCorrection::default()
            },
        )
        .expect("correct");
    let s = last();
    assert_eq!(s.review.len(), 1);
    assert_eq!(s.review[0].person_name, "Ben");
    assert_eq!(s.outcome, None);
    let detail = s.open_shift.expect("the opened shift");
    assert_eq!(detail.shift.status, ShiftStatus::Corrected);
    assert_eq!(detail.history.len(), 1);
    assert_eq!(detail.history[0].kind, "correction");

    let second = s.review[0].shift_id.clone().expect("a shift");
    screens
        .correct_shift(
            &second,
            ShiftCorrection {
                end: Some(T0 + 9 * HOUR),
                reason: "left at eight".into(),
                ..ShiftCorrection::default()
            },
        )
        .expect("correct");
    let s = last();
    assert!(s.review.is_empty());
    assert_eq!(
        s.review_empty.map(|m| m.key),
        Some(keys::REVIEW_EMPTY.to_string())
    );

    // Lock the week: the opened shift says so, and a tap into it is refused.
    screens
        .review_week("2026-11-18", &[], true)
        .expect("lock the week");
    assert!(last().open_shift.expect("opened").week.locked);

    // Reports go to files.
    let out = tempfile::tempdir().expect("report directory");
    let path = screens
        .export_report(ReportKind::Hours, "2026-11-16", "2026-11-22", out.path())
        .expect("hours report");
    let csv = std::fs::read_to_string(&path).expect("the file");
    assert!(csv.starts_with("person_id,person_name,hour_type"), "{csv}");
    assert!(csv.contains("Carla"));
    assert_eq!(
        last().outcome.map(|m| m.key),
        Some(keys::REPORT_WRITTEN.to_string())
    );
}

#[test]
fn people_sites_and_pins_change_on_screen() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let lb = Arc::new(
        Logbook::open_with_clock(
            dir.path(),
            &logbook_core::StoreKey::insecure_test_key(),
            ManualClock::at(T0),
        )
        .expect("open"),
    );
    lb.directory()
        .init("Riverside", "Europe/London")
        .expect("init");
    let screens = CoordinatorScreens::new(lb.clone(), "http://127.0.0.1:1").expect("screens");
    screens.add_site("Bakery").expect("site");
    let site = screens.state().sites[0].site_id.clone();
    screens
        .add_person(
            "Dev",
            &[PersonRole::Worker],
            std::slice::from_ref(&site),
            false,
        )
        .expect("person");
    let person = screens.state().people[0].clone();
    assert_eq!(person.name, "Dev");
    assert!(!person.has_pin);
    assert_eq!(
        screens
            .set_pin(&person.person_id, "12")
            .expect_err("short PIN")
            .key,
        keys::REFUSED_BODY
    );
    screens.set_pin(&person.person_id, "4321").expect("PIN");
    assert!(screens.state().people[0].has_pin);
}
