//! The relay process is SIGKILLed again and again while devices push; what it
//! acknowledged before each kill is there after the restart, and in the end every punch
//! is at the relay exactly once.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use logbook_e2e::logbook_core::{HourType, Logbook, PunchKind, PunchSource, ShiftStatus};
use logbook_e2e::{
    Coop, RelayProcess, coordinator_grant, create_coop_with_binary, free_port, punches,
    sync_until_ok,
};

/// What a tapping device does: punch for one person, on a phone or at the kiosk.
struct Tapper<'a> {
    name: &'static str,
    book: &'a Logbook,
    person: String,
    pin: Option<String>,
    /// Device time of the first punch; each next one is 30 minutes later.
    base: i64,
}

impl Tapper<'_> {
    fn tap(&self, n: i64) -> String {
        let at = Some(self.base + n * 1800);
        let (kind, ht) = if n % 2 == 0 {
            (PunchKind::ClockIn, Some(HourType::Paid))
        } else {
            (PunchKind::ClockOut, None)
        };
        match &self.pin {
            Some(pin) => self.book.kiosk().punch(&self.person, pin, kind, at, ht),
            None => {
                self.book
                    .timesheets()
                    .punch(&self.person, kind, at, ht, None, PunchSource::Phone)
            }
        }
        .unwrap_or_else(|e| panic!("{}: punch {n}: {e}", self.name))
    }
}

struct Shared {
    stop: AtomicBool,
    /// Per device: the punches covered by a sync that returned Ok.
    acked: Mutex<Vec<BTreeSet<String>>>,
    failed_syncs: AtomicU32,
    retries: AtomicU32,
}

