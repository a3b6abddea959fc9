//! The kiosk screen as a state machine, with an injected clock: PIN, tries left, lockout
//! and its expiry, the idle return to the names, the offline badge, a double tap refused
//! with a reason the screen shows, and subscriptions.

use std::sync::{Arc, Mutex};

use logbook_core::{Logbook, ManualClock, PersonRole, PunchKind};
use logbook_screens::keys;
use logbook_screens::kiosk::{KioskConfig, KioskScreen, KioskStage, KioskState};

/// 2026-11-18 11:06:40 UTC, a Wednesday; 11:06 in London.
const T0: i64 = 1_795_000_000;

struct Site {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    lb: Arc<Logbook>,
    aisha: String,
    ben: String,
    kiosk: KioskScreen,
}

fn site(config: KioskConfig) -> Site {
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
    let site = lb.directory().add_site("Bakery").expect("site");
    let sites = std::slice::from_ref(&site);
    let aisha = lb
        .directory()
        .add_person("Aisha Khan", &[PersonRole::Worker], sites, true)
        .expect("person");
    let ben = lb
        .directory()
        .add_person("Ben", &[PersonRole::Worker], sites, false)
        .expect("person");
    lb.directory().set_pin(&aisha, "1234").expect("PIN");
    lb.directory().set_pin(&ben, "5678").expect("PIN");
    let kiosk = KioskScreen::new(
        lb.clone(),
        KioskConfig {
            site_id: Some(site),
            ..config
        },
    )
    .expect("kiosk screen");
    Site {
        _dir: dir,
        clock,
        lb,
        aisha,
        ben,
        kiosk,
    }
}

fn type_pin(k: &KioskScreen, pin: &str) {
    for c in pin.bytes() {
        k.digit(c - b'0');
    }
}

fn stage(k: &KioskScreen) -> KioskStage {
    k.state().stage
}

#[test]
fn the_tiles_show_names_as_initials_and_colours_and_nothing_else() {
    let s = site(KioskConfig::default());
    let state = s.kiosk.state();
    assert_eq!(state.site_name, "Bakery");
    let names: Vec<(&str, &str)> = state
        .people
        .iter()
        .map(|p| (p.name.as_str(), p.initials.as_str()))
        .collect();
    assert_eq!(names, [("Aisha Khan", "AK"), ("Ben", "B")]);
    assert_ne!(state.people[0].colour, state.people[1].colour);
    assert!(state.on_shift.is_empty());
    assert_eq!(state.stage, KioskStage::Tiles);
    // The state is names, stages and counts only: no field for hours, notes, training
    // or CPO exists to fill (KioskState's definition); the debug text proves no record
    // of the disadvantaged flag leaked into it either.
    assert!(!format!("{state:?}").contains("disadvantaged"));
}

#[test]
fn a_right_pin_clocks_in_confirms_with_the_time_then_returns_to_the_names() {
    let s = site(KioskConfig::default());
    s.kiosk.pick_person(&s.aisha);
    let KioskStage::Pin {
        actions, complete, ..
    } = stage(&s.kiosk)
    else {
        panic!("expected the PIN pad, got {:?}", stage(&s.kiosk));
    };
    assert_eq!(actions, [PunchKind::ClockIn]);
    assert!(!complete);
    // Before the fourth digit the buttons do nothing.
    type_pin(&s.kiosk, "123");
    s.kiosk.act(PunchKind::ClockIn);
    assert!(matches!(stage(&s.kiosk), KioskStage::Pin { digits: 3, .. }));
    s.kiosk.delete_digit();
    type_pin(&s.kiosk, "34");
    s.kiosk.act(PunchKind::ClockIn);
    let KioskStage::Done {
        action,
        time,
        message,
        ..
    } = stage(&s.kiosk)
    else {
        panic!("expected the confirmation, got {:?}", stage(&s.kiosk));
    };
    assert_eq!(action, PunchKind::ClockIn);
    assert_eq!(time, "11:06");
    assert_eq!(message.key, keys::DONE_CLOCK_IN);
    assert_eq!(message.get("time"), Some("11:06"));
    let on_shift: Vec<String> = s
        .kiosk
        .state()
        .on_shift
        .into_iter()
        .map(|p| p.person_id)
        .collect();
    assert_eq!(on_shift, std::slice::from_ref(&s.aisha));
    // A few idle seconds later the names come back.
    s.clock.advance(4);
    s.kiosk.tick();
    assert!(matches!(stage(&s.kiosk), KioskStage::Done { .. }));
    s.clock.advance(1);
    s.kiosk.tick();
    assert_eq!(stage(&s.kiosk), KioskStage::Tiles);
    // Now on shift, the pad offers out and breaks.
    s.kiosk.pick_person(&s.aisha);
    assert!(matches!(
        stage(&s.kiosk),
        KioskStage::Pin { ref actions, .. } if actions.as_slice() == [PunchKind::ClockOut, PunchKind::BreakStart, PunchKind::BreakEnd]
    ));
}

