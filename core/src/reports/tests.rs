//! The papers over a scripted month (November 2026, Europe/London, which is UTC then):
//! a forgotten clock-out corrected, a duplicate punch, a week not approved, and a CPO
//! order whose other activity passed its cap. Every figure is worked out by hand below.

use std::path::PathBuf;
use std::process::Command;

use crate::clock::ManualClock;
use crate::logbook::Logbook;
use crate::model::{HourType, Punch, PunchKind, PunchSource};
use crate::timesheets::ShiftCorrection;

fn t(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("instant").as_second()
}

fn shift(lb: &Logbook, p: &str, from: &str, to: &str, ht: HourType) -> String {
    let ts = lb.timesheets();
    let id = ts
        .punch(
            p,
            PunchKind::ClockIn,
            Some(t(from)),
            Some(ht),
            None,
            PunchSource::Coordinator,
        )
        .expect("clock in");
    ts.punch(
        p,
        PunchKind::ClockOut,
        Some(t(to)),
        None,
        None,
        PunchSource::Coordinator,
    )
    .expect("clock out");
    id
}

struct Month {
    _dir: tempfile::TempDir,
    lb: Logbook,
    ann: String,
    bob: String,
    order: String,
}

/// Ann is on a 40-hour CPO from Monday 2 November (deadline by default 2 February 2027;
/// other activity cap 30 % of 40 h = 12 h = 720 min) and works one paid morning; Bob is
/// paid and volunteers. "Today" is Tuesday 1 December 2026, 12:00.
fn month() -> Month {
    let dir = tempfile::tempdir().expect("tempdir");
    let lb = Logbook::open_with_clock(
        dir.path(),
        &crate::StoreKey::insecure_test_key(),
        ManualClock::at(t("2026-12-01T12:00:00Z")),
    )
    .expect("open");
    lb.directory()
        .init("Riverside Café", "Europe/London")
        .expect("init");
    let ann = lb
        .directory()
        .add_person("Ann", &[], &[], true)
        .expect("ann");
    let bob = lb
        .directory()
        .add_person("Bob", &[], &[], false)
        .expect("bob");
    lb.directory()
        .set_payroll_number(&bob, Some(" PR-0042 "))
        .expect("payroll number");
    let order = lb
        .cpo()
        .set_order(&ann, 40, "2026-11-02", None)
        .expect("order");

    // Ann. Sunday 1 Nov, before the order starts: 2 h unpaid work that is not the order's.
    shift(
        &lb,
        &ann,
        "2026-11-01T10:00:00Z",
        "2026-11-01T12:00:00Z",
        HourType::CpoUnpaidWork,
    );
    // Mon 2 Nov 09:00-14:00 unpaid work: 300 min.
    shift(
        &lb,
        &ann,
        "2026-11-02T09:00:00Z",
        "2026-11-02T14:00:00Z",
        HourType::CpoUnpaidWork,
    );
    // Tue 3 Nov other activity from 09:00, clock-out forgotten: needs review, counts 0 ...
    let forgotten = lb
        .timesheets()
        .punch(
            &ann,
            PunchKind::ClockIn,
            Some(t("2026-11-03T09:00:00Z")),
            Some(HourType::CpoOtherActivity),
            None,
            PunchSource::Coordinator,
        )
        .expect("clock in");
    // Wed 4 Nov 09:00-15:00 other activity: 360 min; a kiosk's clock-in at 09:05 comes in
    // too (imported below) and is a duplicate, counted as nothing.
    shift(
        &lb,
        &ann,
        "2026-11-04T09:00:00Z",
        "2026-11-04T15:00:00Z",
        HourType::CpoOtherActivity,
    );
    lb.timesheets()
        .import_punches(&[Punch {
            id: "u-0000000000010000dup1".into(),
            person_id: ann.clone(),
            kind: PunchKind::ClockIn,
            at: t("2026-11-04T09:05:00Z"),
            device: "kiosk".into(),
            source: PunchSource::Kiosk,
            hour_type: HourType::CpoOtherActivity,
            site_id: None,
        }])
        .expect("import the duplicate");
    // Mon 9 Nov 09:00-16:00 other activity: 420 min (now past the cap).
    shift(
        &lb,
        &ann,
        "2026-11-09T09:00:00Z",
        "2026-11-09T16:00:00Z",
        HourType::CpoOtherActivity,
    );
    // Thu 12 Nov 10:00:00-13:20:30 unpaid work: 200 min 30 s.
    shift(
        &lb,
        &ann,
        "2026-11-12T10:00:00Z",
        "2026-11-12T13:20:30Z",
        HourType::CpoUnpaidWork,
    );
    // Fri 13 Nov 09:00-12:00 paid: 180 min (payroll only, never on the CPO paper).
    shift(
        &lb,
        &ann,
        "2026-11-13T09:00:00Z",
        "2026-11-13T12:00:00Z",
        HourType::Paid,
    );

    // ... until the coordinator corrects it to end at 13:30: 270 min.
    let shift_id = lb
        .timesheets()
        .shifts(&ann, Some("2026-11-03"), Some("2026-11-03"))
        .expect("shifts")
        .into_iter()
        .find(|s| s.start == t("2026-11-03T09:00:00Z"))
        .expect("the forgotten shift")
        .id;
    assert!(forgotten.starts_with("u-"));
    lb.timesheets()
        .correct_shift(
            &shift_id,
            ShiftCorrection {
                start: None,
                end: Some(t("2026-11-03T13:30:00Z")),
                hour_type: None,
                break_seconds: None,
                void: false,
                reason: "forgot to clock out".into(),
            },
        )
        .expect("correct");

    // Bob. Mon 2 Nov 08:00-16:00 with a 30 min break: 450 min paid.
    let ts = lb.timesheets();
    ts.punch(
        &bob,
        PunchKind::ClockIn,
        Some(t("2026-11-02T08:00:00Z")),
        Some(HourType::Paid),
        None,
        PunchSource::Coordinator,
    )
    .expect("in");
    ts.punch(
        &bob,
        PunchKind::BreakStart,
        Some(t("2026-11-02T12:00:00Z")),
        None,
        None,
        PunchSource::Coordinator,
    )
    .expect("break");
    ts.punch(
        &bob,
        PunchKind::BreakEnd,
        Some(t("2026-11-02T12:30:00Z")),
        None,
        None,
        PunchSource::Coordinator,
    )
    .expect("break end");
    ts.punch(
        &bob,
        PunchKind::ClockOut,
        Some(t("2026-11-02T16:00:00Z")),
        None,
        None,
        PunchSource::Coordinator,
    )
    .expect("out");
    // Sat 7 Nov 10:00-12:00 volunteer: 120 min.
    shift(
        &lb,
        &bob,
        "2026-11-07T10:00:00Z",
        "2026-11-07T12:00:00Z",
        HourType::Volunteer,
    );
    // Tue 10 Nov 08:00:00-12:00:45 paid: 240 min 45 s.
    shift(
        &lb,
        &bob,
        "2026-11-10T08:00:00Z",
        "2026-11-10T12:00:45Z",
        HourType::Paid,
    );
    // Wed 18 Nov 08:00-12:00 paid: 240 min, in a week nobody approved.
    shift(
        &lb,
        &bob,
        "2026-11-18T08:00:00Z",
        "2026-11-18T12:00:00Z",
        HourType::Paid,
    );

    // The weeks of 2 and 9 November are approved (the second also locked); the week of
    // 26 October (Ann's Sunday) and of 16 November (Bob's Wednesday) are not.
    lb.timesheets()
        .review_week("2026-11-04", &[], false)
        .expect("approve");
    lb.timesheets()
        .review_week("2026-11-10", &[], false)
        .expect("approve");
    lb.timesheets()
        .review_week("2026-11-10", &[], true)
        .expect("lock");
    Month {
        _dir: dir,
        lb,
        ann,
        bob,
        order,
    }
}

