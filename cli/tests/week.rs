//! Replays a scripted week through the CLI and checks the hours report to the minute.

mod common;
use common::{ok, refused};

fn setup() -> (tempfile::TempDir, std::path::PathBuf, [String; 3]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("coord");
    ok(
        &home,
        &[
            "init",
            "--coop-name",
            "Test Co-op",
            "--timezone",
            "Europe/London",
        ],
    );
    let site = ok(&home, &["sites", "add", "--name", "Café"]);
    let ann = ok(
        &home,
        &[
            "people",
            "add",
            "--name",
            "Ann",
            "--site",
            &site,
            "--disadvantaged",
        ],
    );
    let bob = ok(
        &home,
        &[
            "people",
            "add",
            "--name",
            "Bob",
            "--site",
            &site,
            "--disadvantaged",
        ],
    );
    let cat = ok(
        &home,
        &[
            "people",
            "add",
            "--name",
            "Cat, Jr.",
            "--site",
            &site,
            "--role",
            "worker",
            "--role",
            "supporter",
        ],
    );
    (dir, home, [ann, bob, cat])
}

fn tap(home: &std::path::Path, cmd: &str, person: &str, at: &str, extra: &[&str]) -> String {
    let mut args = vec![cmd, "--person", person, "--at", at];
    args.extend_from_slice(extra);
    ok(home, &args)
}

#[test]
fn a_scripted_week_reports_exact_minutes_per_person_and_hour_type() {
    let (_dir, home, [ann, bob, cat]) = setup();
    ok(
        &home,
        &["people", "set-pin", "--person", &ann, "--pin", "1234"],
    );

    // Ann, paid. Monday with a break and odd seconds; the kiosk-style taps use her PIN.
    tap(
        &home,
        "clock-in",
        &ann,
        "2026-11-16T09:00:30Z",
        &["--pin", "1234"],
    );
    tap(&home, "break-start", &ann, "2026-11-16T12:00:00Z", &[]);
    tap(&home, "break-end", &ann, "2026-11-16T12:30:00Z", &[]);
    // A double tap: the device knows she is clocked in and refuses it.
    let err = refused(
        &home,
        &["clock-in", "--person", &ann, "--at", "2026-11-16T12:31:00Z"],
    );
    assert!(err.contains("already clocked in"), "{err}");
    tap(
        &home,
        "clock-out",
        &ann,
        "2026-11-16T17:00:00Z",
        &["--pin", "1234"],
    );
    let err = refused(
        &home,
        &[
            "clock-out",
            "--person",
            &ann,
            "--at",
            "2026-11-16T17:01:00Z",
        ],
    );
    assert!(err.contains("not clocked in"), "{err}");
    tap(&home, "clock-in", &ann, "2026-11-17T09:00:00Z", &[]);
    tap(&home, "clock-out", &ann, "2026-11-17T13:00:45Z", &[]);

    // Bob, CPO unpaid work and other activity.
    for day in ["16", "18"] {
        tap(
            &home,
            "clock-in",
            &bob,
            &format!("2026-11-{day}T10:00:00Z"),
            &["--type", "cpo_unpaid_work"],
        );
        tap(
            &home,
            "clock-out",
            &bob,
            &format!("2026-11-{day}T14:00:00Z"),
            &[],
        );
    }
    tap(
        &home,
        "clock-in",
        &bob,
        "2026-11-20T10:00:00Z",
        &["--type", "cpo_other_activity"],
    );
    tap(&home, "clock-out", &bob, "2026-11-20T12:00:00Z", &[]);

    // Cat, volunteer; forgets to clock out on Tuesday.
    tap(
        &home,
        "clock-in",
        &cat,
        "2026-11-16T07:00:00Z",
        &["--type", "volunteer"],
    );
    tap(&home, "clock-out", &cat, "2026-11-16T11:00:00Z", &[]);
    let forgotten = tap(
        &home,
        "clock-in",
        &cat,
        "2026-11-17T07:00:00Z",
        &["--type", "volunteer"],
    );
    tap(
        &home,
        "clock-in",
        &cat,
        "2026-11-18T07:00:00Z",
        &["--type", "volunteer"],
    );
    tap(&home, "clock-out", &cat, "2026-11-18T10:15:00Z", &[]);

    let csv = ok(
        &home,
        &[
            "report",
            "hours",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-22",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        csv,
        format!(
            "person_id,person_name,hour_type,shifts,minutes\n\
             {ann},Ann,paid,2,690\n\
             {bob},Bob,cpo_unpaid_work,2,480\n\
             {bob},Bob,cpo_other_activity,1,120\n\
             {cat},\"Cat, Jr.\",volunteer,2,435"
        )
    );

    // The forgotten clock-out needs review; the coordinator corrects it and it counts.
    let shifts = ok(&home, &["shifts", "--person", &cat, "--format", "json"]);
    let shifts: serde_json::Value = serde_json::from_str(&shifts).expect("json");
    let tuesday = shifts
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["id"] == forgotten.as_str())
        .expect("tuesday");
    assert_eq!(tuesday["status"], "needs_review");
    assert_eq!(tuesday["counted_seconds"], 0);
    ok(
        &home,
        &[
            "shift",
            "correct",
            "--shift",
            &forgotten,
            "--end",
            "2026-11-17T11:00:00Z",
            "--reason",
            "forgot to clock out",
        ],
    );
    let csv = ok(
        &home,
        &[
            "report",
            "hours",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-22",
            "--format",
            "csv",
        ],
    );
    assert!(
        csv.ends_with(&format!("{cat},\"Cat, Jr.\",volunteer,3,675")),
        "{csv}"
    );
    let history = ok(
        &home,
        &[
            "shift", "history", "--shift", &forgotten, "--format", "json",
        ],
    );
    let history: serde_json::Value = serde_json::from_str(&history).expect("json");
    assert_eq!(history[0]["reason"], "forgot to clock out");
    assert!(
        history[0]["before"]
            .as_str()
            .expect("before")
            .contains("needs_review")
    );

    // Approve and lock the week; a later correction is refused.
    ok(&home, &["week", "approve", "--date", "2026-11-18"]);
    ok(&home, &["week", "lock", "--date", "2026-11-18"]);
    let err = refused(
        &home,
        &[
            "shift",
            "correct",
            "--shift",
            &forgotten,
            "--end",
            "2026-11-17T12:00:00Z",
            "--reason",
            "again",
        ],
    );
    assert!(err.contains("locked"), "{err}");

    // JSON report agrees with the CSV, and the table prints.
    let json = ok(
        &home,
        &[
            "report",
            "hours",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-22",
            "--format",
            "json",
        ],
    );
    let rows: serde_json::Value = serde_json::from_str(&json).expect("json");
    let total: u64 = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["minutes"].as_u64().expect("minutes"))
        .sum();
    assert_eq!(total, 690 + 480 + 120 + 675);
    assert!(
        ok(
            &home,
            &[
                "report",
                "hours",
                "--from",
                "2026-11-16",
                "--to",
                "2026-11-22"
            ]
        )
        .contains("11:15")
    );

    // The cache can be rebuilt from the documents with the same answer.
    ok(&home, &["rebuild"]);
    let again = ok(
        &home,
        &[
            "report",
            "hours",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-22",
            "--format",
            "json",
        ],
    );
    assert_eq!(again, json);
}

