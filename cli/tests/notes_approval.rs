//! A supporter's device reads a person's notes only after the person approves it on their
//! own device: `note devices` lists it with the code its `status` shows, `note approve`
//! lets it in. The real `logbook` and `logbook-relay` binaries.

mod common;

use logbook_e2e::{RelayProcess, create_coop_with_binary as create_coop, free_port};

use common::{ok, refused};

const NOTE: &str = "Talked about the bus pass";

fn join(home: &std::path::Path, url: &str, code: &str, name: &str) -> String {
    ok(
        home,
        &[
            "join",
            "--relay",
            url,
            "--code",
            code,
            "--device-name",
            name,
            "--timezone",
            "Europe/London",
        ],
    )
}

fn status(home: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&ok(home, &["status", "--format", "json"])).expect("status json")
}

#[test]
fn a_supporter_reads_notes_once_the_person_approves_its_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("relay");
    let code = create_coop(&data, "Riverside Bakery Co-op");
    let relay = RelayProcess::spawn(
        &data,
        format!("127.0.0.1:{}", free_port()).parse().expect("addr"),
    );
    let url = relay.url();
    let laptop = dir.path().join("laptop");
    let phone = dir.path().join("phone");
    let helper = dir.path().join("supporter");

    join(&laptop, &url, &code, "office laptop");
    let site = ok(&laptop, &["sites", "add", "--name", "Bakery"]);
    let aisha = ok(
        &laptop,
        &["people", "add", "--name", "Aisha", "--site", &site],
    );
    let phone_code = ok(&laptop, &["invite", "--role", "worker", "--person", &aisha]);
    let helper_code = ok(
        &laptop,
        &["invite", "--role", "supporter", "--person", &aisha],
    );
    ok(&laptop, &["sync"]);

    // Aisha writes a note on her phone: her phone makes her notes key.
    join(&phone, &url, &phone_code, "Aisha's phone");
    ok(&phone, &["note", "add", "--about", &aisha, "--text", NOTE]);
    ok(&phone, &["sync"]);

    // Her supporter's device joins; without the key it reads nothing.
    join(&helper, &url, &helper_code, "supporter tablet");
    ok(&helper, &["sync"]);
    let list = ok(&helper, &["note", "list", "--about", &aisha]);
    assert!(!list.contains(NOTE), "no key yet: {list}");
    let helper_status = status(&helper);
    let helper_key = helper_status["device"]
        .as_str()
        .expect("device")
        .to_string();
    let helper_code_shown = helper_status["device_code"].as_str().expect("code");

    // The coordinator's laptop vouches for the device it invited at its next sync; then
    // her phone hears of it with its own, and lists it as asking.
    ok(&laptop, &["sync"]);
    ok(&phone, &["sync"]);
    let listed: serde_json::Value = serde_json::from_str(&ok(
        &phone,
        &["note", "devices", "--about", &aisha, "--format", "json"],
    ))
    .expect("json");
    let rows = listed.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0]["device"], helper_key.as_str());
    assert_eq!(rows[0]["code"], helper_code_shown);
    assert_eq!(rows[0]["who"], "supporter");
    assert_eq!(rows[0]["approved"], false);
    let table = ok(&phone, &["note", "devices", "--about", &aisha]);
    assert!(
        table.contains("asking") && table.contains(helper_code_shown),
        "{table}"
    );

    // The coordinator's laptop is no candidate, and a coordinator cannot approve anyone.
    let laptop_key = status(&laptop)["device"]
        .as_str()
        .expect("device")
        .to_string();
    let why = refused(
        &phone,
        &[
            "note",
            "approve",
            "--about",
            &aisha,
            "--device",
            &laptop_key,
        ],
    );
    assert!(why.contains("not a trusted device"), "{why}");
    ok(&laptop, &["sync"]);
    let why = refused(
        &laptop,
        &[
            "note",
            "approve",
            "--about",
            &aisha,
            "--device",
            &helper_key,
        ],
    );
    assert!(why.contains("not a trusted device"), "{why}");

    // Aisha approves on her phone; the supporter's next sync brings the key and the note.
    let approved = ok(
        &phone,
        &[
            "note",
            "approve",
            "--about",
            &aisha,
            "--device",
            &helper_key,
        ],
    );
    assert!(
        approved.contains("approved device") && approved.contains("synced"),
        "{approved}"
    );
    let table = ok(&phone, &["note", "devices", "--about", &aisha]);
    assert!(
        table.contains("yes") && !table.contains("asking"),
        "{table}"
    );
    ok(&helper, &["sync"]);
    let list = ok(&helper, &["note", "list", "--about", &aisha]);
    assert!(list.contains(NOTE), "{list}");
}
