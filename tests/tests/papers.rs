//! The papers across devices: the CPO report is the same on the coordinator's laptop and
//! on the person's own phone (with a phone-and-kiosk double punch counted once); a
//! worker's phone asking for someone else's CPO report, and a kiosk asking for any
//! paper, are refused (Error::Forbidden); so is a worker's phone asking for any of the
//! coordinators' papers (payroll, training matrix, impact summary, head-count and
//! attendance returns). A colleague's payroll number never reaches a worker's phone.

use logbook_e2e::logbook_core::{Error, HourType, PunchKind, PunchSource};
use logbook_e2e::{Coop, at, sqlite_contains};

/// A payroll number no other byte string in the stores is likely to match.
const PAYROLL_NUMBER: &str = "PR-7Q9X-3141";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpo_reports_are_for_the_coordinator_and_the_persons_own_phone_only() {
    let coop = Coop::start(2, 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let (a, b) = (aisha.person.as_str(), ben.person.as_str());
    let coordinator = &coop.coordinator;
    // 40 hours each: other activity cap 30 % = 720 min.
    let order_a = coordinator
        .cpo()
        .set_order(a, 40, "2026-11-02", None)
        .expect("Aisha's order");
    let order_b = coordinator
        .cpo()
        .set_order(b, 40, "2026-11-02", None)
        .expect("Ben's order");
    coordinator
        .directory()
        .set_payroll_number(b, Some(PAYROLL_NUMBER))
        .expect("payroll number");
    coordinator.sync().run().await.expect("coordinator sync");

    // Offline, Aisha taps in on her phone at 09:00 and on the kiosk at 09:01, out on the
    // phone at 13:00 and on the kiosk at 13:01: one session of 240 minutes.
    let phone = &aisha.phone;
    phone.sync().run().await.expect("phone gets her order");
    phone
        .timesheets()
        .punch(
            a,
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:00:00Z")),
            Some(HourType::CpoUnpaidWork),
            None,
            PunchSource::Phone,
        )
        .expect("phone in");
    coop.kiosk
        .kiosk()
        .punch(
            a,
            &aisha.pin,
            PunchKind::ClockIn,
            Some(at("2026-11-16T09:01:00Z")),
            Some(HourType::CpoUnpaidWork),
        )
        .expect("kiosk in");
    phone
        .timesheets()
        .punch(
            a,
            PunchKind::ClockOut,
            Some(at("2026-11-16T13:00:00Z")),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("phone out");
    coop.kiosk
        .kiosk()
        .punch(
            a,
            &aisha.pin,
            PunchKind::ClockOut,
            Some(at("2026-11-16T13:01:00Z")),
            None,
        )
        .expect("kiosk out");
    coop.kiosk.sync().run().await.expect("kiosk sync");
    phone.sync().run().await.expect("phone sync");
    coordinator.sync().run().await.expect("coordinator sync");
    phone.sync().run().await.expect("phone sync again");

    let on_laptop = coordinator
        .reports()
        .cpo_report(a, &order_a)
        .expect("the coordinator's paper");
    assert_eq!(on_laptop.sessions.len(), 1, "{:?}", on_laptop.sessions);
    let s = &on_laptop.sessions[0];
    assert_eq!(
        (s.date.as_str(), s.start.as_str(), s.end.as_str(), s.minutes),
        ("2026-11-16", "09:00", "13:00", 240)
    );
    // 2400 - 240 = 2160 left.
    assert_eq!(on_laptop.progress.left_minutes, 2160);
    let on_phone = phone
        .reports()
        .cpo_report(a, &order_a)
        .expect("her own paper on her own phone");
    assert_eq!(on_phone, on_laptop);
    assert!(
        phone
            .reports()
            .cpo_report_pdf(a, &order_a)
            .expect("her own PDF")
            .starts_with(b"%PDF-")
    );

    // Ben's payroll number is on the coordinator's laptop (a positive control: it is
    // stored as plain bytes, so the scan means something) and nowhere on Aisha's phone:
    // it lives in Ben's profile, which only coordinators and Ben receive.
    let db = |home: &std::path::Path| home.join("logbook.sqlite3");
    assert!(!sqlite_contains(&db(coordinator.home()), PAYROLL_NUMBER.as_bytes()).is_empty());
    assert_eq!(
        sqlite_contains(&db(phone.home()), PAYROLL_NUMBER.as_bytes()),
        Vec::<std::path::PathBuf>::new(),
        "a colleague's payroll number reached a worker's phone"
    );
    assert!(
        !phone
            .export_chunks()
            .expect("chunks")
            .iter()
            .any(|(doc, _)| doc == &format!("records:{b}/profile")),
        "Ben's profile reached Aisha's phone"
    );
    assert_eq!(
        coordinator
            .directory()
            .payroll_number(b)
            .expect("the coordinator reads it")
            .as_deref(),
        Some(PAYROLL_NUMBER)
    );

    // Someone else's order, from Aisha's phone: refused.
    for result in [
        phone.reports().cpo_report(b, &order_b).map(|_| ()),
        phone.reports().cpo_report_csv(b, &order_b).map(|_| ()),
        phone.reports().cpo_report_pdf(b, &order_b).map(|_| ()),
        phone
            .reports()
            .payroll("2026-11-01", "2026-11-30")
            .map(|_| ()),
        phone.directory().set_payroll_number(a, Some("X1")),
        phone.directory().payroll_number(b).map(|_| ()),
        phone.reports().training_matrix_csv(30).map(|_| ()),
        phone.reports().training_matrix_pdf(30).map(|_| ()),
        phone
            .reports()
            .impact("2026-11-01", "2026-11-30")
            .map(|_| ()),
        phone
            .reports()
            .impact_json("2026-11-01", "2026-11-30")
            .map(|_| ()),
        phone
            .reports()
            .impact_pdf("2026-11-01", "2026-11-30")
            .map(|_| ()),
        phone.reports().headcount(2026).map(|_| ()),
        phone.reports().headcount_csv(2026).map(|_| ()),
        phone.reports().headcount_text(2026).map(|_| ()),
        phone.reports().attendance("2026-11").map(|_| ()),
        phone.reports().attendance_csv("2026-11").map(|_| ()),
        phone.reports().payroll_for_period(None).map(|_| ()),
    ] {
        assert!(matches!(result, Err(Error::Forbidden(_))), "{result:?}");
    }
    // The kiosk: no paper at all, not even for someone on its roster.
    let kiosk = &coop.kiosk;
    for result in [
        kiosk.reports().cpo_report(a, &order_a).map(|_| ()),
        kiosk.reports().cpo_report_csv(a, &order_a).map(|_| ()),
        kiosk.reports().cpo_report_pdf(b, &order_b).map(|_| ()),
        kiosk
            .reports()
            .payroll("2026-11-01", "2026-11-30")
            .map(|_| ()),
        kiosk
            .reports()
            .payroll_csv("2026-11-01", "2026-11-30")
            .map(|_| ()),
        kiosk.reports().training_matrix_csv(30).map(|_| ()),
        kiosk.reports().training_matrix_pdf(30).map(|_| ()),
        kiosk
            .reports()
            .impact_json("2026-11-01", "2026-11-30")
            .map(|_| ()),
        kiosk
            .reports()
            .impact_pdf("2026-11-01", "2026-11-30")
            .map(|_| ()),
        kiosk.reports().headcount_csv(2026).map(|_| ()),
        kiosk.reports().headcount_text(2026).map(|_| ()),
        kiosk.reports().attendance_csv("2026-11").map(|_| ()),
        kiosk.reports().payroll_for_period(None).map(|_| ()),
    ] {
        assert!(matches!(result, Err(Error::Forbidden(_))), "{result:?}");
    }

    // The coordinator's payroll: Aisha's week of 16 Nov is not approved yet.
    let payroll = coordinator
        .reports()
        .payroll("2026-11-01", "2026-11-30")
        .expect("payroll");
    assert!(payroll.rows.is_empty());
    assert_eq!(payroll.not_approved.len(), 1);
    assert_eq!(payroll.not_approved[0].week_start, "2026-11-16");
    assert_eq!(payroll.not_approved[0].minutes.cpo_unpaid_work, 240);
    coop.shutdown().await;
}

/// Retention on the coordinator's laptop erases a spent order without anyone asking for
/// it, and the erasure reaches the person's phone through the relay, as a manual purge
/// does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_order_is_erased_by_retention_and_leaves_the_persons_phone_too() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let a = aisha.person.as_str();
    let coordinator = &coop.coordinator;
    let order = coordinator
        .cpo()
        .set_order(a, 40, "2024-01-08", None)
        .expect("an old order");
    coordinator.sync().run().await.expect("coordinator sync");
    aisha
        .phone
        .sync()
        .run()
        .await
        .expect("phone gets her order");
    assert_eq!(aisha.phone.cpo().orders(a).expect("orders").len(), 1);

    // Her phone may not erase it: retention there leaves her order alone.
    assert!(aisha.phone.retention().plan().expect("plan").is_empty());
    // The coordinator records that the conviction was spent on 1 March 2025: due.
    coordinator
        .cpo()
        .set_spent_on(a, &order, Some("2025-03-01"))
        .expect("spent date");
    let plan = coordinator.retention().plan().expect("plan");
    assert_eq!(plan.len(), 1);
    assert_eq!(
        (plan[0].kind.as_str(), plan[0].erase_on.as_str()),
        ("cpo_order", "2025-03-01")
    );
    assert_eq!(coordinator.retention().run().expect("run"), 1);
    assert!(coordinator.cpo().orders(a).expect("orders").is_empty());
    coordinator
        .sync()
        .run()
        .await
        .expect("the erasure goes to the relay");
    aisha.phone.sync().run().await.expect("phone hears of it");
    assert!(aisha.phone.cpo().orders(a).expect("orders").is_empty());
    assert!(
        !aisha
            .phone
            .export_chunks()
            .expect("chunks")
            .iter()
            .any(|(doc, _)| doc.starts_with(&format!("records:{a}/cpo/"))),
        "the order's history is gone from her phone"
    );
    coop.shutdown().await;
}
