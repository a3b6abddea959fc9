//! A newcomer's first day, walked as the README describes it: the relay operator creates
//! the coop and hands over the printed code; the coordinator starts from `join` alone on
//! a new laptop (no `init`), adds a site and a person, invites the worker's phone and the
//! café kiosk; the worker clocks in on the phone, clocks out at the kiosk with the PIN;
//! the coordinator sees the shift. Every step is the real `logbook` and `logbook-relay`
//! binaries.

mod common;

use logbook_e2e::{RelayProcess, create_coop_with_binary as create_coop, free_port};

use common::{ok, refused};

fn serve(data: &std::path::Path) -> (RelayProcess, String) {
    let relay = RelayProcess::spawn(
        data,
        format!("127.0.0.1:{}", free_port()).parse().expect("addr"),
    );
    let url = relay.url();
    (relay, url)
}

#[test]
fn a_coordinator_starts_a_new_coop_from_join_alone_and_sees_a_workers_shift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("relay");
    let code = create_coop(&data, "Riverside Bakery Co-op");
    let (_relay, url) = serve(&data);
    let laptop = dir.path().join("laptop");
    let phone = dir.path().join("phone");
    let kiosk = dir.path().join("kiosk");

    // The coordinator's new laptop: join only, no init.
    let joined = ok(
        &laptop,
        &[
            "join",
            "--relay",
            &url,
            "--code",
            &code,
            "--device-name",
            "office laptop",
            "--timezone",
            "Europe/London",
        ],
    );
    assert!(
        joined.contains("joined Riverside Bakery Co-op as coordinator"),
        "{joined}"
    );
    assert!(joined.contains("started the coop's directory"), "{joined}");
    let status = ok(&laptop, &["status", "--format", "json"]);
    assert!(
        status.contains("\"coop\": \"Riverside Bakery Co-op\""),
        "{status}"
    );
    assert!(status.contains("Europe/London"), "{status}");
    // An error never tells a user to do what they just did.
    let again = refused(
        &laptop,
        &["init", "--coop-name", "X", "--timezone", "Europe/London"],
    );
    assert!(again.contains("already"), "{again}");

    let site = ok(&laptop, &["sites", "add", "--name", "Bakery"]);
    let aisha = ok(
        &laptop,
        &["people", "add", "--name", "Aisha", "--site", &site],
    );
    ok(
        &laptop,
        &["people", "set-pin", "--person", &aisha, "--pin", "1234"],
    );
    let phone_code = ok(&laptop, &["invite", "--role", "worker", "--person", &aisha]);
    let kiosk_code = ok(&laptop, &["invite", "--role", "kiosk", "--site", &site]);
    ok(&laptop, &["sync"]);

    // Aisha's phone joins and clocks in.
    let joined = ok(
        &phone,
        &[
            "join",
            "--relay",
            &url,
            "--code",
            &phone_code,
            "--device-name",
            "Aisha's phone",
        ],
    );
    assert!(joined.contains("as worker"), "{joined}");
    assert!(
        !joined.contains("started"),
        "only the first coordinator starts a coop"
    );
    ok(
        &phone,
        &[
            "clock-in",
            "--person",
            &aisha,
            "--at",
            "2026-11-23T08:00:00Z",
        ],
    );
    ok(&phone, &["sync"]);

    // The kiosk joins; a tap there needs the PIN, and clocks her out with it.
    ok(
        &kiosk,
        &[
            "join",
            "--relay",
            &url,
            "--code",
            &kiosk_code,
            "--device-name",
            "bakery kiosk",
        ],
    );
    let no_pin = refused(
        &kiosk,
        &[
            "clock-out",
            "--person",
            &aisha,
            "--at",
            "2026-11-23T16:00:00Z",
        ],
    );
    assert!(no_pin.contains("PIN"), "{no_pin}");
    let wrong = refused(
        &kiosk,
        &[
            "clock-out",
            "--person",
            &aisha,
            "--pin",
            "9999",
            "--at",
            "2026-11-23T16:00:00Z",
        ],
    );
    assert!(wrong.contains("wrong PIN"), "{wrong}");
    ok(
        &kiosk,
        &[
            "clock-out",
            "--person",
            &aisha,
            "--pin",
            "1234",
            "--at",
            "2026-11-23T16:00:00Z",
        ],
    );
    ok(&kiosk, &["sync"]);

    // The coordinator sees one eight-hour shift.
    ok(&laptop, &["sync"]);
    let shifts = ok(&laptop, &["shifts", "--person", &aisha, "--format", "json"]);
    let shifts: serde_json::Value = serde_json::from_str(&shifts).expect("json");
    assert_eq!(shifts.as_array().map(Vec::len), Some(1), "{shifts}");
    assert_eq!(shifts[0]["status"], "complete");
    assert_eq!(shifts[0]["counted_seconds"], 8 * 3600);
}

#[test]
fn a_coordinator_keeps_working_while_the_relay_is_down_and_joins_only_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("relay");
    let code = create_coop(&data, "Hilltop Cafe");
    let (relay, url) = serve(&data);
    let laptop = dir.path().join("laptop");
    // Join, then lose the relay: sync says so in one line, local work carries on.
    ok(
        &laptop,
        &[
            "join",
            "--relay",
            &url,
            "--code",
            &code,
            "--timezone",
            "Europe/Rome",
        ],
    );
    drop(relay);
    let offline = refused(&laptop, &["sync"]);
    assert!(offline.contains("relay"), "{offline}");
    // Local work goes on while the relay is away.
    let site = ok(&laptop, &["sites", "add", "--name", "Cafe"]);
    assert!(site.starts_with("s-"));
    let (_relay, url2) = serve(&data);
    // The relay moved to a new port: the device keeps its membership, so a re-join is
    // refused with a clear message rather than a second membership.
    let rejoin = refused(&laptop, &["join", "--relay", &url2, "--code", &code]);
    assert!(rejoin.contains("already joined"), "{rejoin}");
}
