//! The client gzips its pushes for a relay that says it takes them, and only then: against
//! a relay that does not (an older one), pushes go plain and everything still syncs; a
//! relay that stops taking gzip (a downgrade) gets the refused push again, plain, in the
//! same sync. Bytes are counted by a loopback link that neither slows nor cuts.

use std::time::Duration;

use logbook_e2e::logbook_core::PunchKind;
use logbook_e2e::{Coop, LinkShape, PoorLink, meta, set_relay_url};
use logbook_relay::RelayConfig;

const GZIP_REQUESTS: &str = "relay_gzip_requests";

fn counting_link() -> LinkShape {
    LinkShape {
        bytes_per_second: 1 << 30,
        latency: Duration::ZERO,
        cut_after: (Duration::from_secs(600), Duration::from_secs(601)),
        seed: 1,
    }
}

/// `days` days of a clock-in and a 4-hour clock-out for each kiosk-only person, from
/// `first_day` (days after 2026-11-02 09:00 UTC).
fn kiosk_taps(coop: &Coop, first_day: i64, days: i64) -> usize {
    let kiosk = coop.kiosk.kiosk();
    let mut taps = 0;
    for d in first_day..first_day + days {
        let start = 1_793_610_000 + d * 86_400;
        for (_, person, pin) in &coop.kiosk_only {
            for (kind, at) in [
                (PunchKind::ClockIn, start),
                (PunchKind::ClockOut, start + 14_400),
            ] {
                kiosk.punch(person, pin, kind, Some(at), None).expect("tap");
                taps += 1;
            }
        }
    }
    taps
}

/// Every kiosk-only person's shifts as the coordinator sees them: all 4 hours, `per_person`.
async fn coordinator_has(coop: &Coop, per_person: usize) {
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator syncs");
    for (_, person, _) in &coop.kiosk_only {
        let shifts = coop
            .coordinator
            .timesheets()
            .shifts(person, None, None)
            .expect("shifts");
        assert_eq!(shifts.len(), per_person);
        assert!(
            shifts.iter().all(|s| s.counted_seconds == 14_400),
            "{shifts:?}"
        );
    }
}

/// A kiosk's 40 taps pushed through a counting link to a relay with or without gzip
/// requests; returns the bytes that went up.
async fn kiosk_upload(gzip_requests: bool) -> u64 {
    let coop = Coop::start_configured(0, 4, |c| c.gzip_requests = gzip_requests).await;
    let expected = if gzip_requests { "1" } else { "0" };
    assert_eq!(
        meta(coop.kiosk.home(), GZIP_REQUESTS).as_deref(),
        Some(expected)
    );
    let link = PoorLink::start(coop.relay.as_ref().expect("relay").addr(), counting_link()).await;
    set_relay_url(&coop.kiosk, &link.url());
    assert_eq!(kiosk_taps(&coop, 0, 5), 40);
    coop.kiosk.sync().run().await.expect("kiosk syncs");
    assert_eq!(coop.kiosk.sync().pending_changes().expect("pending"), 0);
    coordinator_has(&coop, 5).await;
    link.bytes_up()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_go_gzipped_to_a_relay_that_takes_them_and_plain_to_one_that_does_not() {
    let plain = kiosk_upload(false).await;
    let gzipped = kiosk_upload(true).await;
    println!("40 kiosk taps: {plain} bytes up to a relay without gzip requests, {gzipped} with");
    // Sealed blobs are compressed inside their envelope before encryption (crypto/), so
    // what gzip still saves is the push's own framing: a few percent, but never more bytes.
    assert!(gzipped < plain, "gzipped {gzipped} bytes vs plain {plain}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_stops_taking_gzip_gets_the_push_again_plain() {
    let mut coop = Coop::start(0, 2).await;
    assert_eq!(kiosk_taps(&coop, 0, 2), 8);
    coop.kiosk.sync().run().await.expect("kiosk syncs");
    assert_eq!(meta(coop.kiosk.home(), GZIP_REQUESTS).as_deref(), Some("1"));

    // The relay is replaced by one that does not take gzip (same data, new address).
    coop.relay.take().expect("relay").shutdown().await;
    let mut config = RelayConfig::new(&coop.relay_dir, "127.0.0.1:0".parse().expect("addr"));
    config.gzip_requests = false;
    let old = logbook_relay::start(config)
        .await
        .expect("restart the relay");
    for book in [&coop.kiosk, &coop.coordinator] {
        set_relay_url(book, &old.url());
    }

    assert_eq!(kiosk_taps(&coop, 2, 3), 12);
    let summary = coop
        .kiosk
        .sync()
        .run()
        .await
        .expect("kiosk syncs with plain pushes");
    assert!(summary.pushed_changes > 0);
    assert_eq!(coop.kiosk.sync().pending_changes().expect("pending"), 0);
    assert_eq!(meta(coop.kiosk.home(), GZIP_REQUESTS).as_deref(), Some("0"));
    coordinator_has(&coop, 5).await;
    old.shutdown().await;
}
