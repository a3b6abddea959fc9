//! The worker's phone: a day of taps with the one right button, this week's hours, CPO
//! progress, training due, notes, and the sync line.

use std::sync::Arc;

use logbook_core::{HourType, Logbook, ManualClock, NewTraining, PersonRole, PunchKind};
use logbook_screens::keys;
use logbook_screens::worker::{DayStatus, WorkerHomeScreen};

/// 2026-11-18 11:06:40 UTC, a Wednesday; 11:06 in London.
const T0: i64 = 1_795_000_000;

fn phone() -> (tempfile::TempDir, Arc<ManualClock>, Arc<Logbook>, String) {
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
    let person = lb
        .directory()
        .add_person("Aisha Khan", &[PersonRole::Worker], &[], false)
        .expect("person");
    (dir, clock, lb, person)
}

#[test]
fn the_worker_s_day_offers_the_one_right_button_and_counts_the_week() {
    let (_dir, clock, lb, person) = phone();
    let home = WorkerHomeScreen::new(lb.clone(), Some(person.clone())).expect("screen");
    let s = home.state();
    assert_eq!(s.name, "Aisha Khan");
    assert_eq!(s.today.status, DayStatus::OffShift);
    assert_eq!(s.today.message.key, keys::TODAY_OFF);
    assert_eq!(s.today.primary.action, PunchKind::ClockIn);
    assert_eq!(s.today.secondary, None);
    assert!(s.week.is_empty());
    assert_eq!(s.week_start, "2026-11-16");

    let done = home.tap(PunchKind::ClockIn, None).expect("clock in");
    assert_eq!(done.key, keys::DONE_CLOCK_IN);
    assert_eq!(done.get("time"), Some("11:06"));
    let s = home.state();
    assert_eq!(s.today.status, DayStatus::OnShift);
    assert_eq!(s.today.since, Some(T0));
    assert_eq!(s.today.message.get("time"), Some("11:06"));
    assert_eq!(s.today.primary.action, PunchKind::ClockOut);
    assert_eq!(
        s.today.secondary.as_ref().map(|b| b.action),
        Some(PunchKind::BreakStart)
    );
    assert_eq!(s.today.confirmation, Some(done));

    clock.advance(2 * 3600);
    home.tap(PunchKind::BreakStart, None).expect("break");
    let s = home.state();
    assert_eq!(s.today.status, DayStatus::OnBreak);
    assert_eq!(s.today.primary.action, PunchKind::BreakEnd);
    assert_eq!(s.today.since, Some(T0 + 2 * 3600));

    // A second break start is refused with a reason, and the screen keeps it.
    let refused = home
        .tap(PunchKind::BreakStart, None)
        .expect_err("a double tap");
    assert_eq!(refused.key, keys::REFUSED_ALREADY_ON_BREAK);
    assert_eq!(home.state().today.refusal, Some(refused));

    clock.advance(30 * 60);
    home.tap(PunchKind::BreakEnd, None).expect("break end");
    assert_eq!(home.state().today.status, DayStatus::OnShift);
    clock.advance(2 * 3600);
    home.tap(PunchKind::ClockOut, None).expect("clock out");
    let s = home.state();
    assert_eq!(s.today.status, DayStatus::OffShift);
    assert_eq!(s.today.refusal, None);
    // 4 h 30 min from in to out, less the 30-minute break.
    assert_eq!(s.week.len(), 1);
    assert_eq!(s.week[0].hour_type, HourType::Paid);
    assert_eq!(s.week[0].minutes, 240);
}

#[test]
fn a_cpo_order_shows_its_progress_and_makes_clock_in_ask_the_kind_of_hours() {
    let (_dir, clock, lb, person) = phone();
    lb.cpo()
        .set_order(&person, 60, "2026-11-01", Some("2027-01-31"))
        .expect("order");
    let home = WorkerHomeScreen::new(lb.clone(), Some(person.clone())).expect("screen");
    let s = home.state();
    assert_eq!(s.cpo.len(), 1);
    assert_eq!(s.cpo[0].left_minutes, 60 * 60);
    assert_eq!(s.cpo[0].message.key, keys::CPO_DAYS_LEFT);
    assert_eq!(
        s.cpo[0].message.get("count"),
        Some(s.cpo[0].days_to_deadline.to_string().as_str())
    );
    assert!(s.today.hour_types.len() > 1);

    let asked = home.tap(PunchKind::ClockIn, None).expect_err("must choose");
    assert_eq!(asked.key, keys::CHOOSE_HOUR_TYPE);
    home.tap(PunchKind::ClockIn, Some(HourType::CpoUnpaidWork))
        .expect("clock in");
    clock.advance(3 * 3600);
    home.tap(PunchKind::ClockOut, None).expect("clock out");
    let s = home.state();
    assert_eq!(s.cpo[0].done_minutes, 180);
    assert_eq!(s.cpo[0].left_minutes, 60 * 60 - 180);
}

#[test]
fn training_due_soon_notes_and_the_sync_line_show() {
    let (_dir, _clock, lb, person) = phone();
    lb.training()
        .add_training(NewTraining {
            person_id: person.clone(),
            course: "First aid".into(),
            date: "2023-12-01".into(),
            minutes: 120,
            expires_on: Some("2026-12-01".into()),
            ..NewTraining::default()
        })
        .expect("training");
    lb.training()
        .add_training(NewTraining {
            person_id: person.clone(),
            course: "Food hygiene".into(),
            date: "2026-01-10".into(),
            minutes: 60,
            expires_on: Some("2029-01-10".into()),
            ..NewTraining::default()
        })
        .expect("training");
    let home = WorkerHomeScreen::new(lb.clone(), Some(person.clone())).expect("screen");
    let due = home.state().training_due;
    assert_eq!(due.len(), 1, "only the certificate due within 60 days");
    assert_eq!(due[0].course_name, "First aid");
    assert_eq!(due[0].message.key, keys::TRAINING_DUE);
    assert_eq!(due[0].message.get("date"), Some("2026-12-01"));

    assert_eq!(
        home.write_note(None, "   ").expect_err("empty").key,
        keys::NOTE_EMPTY
    );
    home.write_note(None, "Asked about the food hygiene refresher")
        .expect("a thread");
    let thread = home.state().notes[0].thread_id.clone();
    home.write_note(Some(&thread), "Booked for December")
        .expect("a reply");
    let notes = home.state().notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].entries.len(), 2);

    let sync = home.state().sync;
    assert!(!sync.joined);
    assert_eq!(sync.message.key, keys::SYNC_STANDALONE);
}
