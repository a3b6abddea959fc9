//! Devices on a bad link: 50 kbit/s each way, 600 ms round trip, the connection cut
//! every 2–6 s.
//!
//! - A café's kiosk: a day of a 40-person coop (160 kiosk taps with PINs, double punches
//!   among them) still reaches the coordinator, with nothing lost or doubled, because
//!   pushes and pulls go in batches sized for the link, each acknowledged on its own, and
//!   a retry resumes where the last acknowledged batch ended.
//! - A phone offline for 30 days (its own clock, a `ManualClock`, moves on) with 60
//!   punches catches up in one go: its month reaches the coordinator once, and the
//!   directory changes made meanwhile reach the phone.
//!
//! No attempt hangs: every sync is bounded by the deadline, and each test stops at a
//! fixed time either way. The bytes the link carried are printed (docs/PERFORMANCE.md).

use std::time::{Duration, Instant};

use logbook_e2e::logbook_core::{
    HourType, Logbook, ManualClock, PersonRole, PunchKind, PunchSource,
};
use logbook_e2e::{Coop, LinkShape, PoorLink, set_relay_url, worker_grant};

/// The link of every test here.
fn poor_link(seed: u64) -> LinkShape {
    LinkShape {
        bytes_per_second: 50_000 / 8,
        latency: Duration::from_millis(300),
        cut_after: (Duration::from_secs(2), Duration::from_secs(6)),
        seed,
    }
}

/// 2026-11-02 09:00 UTC plus `d` days.
fn day(d: i64) -> i64 {
    1_793_610_000 + d * 86_400
}