#[test]
fn the_cpo_report_holds_the_orders_sessions_and_figures() {
    let m = month();
    let r = m.lb.reports().cpo_report(&m.ann, &m.order).expect("report");
    let p = &r.progress;
    assert_eq!(r.person_name, "Ann");
    assert_eq!(r.level, "up to 100 hours");
    assert_eq!(r.as_of, "2026-12-01");
    assert_eq!(
        (p.start_date.as_str(), p.deadline.as_str()),
        ("2026-11-02", "2027-02-02")
    );
    let sessions: Vec<(&str, &str, &str, u32, HourType)> = r
        .sessions
        .iter()
        .map(|s| {
            (
                s.date.as_str(),
                s.start.as_str(),
                s.end.as_str(),
                s.minutes,
                s.hour_type,
            )
        })
        .collect();
    assert_eq!(
        sessions,
        vec![
            ("2026-11-02", "09:00", "14:00", 300, HourType::CpoUnpaidWork),
            (
                "2026-11-03",
                "09:00",
                "13:30",
                270,
                HourType::CpoOtherActivity
            ),
            (
                "2026-11-04",
                "09:00",
                "15:00",
                360,
                HourType::CpoOtherActivity
            ),
            (
                "2026-11-09",
                "09:00",
                "16:00",
                420,
                HourType::CpoOtherActivity
            ),
            ("2026-11-12", "10:00", "13:20", 200, HourType::CpoUnpaidWork),
        ],
        "no Sunday before the start, no paid morning, the duplicate counted once"
    );
    // Unpaid work: 300 min + 200 min 30 s = 30 030 s -> 500 min.
    assert_eq!(p.unpaid_work_minutes, 500);
    // Other activity: 270 + 360 + 420 = 1050 min, of which the cap lets 720 count.
    assert_eq!(p.other_activity_minutes, 1050);
    assert_eq!(p.other_activity_cap_minutes, 720);
    assert_eq!(p.other_activity_counted_minutes, 720);
    // Done: 500 + 720 = 1220 min; left: 40 h = 2400 - 1220 = 1180 min (19:40).
    assert_eq!(p.done_minutes, 1220);
    assert_eq!(p.left_minutes, 1180);
    // 1 Dec -> 2 Feb: 30 (rest of Dec) + 31 (Jan) + 2 = 63 days.
    assert_eq!(p.days_to_deadline, 63);
    // Pace: 29 of 92 days gone, 2400 * 29 / 92 = 756 min due; 1220 done: on track.
    assert!(p.on_track);
    assert!(!p.complete);

    let csv =
        m.lb.reports()
            .cpo_report_csv(&m.ann, &m.order)
            .expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], super::CPO_CSV_HEADER);
    let order = &m.order;
    let ann = &m.ann;
    let tail = "500,1050,720,720,1220,1180,63,yes";
    let head = format!("{order},{ann},Ann,40,up to 100 hours,2026-11-02,2027-02-02,2026-12-01");
    assert_eq!(
        lines[1],
        format!("session,{head},2026-11-02,09:00,14:00,cpo_unpaid_work,300,{tail}")
    );
    assert_eq!(
        lines[4],
        format!("session,{head},2026-11-09,09:00,16:00,cpo_other_activity,420,{tail}")
    );
    // The total row: 300 + 270 + 360 + 420 + 200 = 1550 session minutes.
    assert_eq!(lines[6], format!("total,{head},,,,,1550,{tail}"));
    assert_eq!(lines.len(), 7);

    let text = pdf_text(
        &m.lb
            .reports()
            .cpo_report_pdf(&m.ann, &m.order)
            .expect("pdf"),
        "core-cpo-report",
    );
    for needle in [
        "Community Payback Order: progress report",
        "Riverside Café",
        "Person: Ann",
        "Hours ordered: 40 (up to 100 hours)",
        "Start: 2026-11-02",
        "Deadline: 2027-02-02",
        "2026-11-03",
        "13:30",
        "4:30",
        "other activity",
        "Unpaid work: 8:20",
        "Other activity: 17:30 done, 12:00 counted (cap 12:00",
        "Hours completed: 20:20 of 40:00",
        "Hours left: 19:40",
        "Days to the deadline: 63",
        "On track: yes",
        "Placement supervisor",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not in the PDF text:\n{text}"
        );
    }
    for absent in ["Bob", "2026-11-01", "2026-11-13"] {
        assert!(
            !text.contains(absent),
            "{absent:?} must not be on the CPO paper"
        );
    }
}

