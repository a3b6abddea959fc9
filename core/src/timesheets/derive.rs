//! The one pure, deterministic function from punches (and coordinators' corrections)
//! to shifts. Every device runs it over the same events and gets the same answer,
//! whatever order the events arrived in, because it sorts them first and reads nothing
//! else (no clock, no device state).
//!
//! Rules (docs/DOMAIN.md, "Domain rules"):
//! - Punches are ordered by device time, ties by punch id.
//! - A clock-in opens a shift; the next clock-out closes it. Breaks inside are subtracted;
//!   a break still open at clock-out ends there.
//! - A clock-in while a shift opened less than `review_after` ago is open, or a clock-out
//!   (break start/end) with nothing to close, is a duplicate: kept, counted as nothing.
//! - A shift longer than `review_after`, or still open `review_after` after its clock-in,
//!   needs review and counts 0; a clock-in after that opens a new shift.
//! - Corrections apply in (time, id) order; each sets the fields it names. Corrections
//!   made after the shift's week was locked are ignored.
//!
//! An open shift is stored as `Open`; whether it has aged into "needs review" depends on
//! the current time, so readers classify it with [`classify_open`], keeping this pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::tz::TimeZone;

use crate::model::{Correction, IgnoredPunch, Punch, PunchKind, Shift, ShiftStatus, UnixSeconds};

/// A week lock as the derivation needs it: the Monday of the locked week and when it
/// was locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekLock {
    pub week_start: jiff::civil::Date,
    pub at: UnixSeconds,
}

/// What the derivation produces for one person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    pub shifts: Vec<Shift>,
    pub ignored: Vec<IgnoredPunch>,
}

struct OpenShift<'a> {
    clock_in: &'a Punch,
    break_seconds: i64,
    break_open: Option<UnixSeconds>,
    duplicates: Vec<String>,
}

/// The local calendar date of an instant in the coop's time zone.
pub fn local_date(at: UnixSeconds, tz: &TimeZone) -> jiff::civil::Date {
    match jiff::Timestamp::from_second(at) {
        Ok(ts) => ts.to_zoned(tz.clone()).date(),
        // Out-of-range instants are refused at input; fall back to the epoch date.
        Err(_) => jiff::civil::date(1970, 1, 1),
    }
}

/// The Monday starting the ISO week of `date`.
pub fn week_start(date: jiff::civil::Date) -> jiff::civil::Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back))
        .unwrap_or(date)
}

/// Is this open shift past the review threshold at `now`?
pub fn classify_open(shift: &Shift, now: UnixSeconds, review_after: i64) -> ShiftStatus {
    if shift.status == ShiftStatus::Open && now - shift.start >= review_after {
        ShiftStatus::NeedsReview
    } else {
        shift.status
    }
}

