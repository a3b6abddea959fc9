//! The tap rules: what a device refuses when someone clocks in, out or takes a break.
//! This is the one place they live; the CLI, the FFI and the kiosk all come through here.
//!
//! - The hour type is chosen at clock-in only (a clock-out or break carries none).
//! - A device refuses a tap it knows contradicts the person's state: a clock-in while a
//!   shift opened less than the review threshold ago is still open; a clock-out, break
//!   start or break end with no open shift; a break start during a break; a break end
//!   with none open. Taps from other devices that arrive by sync are never refused: the
//!   derivation marks them as duplicates, so every device shows the same shifts.
//! - A kiosk never reads timesheets, so it knows only its own taps: it refuses a tap its
//!   own taps contradict (a second clock-in, a second clock-out) but accepts a clock-out
//!   or break of a shift it never saw begin (begun on the phone, say).
//! - Nothing may be tapped into a locked week.
//!
//! The check runs inside the write's transaction, so the state it reads is the state
//! the punch is written against.

use rusqlite::Connection;

use super::cache;
use super::derive;
use crate::error::{Error, Result};
use crate::model::{HourType, PunchKind, Settings, ShiftStatus, UnixSeconds};

/// What the device knows of the person whose tap it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Knowledge {
    /// Reads the person's whole timesheet (their phone, a coordinator).
    Everything,
    /// Knows only its own taps (a kiosk).
    OwnTapsOnly,
}

/// Only a clock-in chooses an hour type.
pub(crate) fn check_hour_type(kind: PunchKind, hour_type: Option<HourType>) -> Result<()> {
    if hour_type.is_some() && kind != PunchKind::ClockIn {
        return Err(Error::invalid("the hour type is chosen at clock-in"));
    }
    Ok(())
}