#[test]
fn the_payroll_export_counts_approved_weeks_and_lists_the_rest() {
    let m = month();
    let r =
        m.lb.reports()
            .payroll("2026-11-01", "2026-11-30")
            .expect("payroll");
    let (ann, bob) = (&m.ann, &m.bob);
    let csv =
        m.lb.reports()
            .payroll_csv("2026-11-01", "2026-11-30")
            .expect("csv");
    assert_eq!(
        csv,
        format!(
            "{}\n\
             approved,{ann},Ann,,,180,0,500,1050,0\n\
             approved,{bob},Bob,PR-0042,,690,120,0,0,0\n\
             not_approved,{ann},Ann,,2026-10-26,0,0,120,0,0\n\
             not_approved,{bob},Bob,PR-0042,2026-11-16,240,0,0,0,0\n",
            super::PAYROLL_CSV_HEADER
        ),
        // Ann: paid 180 (Fri 13th); unpaid work 300 + 200 min 30 s = 30 030 s -> 500;
        // other activity 270 + 360 + 420 = 1050 (payroll shows what was done; the CPO
        // cap is the CPO paper's business). Her Sunday 1 Nov (120 min unpaid work) is in
        // the week of 26 Oct, not approved.
        // Bob: paid 450 min (8 h less a 30 min break) + 240 min 45 s = 41 445 s -> 690;
        // volunteer 120; Wed 18 Nov (240 min) is in the week of 16 Nov, not approved.
    );
    assert_eq!(r.not_approved.len(), 2);
    assert_eq!(r.rows[1].payroll_number.as_deref(), Some("PR-0042"));
}

