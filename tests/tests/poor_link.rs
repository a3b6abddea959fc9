//! A café's kiosk on a bad link: 50 kbit/s each way, 600 ms round trip, the connection cut
//! every 2–6 s. A day of a 40-person coop (160 kiosk taps with PINs, double punches among
//! them) still reaches the coordinator, with nothing lost or doubled, because pushes and
//! pulls go in batches sized for the link, each acknowledged on its own, and a retry
//! resumes where the last acknowledged batch ended. No attempt hangs: every sync is
//! bounded, and the test stops after a fixed time either way.

use std::time::{Duration, Instant};

use logbook_e2e::logbook_core::{Logbook, PunchKind};
use logbook_e2e::{Coop, LinkShape, PoorLink, set_relay_url};

/// Sync through the link until a sync completes; returns how many attempts it took.
async fn sync_through(book: &Logbook, deadline: Instant) -> u32 {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let attempt = tokio::time::timeout(Duration::from_secs(120), book.sync().run()).await;
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
    let coop = Coop::start(0, 6).await;
    let relay_addr = coop.relay.as_ref().expect("in-process relay").addr();
    let link = PoorLink::start(
        relay_addr,
        LinkShape {
            bytes_per_second: 50_000 / 8,
            latency: Duration::from_millis(300),
            cut_after: (Duration::from_secs(2), Duration::from_secs(6)),
            seed: 7,
        },
    )
    .await;
    set_relay_url(&coop.kiosk, &link.url());
    set_relay_url(&coop.coordinator, &link.url());

    // A working day for everyone, many times over: 160 taps, with double taps refused.
    let day = |d: i64| 1_793_610_000 + d * 86_400; // 2026-11-02 09:00 UTC onwards
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
    let coordinator_attempts = sync_through(&coop.coordinator, deadline).await;
    let total = started.elapsed();
    println!(
        "poor link: kiosk upload {:.1} s in {kiosk_attempts} attempt(s); coordinator has the day {:.1} s after the first attempt ({coordinator_attempts} attempt(s))",
        uploaded.as_secs_f64(),
        total.as_secs_f64()
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
