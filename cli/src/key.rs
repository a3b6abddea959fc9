//! Where the CLI gets its store key (docs/SECURITY.md, "At rest"). Never from a file
//! beside the store: in this order,
//!
//! 1. `LOGBOOK_STORE_KEY`: the key itself, 64 hex digits (scripts, tests);
//! 2. `LOGBOOK_KEY_COMMAND`: a command whose output is the key in hex, so the OS keyring
//!    keeps it (`secret-tool lookup service coop-logbook` on Linux, `security
//!    find-generic-password -w -s coop-logbook` on macOS);
//! 3. `LOGBOOK_PASSPHRASE`: a passphrase, stretched with Argon2id (salt beside the store);
//! 4. a passphrase typed at the terminal (not echoed), when stdin is one.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use logbook_core::StoreKey;
use zeroize::Zeroizing;

pub fn store_key(home: &Path) -> Result<StoreKey> {
    if let Ok(hex) = std::env::var("LOGBOOK_STORE_KEY") {
        let hex = Zeroizing::new(hex);
        return StoreKey::from_hex(&hex).context("LOGBOOK_STORE_KEY");
    }
    if let Ok(cmd) = std::env::var("LOGBOOK_KEY_COMMAND") {
        let out = Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("running LOGBOOK_KEY_COMMAND")?;
        let text = Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
        if !out.status.success() {
            bail!("LOGBOOK_KEY_COMMAND failed");
        }
        return StoreKey::from_hex(&text).context("LOGBOOK_KEY_COMMAND output");
    }
    if let Ok(pass) = std::env::var("LOGBOOK_PASSPHRASE") {
        let pass = Zeroizing::new(pass);
        return Ok(StoreKey::from_passphrase(&pass, home)?);
    }
    if std::io::stdin().is_terminal() {
        let pass = prompt("store passphrase: ")?;
        return Ok(StoreKey::from_passphrase(&pass, home)?);
    }
    bail!(
        "no store key: set LOGBOOK_PASSPHRASE, LOGBOOK_STORE_KEY or LOGBOOK_KEY_COMMAND, or run in a terminal"
    )
}

/// The demo's key: `LOGBOOK_STORE_KEY` if set (so kept stores can be opened again with
/// it), else a fresh random one that dies with the run.
pub fn store_key_or_new() -> Result<StoreKey> {
    match std::env::var("LOGBOOK_STORE_KEY") {
        Ok(hex) => StoreKey::from_hex(&Zeroizing::new(hex)).context("LOGBOOK_STORE_KEY"),
        Err(_) => Ok(StoreKey::generate()),
    }
}

/// Read one line from the terminal with echo off (`stty`, present on every Unix).
fn prompt(label: &str) -> Result<Zeroizing<String>> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let echo_off = Command::new("stty")
        .arg("-echo")
        .stdin(Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success());
    let mut line = Zeroizing::new(String::new());
    let read = std::io::stdin().lock().read_line(&mut line);
    if echo_off {
        let _ = Command::new("stty")
            .arg("echo")
            .stdin(Stdio::inherit())
            .status();
    }
    eprintln!();
    read?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    Ok(trimmed)
}