/// Refuse a tap this device knows is a duplicate or falls in a locked week.
pub(crate) fn check_tap(
    c: &Connection,
    person: &str,
    kind: PunchKind,
    at: UnixSeconds,
    knows: Knowledge,
    settings: &Settings,
    tz: &jiff::tz::TimeZone,
) -> Result<()> {
    // The state just before `at`: the last shift opened at or before it.
    let open = cache::last_shift_before(c, person, at)?
        .filter(|s| s.status == ShiftStatus::Open && at - s.start < settings.review_after_seconds);
    let week = derive::week_start(derive::local_date(at, tz)).to_string();
    if cache::week_reviewed(c, person, "lock", &week)? {
        return Err(Error::conflict(
            "that week is locked: ask a coordinator to correct it",
        ));
    }
    let knows_all = knows == Knowledge::Everything;
    let just_clocked_out = if knows_all {
        false
    } else {
        cache::last_punch_before(c, person, at)?.is_some_and(|(k, t)| {
            k == PunchKind::ClockOut && at - t < settings.review_after_seconds
        })
    };
    match (kind, &open) {
        (PunchKind::ClockIn, Some(_)) => Err(Error::conflict("already clocked in")),
        (PunchKind::ClockOut, None) if knows_all => Err(Error::conflict("not clocked in")),
        (PunchKind::ClockOut, None) if just_clocked_out => {
            Err(Error::conflict("already clocked out"))
        }
        (PunchKind::BreakStart | PunchKind::BreakEnd, None) if knows_all => {
            Err(Error::conflict("not clocked in"))
        }
        (PunchKind::BreakStart, Some(s)) if cache::break_open(c, person, s.start)? => {
            Err(Error::conflict("already on a break"))
        }
        (PunchKind::BreakEnd, Some(s)) if !cache::break_open(c, person, s.start)? => {
            Err(Error::conflict("not on a break"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::logbook::Logbook;
    use crate::model::PunchSource;

    const T0: i64 = 1_795_000_000; // 2026-11-18 11:06 UTC, a Wednesday

    fn coop() -> (tempfile::TempDir, Logbook, String) {
        let dir = tempfile::tempdir().unwrap();
        let lb = Logbook::open_with_clock(
            dir.path(),
            &crate::StoreKey::insecure_test_key(),
            ManualClock::at(T0),
        )
        .unwrap();
        lb.directory().init("Test", "Europe/London").unwrap();
        let p = lb.directory().add_person("Ann", &[], &[], false).unwrap();
        (dir, lb, p)
    }

    fn tap(lb: &Logbook, p: &str, kind: PunchKind, at: i64) -> Result<String> {
        lb.timesheets()
            .punch(p, kind, Some(at), None, None, PunchSource::Phone)
    }

    #[test]
    fn a_second_clock_in_while_clocked_in_is_refused_and_writes_nothing() {
        let (_d, lb, p) = coop();
        tap(&lb, &p, PunchKind::ClockIn, T0).unwrap();
        let before = lb.sync().pending_changes().unwrap();
        let err = tap(&lb, &p, PunchKind::ClockIn, T0 + 60).unwrap_err();
        assert!(
            matches!(err, Error::Conflict(ref m) if m == "already clocked in"),
            "{err:?}"
        );
        assert_eq!(lb.sync().pending_changes().unwrap(), before);
    }

    #[test]
    fn a_clock_out_or_break_without_a_shift_is_refused() {
        let (_d, lb, p) = coop();
        for kind in [
            PunchKind::ClockOut,
            PunchKind::BreakStart,
            PunchKind::BreakEnd,
        ] {
            let err = tap(&lb, &p, kind, T0).unwrap_err();
            assert!(
                matches!(err, Error::Conflict(ref m) if m == "not clocked in"),
                "{kind:?}: {err:?}"
            );
        }
    }

    #[test]
    fn breaks_must_alternate() {
        let (_d, lb, p) = coop();
        tap(&lb, &p, PunchKind::ClockIn, T0).unwrap();
        assert!(
            matches!(tap(&lb, &p, PunchKind::BreakEnd, T0 + 60), Err(Error::Conflict(ref m)) if m == "not on a break")
        );
        tap(&lb, &p, PunchKind::BreakStart, T0 + 60).unwrap();
        assert!(
            matches!(tap(&lb, &p, PunchKind::BreakStart, T0 + 120), Err(Error::Conflict(ref m)) if m == "already on a break")
        );
        tap(&lb, &p, PunchKind::BreakEnd, T0 + 180).unwrap();
    }

    #[test]
    fn a_shift_open_longer_than_the_threshold_no_longer_blocks_a_clock_in() {
        let (_d, lb, p) = coop();
        tap(&lb, &p, PunchKind::ClockIn, T0).unwrap();
        // 16 hours later the forgotten shift needs review and a new one may begin.
        tap(&lb, &p, PunchKind::ClockIn, T0 + 16 * 3600).unwrap();
    }

    #[test]
    fn a_tap_caches_the_rows_a_full_projection_of_its_document_makes() {
        let (_d, lb, p) = coop();
        let q = lb.directory().add_person("Bea", &[], &[], false).unwrap();
        for (who, kind, at) in [
            (&p, PunchKind::ClockIn, T0),
            (&q, PunchKind::ClockIn, T0 + 30),
            (&p, PunchKind::BreakStart, T0 + 3600),
            (&p, PunchKind::BreakEnd, T0 + 5400),
            (&p, PunchKind::ClockOut, T0 + 4 * 3600),
            (&q, PunchKind::ClockOut, T0 + 5 * 3600),
            // Next day, and in the next month (a second document).
            (&p, PunchKind::ClockIn, T0 + 86_400),
            (&p, PunchKind::ClockOut, T0 + 86_400 + 3600),
            (&p, PunchKind::ClockIn, T0 + 20 * 86_400),
        ] {
            tap(&lb, who, kind, at).unwrap();
        }
        let rows = |lb: &Logbook| {
            let punches = (
                lb.timesheets().punches(&p).unwrap(),
                lb.timesheets().punches(&q).unwrap(),
            );
            let shifts = (
                lb.timesheets().shifts(&p, None, None).unwrap(),
                lb.timesheets().shifts(&q, None, None).unwrap(),
            );
            (punches, shifts)
        };
        let tapped = rows(&lb);
        assert_eq!((tapped.0.0.len(), tapped.0.1.len()), (7, 2));
        assert_eq!((tapped.1.0.len(), tapped.1.1.len()), (3, 1));
        // Rebuilding projects every document whole: the same rows.
        lb.rebuild().unwrap();
        assert_eq!(rows(&lb), tapped);
    }

    #[test]
    fn the_hour_type_is_chosen_at_clock_in_only() {
        assert!(check_hour_type(PunchKind::ClockIn, Some(HourType::Volunteer)).is_ok());
        assert!(check_hour_type(PunchKind::ClockOut, None).is_ok());
        let (_d, lb, p) = coop();
        tap(&lb, &p, PunchKind::ClockIn, T0).unwrap();
        let err = lb
            .timesheets()
            .punch(
                &p,
                PunchKind::ClockOut,
                Some(T0 + 60),
                Some(HourType::Training),
                None,
                PunchSource::Phone,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    }
}