#[test]
fn an_untouched_pin_pad_returns_to_the_names_and_each_digit_restarts_the_wait() {
    let s = site(KioskConfig::default());
    s.kiosk.pick_person(&s.ben);
    s.clock.advance(20);
    s.kiosk.digit(5);
    s.clock.advance(20);
    s.kiosk.tick();
    assert!(matches!(stage(&s.kiosk), KioskStage::Pin { digits: 1, .. }));
    s.clock.advance(10);
    s.kiosk.tick();
    assert_eq!(stage(&s.kiosk), KioskStage::Tiles);
    // The typed digit is gone with the pad.
    s.kiosk.pick_person(&s.ben);
    assert!(matches!(stage(&s.kiosk), KioskStage::Pin { digits: 0, .. }));
}

#[test]
fn wrong_pins_count_down_the_tries_then_lock_out_until_the_lockout_expires() {
    let s = site(KioskConfig::default());
    s.kiosk.pick_person(&s.aisha);
    for left in [4, 3, 2, 1] {
        type_pin(&s.kiosk, "0000");
        s.kiosk.act(PunchKind::ClockIn);
        let KioskStage::Pin {
            tries_left,
            wrong,
            digits,
            ..
        } = stage(&s.kiosk)
        else {
            panic!("expected the PIN pad again, got {:?}", stage(&s.kiosk));
        };
        assert_eq!(tries_left, Some(left));
        assert_eq!(digits, 0, "a wrong PIN clears the pad");
        let wrong = wrong.expect("the wrong-PIN line");
        assert_eq!(wrong.key, keys::PIN_WRONG);
        assert_eq!(wrong.get("count"), Some(left.to_string().as_str()));
    }
    type_pin(&s.kiosk, "0000");
    s.kiosk.act(PunchKind::ClockIn);
    let KioskStage::LockedOut {
        seconds_left,
        message,
        ..
    } = stage(&s.kiosk)
    else {
        panic!("expected the lockout, got {:?}", stage(&s.kiosk));
    };
    assert_eq!(seconds_left, 900);
    assert_eq!(message.key, keys::LOCKED_BODY);
    assert_eq!(message.get("count"), Some("15"));
    assert_eq!(message.get("name"), Some("Aisha Khan"));

    // The countdown follows the clock.
    s.clock.advance(3);
    s.kiosk.tick();
    assert!(matches!(
        stage(&s.kiosk),
        KioskStage::LockedOut {
            seconds_left: 897,
            ..
        }
    ));
    // Left alone it goes back to the names; picking the name again shows the countdown.
    s.clock.advance(5);
    s.kiosk.tick();
    assert_eq!(stage(&s.kiosk), KioskStage::Tiles);
    s.clock.advance(600);
    s.kiosk.pick_person(&s.aisha);
    let KioskStage::LockedOut {
        seconds_left,
        message,
        ..
    } = stage(&s.kiosk)
    else {
        panic!("still locked out, got {:?}", stage(&s.kiosk));
    };
    assert_eq!(seconds_left, 292);
    assert_eq!(message.get("count"), Some("5"));
    // Someone else is not locked out.
    s.kiosk.pick_person(&s.ben);
    assert!(matches!(
        stage(&s.kiosk),
        KioskStage::Pin {
            tries_left: None,
            ..
        }
    ));

    // Once the lockout has passed, the countdown turns into a fresh pad.
    s.kiosk.pick_person(&s.aisha);
    s.clock.advance(292);
    s.kiosk.tick();
    assert!(matches!(
        stage(&s.kiosk),
        KioskStage::Pin {
            tries_left: None,
            ..
        }
    ));
    type_pin(&s.kiosk, "1234");
    s.kiosk.act(PunchKind::ClockIn);
    assert!(matches!(stage(&s.kiosk), KioskStage::Done { .. }));
}

#[test]
fn a_double_tap_is_refused_with_a_reason_the_screen_shows_and_writes_nothing() {
    let s = site(KioskConfig::default());
    let tap = |kind: PunchKind| {
        s.kiosk.pick_person(&s.ben);
        type_pin(&s.kiosk, "5678");
        s.kiosk.act(kind);
        stage(&s.kiosk)
    };
    assert!(matches!(tap(PunchKind::ClockIn), KioskStage::Done { .. }));
    s.clock.advance(600);
    assert!(matches!(
        tap(PunchKind::BreakStart),
        KioskStage::Done { .. }
    ));
    let before = s.lb.sync().pending_changes().expect("outbox");
    s.clock.advance(5);
    let KioskStage::Refused { reason, action, .. } = tap(PunchKind::BreakStart) else {
        panic!("expected a refusal, got {:?}", stage(&s.kiosk));
    };
    assert_eq!(action, PunchKind::BreakStart);
    assert_eq!(reason.key, keys::REFUSED_ALREADY_ON_BREAK);
    assert!(
        reason.args.is_empty(),
        "a known reason needs no English words"
    );
    assert_eq!(s.lb.sync().pending_changes().expect("outbox"), before);
    // The refusal goes back to the names like a confirmation.
    s.clock.advance(5);
    s.kiosk.tick();
    assert_eq!(stage(&s.kiosk), KioskStage::Tiles);
}

