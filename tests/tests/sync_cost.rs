//! What a sync costs and what it reports (issue 10):
//!
//! - `join` whose first sync fails says so (joined, not synced, why), and the next sync
//!   completes it.
//! - A device never downloads what it pushed: its pulls leave out its own blobs up to the
//!   last push the relay acknowledged (`own_through`), yet a device restored from a backup
//!   gets back what it pushed after that backup.

use std::path::Path;
use std::time::Duration;

use logbook_e2e::logbook_core::{HourType, Logbook, PunchKind, PunchSource};
use logbook_e2e::{Coop, LinkShape, PoorLink, at, punches, set_relay_url, worker_grant};

/// A relay address that answers the join and then goes away: a TCP proxy to `upstream`
/// that carries its first connection only and then stops listening, so every later
/// connection is refused (the sync after the join uses a new connection).
async fn gone_after_join(upstream: std::net::SocketAddr) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        drop(listener);
        let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
            return;
        };
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    });
    format!("http://{addr}")
}

fn relay_addr(coop: &Coop) -> std::net::SocketAddr {
    coop.url
        .trim_start_matches("http://")
        .parse()
        .expect("the relay listens on a socket address")
}

fn punch_day(book: &Logbook, person: &str, day: u32) {
    for (kind, time, t) in [
        (PunchKind::ClockIn, "09:00", Some(HourType::Paid)),
        (PunchKind::ClockOut, "13:00", None),
    ] {
        book.timesheets()
            .punch(
                person,
                kind,
                Some(at(&format!("2026-11-{day:02}T{time}:00Z"))),
                t,
                None,
                PunchSource::Phone,
            )
            .expect("punch");
    }
}

#[tokio::test]
async fn a_join_whose_first_sync_fails_says_so_and_the_next_sync_completes_it() {
    let coop = Coop::start(0, 1).await;
    let person = coop.kiosk_only[0].1.clone();
    let code = coop
        .coordinator
        .sync()
        .invite(worker_grant(&person), None)
        .await
        .expect("invite")
        .code;
    let url = gone_after_join(relay_addr(&coop)).await;
    let phone = Logbook::open(
        coop.root.path().join("phone"),
        &logbook_e2e::logbook_core::StoreKey::insecure_test_key(),
    )
    .expect("open");
    let info = phone
        .sync()
        .join(&url, &code, "phone")
        .await
        .expect("the join itself stands");
    assert!(!info.synced, "the first sync could not reach the relay");
    let why = info.sync_error.expect("the join says why it did not sync");
    assert!(!why.is_empty());
    assert_eq!(info.role, "worker");
    assert_eq!(phone.sync().last_sync_at().expect("read"), None);
    // Nothing was received: the phone does not know its coop's directory yet.
    assert!(phone.directory().coop().is_err());

    // The relay is reachable again (here: at its own address): the next sync completes
    // the join, and the phone's punches reach the coordinator.
    set_relay_url(&phone, &coop.url);
    phone
        .sync()
        .run()
        .await
        .expect("the next sync completes it");
    assert!(phone.sync().last_sync_at().expect("read").is_some());
    assert_eq!(
        phone.directory().coop().expect("directory").name,
        "Riverside Bakery"
    );
    coop.coordinator.sync().run().await.expect("vouch");
    punch_day(&phone, &person, 2);
    phone.sync().run().await.expect("sync");
    coop.coordinator.sync().run().await.expect("sync");
    assert_eq!(punches(&coop.coordinator, &person).len(), 2);
}

#[tokio::test]
async fn a_device_does_not_download_what_it_pushed() {
    let coop = Coop::start(1, 0).await;
    let aisha = &coop.workers[0];
    let link = PoorLink::start(
        relay_addr(&coop),
        LinkShape {
            bytes_per_second: 1 << 30,
            latency: Duration::ZERO,
            cut_after: (Duration::from_secs(600), Duration::from_secs(601)),
            seed: 1,
        },
    )
    .await;
    set_relay_url(&aisha.phone, &link.url());
    // A settled phone (keys known, directory pulled), then a fortnight of punches.
    aisha.phone.sync().run().await.expect("sync");
    for day in 2..=15 {
        punch_day(&aisha.phone, &aisha.person, day);
    }
    let (up, down) = (link.bytes_up(), link.bytes_down());
    let s = aisha.phone.sync().run().await.expect("sync");
    assert_eq!(s.pushed_changes, 28);
    let (up, down) = (link.bytes_up() - up, link.bytes_down() - down);
    // The pushed blob went up once and did not come back down with the pull.
    assert!(
        down * 3 < up,
        "{down} bytes down for {up} bytes up: the phone pulled its own blob back"
    );
    // The coordinator, who did not push it, gets it.
    coop.coordinator.sync().run().await.expect("sync");
    assert_eq!(punches(&coop.coordinator, &aisha.person).len(), 28);
}

/// Copy every file of a (closed) device's home.
fn copy_home(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read home") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

#[tokio::test]
async fn a_device_restored_from_a_backup_gets_back_what_it_pushed_after_the_backup() {
    let coop = Coop::start(0, 1).await;
    let person = coop.kiosk_only[0].1.clone();
    let phone = coop
        .join_device(&worker_grant(&person), "phone-restored")
        .await;
    let home = phone.home().to_path_buf();
    punch_day(&phone, &person, 2);
    phone.sync().run().await.expect("sync");
    drop(phone);
    let backup = coop.root.path().join("backup");
    copy_home(&home, &backup);

    // After the backup: another day, pushed (the relay holds it; the backup does not).
    let phone = Logbook::open(
        &home,
        &logbook_e2e::logbook_core::StoreKey::insecure_test_key(),
    )
    .expect("reopen");
    punch_day(&phone, &person, 3);
    let s = phone.sync().run().await.expect("sync");
    assert_eq!(s.pushed_changes, 2);
    drop(phone);

    // The phone is lost; its owner restores the backup onto a new phone.
    std::fs::remove_dir_all(&home).expect("wipe");
    copy_home(&backup, &home);
    let phone = Logbook::open(
        &home,
        &logbook_e2e::logbook_core::StoreKey::insecure_test_key(),
    )
    .expect("open restored");
    assert_eq!(punches(&phone, &person).len(), 2, "the backup's day only");
    phone.sync().run().await.expect("sync");
    assert_eq!(
        punches(&phone, &person).len(),
        4,
        "what the phone pushed after its backup came back"
    );
    // And a sync after that downloads none of its own blobs again, yet loses nothing.
    phone.sync().run().await.expect("sync");
    assert_eq!(punches(&phone, &person).len(), 4);
}
