//! The papers across devices: the CPO report is the same on the coordinator's laptop and
//! on the person's own phone (with a phone-and-kiosk double punch counted once); a
//! worker's phone asking for someone else's CPO report, and a kiosk asking for any
//! paper, are refused (Error::Forbidden).

use logbook_e2e::logbook_core::{Error, HourType, PunchKind, PunchSource};
use logbook_e2e::{Coop, at};

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
        .set_payroll_number(b, Some("PR-7"))
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