#[test]
fn training_cpo_notes_ratio_and_export_work_from_the_cli() {
    let (_dir, home, [ann, bob, cat]) = setup();
    let t = ok(
        &home,
        &[
            "training",
            "add",
            "--person",
            &ann,
            "--course",
            "Food hygiene",
            "--date",
            "2024-01-10",
            "--hours",
            "3",
            "--certificate",
            "FH-123",
            "--trainee-signed",
            "--supervisor-signed",
        ],
    );
    assert!(t.starts_with("t-"));
    let list = ok(
        &home,
        &["training", "list", "--person", &ann, "--format", "json"],
    );
    assert!(
        list.contains("\"expires_on\": \"2027-01-10\""),
        "food hygiene reviews every 3 years: {list}"
    );
    let expiring = ok(
        &home,
        &[
            "training", "expiring", "--within", "9999", "--format", "json",
        ],
    );
    assert!(expiring.contains("FH-123"));
    ok(
        &home,
        &[
            "training",
            "induction",
            "--person",
            &ann,
            "--item",
            "Fire exits",
            "--trainee-signed",
        ],
    );

    let order = ok(
        &home,
        &[
            "cpo",
            "set",
            "--person",
            &bob,
            "--hours",
            "60",
            "--start",
            "2026-11-02",
        ],
    );
    tap(
        &home,
        "clock-in",
        &bob,
        "2026-11-16T10:00:00Z",
        &["--type", "cpo_unpaid_work"],
    );
    tap(&home, "clock-out", &bob, "2026-11-16T14:00:00Z", &[]);
    let cpo = ok(
        &home,
        &["cpo", "show", "--person", &bob, "--format", "json"],
    );
    let cpo: serde_json::Value = serde_json::from_str(&cpo).expect("json");
    assert_eq!(cpo[0]["order_id"], order.as_str());
    assert_eq!(cpo[0]["done_minutes"], 240);
    assert_eq!(cpo[0]["left_minutes"], 56 * 60);
    assert_eq!(cpo[0]["deadline"], "2027-02-02");
    assert_eq!(cpo[0]["other_activity_cap_minutes"], 18 * 60);

    let thread = ok(
        &home,
        &[
            "note",
            "add",
            "--about",
            &cat,
            "--text",
            "Talked about the bus pass.",
        ],
    );
    ok(
        &home,
        &["note", "reply", "--thread", &thread, "--text", "Sorted."],
    );
    assert!(ok(&home, &["note", "list", "--about", &cat]).contains("Sorted."));
    let export = ok(&home, &["export", "person", "--person", &cat]);
    assert!(
        export.contains("bus pass"),
        "the subject access export includes notes"
    );
    // A positive control: the search (decrypting the store) finds the text while it exists.
    assert!(!logbook_e2e::sqlite_contains(&home.join("logbook.sqlite3"), b"bus pass").is_empty());
    ok(&home, &["note", "delete", "--thread", &thread]);
    assert!(!ok(&home, &["note", "list", "--about", &cat]).contains("bus pass"));
    assert!(!ok(&home, &["export", "person", "--person", &cat]).contains("bus pass"));
    // Erased means erased: the text is nowhere in the store file (secure_delete, WAL
    // checkpointed), searched inside the encryption at rest, free pages included.
    let left = logbook_e2e::sqlite_contains(&home.join("logbook.sqlite3"), b"bus pass");
    assert!(left.is_empty(), "erased note text still on disk: {left:?}");

    let ratio = ok(
        &home,
        &[
            "report",
            "ratio",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "json",
        ],
    );
    let ratio: serde_json::Value = serde_json::from_str(&ratio).expect("json");
    // Only Bob worked in November, and he is disadvantaged.
    assert_eq!(ratio["average_workers"], 1.0);
    assert_eq!(ratio["percent"], 100.0);
    assert_eq!(ratio["meets_minimum"], true);
}