#[test]
fn papers_for_a_worker_and_a_kiosk_are_refused_and_bad_input_is_invalid() {
    let m = month();
    assert!(matches!(
        m.lb.reports().cpo_report(&m.ann, "o-nope"),
        Err(crate::Error::NotFound(_))
    ));
    assert!(matches!(
        m.lb.reports().cpo_report(&m.bob, &m.order),
        Err(crate::Error::NotFound(_))
    ));
    assert!(matches!(
        m.lb.reports().payroll("2026-11-30", "2026-11-01"),
        Err(crate::Error::Invalid(_))
    ));
    assert!(matches!(
        m.lb.directory().set_payroll_number(&m.ann, Some("  ")),
        Err(crate::Error::Invalid(_))
    ));
    m.lb.directory()
        .set_payroll_number(&m.bob, None)
        .expect("clear");
    assert_eq!(m.lb.directory().payroll_number(&m.bob).expect("read"), None);
}

/// Where the rendered papers are kept: `$CARGO_TARGET_DIR/papers`, else `target/papers`.
pub(crate) fn papers_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("papers");
    std::fs::create_dir_all(&dir).expect("create target/papers");
    dir
}

/// Write the PDF under target/papers, render every page with `pdftoppm -png` and return
/// its text from `pdftotext -layout`. Fails (never skips) without poppler-utils.
pub(crate) fn pdf_text(pdf: &[u8], name: &str) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = papers_dir();
    let path = dir.join(format!("{name}.pdf"));
    // Pages of an earlier run must not pass for this one's.
    for e in std::fs::read_dir(&dir)
        .expect("read target/papers")
        .flatten()
    {
        let n = e.file_name().to_string_lossy().to_string();
        if n.starts_with(&format!("{name}-")) && n.ends_with(".png") {
            std::fs::remove_file(e.path()).expect("remove an old page");
        }
    }
    std::fs::write(&path, pdf).expect("write the PDF");
    let tool = |cmd: &str, args: &[&std::ffi::OsStr]| {
        let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
            panic!("{cmd} is needed to check the PDF papers ({e}): run scripts/setup-tools.sh (Debian package poppler-utils)")
        });
        assert!(
            out.status.success(),
            "{cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    tool(
        "pdftoppm",
        &[
            "-png".as_ref(),
            "-r".as_ref(),
            "60".as_ref(),
            path.as_os_str(),
            dir.join(name).as_os_str(),
        ],
    );
    let pages = std::fs::read_dir(&dir)
        .expect("read target/papers")
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.starts_with(&format!("{name}-")) && n.ends_with(".png")
        })
        .count();
    assert!(pages >= 1, "pdftoppm rendered no page");
    let text = tool(
        "pdftotext",
        &["-layout".as_ref(), path.as_os_str(), "-".as_ref()],
    );
    String::from_utf8(text).expect("utf8 text")
}

#[test]
fn the_training_matrix_marks_valid_due_expired_and_missing() {
    let m = month();
    let tr = m.lb.training();
    let add = |person: &str, course: &str, date: &str, expires: Option<&str>| {
        tr.add_training(crate::training::NewTraining {
            person_id: person.into(),
            course: course.into(),
            date: date.into(),
            minutes: 180,
            provider: None,
            certificate_ref: None,
            expires_on: expires.map(str::to_string),
            trainee_signed: true,
            supervisor_signed: true,
        })
        .expect("training");
    };
    // Today is 2026-12-01; due within 30 days means a review date up to 2026-12-31.
    // Ann: food hygiene 2023-12-20 + 36 months = 2026-12-20: due. First aid 2023-11-15
    // + 36 months = 2026-11-15: expired. Induction (no review period): valid.
    add(&m.ann, "Food hygiene", "2023-12-20", None);
    add(&m.ann, "First aid", "2023-11-15", None);
    add(&m.ann, "Induction", "2026-11-02", None);
    // Bob: food hygiene 2025-06-01 -> 2028-06-01: valid; an older one does not matter.
    add(&m.bob, "Food hygiene", "2022-01-10", None);
    add(&m.bob, "Food hygiene", "2025-06-01", None);
    let csv = m.lb.reports().training_matrix_csv(30).expect("matrix");
    let cells: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            format!("{} {} {} {} {} {}", c[1], c[3], c[4], c[5], c[6], c[7])
        })
        .collect();
    assert_eq!(
        cells,
        vec![
            "Ann First aid expired 2023-11-15 2026-11-15 2026-12-01",
            "Ann Food hygiene due 2023-12-20 2026-12-20 2026-12-01",
            "Ann Induction valid 2026-11-02  2026-12-01",
            "Bob First aid missing   2026-12-01",
            "Bob Food hygiene valid 2025-06-01 2028-06-01 2026-12-01",
            "Bob Induction missing   2026-12-01",
        ]
    );
    assert_eq!(csv.lines().next(), Some(super::TRAINING_MATRIX_CSV_HEADER));
}

