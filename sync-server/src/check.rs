//! `logbook-relay check`: validates a configuration (the flags and environment `serve`
//! takes) without serving: the data directory is writable and its database opens at a
//! schema this relay understands, the TLS files are readable and form a usable pair, and
//! the listen addresses can be bound. Each finding is one line; any failure makes the
//! command exit 1, so it fits `ExecStartPre=` in a systemd unit.

use crate::RelayConfig;
use std::net::SocketAddr;
use std::path::Path;

/// One checked item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `false`: the relay would not start (or would start wrongly) with this.
    pub ok: bool,
    /// What was checked and what was found (paths and addresses, no personal data).
    pub message: String,
}

fn ok(message: impl Into<String>) -> Finding {
    Finding {
        ok: true,
        message: message.into(),
    }
}

fn fail(message: impl Into<String>) -> Finding {
    Finding {
        ok: false,
        message: message.into(),
    }
}

/// Everything `check` looked at, in order.
#[derive(Debug, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }
}

/// Runs every check on `config`. Nothing is changed except a probe file created and
/// removed in the data directory (and the directory itself, if missing, as `serve`
/// would).
pub async fn check(config: &RelayConfig) -> Report {
    let mut findings = Vec::new();
    match &config.postgres {
        Some(target) => findings.push(check_postgres(target).await),
        None => check_data_dir(&config.data_dir, &mut findings),
    }
    if let Some(tls) = &config.tls {
        check_tls(&tls.cert, &tls.key, &mut findings).await;
    } else if !config.listen.ip().is_loopback() {
        findings.push(ok(format!(
            "plain HTTP on {}: put a TLS reverse proxy in front (devices accept http:// only on their own machine)",
            config.listen
        )));
    }
    check_bind("listen address", config.listen, &mut findings);
    if let Some(at) = config.metrics_listen {
        if at == config.listen && at.port() != 0 {
            findings.push(fail(format!(
                "metrics address {at} is the API's address: give metrics their own"
            )));
        } else {
            check_bind("metrics address", at, &mut findings);
            if !at.ip().is_loopback() {
                findings.push(ok(format!(
                    "metrics on {at} are not on loopback: make sure only your monitoring can reach it"
                )));
            }
        }
    }
    Report { findings }
}

fn check_data_dir(dir: &Path, findings: &mut Vec<Finding>) {
    if let Err(e) = std::fs::create_dir_all(dir) {
        findings.push(fail(format!(
            "data directory {}: cannot create it ({})",
            dir.display(),
            e.kind()
        )));
        return;
    }
    let probe = dir.join(".logbook-relay-check");
    match std::fs::write(&probe, b"check").and_then(|()| std::fs::remove_file(&probe)) {
        Ok(()) => findings.push(ok(format!("data directory {} is writable", dir.display()))),
        Err(e) => {
            findings.push(fail(format!(
                "data directory {}: not writable ({})",
                dir.display(),
                e.kind()
            )));
            return;
        }
    }
    let db = dir.join(crate::store::DB_FILE);
    if !db.exists() {
        findings.push(ok(format!(
            "no database yet: {} will be created at start",
            db.display()
        )));
        return;
    }
    findings.push(check_database(&db));
}

async fn check_postgres(target: &crate::store::PgTarget) -> Finding {
    use crate::store::postgres::{END_VERSION, PgStore};
    let target = target.clone();
    // The store drives its own runtime: probe it off this one.
    let probed = tokio::task::spawn_blocking(move || PgStore::probe(&target)).await;
    match probed {
        Err(_) => fail("PostgreSQL database: the check could not run"),
        // The error names the failure class only: a URL may carry a password.
        Ok(Err(e)) => fail(format!("PostgreSQL database: cannot connect or read ({e})")),
        Ok(Ok(None)) => ok("PostgreSQL database reachable; its tables will be created at start"),
        Ok(Ok(Some(v))) if v > END_VERSION => fail(format!(
            "PostgreSQL database: schema version {v} is newer than this relay's {END_VERSION} (run the newer relay)"
        )),
        Ok(Ok(Some(v))) if v < END_VERSION => ok(format!(
            "PostgreSQL database reachable (schema version {v}; migrated to {END_VERSION} at start)"
        )),
        Ok(Ok(Some(v))) => ok(format!(
            "PostgreSQL database reachable (schema version {v})"
        )),
    }
}

fn check_database(db: &Path) -> Finding {
    use rusqlite::{Connection, OpenFlags};
    let opened = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE).and_then(|c| {
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
    });
    match opened {
        Err(e) => fail(format!("database {}: cannot be read ({e})", db.display())),
        Ok(v) if v > crate::store::SCHEMA_VERSION => fail(format!(
            "database {}: schema version {v} is newer than this relay's {} (run the newer relay, or restore a backup)",
            db.display(),
            crate::store::SCHEMA_VERSION
        )),
        Ok(v) if v < crate::store::SCHEMA_VERSION => ok(format!(
            "database {} opens (schema version {v}; migrated to {} at start)",
            db.display(),
            crate::store::SCHEMA_VERSION
        )),
        Ok(v) => ok(format!(
            "database {} opens (schema version {v})",
            db.display()
        )),
    }
}

async fn check_tls(cert: &Path, key: &Path, findings: &mut Vec<Finding>) {
    let mut readable = true;
    for (what, path) in [("certificate", cert), ("private key", key)] {
        match std::fs::read(path) {
            Ok(_) => findings.push(ok(format!("TLS {what} {} is readable", path.display()))),
            Err(e) => {
                readable = false;
                findings.push(fail(format!(
                    "TLS {what} {}: cannot read it ({})",
                    path.display(),
                    e.kind()
                )));
            }
        }
    }
    if !readable {
        return;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await {
        Ok(_) => findings.push(ok("TLS certificate and key form a usable pair")),
        Err(e) => findings.push(fail(format!(
            "TLS certificate and key are not usable together: {e}"
        ))),
    }
}

fn check_bind(what: &str, at: SocketAddr, findings: &mut Vec<Finding>) {
    match std::net::TcpListener::bind(at) {
        Ok(_) => findings.push(ok(format!("{what} {at} can be bound"))),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => findings.push(fail(format!(
            "{what} {at} is in use (is a relay already running?)"
        ))),
        Err(e) => findings.push(fail(format!("{what} {at} cannot be bound ({})", e.kind()))),
    }
}