#[test]
fn bad_input_gets_one_clear_line_and_writes_nothing() {
    let (_dir, home, [ann, bob, _cat]) = setup();
    let before = ok(&home, &["status", "--format", "json"]);
    let store_before = ok(&home, &["export", "person", "--person", &ann]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["clock-in", "--person", "p-nobody"], "unknown person"),
        (vec!["clock-out", "--person", &ann], "not clocked in"),
        (vec!["break-start", "--person", &ann], "not clocked in"),
        (
            vec!["clock-in", "--person", &ann, "--at", "yesterday"],
            "RFC 3339",
        ),
        (
            vec!["clock-in", "--person", &ann, "--type", "overtime"],
            "hour type",
        ),
        (
            vec!["shifts", "--person", &ann, "--from", "2026-13-01"],
            "YYYY-MM-DD",
        ),
        (
            vec![
                "cpo",
                "set",
                "--person",
                &bob,
                "--hours",
                "0",
                "--start",
                "2026-11-02",
            ],
            "between 20 and 300",
        ),
        (
            vec![
                "cpo",
                "set",
                "--person",
                &bob,
                "--hours",
                "301",
                "--start",
                "2026-11-02",
            ],
            "between 20 and 300",
        ),
        (
            vec![
                "cpo",
                "set",
                "--person",
                &bob,
                "--hours",
                "40",
                "--start",
                "02/11/2026",
            ],
            "YYYY-MM-DD",
        ),
        (
            vec!["people", "set-pin", "--person", &ann, "--pin", "12345"],
            "4 digits",
        ),
        (
            vec!["people", "set-pin", "--person", &ann, "--pin", "12a4"],
            "4 digits",
        ),
        (vec!["people", "add", "--name", "  "], "name"),
        (
            vec![
                "report",
                "hours",
                "--from",
                "2026-11-30",
                "--to",
                "2026-11-01",
            ],
            "ends before",
        ),
        (
            vec![
                "init",
                "--coop-name",
                "Again",
                "--timezone",
                "Europe/London",
            ],
            "already",
        ),
        (
            vec!["note", "delete", "--thread", "n-missing"],
            "unknown note thread",
        ),
    ];
    for (args, expect) in cases {
        let err = refused(&home, &args);
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            err.contains(expect),
            "{args:?}: expected {expect:?} in {err:?}"
        );
        assert!(
            !err.contains("Ann") && !err.contains("Bob"),
            "no names in errors: {err}"
        );
    }
    assert_eq!(
        ok(&home, &["status", "--format", "json"]),
        before,
        "nothing was queued"
    );
    let store_after = ok(&home, &["export", "person", "--person", &ann]);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("exported_at"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&store_after),
        strip(&store_before),
        "nothing was written"
    );

    // A bad time zone at init, on a fresh home, leaves no coop behind.
    let fresh = home.with_file_name("fresh");
    let err = refused(
        &fresh,
        &["init", "--coop-name", "X", "--timezone", "Mars/Olympus"],
    );
    assert!(err.contains("time zone"));
    let status = ok(&fresh, &["status", "--format", "json"]);
    assert!(status.contains("\"coop\": null"), "{status}");
    let err = refused(&fresh, &["people", "add", "--name", "Eve"]);
    assert!(err.contains("init"), "{err}");
}