#[test]
fn the_training_matrix_pdf_holds_every_cell_for_the_inspector() {
    let m = month();
    m.lb.training()
        .add_training(crate::training::NewTraining {
            person_id: m.ann.clone(),
            course: "Food hygiene".into(),
            date: "2023-12-20".into(),
            minutes: 180,
            provider: None,
            certificate_ref: None,
            expires_on: None,
            trainee_signed: true,
            supervisor_signed: true,
        })
        .expect("training");
    let text = pdf_text(
        &m.lb.reports().training_matrix_pdf(30).expect("pdf"),
        "core-training-matrix",
    );
    // Ann: food hygiene due (2026-12-20 is within 30 days of 2026-12-01), first aid and
    // induction missing; Bob: all three missing. 1 due, 5 missing.
    for needle in [
        "Training matrix",
        "Riverside Café",
        "As of 2026-12-01",
        "Cells: 0 valid, 1 due, 0 expired, 5 missing",
        "Ann",
        "Bob",
        "Food hygiene",
        "2023-12-20",
        "2026-12-20",
        "due",
        "missing",
        "Coordinator: name and signature",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not in the PDF text:\n{text}"
        );
    }
}

/// The scripted month with four more people, so some figures are about 5 or more:
/// Cat, Dan, Eve and Fay each work Wed 18 Nov 09:00-11:00 paid (120 min) and gain a
/// food hygiene certificate on 20 Nov, as does Ann; Cat also has a 20-hour CPO order
/// from Mon 16 Nov that she finishes with 600 min unpaid work on the 16th and 17th.
/// Gus (disadvantaged) only volunteers, on Sat 10 Oct.
fn month_for_funders() -> (Month, String) {
    let m = month();
    let mut cat = String::new();
    for name in ["Cat", "Dan", "Eve", "Fay"] {
        let p =
            m.lb.directory()
                .add_person(name, &[], &[], false)
                .expect("person");
        if name == "Cat" {
            // Taps go in time order: her CPO days come before her paid Wednesday.
            m.lb.cpo()
                .set_order(&p, 20, "2026-11-16", None)
                .expect("Cat's order");
            for day in ["16", "17"] {
                shift(
                    &m.lb,
                    &p,
                    &format!("2026-11-{day}T08:00:00Z"),
                    &format!("2026-11-{day}T18:00:00Z"),
                    HourType::CpoUnpaidWork,
                );
            }
        }
        shift(
            &m.lb,
            &p,
            "2026-11-18T09:00:00Z",
            "2026-11-18T11:00:00Z",
            HourType::Paid,
        );
        if name == "Cat" {
            cat = p;
        }
    }
    for p in m.lb.directory().people().expect("people") {
        if ["Ann", "Cat", "Dan", "Eve", "Fay"].contains(&p.name.as_str()) {
            m.lb.training()
                .add_training(crate::training::NewTraining {
                    person_id: p.id.clone(),
                    course: "Food hygiene".into(),
                    date: "2026-11-20".into(),
                    minutes: 360,
                    provider: None,
                    certificate_ref: None,
                    expires_on: None,
                    trainee_signed: true,
                    supervisor_signed: true,
                })
                .expect("training");
        }
    }
    // An induction is training but no certificate.
    m.lb.training()
        .add_training(crate::training::NewTraining {
            person_id: m.bob.clone(),
            course: "Induction".into(),
            date: "2026-11-05".into(),
            minutes: 60,
            provider: None,
            certificate_ref: None,
            expires_on: None,
            trainee_signed: true,
            supervisor_signed: true,
        })
        .expect("induction");
    let gus =
        m.lb.directory()
            .add_person("Gus", &[], &[], true)
            .expect("gus");
    shift(
        &m.lb,
        &gus,
        "2026-10-10T10:00:00Z",
        "2026-10-10T12:00:00Z",
        HourType::Volunteer,
    );
    (m, cat)
}