#[test]
fn clock_in_asks_the_kind_of_hours_only_when_the_kiosk_offers_more_than_one() {
    use logbook_core::HourType;
    let s = site(KioskConfig {
        hour_types: vec![HourType::Paid, HourType::Volunteer],
        ..KioskConfig::default()
    });
    s.kiosk.pick_person(&s.ben);
    type_pin(&s.kiosk, "5678");
    s.kiosk.act(PunchKind::ClockIn);
    let KioskStage::HourType {
        choices, question, ..
    } = stage(&s.kiosk)
    else {
        panic!("expected the question, got {:?}", stage(&s.kiosk));
    };
    assert_eq!(choices, [HourType::Paid, HourType::Volunteer]);
    assert_eq!(question.key, keys::HOUR_TYPE_QUESTION);
    s.kiosk.choose_hour_type(HourType::Volunteer);
    assert!(matches!(stage(&s.kiosk), KioskStage::Done { .. }));
    let shifts =
        s.lb.timesheets()
            .shifts(&s.ben, None, None)
            .expect("shifts");
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].hour_type, HourType::Volunteer);

    // With one kind offered, clock-in records it without asking.
    let one = site(KioskConfig {
        hour_types: vec![HourType::Training],
        ..KioskConfig::default()
    });
    one.kiosk.pick_person(&one.ben);
    type_pin(&one.kiosk, "5678");
    one.kiosk.act(PunchKind::ClockIn);
    assert!(matches!(stage(&one.kiosk), KioskStage::Done { .. }));
    let shifts = one
        .lb
        .timesheets()
        .shifts(&one.ben, None, None)
        .expect("shifts");
    assert_eq!(shifts[0].hour_type, HourType::Training);
}

#[test]
fn the_offline_badge_counts_the_taps_waiting_to_sync() {
    let s = site(KioskConfig::default());
    assert_eq!(s.kiosk.state().badge, None);
    s.kiosk.set_offline(true);
    let waiting = s.kiosk.state().pending_taps;
    let badge = s.kiosk.state().badge.expect("the offline badge");
    assert_eq!(badge.key, keys::OFFLINE_WAITING);
    assert_eq!(badge.get("count"), Some(waiting.to_string().as_str()));
    s.kiosk.pick_person(&s.ben);
    type_pin(&s.kiosk, "5678");
    s.kiosk.act(PunchKind::ClockIn);
    let state = s.kiosk.state();
    assert!(state.pending_taps > waiting, "the tap waits to sync");
    assert_eq!(
        state.badge.and_then(|b| b.get("count").map(str::to_string)),
        Some(state.pending_taps.to_string())
    );
    s.kiosk.set_offline(false);
    assert_eq!(s.kiosk.state().badge, None);
}

#[test]
fn a_subscriber_hears_the_current_state_then_each_change_and_stops_when_dropped() {
    let s = site(KioskConfig::default());
    let heard: Arc<Mutex<Vec<KioskState>>> = Arc::default();
    let h = heard.clone();
    let sub = s.kiosk.subscribe(Arc::new(move |state: KioskState| {
        h.lock().unwrap_or_else(|e| e.into_inner()).push(state)
    }));
    let count = || heard.lock().unwrap_or_else(|e| e.into_inner()).len();
    assert_eq!(count(), 1, "the current state first");
    s.kiosk.pick_person(&s.ben);
    type_pin(&s.kiosk, "5678");
    assert_eq!(count(), 6, "the pad, then one state per digit");
    // A local write elsewhere on this device (a coordinator adding a name) reaches it.
    let sites = s.lb.directory().sites().expect("sites");
    s.lb.directory()
        .add_person(
            "Carla",
            &[PersonRole::Worker],
            &[sites[0].id.clone()],
            false,
        )
        .expect("person");
    let last = heard
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .last()
        .cloned()
        .expect("a state");
    assert_eq!(last.people.len(), 3);
    assert!(
        matches!(last.stage, KioskStage::Pin { digits: 4, .. }),
        "the pad stays"
    );
    drop(sub);
    let before = count();
    s.kiosk.back_to_tiles();
    assert_eq!(count(), before);
}