/// Punch three shifts, sync, repeat until told to stop. Returns every punch made.
async fn tapping(i: usize, t: &Tapper<'_>, shared: &Shared) -> Vec<String> {
    let mut made = Vec::new();
    let mut n = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        for _ in 0..6 {
            made.push(t.tap(n));
            n += 1;
        }
        match t.book.sync().run().await {
            Ok(s) => {
                shared.retries.fetch_add(s.retries, Ordering::SeqCst);
                assert_eq!(
                    t.book.sync().pending_changes().expect("pending"),
                    0,
                    "{}: an Ok sync pushed everything",
                    t.name
                );
                shared.acked.lock().expect("lock")[i] = made.iter().cloned().collect();
            }
            Err(_) => {
                shared.failed_syncs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    }
    made
}

async fn restart(data: PathBuf, addr: SocketAddr) -> RelayProcess {
    tokio::task::spawn_blocking(move || RelayProcess::spawn(&data, addr))
        .await
        .expect("restart the relay")
}

fn ids_at(book: &Logbook, person: &str) -> Vec<String> {
    punches(book, person).into_iter().map(|p| p.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_killed_mid_push_loses_nothing_acknowledged() {
    let root = tempfile::tempdir().expect("temporary directory");
    let relay_dir = root.path().join("relay");
    let code = create_coop_with_binary(&relay_dir, "Crash Test Bakery");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let relay = restart(relay_dir.clone(), addr).await;
    let coop = Coop::setup(root, relay_dir.clone(), None, relay.url(), &code, 2, 1).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let (carla, carla_pin) = (&coop.kiosk_only[0].1, &coop.kiosk_only[0].2);
    let base = logbook_e2e::at("2026-09-01T06:00:00Z");
    let tappers = [
        Tapper {
            name: "Aisha's phone",
            book: &aisha.phone,
            person: aisha.person.clone(),
            pin: None,
            base,
        },
        Tapper {
            name: "Ben's phone",
            book: &ben.phone,
            person: ben.person.clone(),
            pin: None,
            base,
        },
        Tapper {
            name: "kiosk",
            book: &coop.kiosk,
            person: carla.clone(),
            pin: Some(carla_pin.clone()),
            base,
        },
    ];
    let shared = Shared {
        stop: AtomicBool::new(false),
        acked: Mutex::new(vec![BTreeSet::new(); tappers.len()]),
        failed_syncs: AtomicU32::new(0),
        retries: AtomicU32::new(0),
    };

    let killer = async {
        let mut relay = relay;
        for cycle in 0..4u64 {
            tokio::time::sleep(Duration::from_millis(500 + 170 * cycle)).await;
            // Everything acknowledged up to now must survive the kill.
            let acked = shared.acked.lock().expect("lock").clone();
            relay.kill();
            // Short outages are bridged by the client's own retries; the last one is
            // long enough that syncs fail and the devices retry later.
            let down = if cycle == 3 { 2500 } else { 150 * cycle };
            tokio::time::sleep(Duration::from_millis(down)).await;
            relay = restart(relay_dir.clone(), addr).await;
            sync_until_ok(&coop.coordinator, Duration::from_secs(10)).await;
            for (t, acked) in tappers.iter().zip(&acked) {
                let held: BTreeSet<String> =
                    ids_at(&coop.coordinator, &t.person).into_iter().collect();
                let lost: Vec<_> = acked.difference(&held).collect();
                assert!(
                    lost.is_empty(),
                    "cycle {cycle}: {} had {} punches acknowledged before the kill; \
                     missing after the restart: {lost:?}",
                    t.name,
                    acked.len()
                );
            }
        }
        shared.stop.store(true, Ordering::SeqCst);
        relay
    };
    let (made_a, made_b, made_k, relay) = tokio::join!(
        tapping(0, &tappers[0], &shared),
        tapping(1, &tappers[1], &shared),
        tapping(2, &tappers[2], &shared),
        killer
    );
    let made = [made_a, made_b, made_k];
    eprintln!(
        "punches made: {:?}; failed syncs: {}; retried requests: {}",
        made.iter().map(Vec::len).collect::<Vec<_>>(),
        shared.failed_syncs.load(Ordering::SeqCst),
        shared.retries.load(Ordering::SeqCst)
    );
    assert!(
        shared.retries.load(Ordering::SeqCst) > 0,
        "the kills interrupted some requests"
    );
    assert!(
        shared.failed_syncs.load(Ordering::SeqCst) > 0,
        "the long outage failed some syncs"
    );

    // Everyone catches up; nothing lost, nothing doubled.
    for t in &tappers {
        sync_until_ok(t.book, Duration::from_secs(10)).await;
        assert_eq!(t.book.sync().pending_changes().expect("pending"), 0);
    }
    sync_until_ok(&coop.coordinator, Duration::from_secs(10)).await;
    for t in &tappers {
        sync_until_ok(t.book, Duration::from_secs(10)).await;
    }
    let fresh = coop
        .join_device(&coordinator_grant(), "fresh-coordinator")
        .await;
    sync_until_ok(&fresh, Duration::from_secs(10)).await;
    for (t, made) in tappers.iter().zip(&made) {
        assert!(made.len() >= 6, "{} made punches", t.name);
        let mut expected = made.clone();
        expected.sort();
        for (who, book) in [("coordinator", &coop.coordinator), ("fresh device", &fresh)] {
            let mut held = ids_at(book, &t.person);
            held.sort();
            assert_eq!(
                held.len(),
                expected.len(),
                "{who}: {}'s punches, no more, no less",
                t.name
            );
            assert_eq!(held, expected, "{who}: {}'s punches", t.name);
            let shifts = book
                .timesheets()
                .shifts(&t.person, None, None)
                .expect("shifts");
            assert_eq!(shifts.len(), made.len() / 2, "{who}: {}", t.name);
            assert!(
                shifts
                    .iter()
                    .all(|s| s.status == ShiftStatus::Complete && s.counted_seconds == 1800),
                "{who}: {}: every shift counted once",
                t.name
            );
            assert!(
                book.timesheets()
                    .ignored_punches(&t.person)
                    .expect("ignored")
                    .is_empty()
            );
        }
        if t.pin.is_none() {
            assert_eq!(
                t.book
                    .timesheets()
                    .shifts(&t.person, None, None)
                    .expect("shifts"),
                coop.coordinator
                    .timesheets()
                    .shifts(&t.person, None, None)
                    .expect("shifts"),
                "{} agrees with the coordinator",
                t.name
            );
        }
    }
    assert_eq!(
        fresh
            .reports()
            .hours("2026-09-01", "2026-12-31")
            .expect("report"),
        coop.coordinator
            .reports()
            .hours("2026-09-01", "2026-12-31")
            .expect("report")
    );
    relay.kill();
}
