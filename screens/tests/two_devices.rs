//! Screens on real devices around a real relay (on 127.0.0.1, from logbook-e2e): another
//! device's change reaches a subscribed screen through a sync, and the kiosk's offline
//! badge appears when the relay goes away.

use std::sync::{Arc, Mutex};

use logbook_core::{Logbook, PersonRole, PunchKind};
use logbook_e2e::{Coop, kiosk_grant, worker_grant};
use logbook_protocol::Grant;
use logbook_screens::keys;
use logbook_screens::kiosk::{KioskConfig, KioskScreen, KioskStage, KioskState};
use logbook_screens::worker::{DayStatus, WorkerHomeScreen, WorkerHomeState};

/// The coordinator invites a device, which joins and syncs once (the coordinator then
/// syncs too: `Coop::join_device`). Shared (`Arc`) because a screen model holds its logbook.
async fn join(coop: &Coop, grant: Grant, name: &str) -> Arc<Logbook> {
    Arc::new(coop.join_device(&grant, name).await)
}

/// Every state a listener heard, in order.
type Heard<S> = Arc<Mutex<Vec<S>>>;

fn recorder<S: Clone + Send + 'static>() -> (Heard<S>, Arc<dyn Fn(S) + Send + Sync>) {
    let heard: Heard<S> = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    (
        heard,
        Arc::new(move |s: S| h.lock().unwrap_or_else(|e| e.into_inner()).push(s)),
    )
}

fn last<S: Clone>(heard: &Mutex<Vec<S>>) -> S {
    heard
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .last()
        .cloned()
        .expect("a state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_device_s_changes_reach_subscribed_screens_through_sync() {
    let mut coop = Coop::start(1, 0).await;
    let aisha = coop.workers[0].person.clone();
    let pin = coop.workers[0].pin.clone();

    let kiosk_book = join(&coop, kiosk_grant(&coop.site), "counter-kiosk").await;
    let kiosk = KioskScreen::new(kiosk_book.clone(), KioskConfig::default()).expect("kiosk");
    let (kiosk_heard, listener) = recorder::<KioskState>();
    let _kiosk_sub = kiosk.subscribe(Arc::new(move |s: KioskState| listener(s)));
    let names = |s: &KioskState| s.people.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&last(&kiosk_heard)), ["Aisha"]);

    // The coordinator adds a name on their device; the kiosk's sync brings it.
    let ben = coop
        .coordinator
        .directory()
        .add_person(
            "Ben",
            &[PersonRole::Worker],
            std::slice::from_ref(&coop.site),
            false,
        )
        .expect("person");
    coop.coordinator
        .directory()
        .set_pin(&ben, "2468")
        .expect("PIN");
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    assert!(kiosk.sync().await, "the relay is up");
    assert_eq!(names(&last(&kiosk_heard)), ["Aisha", "Ben"]);

    // Aisha's phone hears her kiosk tap once both have synced.
    let phone_book = join(&coop, worker_grant(&aisha), "aisha-second-phone").await;
    let home = WorkerHomeScreen::new(phone_book.clone(), None).expect("home");
    let (home_heard, listener) = recorder::<WorkerHomeState>();
    let _home_sub = home.subscribe(Arc::new(move |s: WorkerHomeState| listener(s)));
    assert_eq!(last(&home_heard).today.status, DayStatus::OffShift);
    kiosk.pick_person(&aisha);
    for d in pin.bytes() {
        kiosk.digit(d - b'0');
    }
    kiosk.act(PunchKind::ClockIn);
    assert!(matches!(last(&kiosk_heard).stage, KioskStage::Done { .. }));
    assert!(kiosk.sync().await);
    assert_eq!(
        last(&kiosk_heard).pending_taps,
        0,
        "the relay holds the tap"
    );
    assert!(home.sync().await);
    let today = last(&home_heard).today;
    assert_eq!(today.status, DayStatus::OnShift);
    assert_eq!(today.primary.action, PunchKind::ClockOut);

    // The relay goes away: the next tap waits, and the badge says how many.
    if let Some(relay) = coop.relay.take() {
        relay.shutdown().await;
    }
    kiosk.back_to_tiles();
    kiosk.pick_person(&ben);
    for d in [2, 4, 6, 8] {
        kiosk.digit(d);
    }
    kiosk.act(PunchKind::ClockIn);
    assert!(!kiosk.sync().await, "the relay is down");
    let state = last(&kiosk_heard);
    assert!(state.offline);
    assert!(state.pending_taps > 0);
    let badge = state.badge.expect("the offline badge");
    assert_eq!(badge.key, keys::OFFLINE_WAITING);
    assert_eq!(
        badge.get("count"),
        Some(state.pending_taps.to_string().as_str())
    );
}