/// Derive one person's shifts from their punches and the corrections about them.
pub fn derive_shifts(
    punches: &[Punch],
    corrections: &[Correction],
    locks: &[WeekLock],
    review_after: i64,
    tz: &TimeZone,
) -> Derived {
    let mut ordered: Vec<&Punch> = punches.iter().collect();
    ordered.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    // The same punch may reach us through two documents (never in practice, but the
    // derivation must not double count if it does).
    ordered.dedup_by(|a, b| a.id == b.id);

    let mut out = Derived::default();
    let mut open: Option<OpenShift> = None;
    let ignore = |out: &mut Derived, p: &Punch, reason: &str| {
        out.ignored.push(IgnoredPunch {
            punch_id: p.id.clone(),
            reason: reason.to_string(),
        })
    };

    for p in ordered {
        match p.kind {
            PunchKind::ClockIn => match &mut open {
                Some(s) if p.at - s.clock_in.at < review_after => {
                    s.duplicates.push(p.id.clone());
                    ignore(&mut out, p, "duplicate clock-in: a shift is already open");
                }
                Some(_) => {
                    // The earlier shift was never clocked out: it needs review.
                    if let Some(s) = open.take() {
                        out.shifts.push(finish(s, None, review_after, tz));
                    }
                    open = Some(start(p));
                }
                None => open = Some(start(p)),
            },
            PunchKind::ClockOut => match open.take() {
                Some(s) => out.shifts.push(finish(s, Some(p.at), review_after, tz)),
                None => ignore(&mut out, p, "duplicate clock-out: no shift is open"),
            },
            PunchKind::BreakStart => match &mut open {
                Some(s) if s.break_open.is_none() => s.break_open = Some(p.at),
                Some(s) => {
                    s.duplicates.push(p.id.clone());
                    ignore(
                        &mut out,
                        p,
                        "duplicate break start: a break is already open",
                    );
                }
                None => ignore(&mut out, p, "break start with no shift open"),
            },
            PunchKind::BreakEnd => match &mut open {
                Some(s) if s.break_open.is_some() => {
                    let began = s.break_open.take().unwrap_or(p.at);
                    s.break_seconds += (p.at - began).max(0);
                }
                Some(s) => {
                    s.duplicates.push(p.id.clone());
                    ignore(&mut out, p, "break end with no break open");
                }
                None => ignore(&mut out, p, "break end with no shift open"),
            },
        }
    }
    if let Some(s) = open.take() {
        let mut shift = finish(s, None, review_after, tz);
        shift.status = ShiftStatus::Open;
        out.shifts.push(shift);
    }
    apply_corrections(&mut out.shifts, corrections, locks, review_after, tz);
    out
}

fn start(p: &Punch) -> OpenShift<'_> {
    OpenShift {
        clock_in: p,
        break_seconds: 0,
        break_open: None,
        duplicates: Vec::new(),
    }
}

fn finish(s: OpenShift, end: Option<UnixSeconds>, review_after: i64, tz: &TimeZone) -> Shift {
    let begin = s.clock_in.at;
    let mut break_seconds = s.break_seconds;
    if let (Some(b), Some(e)) = (s.break_open, end) {
        // A break still open at clock-out ends at the clock-out.
        break_seconds += (e - b).max(0);
    }
    let (status, counted) = match end {
        Some(e) if e - begin <= review_after => {
            (ShiftStatus::Complete, (e - begin - break_seconds).max(0))
        }
        _ => (ShiftStatus::NeedsReview, 0),
    };
    Shift {
        id: s.clock_in.id.clone(),
        person_id: s.clock_in.person_id.clone(),
        hour_type: s.clock_in.hour_type,
        start: begin,
        end,
        break_seconds,
        counted_seconds: counted,
        status,
        local_date: local_date(begin, tz).to_string(),
        duplicate_punch_ids: s.duplicates,
    }
}

fn apply_corrections(
    shifts: &mut [Shift],
    corrections: &[Correction],
    locks: &[WeekLock],
    _review_after: i64,
    tz: &TimeZone,
) {
    let mut by_shift: HashMap<&str, Vec<&Correction>> = HashMap::new();
    for c in corrections {
        by_shift.entry(c.shift_id.as_str()).or_default().push(c);
    }
    // Earliest lock per week: once locked, later corrections do not apply.
    let mut locked: BTreeMap<jiff::civil::Date, UnixSeconds> = BTreeMap::new();
    for l in locks {
        let e = locked.entry(l.week_start).or_insert(l.at);
        *e = (*e).min(l.at);
    }
    for shift in shifts.iter_mut() {
        let Some(cs) = by_shift.get_mut(shift.id.as_str()) else {
            continue;
        };
        cs.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        let week = week_start(local_date(shift.start, tz));
        let lock_at = locked.get(&week).copied();
        let mut seen = BTreeSet::new();
        for c in cs.iter() {
            if !seen.insert(c.id.as_str()) || lock_at.is_some_and(|l| c.at > l) {
                continue;
            }
            apply_one(shift, c);
        }
        shift.local_date = local_date(shift.start, tz).to_string();
    }
}