#[test]
fn the_impact_summary_adds_up_and_suppresses_figures_about_fewer_than_5_people() {
    let (m, _) = month_for_funders();
    let r =
        m.lb.reports()
            .impact("2026-11-01", "2026-11-30")
            .expect("impact");
    let v = |f: super::Figure| f.value;
    // Ann, Bob, Cat, Dan, Eve, Fay (Gus worked in October only).
    assert_eq!(v(r.people_supported), Some(6));
    // Paid, 6 people: Ann 180 min; Bob 450 min + 240 min 45 s + 240 min; Cat, Dan, Eve,
    // Fay 120 min each: 10 800 + 55 845 + 28 800 = 95 445 s -> 1590 min.
    assert_eq!(v(r.paid_minutes), Some(1590));
    // Volunteering: Bob alone. CPO: Ann and Cat. Both about fewer than 5 people.
    assert_eq!(v(r.volunteer_minutes), None);
    assert_eq!(v(r.cpo_minutes), None);
    // Nobody clocked training: 0 is about nobody, so it shows.
    assert_eq!(v(r.training_minutes), Some(0));
    // Five food hygiene certificates (a review date each); Bob's induction is none.
    assert_eq!(v(r.certificates_gained), Some(5));
    // Cat's order is finished (1 order, 1 person): suppressed.
    assert_eq!(v(r.cpo_orders_finished), None);
    type Week<'a> = (&'a str, Option<u64>, Option<u64>, Option<u64>);
    let weeks: Vec<Week> = r
        .weeks
        .iter()
        .map(|w| {
            (
                w.week_start.as_str(),
                v(w.paid_minutes),
                v(w.volunteer_minutes),
                v(w.cpo_minutes),
            )
        })
        .collect();
    assert_eq!(
        weeks,
        vec![
            // Ann's Sunday 1 Nov unpaid work (1 person).
            ("2026-10-26", Some(0), Some(0), None),
            // Bob's paid Monday, his volunteer Saturday, Ann's CPO: 1 person each.
            ("2026-11-02", None, None, None),
            ("2026-11-09", None, Some(0), None),
            // Bob 240 + Cat, Dan, Eve, Fay 4 x 120 = 720 min, 5 people: shown.
            ("2026-11-16", Some(720), Some(0), None),
            ("2026-11-23", Some(0), Some(0), Some(0)),
            ("2026-11-30", Some(0), Some(0), Some(0)),
        ]
    );

    // The orders finished, unsuppressed: Cat's, completed on 17 Nov, is finished in
    // November and not in December; Ann's is not finished.
    let finished = |from: &str, to: &str| {
        m.lb.store
            .read(|c| {
                super::impact::orders_finished(
                    c,
                    from.parse().expect("date"),
                    to.parse().expect("date"),
                )
            })
            .expect("orders")
            .seconds
    };
    assert_eq!(finished("2026-11-01", "2026-11-30"), 1);
    assert_eq!(finished("2026-11-17", "2026-11-17"), 1);
    assert_eq!(finished("2026-11-01", "2026-11-16"), 0);
    assert_eq!(finished("2026-12-01", "2026-12-31"), 0);

    let json =
        m.lb.reports()
            .impact_json("2026-11-01", "2026-11-30")
            .expect("json");
    assert!(json.contains("\"paid_minutes\": 1590"), "{json}");
    assert!(
        json.contains("\"volunteer_minutes\": \"fewer than 5\""),
        "{json}"
    );
    let pdf =
        m.lb.reports()
            .impact_pdf("2026-11-01", "2026-11-30")
            .expect("pdf");
    let text = pdf_text(&pdf, "core-impact-summary");
    for needle in [
        "Impact summary",
        "Period: 2026-11-01 to 2026-11-30",
        "People supported: 6",
        "Hours of paid work: 26:30",
        "Hours of volunteering: fewer than 5",
        "Hours of training: 0:00",
        "Certificates gained: 5",
        "Community Payback Order hours completed: fewer than 5",
        "Community Payback Orders finished: fewer than 5",
        "Hours per week by type",
        "Paid work",
        "2026-11-16",
        "12:00",
        "fewer than 5 people",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not in the PDF text:\n{text}"
        );
    }
    for name in [
        "Ann",
        "Bob",
        "Cat",
        "Dan",
        "Eve",
        "Fay",
        m.ann.as_str(),
        m.bob.as_str(),
    ] {
        assert!(!json.contains(name), "{name} in the funder's JSON");
        assert!(!text.contains(name), "{name} in the funder's PDF");
    }
    // The chart's bars are filled rectangles in the page's content.
    assert!(
        String::from_utf8_lossy(&pdf).contains(" re\nf"),
        "no bars drawn"
    );
}

