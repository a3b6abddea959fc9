//! Helpers for driving the `logbook` binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

/// The store key every test store is written with (the CLI reads `LOGBOOK_STORE_KEY`).
pub fn test_key() -> String {
    logbook_core::StoreKey::insecure_test_key()
        .to_hex()
        .to_string()
}

pub fn logbook(home: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("logbook")
        .expect("logbook binary")
        .env("LOGBOOK_STORE_KEY", test_key())
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run logbook")
}

/// Run and expect success; returns trimmed stdout.
pub fn ok(home: &Path, args: &[&str]) -> String {
    let out = logbook(home, args);
    assert!(
        out.status.success(),
        "logbook {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

/// Run and expect a clean refusal: non-zero exit, exactly one line on stderr.
pub fn refused(home: &Path, args: &[&str]) -> String {
    let out = logbook(home, args);
    assert!(!out.status.success(), "logbook {args:?} should have failed");
    let err = String::from_utf8(out.stderr).expect("utf8");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line on stderr, got {err:?}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout when refused");
    err.trim().to_string()
}