/// Apply one correction to a shift. Shared with the audit trail so that "before" and
/// "after" are computed the same way the derivation computes them.
pub fn apply_one(shift: &mut Shift, c: &Correction) {
    if let Some(s) = c.start {
        shift.start = s;
    }
    if c.end.is_some() {
        shift.end = c.end;
    }
    if let Some(t) = c.hour_type {
        shift.hour_type = t;
    }
    if let Some(b) = c.break_seconds {
        shift.break_seconds = b.max(0);
    }
    if c.void {
        shift.status = ShiftStatus::Voided;
        shift.counted_seconds = 0;
        return;
    }
    match shift.end {
        Some(end) if end > shift.start => {
            shift.status = ShiftStatus::Corrected;
            shift.counted_seconds = (end - shift.start - shift.break_seconds).max(0);
        }
        _ => {
            // A correction that still leaves no end (or an end before the start) cannot
            // be counted: the shift keeps needing review.
            shift.status = ShiftStatus::NeedsReview;
            shift.counted_seconds = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HourType, PunchSource};

    const H: i64 = 3600;
    // 2026-11-02 00:00:00 UTC, a Monday.
    const MON: i64 = 1_793_577_600;

    fn tz() -> TimeZone {
        TimeZone::get("Europe/London").expect("tz")
    }

    fn p(id: &str, kind: PunchKind, at: i64) -> Punch {
        Punch {
            id: id.into(),
            person_id: "p-1".into(),
            kind,
            at,
            device: "d".into(),
            source: PunchSource::Phone,
            hour_type: HourType::Paid,
            site_id: None,
        }
    }

    fn derive(ps: &[Punch]) -> Derived {
        derive_shifts(ps, &[], &[], 16 * H, &tz())
    }

    #[test]
    fn a_clock_in_and_out_make_one_complete_shift_minus_breaks() {
        let d = derive(&[
            p("a", PunchKind::ClockIn, MON + 9 * H),
            p("b", PunchKind::BreakStart, MON + 12 * H),
            p("c", PunchKind::BreakEnd, MON + 12 * H + 1800),
            p("d", PunchKind::ClockOut, MON + 17 * H),
        ]);
        assert_eq!(d.shifts.len(), 1);
        let s = &d.shifts[0];
        assert_eq!(s.status, ShiftStatus::Complete);
        assert_eq!(s.counted_seconds, 8 * H - 1800);
        assert_eq!(s.local_date, "2026-11-02");
        assert!(d.ignored.is_empty());
    }

    #[test]
    fn a_double_punch_from_phone_and_kiosk_counts_once() {
        let d = derive(&[
            p("k-in", PunchKind::ClockIn, MON + 9 * H),
            p("p-in", PunchKind::ClockIn, MON + 9 * H + 40),
            p("k-out", PunchKind::ClockOut, MON + 17 * H),
            p("p-out", PunchKind::ClockOut, MON + 17 * H + 90),
        ]);
        assert_eq!(d.shifts.len(), 1);
        assert_eq!(d.shifts[0].counted_seconds, 8 * H);
        assert_eq!(d.shifts[0].duplicate_punch_ids, vec!["p-in".to_string()]);
        let ignored: Vec<_> = d.ignored.iter().map(|i| i.punch_id.as_str()).collect();
        assert_eq!(ignored, vec!["p-in", "p-out"]);
    }

    #[test]
    fn a_forgotten_clock_out_needs_review_and_counts_nothing() {
        let d = derive(&[
            p("a", PunchKind::ClockIn, MON + 9 * H),
            // Next morning: 24 h later, a new clock-in opens a new shift.
            p("b", PunchKind::ClockIn, MON + 33 * H),
            p("c", PunchKind::ClockOut, MON + 41 * H),
        ]);
        assert_eq!(d.shifts.len(), 2);
        assert_eq!(d.shifts[0].status, ShiftStatus::NeedsReview);
        assert_eq!(d.shifts[0].counted_seconds, 0);
        assert_eq!(d.shifts[1].status, ShiftStatus::Complete);
        assert_eq!(d.shifts[1].counted_seconds, 8 * H);
    }

    #[test]
    fn a_shift_longer_than_the_threshold_needs_review_and_never_silently_counts() {
        let d = derive(&[
            p("a", PunchKind::ClockIn, MON + 8 * H),
            p("b", PunchKind::ClockOut, MON + 48 * H),
        ]);
        assert_eq!(d.shifts[0].status, ShiftStatus::NeedsReview);
        assert_eq!(d.shifts[0].counted_seconds, 0);
    }

    #[test]
    fn an_open_shift_ages_into_needs_review() {
        let d = derive(&[p("a", PunchKind::ClockIn, MON + 8 * H)]);
        let s = &d.shifts[0];
        assert_eq!(s.status, ShiftStatus::Open);
        assert_eq!(classify_open(s, MON + 9 * H, 16 * H), ShiftStatus::Open);
        assert_eq!(
            classify_open(s, MON + 24 * H, 16 * H),
            ShiftStatus::NeedsReview
        );
    }

    #[test]
    fn a_break_open_at_clock_out_ends_at_the_clock_out() {
        let d = derive(&[
            p("a", PunchKind::ClockIn, MON + 9 * H),
            p("b", PunchKind::BreakStart, MON + 16 * H),
            p("c", PunchKind::ClockOut, MON + 17 * H),
        ]);
        assert_eq!(d.shifts[0].break_seconds, H);
        assert_eq!(d.shifts[0].counted_seconds, 7 * H);
    }

    #[test]
    fn ties_are_broken_by_punch_id_whatever_the_input_order() {
        let a = p("a", PunchKind::ClockIn, MON);
        let b = p("b", PunchKind::ClockOut, MON);
        let d1 = derive(&[a.clone(), b.clone()]);
        let d2 = derive(&[b, a]);
        assert_eq!(d1, d2);
        assert_eq!(d1.shifts[0].counted_seconds, 0);
        assert_eq!(d1.shifts[0].status, ShiftStatus::Complete);
    }

    #[test]
    fn a_correction_closes_a_forgotten_shift_and_a_lock_stops_later_ones() {
        let punches = [p("a", PunchKind::ClockIn, MON + 9 * H)];
        let fix = Correction {
            id: "c1".into(),
            shift_id: "a".into(),
            start: None,
            end: Some(MON + 15 * H),
            hour_type: Some(HourType::Volunteer),
            break_seconds: None,
            void: false,
            reason: "forgot to clock out".into(),
            by: "coord".into(),
            at: MON + 40 * H,
        };
        let late = Correction {
            id: "c2".into(),
            end: Some(MON + 20 * H),
            at: MON + 80 * H,
            ..fix.clone()
        };
        let lock = WeekLock {
            week_start: jiff::civil::date(2026, 11, 2),
            at: MON + 50 * H,
        };
        let d = derive_shifts(&punches, &[late, fix], &[lock], 16 * H, &tz());
        let s = &d.shifts[0];
        assert_eq!(s.status, ShiftStatus::Corrected);
        assert_eq!(s.hour_type, HourType::Volunteer);
        assert_eq!(s.counted_seconds, 6 * H);
    }

    #[test]
    fn a_shift_belongs_to_the_local_date_of_its_clock_in() {
        // 23:30 UTC on 2026-07-01 is 00:30 BST on 2026-07-02.
        let at = 1_782_948_600;
        let d = derive(&[
            p("a", PunchKind::ClockIn, at),
            p("b", PunchKind::ClockOut, at + 2 * H),
        ]);
        assert_eq!(d.shifts[0].local_date, "2026-07-02");
    }
}
