//! How many requests a sync that finds nothing new costs, counted from the relay's own
//! per-request log lines (docs/PERFORMANCE.md, end-to-end encryption), and that a key
//! event at the relay still reaches a device that has nothing else to sync.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use logbook_e2e::logbook_core::{HourType, Logbook, PunchKind, PunchSource};
use logbook_e2e::{Coop, at, punches, worker_grant};

/// Collects the relay's log lines.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    /// The routes of the requests answered since the last call.
    fn take_routes(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| l.contains("response"))
            .filter_map(|l| {
                let route = l.split("route=").nth(1)?;
                Some(
                    route
                        .split([' ', '}'])
                        .next()?
                        .trim_matches('"')
                        .to_string(),
                )
            })
            .collect()
    }
}

/// The relay's log lines, captured once for this test binary.
fn relay_lines() -> &'static Lines {
    static LINES: OnceLock<Lines> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines = Lines::default();
        let writer = lines.clone();
        tracing_subscriber::fmt()
            .with_env_filter("tower_http=info,logbook_relay=info")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        lines
    })
}

/// The log is shared by the tests of this binary: they count one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn clock_in(book: &Logbook, person: &str, t: &str) {
    book.timesheets()
        .punch(
            person,
            PunchKind::ClockIn,
            Some(at(t)),
            Some(HourType::Paid),
            None,
            PunchSource::Phone,
        )
        .expect("punch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_finds_nothing_new_is_one_request_whatever_the_number_of_documents() {
    let _one = ONE_AT_A_TIME.lock().await;
    let lines = relay_lines();
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    for round in 0..2 {
        if round == 1 {
            // More documents: a timesheet a month. The count must not follow them.
            for month in 1..=9 {
                clock_in(
                    &aisha.phone,
                    &aisha.person,
                    &format!("2026-0{month}-10T09:00:00Z"),
                );
            }
        }
        for _ in 0..2 {
            for book in [&coop.coordinator, &aisha.phone, &coop.kiosk] {
                book.sync().run().await.expect("sync");
            }
        }
        for (who, book) in [
            ("coordinator", &coop.coordinator),
            ("phone", &aisha.phone),
            ("kiosk", &coop.kiosk),
        ] {
            lines.take_routes();
            book.sync().run().await.expect("sync");
            let routes = lines.take_routes();
            println!("{who}: {} requests: {routes:?}", routes.len());
            assert_eq!(
                routes,
                vec!["/v1/pull".to_string()],
                "{who}: one pull page, no key round (the relay's keys epoch did not move)"
            );
        }
    }
    assert_eq!(
        punches(&coop.coordinator, &aisha.person).len(),
        9,
        "the months' punches reached the coordinator"
    );
    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_joining_makes_the_next_sync_of_the_others_run_the_key_round() {
    let _one = ONE_AT_A_TIME.lock().await;
    let lines = relay_lines();
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    for _ in 0..2 {
        for book in [&coop.coordinator, &aisha.phone, &coop.kiosk] {
            book.sync().run().await.expect("sync");
        }
    }
    // Aisha gets a tablet (the coordinator certifies it as it syncs after the join), and
    // clocks in on it. Her phone has changed nothing: only the relay's keys epoch tells it
    // there is a device to learn before it can trust the tablet's punch.
    let tablet = coop
        .join_device(&worker_grant(&aisha.person), "aisha-tablet")
        .await;
    clock_in(&tablet, &aisha.person, "2026-11-16T07:30:00Z");
    tablet.sync().run().await.expect("tablet sync");

    lines.take_routes();
    let summary = aisha.phone.sync().run().await.expect("phone sync");
    let routes = lines.take_routes();
    println!("phone after the join: {routes:?}");
    assert!(
        routes.iter().any(|r| r == "/v1/keys"),
        "the key event made the phone run the key round: {routes:?}"
    );
    assert_eq!(
        punches(&aisha.phone, &aisha.person).len(),
        1,
        "the phone trusts the tablet and merged its punch in the same sync"
    );
    assert_eq!(summary.dropped_blobs, 0);
    let held: i64 = logbook_core::open_raw_store(
        aisha.phone.home(),
        &logbook_core::StoreKey::insecure_test_key(),
    )
    .expect("open the phone's store")
    .query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))
    .expect("count the quarantine");
    assert_eq!(held, 0, "nothing is left held for a key");

    // Learnt: the next sync is one request again.
    lines.take_routes();
    aisha.phone.sync().run().await.expect("phone sync");
    assert_eq!(lines.take_routes(), vec!["/v1/pull".to_string()]);
    coop.shutdown().await;
}
