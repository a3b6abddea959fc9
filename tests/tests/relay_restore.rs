//! The relay is backed up while devices push, keeps taking pushes after the backup, and
//! is then lost and restored from that backup into a new directory. The devices' cursors
//! point past the restored log's end: they notice the new log generation, pull from the
//! start, push their documents again, and in the end every device (and one that joins
//! after the restore) holds every punch exactly once, including punches made after the
//! restore.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use logbook_e2e::logbook_core::{HourType, Logbook, PunchKind, PunchSource, ShiftStatus};
use logbook_e2e::{Coop, coordinator_grant, free_port, meta, punches, sync_until_ok};
use logbook_relay::RelayConfig;

/// Punches `count` half-hour shifts' worth of in/out taps from `from` on, syncing after
/// every pair. Returns the punch ids.
async fn tap_and_sync(book: &Logbook, person: &str, from: i64, count: i64) -> Vec<String> {
    let base = logbook_e2e::at("2026-10-01T06:00:00Z");
    let mut made = Vec::new();
    for n in from..from + count {
        let (kind, ht) = if n % 2 == 0 {
            (PunchKind::ClockIn, Some(HourType::Paid))
        } else {
            (PunchKind::ClockOut, None)
        };
        let id = book
            .timesheets()
            .punch(
                person,
                kind,
                Some(base + n * 1800),
                ht,
                None,
                PunchSource::Phone,
            )
            .expect("punch");
        made.push(id);
        if n % 2 == 1 {
            sync_until_ok(book, Duration::from_secs(10)).await;
        }
    }
    made
}

fn ids_at(book: &Logbook, person: &str) -> Vec<String> {
    let mut ids: Vec<String> = punches(book, person).into_iter().map(|p| p.id).collect();
    ids.sort();
    ids
}

async fn start_relay(dir: PathBuf, addr: SocketAddr) -> logbook_relay::RunningRelay {
    logbook_relay::start(RelayConfig::new(dir, addr))
        .await
        .expect("start the relay")
}

fn log_end(relay_dir: &std::path::Path) -> u64 {
    let conn = rusqlite::Connection::open(relay_dir.join("relay.sqlite3")).expect("open");
    conn.query_row("SELECT coalesce(max(seq), 0) FROM log", [], |r| {
        r.get::<_, i64>(0)
    })
    .expect("log end") as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_push_back_what_a_restored_relay_lost_and_skip_nothing_new() {
    let root = tempfile::tempdir().expect("temporary directory");
    let relay_dir = root.path().join("relay");
    let restored_dir = root.path().join("relay-restored");
    let backup = root.path().join("relay-backup.sqlite3");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let relay = start_relay(relay_dir.clone(), addr).await;
    let created =
        logbook_relay::admin::create_coop(&relay_dir, "Restore Bakery").expect("create coop");
    let url = relay.url();
    let coop = Coop::setup(
        root,
        relay_dir.clone(),
        None,
        url,
        &created.coordinator_code,
        2,
        0,
    )
    .await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    eprintln!("set up");
    let mut made_a = tap_and_sync(&aisha.phone, &aisha.person, 0, 4).await;
    let mut made_b = tap_and_sync(&ben.phone, &ben.person, 0, 4).await;

    // The backup runs while both phones keep punching and pushing.
    let backup_to = backup.clone();
    let from = relay_dir.clone();
    let (more_a, more_b, info) = tokio::join!(
        tap_and_sync(&aisha.phone, &aisha.person, 4, 12),
        tap_and_sync(&ben.phone, &ben.person, 4, 12),
        async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            tokio::task::spawn_blocking(move || logbook_relay::admin::backup(&from, &backup_to))
                .await
                .expect("backup task")
                .expect("backup while serving")
        }
    );
    eprintln!("backed up under load");
    made_a.extend(more_a);
    made_b.extend(more_b);
    assert!(info.bytes > 0);
    // More after the backup: the relay's log, and every device's cursor, move past the
    // backup's end.
    made_a.extend(tap_and_sync(&aisha.phone, &aisha.person, 16, 4).await);
    made_b.extend(tap_and_sync(&ben.phone, &ben.person, 16, 4).await);
    sync_until_ok(&coop.coordinator, Duration::from_secs(10)).await;
    for book in [&aisha.phone, &ben.phone] {
        sync_until_ok(book, Duration::from_secs(10)).await;
    }
    let old_generation = meta(coop.coordinator.home(), "relay_generation").expect("generation");

    // The relay is lost; the backup is restored into a new directory and served at the
    // same address.
    eprintln!("stopping the relay");
    relay.shutdown().await;
    eprintln!("restoring");
    let restored = logbook_relay::admin::restore(&backup, &restored_dir).expect("restore");
    assert_ne!(restored.generation, old_generation);
    let end = log_end(&restored_dir);
    let cursor: u64 = meta(coop.coordinator.home(), "cursor")
        .and_then(|c| c.parse().ok())
        .expect("cursor");
    assert!(
        cursor > end,
        "the coordinator's cursor {cursor} is past the restored log's end {end}"
    );
    assert!(end > 0, "the backup holds the log as of the backup");
    let relay = start_relay(restored_dir.clone(), addr).await;

    // Ben's phone syncs first: it pushes back what the relay lost; its new punches land
    // at sequence numbers below the coordinator's old cursor, which must not skip them.
    eprintln!("syncing with the restored relay");
    sync_until_ok(&ben.phone, Duration::from_secs(10)).await;
    made_b.extend(tap_and_sync(&ben.phone, &ben.person, 20, 2).await);
    sync_until_ok(&coop.coordinator, Duration::from_secs(10)).await;
    sync_until_ok(&aisha.phone, Duration::from_secs(10)).await;
    made_a.extend(tap_and_sync(&aisha.phone, &aisha.person, 20, 2).await);
    sync_until_ok(&coop.coordinator, Duration::from_secs(10)).await;
    for book in [&aisha.phone, &ben.phone] {
        sync_until_ok(book, Duration::from_secs(10)).await;
        assert_eq!(book.sync().pending_changes().expect("pending"), 0);
        assert_eq!(
            meta(book.home(), "relay_generation").as_deref(),
            Some(restored.generation.as_str()),
            "the device follows the restored relay's generation"
        );
    }
    eprintln!("a fresh device joins");
    let fresh = coop
        .join_device(&coordinator_grant(), "fresh-coordinator")
        .await;
    sync_until_ok(&fresh, Duration::from_secs(10)).await;

    for (person, made) in [(&aisha.person, &made_a), (&ben.person, &made_b)] {
        let expected: BTreeSet<String> = made.iter().cloned().collect();
        assert_eq!(expected.len(), made.len());
        for (who, book) in [("coordinator", &coop.coordinator), ("fresh device", &fresh)] {
            let held = ids_at(book, person);
            assert_eq!(
                held.len(),
                made.len(),
                "{who}: every punch once, no more, no less"
            );
            assert_eq!(held.into_iter().collect::<BTreeSet<_>>(), expected, "{who}");
            let shifts = book
                .timesheets()
                .shifts(person, None, None)
                .expect("shifts");
            assert_eq!(shifts.len(), made.len() / 2, "{who}");
            assert!(
                shifts
                    .iter()
                    .all(|s| s.status == ShiftStatus::Complete && s.counted_seconds == 1800),
                "{who}: every shift counted once"
            );
        }
    }
    // Workers read only their own timesheet: each phone holds all of its own punches.
    assert_eq!(ids_at(&aisha.phone, &aisha.person).len(), made_a.len());
    assert_eq!(ids_at(&ben.phone, &ben.person).len(), made_b.len());
    relay.shutdown().await;
}
