//! Where the CLI takes its store key from (docs/SECURITY.md, "At rest"): a passphrase, the
//! key itself, or a command that reads the OS keyring; a wrong one is one clear line and
//! changes nothing; with none at all (and no terminal to ask at) the CLI says what to set.

use std::path::Path;
use std::process::Output;

fn run(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("logbook").expect("logbook binary");
    for var in [
        "LOGBOOK_STORE_KEY",
        "LOGBOOK_KEY_COMMAND",
        "LOGBOOK_PASSPHRASE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied())
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run logbook")
}

fn stderr_line(out: &Output) -> String {
    assert!(!out.status.success(), "should have been refused");
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
    err
}

#[test]
fn a_passphrase_store_opens_with_it_only_and_a_wrong_one_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("laptop");
    let good = [("LOGBOOK_PASSPHRASE", "brown bread at dawn")];
    let out = run(
        &home,
        &good,
        &[
            "init",
            "--coop-name",
            "Key Co-op",
            "--timezone",
            "Europe/London",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&home, &good, &["people", "add", "--name", "Marker Zenobia"]);
    assert!(out.status.success());

    let files = |h: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(h)
            .expect("home")
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = files(&home);
    // The salt and the key check lie beside the store; neither the passphrase nor the name.
    for (name, bytes) in &before {
        for marker in [&b"brown bread"[..], b"Zenobia"] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker),
                "{name} holds {:?}",
                String::from_utf8_lossy(marker)
            );
        }
    }

    let err = stderr_line(&run(
        &home,
        &[("LOGBOOK_PASSPHRASE", "brown bread at dusk")],
        &["people", "list"],
    ));
    assert!(err.contains("wrong key or passphrase"), "{err}");
    assert_eq!(files(&home), before, "a wrong passphrase changed nothing");

    let out = run(&home, &good, &["people", "list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Marker Zenobia"));
}

#[test]
fn the_key_can_come_from_the_environment_or_a_keyring_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("kiosk");
    let hex = "6b".repeat(32);
    let out = run(
        &home,
        &[("LOGBOOK_STORE_KEY", &hex)],
        &[
            "init",
            "--coop-name",
            "Key Co-op",
            "--timezone",
            "Europe/London",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A keyring stand-in: any command that prints the key.
    let command = format!("printf '%s\\n' {hex}");
    let out = run(&home, &[("LOGBOOK_KEY_COMMAND", &command)], &["status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = stderr_line(&run(
        &home,
        &[("LOGBOOK_KEY_COMMAND", "false")],
        &["status"],
    ));
    assert!(err.contains("LOGBOOK_KEY_COMMAND"), "{err}");
    let err = stderr_line(&run(&home, &[("LOGBOOK_STORE_KEY", "abcd")], &["status"]));
    assert!(err.contains("a store key is"), "{err}");
    // No key source and no terminal to ask at.
    let err = stderr_line(&run(&home, &[], &["status"]));
    assert!(err.contains("LOGBOOK_PASSPHRASE"), "{err}");
}