/// Sync through the link until a sync completes; returns how many attempts it took. No
/// attempt outlives the deadline.
async fn sync_through(book: &Logbook, deadline: Instant) -> u32 {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let attempt = tokio::time::timeout(left, book.sync().run()).await;
        match attempt {
            Ok(Ok(_)) => return attempts,
            Ok(Err(_)) | Err(_) => {
                assert!(
                    Instant::now() < deadline,
                    "no sync completed in time ({attempts} attempts)"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_kiosk_taps_reaches_the_coordinator_over_a_link_that_keeps_dropping() {
    kiosk_day(true).await;
}

/// The same day against a relay that does not take gzipped requests (as relays before
/// them): the "before" of docs/PERFORMANCE.md's bytes per punch. A measurement, so not
/// run by default: `cargo test -p logbook-e2e --test poor_link -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement (bytes per punch without gzip requests), run by hand"]
async fn a_day_of_kiosk_taps_to_a_relay_without_gzip_requests() {
    kiosk_day(false).await;
}

async fn kiosk_day(gzip_requests: bool) {
    let coop = Coop::start_configured(0, 6, |c| c.gzip_requests = gzip_requests).await;
    let relay_addr = coop.relay.as_ref().expect("in-process relay").addr();
    let link = PoorLink::start(relay_addr, poor_link(7)).await;
    set_relay_url(&coop.kiosk, &link.url());
    set_relay_url(&coop.coordinator, &link.url());

    // A working day for everyone, many times over: 160 taps, with double taps refused.
    let mut taps = 0;
    let mut refused = 0;
    let kiosk = coop.kiosk.kiosk();
    'days: for d in 0..20 {
        for (_, person, pin) in &coop.kiosk_only {
            for (kind, offset) in [(PunchKind::ClockIn, 0), (PunchKind::ClockOut, 4 * 3600)] {
                if taps == 160 {
                    break 'days;
                }
                kiosk
                    .punch(person, pin, kind, Some(day(d) + offset), None)
                    .expect("tap");
                taps += 1;
            }
            // A double tap at the kiosk is refused and writes nothing.
            if kiosk
                .punch(
                    person,
                    pin,
                    PunchKind::ClockOut,
                    Some(day(d) + 4 * 3600 + 60),
                    None,
                )
                .is_err()
            {
                refused += 1;
            }
        }
    }
    assert_eq!(taps, 160);
    assert!(refused > 0);

    let started = Instant::now();
    let deadline = started + Duration::from_secs(240);
    let kiosk_attempts = sync_through(&coop.kiosk, deadline).await;
    let uploaded = started.elapsed();
    let (kiosk_up, kiosk_down) = (link.bytes_up(), link.bytes_down());
    let coordinator_attempts = sync_through(&coop.coordinator, deadline).await;
    let total = started.elapsed();
    println!(
        "poor link: kiosk upload {:.1} s in {kiosk_attempts} attempt(s); coordinator has the day {:.1} s after the first attempt ({coordinator_attempts} attempt(s))",
        uploaded.as_secs_f64(),
        total.as_secs_f64()
    );
    println!(
        "poor link (gzip requests {}): the kiosk's sync carried {kiosk_up} bytes up and {kiosk_down} down, {:.0} up per tap",
        if gzip_requests { "on" } else { "off" },
        kiosk_up as f64 / f64::from(taps)
    );

    // Nothing lost, nothing doubled: 80 complete shifts of 4 hours.
    let mut shifts = 0;
    for (_, person, _) in &coop.kiosk_only {
        for s in coop
            .coordinator
            .timesheets()
            .shifts(person, None, None)
            .expect("shifts")
        {
            assert_eq!(s.counted_seconds, 4 * 3600, "{s:?}");
            shifts += 1;
        }
    }
    assert_eq!(shifts, 80);
    assert_eq!(coop.kiosk.sync().pending_changes().expect("pending"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_offline_for_30_days_with_60_punches_catches_up_over_a_link_that_keeps_dropping() {
    let coop = Coop::start(0, 1).await;
    let person = coop.kiosk_only[0].1.clone();
    // The phone's own clock: it joins the morning before the month starts.
    let clock = ManualClock::at(day(0) - 7_200);
    let phone = coop
        .join_device_with_clock(&worker_grant(&person), "phone-offline", clock.clone())
        .await;
    let relay_addr = coop.relay.as_ref().expect("in-process relay").addr();
    let link = PoorLink::start(relay_addr, poor_link(30)).await;
    set_relay_url(&phone, &link.url());

    // Offline for 30 days: a 4-hour shift a day, each punch stamped by the phone's clock.
    // Meanwhile the coordinator (on a good link) adds three people to the directory.
    for d in 0..30 {
        clock.set(day(d));
        let timesheets = phone.timesheets();
        timesheets
            .punch(
                &person,
                PunchKind::ClockIn,
                None,
                Some(HourType::Paid),
                None,
                PunchSource::Phone,
            )
            .expect("clock in");
        clock.advance(4 * 3600);
        timesheets
            .punch(
                &person,
                PunchKind::ClockOut,
                None,
                None,
                None,
                PunchSource::Phone,
            )
            .expect("clock out");
        if d % 10 == 5 {
            let site = coop.site.clone();
            coop.coordinator
                .directory()
                .add_person(
                    &format!("Newcomer {d}"),
                    &[PersonRole::Worker],
                    &[site],
                    false,
                )
                .expect("add person");
            coop.coordinator
                .sync()
                .run()
                .await
                .expect("coordinator syncs");
        }
    }
    clock.set(day(30));
    assert!(phone.sync().pending_changes().expect("pending") > 0);

    let started = Instant::now();
    let deadline = started + Duration::from_secs(50);
    let attempts = sync_through(&phone, deadline).await;
    let caught_up = started.elapsed();
    println!(
        "poor link: a phone 30 days offline sent 60 punches and caught up in {:.1} s ({attempts} attempt(s)); {} bytes up, {} down",
        caught_up.as_secs_f64(),
        link.bytes_up(),
        link.bytes_down()
    );
    assert_eq!(phone.sync().pending_changes().expect("pending"), 0);
    let people = phone.directory().people().expect("people");
    assert_eq!(
        people
            .iter()
            .filter(|p| p.name.starts_with("Newcomer"))
            .count(),
        3
    );

    // Nothing lost, nothing doubled: 30 shifts of 4 hours, one on each day.
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator syncs");
    let shifts = coop
        .coordinator
        .timesheets()
        .shifts(&person, None, None)
        .expect("shifts");
    assert_eq!(shifts.len(), 30, "{shifts:?}");
    assert!(
        shifts.iter().all(|s| s.counted_seconds == 4 * 3600),
        "{shifts:?}"
    );
    let mut starts: Vec<i64> = shifts.iter().map(|s| s.start).collect();
    starts.sort_unstable();
    assert_eq!(starts, (0..30).map(day).collect::<Vec<_>>());
}
