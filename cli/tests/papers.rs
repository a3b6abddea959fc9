//! The papers through the CLI over a scripted month (November 2026, Europe/London, UTC
//! then): a forgotten clock-out corrected, a double tap refused, a week not approved,
//! and a CPO order whose other activity passed its cap. Figures worked out by hand.

mod common;
use common::{logbook, ok, refused};

use std::path::{Path, PathBuf};
use std::process::Command;

fn tap(home: &Path, cmd: &str, person: &str, at: &str, extra: &[&str]) -> String {
    let mut args = vec![cmd, "--person", person, "--at", at];
    args.extend_from_slice(extra);
    ok(home, &args)
}

fn shift(home: &Path, person: &str, from: &str, to: &str, hour_type: &str) {
    tap(home, "clock-in", person, from, &["--type", hour_type]);
    tap(home, "clock-out", person, to, &[]);
}

/// `$CARGO_TARGET_DIR/papers`, else the workspace's `target/papers`.
fn papers_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("papers");
    std::fs::create_dir_all(&dir).expect("create target/papers");
    dir
}

/// Run a poppler tool; fail (never skip) when it is not installed.
fn poppler(cmd: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!(
            "{cmd} is needed to check the PDF papers ({e}): run scripts/setup-tools.sh (Debian package poppler-utils)"
        )
    });
    assert!(
        out.status.success(),
        "{cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn a_scripted_month_gives_the_cpo_paper_and_the_payroll_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("coord");
    ok(
        &home,
        &[
            "init",
            "--coop-name",
            "Riverside Café",
            "--timezone",
            "Europe/London",
        ],
    );
    let site = ok(&home, &["sites", "add", "--name", "Café"]);
    let ann = ok(&home, &["people", "add", "--name", "Ann", "--site", &site]);
    let bob = ok(&home, &["people", "add", "--name", "Bob", "--site", &site]);
    ok(
        &home,
        &[
            "people",
            "set-payroll-number",
            "--person",
            &bob,
            "--number",
            "PR-0042",
        ],
    );
    // 40 hours from Mon 2 Nov: deadline 2 Feb 2027, other activity cap 30 % = 12 h.
    let order = ok(
        &home,
        &[
            "cpo",
            "set",
            "--person",
            &ann,
            "--hours",
            "40",
            "--start",
            "2026-11-02",
        ],
    );

    // Ann. Mon 2 Nov 09:00-14:00 unpaid work: 300 min.
    shift(
        &home,
        &ann,
        "2026-11-02T09:00:00Z",
        "2026-11-02T14:00:00Z",
        "cpo_unpaid_work",
    );
    // Tue 3 Nov: other activity from 09:00, clock-out forgotten (corrected below: 270).
    let forgotten = tap(
        &home,
        "clock-in",
        &ann,
        "2026-11-03T09:00:00Z",
        &["--type", "cpo_other_activity"],
    );
    // Wed 4 Nov 09:00-15:00 other activity: 360 min; a double tap at 09:05 is refused.
    tap(
        &home,
        "clock-in",
        &ann,
        "2026-11-04T09:00:00Z",
        &["--type", "cpo_other_activity"],
    );
    let err = refused(
        &home,
        &["clock-in", "--person", &ann, "--at", "2026-11-04T09:05:00Z"],
    );
    assert!(err.contains("already clocked in"), "{err}");
    tap(&home, "clock-out", &ann, "2026-11-04T15:00:00Z", &[]);
    // Mon 9 Nov 09:00-16:00 other activity: 420 min, past the cap.
    shift(
        &home,
        &ann,
        "2026-11-09T09:00:00Z",
        "2026-11-09T16:00:00Z",
        "cpo_other_activity",
    );
    // Thu 12 Nov 10:00:00-13:20:30 unpaid work: 200 min 30 s.
    shift(
        &home,
        &ann,
        "2026-11-12T10:00:00Z",
        "2026-11-12T13:20:30Z",
        "cpo_unpaid_work",
    );
    ok(
        &home,
        &[
            "shift",
            "correct",
            "--shift",
            &forgotten,
            "--end",
            "2026-11-03T13:30:00Z",
            "--reason",
            "forgot to clock out",
        ],
    );

    // Bob, paid. Mon 2 Nov 08:00-16:00 with a 30 min break: 450 min.
    tap(&home, "clock-in", &bob, "2026-11-02T08:00:00Z", &[]);
    tap(&home, "break-start", &bob, "2026-11-02T12:00:00Z", &[]);
    tap(&home, "break-end", &bob, "2026-11-02T12:30:00Z", &[]);
    tap(&home, "clock-out", &bob, "2026-11-02T16:00:00Z", &[]);
    // Tue 10 Nov 08:00:00-12:00:45: 240 min 45 s. Wed 18 Nov 08:00-12:00: 240 min.
    shift(
        &home,
        &bob,
        "2026-11-10T08:00:00Z",
        "2026-11-10T12:00:45Z",
        "paid",
    );
    shift(
        &home,
        &bob,
        "2026-11-18T08:00:00Z",
        "2026-11-18T12:00:00Z",
        "paid",
    );

    // Weeks of 2 and 9 Nov approved (9 Nov also locked); 16 Nov not.
    ok(&home, &["week", "approve", "--date", "2026-11-04"]);
    ok(&home, &["week", "approve", "--date", "2026-11-10"]);
    ok(&home, &["week", "lock", "--date", "2026-11-10"]);

    // --- payroll -------------------------------------------------------------------
    // Ann: unpaid work 300 + 200 min 30 s = 30 030 s -> 500; other activity
    // 270 + 360 + 420 = 1050. Bob: paid 450 + 240 min 45 s = 41 445 s -> 690; his
    // Wednesday 18 Nov (240 min) waits for its week to be approved.
    let payroll = ok(
        &home,
        &[
            "report",
            "payroll",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
        ],
    );
    assert_eq!(
        payroll,
        format!(
            "status,person_id,person_name,payroll_number,week_start,paid_minutes,volunteer_minutes,cpo_unpaid_work_minutes,cpo_other_activity_minutes,training_minutes\n\
             approved,{ann},Ann,,,0,0,500,1050,0\n\
             approved,{bob},Bob,PR-0042,,690,0,0,0,0\n\
             not_approved,{bob},Bob,PR-0042,2026-11-16,240,0,0,0,0"
        )
    );
    // Approving the missing week moves Bob's 240 minutes in: 690 + 240 = 930.
    ok(
        &home,
        &["week", "approve", "--date", "2026-11-18", "--person", &bob],
    );
    let out = papers_dir().join("cli-payroll.csv");
    let _ = std::fs::remove_file(&out);
    ok(
        &home,
        &[
            "report",
            "payroll",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            out.to_str().expect("utf8 path"),
        ],
    );
    let written = std::fs::read_to_string(&out).expect("payroll file");
    assert!(
        written.contains(&format!("approved,{bob},Bob,PR-0042,,930,0,0,0,0\n")),
        "{written}"
    );
    assert!(!written.contains("not_approved"), "{written}");

    // --- CPO paper -------------------------------------------------------------------
    // Done 500 + min(1050, 720) = 1220 min; left 2400 - 1220 = 1180 min.
    let progress = ok(
        &home,
        &["cpo", "show", "--person", &ann, "--format", "json"],
    );
    let progress: serde_json::Value = serde_json::from_str(&progress).expect("json");
    let days = progress[0]["days_to_deadline"].as_i64().expect("days");
    let on_track = if progress[0]["on_track"] == true {
        "yes"
    } else {
        "no"
    };
    let csv = ok(
        &home,
        &[
            "report", "cpo", "--person", &ann, "--order", &order, "--format", "csv",
        ],
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "row,order_id,person_id,person_name,hours_ordered,level,start_date,deadline,as_of,date,start,end,hour_type,minutes,unpaid_work_minutes,other_activity_minutes,other_activity_cap_minutes,other_activity_counted_minutes,done_minutes,left_minutes,days_to_deadline,on_track"
    );
    let tail = format!("500,1050,720,720,1220,1180,{days},{on_track}");
    let head = format!("{order},{ann},Ann,40,up to 100 hours,2026-11-02,2027-02-02");
    let sessions: Vec<String> = lines[1..]
        .iter()
        .map(|l| {
            // Drop the as_of column (today's date) between head and the session.
            let cells: Vec<&str> = l.split(',').collect();
            [&cells[..8], &cells[9..]].concat().join(",")
        })
        .collect();
    assert_eq!(
        sessions,
        vec![
            format!("session,{head},2026-11-02,09:00,14:00,cpo_unpaid_work,300,{tail}"),
            format!("session,{head},2026-11-03,09:00,13:30,cpo_other_activity,270,{tail}"),
            format!("session,{head},2026-11-04,09:00,15:00,cpo_other_activity,360,{tail}"),
            format!("session,{head},2026-11-09,09:00,16:00,cpo_other_activity,420,{tail}"),
            format!("session,{head},2026-11-12,10:00,13:20,cpo_unpaid_work,200,{tail}"),
            // 300 + 270 + 360 + 420 + 200 = 1550 session minutes.
            format!("total,{head},,,,,1550,{tail}"),
        ]
    );

    let pdf = papers_dir().join("cli-cpo-report.pdf");
    let _ = std::fs::remove_file(&pdf);
    let said = ok(
        &home,
        &[
            "report",
            "cpo",
            "--person",
            &ann,
            "--order",
            &order,
            "--format",
            "pdf",
            "--out",
            pdf.to_str().expect("utf8 path"),
        ],
    );
    assert!(said.starts_with("wrote "), "{said}");
    let bytes = std::fs::read(&pdf).expect("the PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    let prefix = papers_dir().join("cli-cpo-report");
    let _ = std::fs::remove_file(papers_dir().join("cli-cpo-report-1.png"));
    poppler(
        "pdftoppm",
        &[
            "-png".as_ref(),
            "-r".as_ref(),
            "60".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    assert!(
        papers_dir().join("cli-cpo-report-1.png").exists(),
        "pdftoppm rendered page 1"
    );
    let text = String::from_utf8(poppler(
        "pdftotext",
        &["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()],
    ))
    .expect("utf8");
    for needle in [
        "Community Payback Order: progress report",
        "Riverside Café",
        "Person: Ann",
        "Hours ordered: 40 (up to 100 hours)",
        "Deadline: 2027-02-02",
        "4:30",
        "Unpaid work: 8:20",
        "Other activity: 17:30 done, 12:00 counted (cap 12:00",
        "Hours completed: 20:20 of 40:00",
        "Hours left: 19:40",
        "Placement supervisor",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not in the PDF text:\n{text}"
        );
    }
    assert!(!text.contains("Bob"), "no other people on the CPO paper");

    // --- the other papers ---------------------------------------------------------------
    // Attendance, November (21 weekdays). Ann: Mon 2, Tue 3, Wed 4, Mon 9, Thu 12: 5 days,
    // 16 absent; 300 + 270 + 360 + 420 + 200 min 30 s -> 1550 min. Bob: Mon 2, Tue 10,
    // Wed 18: 3 days, 18 absent; 450 + 240 min 45 s + 240 -> 930 min.
    assert_eq!(
        ok(
            &home,
            &[
                "report",
                "attendance",
                "--month",
                "2026-11",
                "--format",
                "csv"
            ]
        ),
        format!(
            "person_id,person_name,month,working_days,days_present,days_absent,minutes,shifts_needing_review\n\
             {ann},Ann,2026-11,21,5,16,1550,0\n\
             {bob},Bob,2026-11,21,3,18,930,0"
        )
    );
    // Head count, 2026: Bob is November's only paid head, nobody is flagged: 0 %.
    let headcount = ok(
        &home,
        &["report", "headcount", "--year", "2026", "--format", "csv"],
    );
    assert!(headcount.contains("month,2026-11,1,0,0.0,,"), "{headcount}");
    let text = ok(&home, &["report", "headcount", "--year", "2026"]);
    assert!(text.contains("WARNING:"), "{text}");
    // The impact summary: two people, so every figure about someone is withheld.
    let impact = ok(
        &home,
        &[
            "report",
            "impact",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&impact).expect("json");
    assert_eq!(v["people_supported"], "fewer than 5");
    assert_eq!(v["paid_minutes"], "fewer than 5");
    assert_eq!(v["training_minutes"], 0);
    assert!(
        !impact.contains("Ann") && !impact.contains("Bob"),
        "{impact}"
    );
    let err = refused(
        &home,
        &[
            "report",
            "impact",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "pdf",
        ],
    );
    assert!(err.contains("--out"), "{err}");
    for (args, name, needle) in [
        (
            vec![
                "report",
                "impact",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--format",
                "pdf",
            ],
            "cli-impact.pdf",
            "People supported: fewer than 5",
        ),
        (
            vec!["report", "training-matrix", "--format", "pdf"],
            "cli-training-matrix.pdf",
            "Cells: 0 valid, 0 due, 0 expired, 6 missing",
        ),
    ] {
        let out = papers_dir().join(name);
        let _ = std::fs::remove_file(&out);
        let mut args = args.clone();
        args.extend(["--out", out.to_str().expect("utf8 path")]);
        ok(&home, &args);
        let text = String::from_utf8(poppler(
            "pdftotext",
            &["-layout".as_ref(), out.as_os_str(), "-".as_ref()],
        ))
        .expect("utf8");
        assert!(text.contains(needle), "{name}: {needle:?} not in\n{text}");
    }
    // Pay period: four-weekly from Mon 2 Nov; the period holding 18 Nov is 2-29 Nov.
    ok(
        &home,
        &[
            "settings",
            "pay-period",
            "--period",
            "four-weekly",
            "--starting",
            "2026-11-02",
        ],
    );
    let payroll = ok(&home, &["report", "payroll", "--period-of", "2026-11-18"]);
    assert!(
        payroll.contains(&format!("approved,{bob},Bob,PR-0042,,930,0,0,0,0")),
        "{payroll}"
    );
    assert!(ok(&home, &["settings", "show"]).contains("pay period: four_weekly"));
    // Retention: Ann's order (deadline 2 Feb 2027) goes 365 days after it.
    let plan = ok(&home, &["retention", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("json");
    assert_eq!(plan[0]["kind"], "cpo_order");
    assert_eq!(plan[0]["erase_on"], "2028-02-02");
}

#[test]
fn a_paper_that_cannot_be_made_is_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("coord");
    ok(
        &home,
        &["init", "--coop-name", "Test", "--timezone", "Europe/London"],
    );
    let ann = ok(&home, &["people", "add", "--name", "Ann"]);
    let order = ok(
        &home,
        &[
            "cpo",
            "set",
            "--person",
            &ann,
            "--hours",
            "40",
            "--start",
            "2026-11-02",
        ],
    );
    let out = dir.path().join("paper.pdf");
    let o = out.to_str().expect("utf8 path");
    let err = refused(
        &home,
        &[
            "report", "cpo", "--person", &ann, "--order", &order, "--format", "pdf",
        ],
    );
    assert!(err.contains("--out"), "{err}");
    let err = refused(
        &home,
        &[
            "report", "cpo", "--person", &ann, "--order", "o-nope", "--format", "pdf", "--out", o,
        ],
    );
    assert!(err.contains("no CPO order"), "{err}");
    let err = refused(
        &home,
        &[
            "report",
            "payroll",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
            "--out",
            o,
        ],
    );
    assert!(err.contains("ends before"), "{err}");
    let err = refused(
        &home,
        &[
            "people",
            "set-payroll-number",
            "--person",
            &ann,
            "--number",
            "   ",
        ],
    );
    assert!(err.contains("payroll number"), "{err}");
    assert!(!out.exists(), "nothing written");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        1,
        "no temporary file left behind"
    );
    // A missing directory for --out: one line, nothing written.
    let missing = dir.path().join("nope").join("paper.csv");
    let out = logbook(
        &home,
        &[
            "report",
            "payroll",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            missing.to_str().expect("utf8"),
        ],
    );
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
}

#[test]
fn the_training_matrix_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("coord");
    ok(
        &home,
        &["init", "--coop-name", "Test", "--timezone", "Europe/London"],
    );
    let ann = ok(&home, &["people", "add", "--name", "Ann"]);
    // Food hygiene on 2020-01-10 + 36 months = 2023-01-10: expired on any later day.
    ok(
        &home,
        &[
            "training",
            "add",
            "--person",
            &ann,
            "--course",
            "Food hygiene",
            "--date",
            "2020-01-10",
            "--hours",
            "3",
        ],
    );
    let csv = ok(&home, &["report", "training", "--days", "30"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "person_id,person_name,course_id,course_name,status,trained_on,expires_on,as_of,due_within_days"
    );
    assert_eq!(lines.len(), 4, "Ann × the three starter courses: {csv}");
    assert!(lines[1].contains(",First aid,missing,,,"), "{csv}");
    assert!(
        lines[2].contains(",Food hygiene,expired,2020-01-10,2023-01-10,"),
        "{csv}"
    );
    assert!(lines[3].contains(",Induction,missing,,,"), "{csv}");
}
