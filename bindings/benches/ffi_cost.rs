//! The Rust side of the FFI cost comparison (docs/PERFORMANCE.md, "Bindings").
//!
//! Runs the same work as `android/logbook-kotlin/src/test/kotlin/coop/logbook/BindingsBench.kt`
//! through this crate's API from Rust (no FFI): a clock-in (a phone punch, then a clock-out
//! so that the next clock-in is allowed; only the clock-in is timed) on a fresh store, and
//! reading a month's shifts for 40 people.
//!
//!     cargo bench -p logbook-ffi --bench ffi_cost
//!
//! Prints one line per measurement: `name: median µs per call (n calls)`.

use std::time::{Duration, Instant};

use logbook_core::{PersonRole, PunchKind, PunchSource};
use logbook_ffi::Logbook;

const PEOPLE: usize = 40;
const CLOCK_INS: usize = 300;
const MONTH_READS: usize = 200;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;

    // Clock-in cost: a person clocks in and out repeatedly; only the clock-in is timed.
    let book = Logbook::open_with_key(
        dir.path().join("clock").to_string_lossy().into_owned(),
        &logbook_core::StoreKey::insecure_test_key(),
    )?;
    book.init_coop("Bench Co-op".into(), "Europe/London".into())?;
    let directory = book.directory();
    let site = directory.add_site("Bakery".into())?;
    let person = directory.add_person(
        "Ann".into(),
        vec![PersonRole::Worker],
        vec![site.clone()],
        false,
    )?;
    let timesheets = book.timesheets();
    let mut clock_ins = Vec::with_capacity(CLOCK_INS);
    // One shift an hour, in the past: taps are ordered by whole seconds, so a clock-in and
    // clock-out in the same second would not pair up.
    let first = now() - 3600 * (CLOCK_INS as i64 + 1);
    for i in 0..CLOCK_INS as i64 {
        let at = first + i * 3600;
        let t = Instant::now();
        timesheets.punch(
            person.clone(),
            PunchKind::ClockIn,
            PunchSource::Phone,
            Some(at),
            None,
            None,
        )?;
        clock_ins.push(t.elapsed());
        timesheets.punch(
            person.clone(),
            PunchKind::ClockOut,
            PunchSource::Phone,
            Some(at + 1800),
            None,
            None,
        )?;
    }
    println!(
        "rust clock_in: {:.1} µs per call ({CLOCK_INS} calls)",
        micros(median(clock_ins))
    );

    // A month for 40 people: 20 working days each, back-filled.
    let book = Logbook::open_with_key(
        dir.path().join("month").to_string_lossy().into_owned(),
        &logbook_core::StoreKey::insecure_test_key(),
    )?;
    book.init_coop("Bench Co-op".into(), "UTC".into())?;
    let directory = book.directory();
    let site = directory.add_site("Bakery".into())?;
    let timesheets = book.timesheets();
    let month_start: i64 = 1_793_577_600; // Monday 2026-11-02 00:00 UTC
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let p = directory.add_person(
            format!("Worker {i}"),
            vec![PersonRole::Worker],
            vec![site.clone()],
            false,
        )?;
        for day in 0..28 {
            if day % 7 >= 5 {
                continue;
            }
            let at = month_start + day * 86_400 + 8 * 3600;
            timesheets.punch(
                p.clone(),
                PunchKind::ClockIn,
                PunchSource::Coordinator,
                Some(at),
                None,
                None,
            )?;
            timesheets.punch(
                p.clone(),
                PunchKind::ClockOut,
                PunchSource::Coordinator,
                Some(at + 8 * 3600),
                None,
                None,
            )?;
        }
        people.push(p);
    }
    let mut reads = Vec::with_capacity(MONTH_READS);
    let mut count = 0;
    for _ in 0..MONTH_READS {
        let t = Instant::now();
        count = 0;
        for p in &people {
            count += timesheets
                .shifts(
                    p.clone(),
                    Some("2026-11-01".into()),
                    Some("2026-11-30".into()),
                )?
                .len();
        }
        reads.push(t.elapsed());
    }
    assert_eq!(count, PEOPLE * 20);
    println!(
        "rust month of shifts, 40 people ({count} shifts): {:.1} µs per read ({MONTH_READS} reads)",
        micros(median(reads))
    );
    Ok(())
}