#[test]
fn the_headcount_return_averages_the_monthly_heads_of_paid_workers() {
    let (m, _) = month_for_funders();
    let csv = m.lb.reports().headcount_csv(2026).expect("headcount");
    // Today is 1 Dec 2026: January to December. November's paid workers: Ann
    // (disadvantaged), Bob, Cat, Dan, Eve, Fay = 6 heads, 1 disadvantaged. October:
    // Gus only volunteered, so no head at all. Year: 6 / 12 = 0.50 workers, 1 / 12 =
    // 0.08 disadvantaged: 1 * 100 / 6 = 16.7 %, under 30 %.
    let mut expected = format!("{}\n", super::HEADCOUNT_CSV_HEADER);
    for month in 1..=12 {
        if month == 11 {
            expected.push_str("month,2026-11,6,1,16.7,,\n");
        } else {
            expected.push_str(&format!("month,2026-{month:02},0,0,,,\n"));
        }
    }
    expected.push_str("year_average,2026,0.50,0.08,16.7,30,no\n");
    assert_eq!(csv, expected);
    let text = m.lb.reports().headcount_text(2026).expect("text");
    assert!(
        text.contains(
            "WARNING: the year's average share of disadvantaged workers, 16.7%, is under the 30%"
        ),
        "{text}"
    );

    // The plain month: Ann and Bob did paid work in November, Ann is disadvantaged:
    // 2 / 12 = 0.17, 1 / 12 = 0.08, 50 %: the minimum is met, no warning.
    let plain = month();
    let r = plain.lb.reports().headcount(2026).expect("headcount");
    assert_eq!(r.months.len(), 12);
    assert_eq!((r.months[10].workers, r.months[10].disadvantaged), (2, 1));
    assert!((r.percent - 50.0).abs() < 1e-9);
    assert!((r.average_workers - 2.0 / 12.0).abs() < 1e-9);
    assert!(r.meets_minimum);
    assert_eq!(r.warning, None);
    assert!(
        plain
            .lb
            .reports()
            .headcount_text(2026)
            .expect("text")
            .contains("The minimum is met.")
    );
    // A past year has twelve months and, here, nobody: a warning, not a pass.
    let r = plain.lb.reports().headcount(2025).expect("2025");
    assert_eq!(r.months.len(), 12);
    assert!(!r.meets_minimum);
    assert!(r.warning.is_some());
    assert!(matches!(
        plain.lb.reports().headcount(2027),
        Err(crate::Error::Invalid(_))
    ));
}

