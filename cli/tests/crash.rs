//! A punch acknowledged to the user survives the process being killed at any moment.

mod common;
use common::ok;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn every_acknowledged_punch_survives_sigkill_many_times_in_a_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("kiosk");
    ok(
        &home,
        &[
            "init",
            "--coop-name",
            "Crash Co-op",
            "--timezone",
            "Europe/London",
        ],
    );
    let person = ok(&home, &["people", "add", "--name", "Dana"]);
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..25u32 {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("logbook"))
            .env("LOGBOOK_STORE_KEY", common::test_key())
            .arg("--home")
            .arg(&home)
            .args(["stress-punches", "--person", &person, "--count", "100000"])
            // Each round replays a later stretch of time, so no tap contradicts the last.
            .args([
                "--start",
                &(1_700_000_000 + i64::from(round) * 10_000_000).to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        // Kill right after an acknowledgement, at a different point each round.
        let wanted = 1 + (round * 7) % 13;
        let mut seen = 0;
        while seen < wanted {
            match lines.next() {
                Some(Ok(id)) => {
                    acknowledged.push(id);
                    seen += 1;
                }
                _ => break,
            }
        }
        child.kill().expect("SIGKILL");
        // Anything printed between our last read and the kill was acknowledged too.
        for id in lines.map_while(Result::ok) {
            acknowledged.push(id);
        }
        let _ = child.wait();
        // The store must open cleanly every time.
        let status = ok(&home, &["status", "--format", "json"]);
        assert!(
            status.contains("Crash Co-op"),
            "store opens cleanly after round {round}"
        );
    }
    let book = logbook_core::Logbook::open(&home, &logbook_core::StoreKey::insecure_test_key())
        .expect("reopen");
    assert!(
        book.check_integrity().expect("integrity"),
        "SQLite integrity check passes"
    );
    let export = book.reports().export_person(&person).expect("export");
    let stored: std::collections::BTreeSet<String> = export["punches"]
        .as_array()
        .expect("punches")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_string())
        .collect();
    assert!(acknowledged.len() >= 25);
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged punch {id} was lost");
    }
}
