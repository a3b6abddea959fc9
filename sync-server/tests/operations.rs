//! Operations around the relay: `/metrics` (off by default, its own address, no ids in
//! labels), online backup under load and restore into a new directory under a new log
//! generation, and `logbook-relay check`.

mod common;

use common::*;
use logbook_protocol::Role;
use logbook_relay::{Limits, RelayConfig, admin};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

async fn scrape(http: &reqwest::Client, addr: SocketAddr) -> String {
    let res = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    res.text().await.expect("metrics text")
}

/// The value of the sample line that starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_are_off_unless_asked_for() {
    let t = start_relay().await;
    assert_eq!(t.relay.metrics_addr(), None);
    let res = t.http.get(t.url("/metrics")).send().await.expect("get");
    assert_eq!(res.status(), 404, "never on the API's address");
    t.relay.shutdown().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_without_ids() {
    let t = start_relay_configured(|c| {
        c.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
        c.limits = Limits {
            pull_per_minute: 3,
            ..Limits::default()
        };
    })
    .await;
    let at = t.relay.metrics_addr().expect("metrics on");
    assert_ne!(at, t.relay.addr());
    let coord = t.coordinator().await;
    let worker = t
        .device(&coord, &grant(Role::Worker, Some("p-amina"), None, &[]))
        .await;
    coord
        .push(vec![
            push_doc("directory/main", &[b"d1", b"d2"]),
            push_doc("timesheet:p-amina/2026-05/dev-x", &[b"t1"]),
        ])
        .await;
    coord.push(vec![push_doc("directory/main", &[b"d3"])]).await;
    let (status, _) = worker
        .put(
            "/v1/consent/p-amina",
            &serde_json::json!({"coordinator_notes": true}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let (status, _) = coord
        .post(
            &format!("/v1/devices/{}/revoke", worker.device_id),
            &serde_json::json!({}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    // Pulls until the rate limit answers 429.
    let mut limited = 0;
    for _ in 0..6 {
        if coord.try_pull_query("after=0").await.is_err() {
            limited += 1;
        }
    }
    assert!(limited > 0, "the pull limit refused some");
    let _ = t
        .http
        .get(t.url("/no/such/route/p-amina"))
        .send()
        .await
        .expect("get");

    let text = scrape(&t.http, at).await;
    assert!(text.ends_with("# EOF\n"));
    let push_ok = sample(
        &text,
        r#"logbook_relay_requests_total{route="/v1/push",method="POST",status="200"}"#,
    );
    assert_eq!(push_ok, Some(2.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"logbook_relay_requests_total{route="/v1/devices/{id}/revoke",method="POST",status="204"}"#
        )
        .or_else(|| sample(
            &text,
            r#"logbook_relay_requests_total{route="/v1/devices/{id}/revoke",method="POST",status="200"}"#
        )),
        Some(1.0),
        "the revoke is counted under its template: {text}"
    );
    assert!(text.contains(r#"route="/v1/consent/{person}""#));
    assert!(text.contains(r#"route="unmatched""#));
    assert_eq!(
        sample(
            &text,
            r#"logbook_relay_rate_limited_total{route="/v1/pull"}"#
        ),
        Some(limited as f64)
    );
    assert_eq!(
        sample(
            &text,
            r#"logbook_relay_requests_total{route="/v1/pull",method="GET",status="429"}"#
        ),
        Some(limited as f64)
    );
    assert!(
        sample(
            &text,
            r#"logbook_relay_request_duration_seconds_count{route="/v1/push"}"#
        ) == Some(2.0)
    );
    assert_eq!(
        sample(&text, "logbook_relay_push_documents_count"),
        Some(2.0)
    );
    assert_eq!(sample(&text, "logbook_relay_push_documents_sum"), Some(3.0));
    assert_eq!(sample(&text, "logbook_relay_push_blobs_sum"), Some(4.0));
    assert_eq!(sample(&text, "logbook_relay_push_bytes_sum"), Some(8.0));
    assert_eq!(sample(&text, "logbook_relay_store_errors_total"), Some(0.0));
    let open = sample(&text, "logbook_relay_open_connections").expect("open connections");
    assert!(open >= 1.0, "the test client's connection is open: {open}");
    assert!(sample(&text, "logbook_relay_connection_limit").is_some());
    // No coop, device or person id, no document id, no query value in any label.
    for id in [
        t.coop_id.as_str(),
        coord.device_id.as_str(),
        worker.device_id.as_str(),
        "p-amina",
        "dev-x",
        "timesheet:",
        "after=",
    ] {
        assert!(!text.contains(id), "{id} appears in the metrics");
    }
    t.relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_is_a_consistent_snapshot_and_restores_under_a_new_generation() {
    // `admin backup` copies the SQLite file; PostgreSQL is backed up with its own tools.
    if sqlite_only(
        "a_backup_under_load_is_a_consistent_snapshot_and_restores_under_a_new_generation",
    ) {
        return;
    }
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let generation = coord.pull(0).await.generation.expect("a generation");
    // One pusher appends doc-0, doc-1, ... one push at a time (each acknowledged before
    // the next), another pushes bigger batches, while the backup runs.
    let acked = Arc::new(AtomicU64::new(0));
    let pusher = {
        let coord = coord.clone();
        let acked = acked.clone();
        tokio::spawn(async move {
            for i in 0..300u64 {
                coord
                    .push(vec![push_doc(
                        &format!("directory/seq-{i}"),
                        &[format!("entry {i}").as_bytes()],
                    )])
                    .await;
                acked.store(i + 1, Ordering::SeqCst);
            }
        })
    };
    let batcher = {
        let coord = coord.clone();
        tokio::spawn(async move {
            for i in 0..40u64 {
                let docs = (0..20)
                    .map(|j| push_doc(&format!("site:s-{i}/{j}"), &[&[7u8; 2000]]))
                    .collect();
                coord.push(docs).await;
            }
        })
    };
    while acked.load(Ordering::SeqCst) < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before = acked.load(Ordering::SeqCst);
    let backup = t.dir.path().join("backup.sqlite3");
    let data = t.dir.path().to_path_buf();
    let to = backup.clone();
    let info = tokio::task::spawn_blocking(move || admin::backup(&data, &to))
        .await
        .expect("task")
        .expect("backup while serving");
    let after = acked.load(Ordering::SeqCst);
    assert!(after < 300, "the backup ran while pushes were still going");
    pusher.await.expect("pusher");
    batcher.await.expect("batcher");
    assert_eq!(info.generation.as_deref(), Some(generation.as_str()));
    assert!(info.bytes > 0);
    assert!(!backup.with_extension("sqlite3.partial").exists());
    // A second backup never overwrites the first.
    let again = admin::backup(t.dir.path(), &backup);
    assert!(again.is_err());

    // Restore into a new directory; a directory with a database is refused.
    let restored_dir = t.dir.path().join("restored");
    assert!(admin::restore(&backup, t.dir.path()).is_err());
    let restored = admin::restore(&backup, &restored_dir).expect("restore");
    assert_ne!(restored.generation, generation);
    assert!(
        admin::restore(&backup, &restored_dir).is_err(),
        "never twice"
    );
    t.relay.shutdown().await;

    let relay = logbook_relay::start(RelayConfig::new(
        &restored_dir,
        "127.0.0.1:0".parse().expect("addr"),
    ))
    .await
    .expect("serve the restored directory");
    let coord = Client {
        base: relay.url(),
        ..coord
    };
    let page = coord.pull(0).await;
    assert_eq!(
        page.generation.as_deref(),
        Some(restored.generation.as_str())
    );
    // The snapshot holds a prefix of the sequential pushes: every one acknowledged
    // before the backup started, none with a gap.
    let docs: Vec<String> = coord.docs_readable().await;
    let sequential: Vec<u64> = docs
        .iter()
        .filter_map(|d| d.strip_prefix("directory/seq-"))
        .filter_map(|n| n.parse().ok())
        .collect();
    let n = sequential.len() as u64;
    assert!(
        n >= before,
        "{n} entries, {before} acknowledged before the backup"
    );
    assert!(n <= after + 1, "{n} entries, {after} acknowledged after it");
    let mut sorted = sequential.clone();
    sorted.sort();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "no gaps");
    // Batches are all or nothing.
    for i in 0..40 {
        let held = docs
            .iter()
            .filter(|d| d.starts_with(&format!("site:s-{i}/")))
            .count();
        assert!(held == 0 || held == 20, "batch {i}: {held} of 20");
    }
    // The restored relay takes pushes and devices carry on.
    coord
        .push(vec![push_doc("directory/after", &[b"after the restore"])])
        .await;
    assert!(
        coord
            .docs_readable()
            .await
            .contains(&"directory/after".to_string())
    );
    // A pull with the old generation's cursor is answered but acknowledges nothing.
    let stale = coord
        .try_pull_query(&format!("after=999999&generation={generation}"))
        .await
        .expect("stale pull answered");
    assert_eq!(
        stale.generation.as_deref(),
        Some(restored.generation.as_str())
    );
    relay.shutdown().await;
}

fn relay_check(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_logbook-relay"))
        .arg("check")
        .args(args)
        .env_remove("LOGBOOK_RELAY_DATA")
        .env_remove("LOGBOOK_RELAY_LISTEN")
        .output()
        .expect("run check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_passes_a_good_configuration_and_names_each_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_s = data.to_str().expect("utf-8");
    let (code, out) = relay_check(&["--data", data_s, "--listen", "127.0.0.1:0"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("configuration ok"), "{out}");
    assert!(out.contains("will be created"), "{out}");
    // With a database, and metrics on their own address.
    admin::create_coop(&data, "Check Bakery").expect("coop");
    let (code, out) = relay_check(&[
        "--data",
        data_s,
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("schema version"), "{out}");

    // Unreadable TLS files.
    let (code, out) = relay_check(&[
        "--data",
        data_s,
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL TLS certificate /nonexistent/cert.pem"),
        "{out}"
    );
    // Files that are not PEM.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").expect("write");
    let junk_s = junk.to_str().expect("utf-8");
    let (code, out) = relay_check(&[
        "--data",
        data_s,
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        junk_s,
        "--tls-key",
        junk_s,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL TLS certificate and key are not usable"),
        "{out}"
    );

    // The listen address is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_s = taken.local_addr().expect("addr").to_string();
    let (code, out) = relay_check(&["--data", data_s, "--listen", &taken_s]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is in use"), "{out}");

    // A data "directory" that is a file.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    let (code, out) = relay_check(&["--data", file.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL data directory"), "{out}");

    // A database from a newer relay.
    let conn = rusqlite::Connection::open(data.join(logbook_relay::store::DB_FILE)).expect("open");
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    let (code, out) = relay_check(&["--data", data_s, "--listen", "127.0.0.1:0"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("schema version 99 is newer"), "{out}");

    // No data directory at all: clap's usage error.
    let (code, _) = relay_check(&[]);
    assert_eq!(code, 2);
}