#[test]
fn the_attendance_return_counts_days_present_and_weekdays_absent() {
    let m = month();
    let csv =
        m.lb.reports()
            .attendance_csv("2026-11")
            .expect("attendance");
    let (ann, bob) = (&m.ann, &m.bob);
    // November 2026 has 21 weekdays (2-6, 9-13, 16-20, 23-27, 30).
    // Ann: present Sun 1, Mon 2, Tue 3 (corrected), Wed 4, Mon 9, Thu 12, Fri 13: 7 days,
    // 6 of them weekdays, so 15 absent; 120 + 300 + 270 + 360 + 420 + 200 min 30 s + 180
    // = 111 030 s -> 1850 min.
    // Bob: Mon 2, Sat 7, Tue 10, Wed 18: 4 days, 3 weekdays, 18 absent; 450 + 120 +
    // 240 min 45 s + 240 = 63 045 s -> 1050 min.
    assert_eq!(
        csv,
        format!(
            "{}\n{ann},Ann,2026-11,21,7,15,1850,0\n{bob},Bob,2026-11,21,4,18,1050,0\n",
            super::ATTENDANCE_CSV_HEADER
        )
    );
    // December so far is Tuesday 1 December: one working day, nobody came.
    let dec = m.lb.reports().attendance("2026-12").expect("december");
    assert!(
        dec.iter()
            .all(|r| (r.working_days, r.days_present, r.days_absent) == (1, 0, 1))
    );
    for bad in ["2027-01", "2026-13", "2026-1", "November"] {
        assert!(
            matches!(
                m.lb.reports().attendance(bad),
                Err(crate::Error::Invalid(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn pay_periods_step_from_their_start_day_or_are_calendar_months() {
    use super::payroll::pay_period_of;
    use crate::model::PayPeriod;
    let d = |s: &str| s.parse::<jiff::civil::Date>().expect("date");
    let p = |period, start: &str, date: &str| {
        let (a, b) = pay_period_of(period, d(start), d(date)).expect("period");
        (a.to_string(), b.to_string())
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    // 2024-01-01 to 2026-11-18: 366 + 365 + 321 = 1052 days.
    // Weekly: 1052 = 150 * 7 + 2, so the week from Monday 16 Nov.
    assert_eq!(
        p(PayPeriod::Weekly, "2024-01-01", "2026-11-18"),
        s("2026-11-16", "2026-11-22")
    );
    // Fortnightly: 1052 = 75 * 14 + 2: 16 Nov to 29 Nov.
    assert_eq!(
        p(PayPeriod::Fortnightly, "2024-01-01", "2026-11-18"),
        s("2026-11-16", "2026-11-29")
    );
    // Four-weekly: 1052 = 37 * 28 + 16: 2 Nov to 29 Nov.
    assert_eq!(
        p(PayPeriod::FourWeekly, "2024-01-01", "2026-11-18"),
        s("2026-11-02", "2026-11-29")
    );
    assert_eq!(
        p(PayPeriod::Monthly, "2024-01-01", "2026-11-18"),
        s("2026-11-01", "2026-11-30")
    );
    // Before the start day the periods step backwards: Wed 4 Nov - 7 = Wed 28 Oct.
    assert_eq!(
        p(PayPeriod::Weekly, "2026-11-04", "2026-11-02"),
        s("2026-10-28", "2026-11-03")
    );
}

#[test]
fn payroll_without_dates_takes_the_last_whole_pay_period_of_the_setting() {
    let m = month();
    // The default is monthly: today is 1 Dec, so the last whole period is November.
    assert_eq!(
        m.lb.reports().pay_period(None).expect("period"),
        ("2026-11-01".to_string(), "2026-11-30".to_string())
    );
    assert_eq!(
        m.lb.reports().payroll_for_period_csv(None).expect("csv"),
        m.lb.reports()
            .payroll_csv("2026-11-01", "2026-11-30")
            .expect("csv")
    );
    // Four-weekly from Mon 2 Nov: today's period is 30 Nov - 27 Dec, the last whole
    // one 2 - 29 Nov, which leaves out Ann's Sunday 1 Nov (and so its unapproved week).
    m.lb.directory()
        .set_pay_period(crate::model::PayPeriod::FourWeekly, Some("2026-11-02"))
        .expect("set");
    assert_eq!(
        m.lb.directory().coop().expect("coop").settings.pay_period,
        crate::model::PayPeriod::FourWeekly
    );
    let (ann, bob) = (&m.ann, &m.bob);
    assert_eq!(
        m.lb.reports().payroll_for_period_csv(None).expect("csv"),
        format!(
            "{}\n\
             approved,{ann},Ann,,,180,0,500,1050,0\n\
             approved,{bob},Bob,PR-0042,,690,120,0,0,0\n\
             not_approved,{bob},Bob,PR-0042,2026-11-16,240,0,0,0,0\n",
            super::PAYROLL_CSV_HEADER
        )
    );
    assert_eq!(
        m.lb.reports()
            .pay_period(Some("2026-12-25"))
            .expect("period"),
        ("2026-11-30".to_string(), "2026-12-27".to_string())
    );
    // Bad input is refused and changes nothing.
    assert!(matches!(
        m.lb.directory()
            .set_pay_period(crate::model::PayPeriod::Weekly, Some("2026-02-30")),
        Err(crate::Error::Invalid(_))
    ));
    assert_eq!(
        m.lb.directory().coop().expect("coop").settings.pay_period,
        crate::model::PayPeriod::FourWeekly
    );
}

#[test]
fn a_payroll_number_lives_in_the_profile_and_an_old_directory_one_is_moved() {
    use crate::store::documents::DIRECTORY_DOC;
    let m = month();
    // Bob's number (set in `month`) is in his profile, not in the directory.
    let (directory_number, profile_number) =
        m.lb.store
            .read(|c| {
                let legacy: Option<String> = c.query_row(
                    "SELECT payroll_number FROM people WHERE id = ?1",
                    [&m.bob],
                    |r| r.get(0),
                )?;
                let profile: Option<String> = c
                    .query_row(
                        "SELECT number FROM payroll_numbers WHERE person = ?1",
                        [&m.bob],
                        |r| r.get(0),
                    )
                    .ok();
                Ok((legacy, profile))
            })
            .expect("read");
    assert_eq!(directory_number, None);
    assert_eq!(profile_number.as_deref(), Some("PR-0042"));

    // A directory written before schema 5 carries Ann's number where every worker reads
    // it; housekeeping (which runs when a coordinator's device opens) moves it.
    m.lb.store
        .write(crate::observer::ChangeOrigin::Local, |w| {
            w.change(DIRECTORY_DOC, |t| {
                use automerge::ReadDoc;
                use automerge::transaction::Transactable;
                let people = crate::store::documents::container(t, "people")?;
                let Some((_, ann)) = t.get(&people, m.ann.as_str())? else {
                    panic!("Ann is in the directory");
                };
                t.put(&ann, "payroll_number", "OLD-1")?;
                Ok(())
            })
        })
        .expect("old directory");
    assert_eq!(
        m.lb.directory()
            .payroll_number(&m.ann)
            .expect("read")
            .as_deref(),
        Some("OLD-1")
    );
    assert_eq!(m.lb.directory().move_payroll_numbers().expect("move"), 1);
    assert_eq!(m.lb.directory().move_payroll_numbers().expect("again"), 0);
    assert_eq!(
        m.lb.directory()
            .payroll_number(&m.ann)
            .expect("read")
            .as_deref(),
        Some("OLD-1")
    );
    let legacy: Option<String> =
        m.lb.store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT payroll_number FROM people WHERE id = ?1",
                    [&m.ann],
                    |r| r.get(0),
                )?)
            })
            .expect("read");
    assert_eq!(legacy, None, "the directory no longer carries it");
    let csv =
        m.lb.reports()
            .payroll_csv("2026-11-01", "2026-11-30")
            .expect("csv");
    assert!(
        csv.contains(&format!("approved,{},Ann,OLD-1,", m.ann)),
        "{csv}"
    );
}
