//! Screen-model timings (docs/PERFORMANCE.md, "Screen models"). A plain binary: it
//! prints p50 / p99 (and the max) of each measurement.
//!
//! 1. Kiosk tap: from the name tapped and the PIN typed to the confirmation state, the
//!    PIN check (argon2) and the write's fsync included; a real SQLite store on disk.
//! 2. Screen update after a local write: from the write's start until a subscribed
//!    worker home screen has the new state.
//! 3. Screen update after a sync that brings 100 changes: from the sync's start until the
//!    subscribed screen has them; a real relay on 127.0.0.1 (logbook-e2e).
//!
//! `cargo bench -p logbook-screens` (release), or `cargo test -p logbook-screens --bench
//! screens -- --bench` (dev profile, as docs/PERFORMANCE.md records). Without `--bench`
//! (plain `cargo test --benches`) it runs a few rounds only. ROUNDS_KIOSK / ROUNDS_SYNC
//! change the sample counts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logbook_core::{Logbook, ManualClock, PersonRole, PunchKind, PunchSource};
use logbook_screens::kiosk::{KioskConfig, KioskScreen, KioskStage};
use logbook_screens::worker::{DayStatus, WorkerHomeScreen, WorkerHomeState};

const T0: i64 = 1_795_000_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i.min(samples.len() - 1)]
    };
    println!(
        "{what}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        pick(0.50).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

fn kiosk_tap(rounds: usize) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = ManualClock::at(T0);
    let lb = Arc::new(
        Logbook::open_with_clock(
            dir.path(),
            &logbook_core::StoreKey::insecure_test_key(),
            clock.clone(),
        )
        .expect("open"),
    );
    lb.directory().init("Bench", "Europe/London").expect("init");
    let site = lb.directory().add_site("Bakery").expect("site");
    let mut people = Vec::new();
    for i in 0..12 {
        let p = lb
            .directory()
            .add_person(
                &format!("Person {i}"),
                &[PersonRole::Worker],
                std::slice::from_ref(&site),
                false,
            )
            .expect("person");
        lb.directory().set_pin(&p, "1357").expect("PIN");
        people.push(p);
    }
    let kiosk = KioskScreen::new(
        lb.clone(),
        KioskConfig {
            site_id: Some(site),
            ..KioskConfig::default()
        },
    )
    .expect("kiosk");
    let mut samples = Vec::with_capacity(rounds);
    for r in 0..rounds {
        let person = &people[r % people.len()];
        // Each person alternates in and out, a minute apart: every tap is a real one.
        let kind = if (r / people.len()) % 2 == 0 {
            PunchKind::ClockIn
        } else {
            PunchKind::ClockOut
        };
        clock.advance(60);
        let started = Instant::now();
        kiosk.pick_person(person);
        for d in [1, 3, 5, 7] {
            kiosk.digit(d);
        }
        kiosk.act(kind);
        let elapsed = started.elapsed();
        assert!(
            matches!(kiosk.state().stage, KioskStage::Done { .. }),
            "round {r}: {:?}",
            kiosk.state().stage
        );
        samples.push(elapsed);
        kiosk.back_to_tiles();
    }
    report("kiosk tap, PIN to confirmation (fsync)", samples);
}

/// The last state a listener heard, and when.
type Heard = Arc<Mutex<Option<(Instant, WorkerHomeState)>>>;

fn listen(home: &WorkerHomeScreen) -> (Heard, logbook_screens::ScreenSubscription) {
    let heard: Heard = Arc::default();
    let h = heard.clone();
    let sub = home.subscribe(Arc::new(move |s: WorkerHomeState| {
        *h.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), s));
    }));
    (heard, sub)
}

fn heard_when(heard: &Heard, ok: impl Fn(&WorkerHomeState) -> bool) -> Option<Instant> {
    heard
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .filter(|(_, s)| ok(s))
        .map(|(t, _)| *t)
}

fn update_after_local_write(rounds: usize) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = ManualClock::at(T0);
    let lb = Arc::new(
        Logbook::open_with_clock(
            dir.path(),
            &logbook_core::StoreKey::insecure_test_key(),
            clock.clone(),
        )
        .expect("open"),
    );
    lb.directory().init("Bench", "Europe/London").expect("init");
    let person = lb
        .directory()
        .add_person("Aisha", &[PersonRole::Worker], &[], false)
        .expect("person");
    let home = WorkerHomeScreen::new(lb.clone(), Some(person.clone())).expect("home");
    let (heard, _sub) = listen(&home);
    let mut samples = Vec::with_capacity(rounds);
    for r in 0..rounds {
        clock.advance(600);
        let (kind, want) = if r % 2 == 0 {
            (PunchKind::ClockIn, DayStatus::OnShift)
        } else {
            (PunchKind::ClockOut, DayStatus::OffShift)
        };
        let started = Instant::now();
        lb.timesheets()
            .punch(&person, kind, None, None, None, PunchSource::Phone)
            .expect("punch");
        let at = heard_when(&heard, |s| s.today.status == want).expect("the screen heard it");
        samples.push(at - started);
    }
    report(
        "screen update after a local write (tap, fsync included)",
        samples,
    );
}

fn update_after_sync(rounds: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let coop = logbook_e2e::Coop::start(1, 0).await;
        let person = coop.workers[0].person.clone();
        let code = coop
            .coordinator
            .sync()
            .invite(logbook_e2e::worker_grant(&person), None)
            .await
            .expect("invite")
            .code;
        let phone = Arc::new(
            Logbook::open(
                coop.root.path().join("bench-phone"),
                &logbook_core::StoreKey::insecure_test_key(),
            )
            .expect("open"),
        );
        phone
            .sync()
            .join(&coop.url, &code, "bench-phone")
            .await
            .expect("join");
        let home = WorkerHomeScreen::new(phone.clone(), None).expect("home");
        let (heard, _sub) = listen(&home);
        let mut samples = Vec::with_capacity(rounds);
        // 50 past shifts a round (100 punches), each round on its own days.
        let start = jiff::Timestamp::now().as_second() - 400 * 86_400;
        for r in 0..rounds {
            let base = start + (r as i64) * 60 * 86_400;
            for d in 0..50 {
                let at = base + d * 86_400;
                for (kind, t) in [(PunchKind::ClockIn, at), (PunchKind::ClockOut, at + 3600)] {
                    coop.coordinator
                        .timesheets()
                        .punch(&person, kind, Some(t), None, None, PunchSource::Coordinator)
                        .expect("punch");
                }
            }
            coop.coordinator
                .sync()
                .run()
                .await
                .expect("coordinator sync");
            let want = (r + 1) * 50;
            let started = Instant::now();
            assert!(home.sync().await, "the relay is up");
            let shifts = phone
                .timesheets()
                .shifts(&person, None, None)
                .expect("shifts");
            assert!(shifts.len() >= want, "round {r}: {} shifts", shifts.len());
            let at = heard_when(&heard, |s| s.sync.pending_changes == 0).expect("heard");
            samples.push(at.max(started) - started);
        }
        report(
            "screen update after a sync bringing 100 changes (pull + merge + reload)",
            samples,
        );
        coop.shutdown().await;
    });
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that run short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let kiosk_rounds = env_usize("ROUNDS_KIOSK", if quick { 5 } else { 200 });
    let sync_rounds = env_usize("ROUNDS_SYNC", if quick { 1 } else { 20 });
    kiosk_tap(kiosk_rounds);
    update_after_local_write(kiosk_rounds);
    update_after_sync(sync_rounds);
}
