//! What only the PostgreSQL store has: its migrations, its pull plan, revocation racing a
//! push that waits for the coop's log end, and the binary's `--database` flag. Each test
//! needs `LOGBOOK_TEST_POSTGRES` (scripts/setup-postgres.sh) and says on stderr when it is
//! skipped for want of it. The rest of the suite runs on PostgreSQL through tests/common.

mod common;

use common::*;
use logbook_protocol::Role;
use logbook_relay::RelayError;
use logbook_relay::store::postgres::END_VERSION;
use logbook_relay::store::{Database, PgStore, PgTarget, RelayStore};
use reqwest::StatusCode;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn postgres(test: &str) -> Option<String> {
    let url = postgres_url();
    if url.is_none() {
        eprintln!("{test}: needs LOGBOOK_TEST_POSTGRES, skipped");
    }
    url
}

fn fresh_target(url: &str) -> PgTarget {
    let dir = tempfile::tempdir().expect("tempdir");
    match fresh_database(dir.path()) {
        Database::Postgres(target) => PgTarget {
            url: url.to_string(),
            ..target
        },
        Database::Sqlite(_) => unreachable!("postgres_url is set"),
    }
}

#[test]
fn migrations_are_versioned_and_a_newer_schema_is_refused() {
    let Some(url) = postgres("migrations_are_versioned_and_a_newer_schema_is_refused") else {
        return;
    };
    let target = fresh_target(&url);
    assert_eq!(
        PgStore::probe(&target).expect("probe"),
        None,
        "nothing created yet"
    );
    let store = PgStore::open(&target).expect("open");
    assert_eq!(store.schema_version().expect("version"), END_VERSION);
    let generation = store.log_generation().expect("generation");
    assert!(generation.is_some(), "a new database has a log generation");
    drop(store);
    // Opening again (another process starting) migrates nothing and keeps the data.
    let store = PgStore::open(&target).expect("reopen");
    assert_eq!(store.schema_version().expect("version"), END_VERSION);
    assert_eq!(store.log_generation().expect("generation"), generation);
    let renewed = store.new_log_generation().expect("new generation");
    assert_ne!(Some(renewed.clone()), generation);
    assert_eq!(store.log_generation().expect("generation"), Some(renewed));
    assert_eq!(PgStore::probe(&target).expect("probe"), Some(END_VERSION));
    drop(store);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        pg_connect(&target)
            .await
            .batch_execute("UPDATE schema_version SET version = 99")
            .await
            .expect("bump");
    });
    assert!(matches!(
        PgStore::open(&target),
        Err(RelayError::NewerSchema(99))
    ));
}

#[tokio::test]
async fn the_pull_query_is_an_index_range_scan() {
    let Some(_) = postgres("the_pull_query_is_an_index_range_scan") else {
        return;
    };
    let t = start_relay().await;
    let Database::Postgres(target) = &t.db else {
        unreachable!("postgres_url is set")
    };
    let client = pg_connect(target).await;
    // Without statistics on a tiny table PostgreSQL may prefer a sequential scan; with
    // those plans off it shows whether the index can serve the query at all.
    client
        .batch_execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
        .await
        .expect("set");
    let rows = client
        .query(
            "EXPLAIN SELECT seq, doc, kind, key, data FROM log
             WHERE coop = 'c' AND seq > 5 AND (left(scope, 6) <> 'notes:' OR scope = ANY('{}'))
             ORDER BY seq LIMIT 100",
            &[],
        )
        .await
        .expect("explain");
    let plan: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let plan = plan.join("\n");
    assert!(plan.contains("Index Scan using log_pkey on log"), "{plan}");
    assert!(!plan.contains("Sort"), "{plan}");
}

#[tokio::test]
async fn a_device_revoked_while_its_push_waits_for_the_log_does_not_commit() {
    let Some(_) = postgres("a_device_revoked_while_its_push_waits_for_the_log_does_not_commit")
    else {
        return;
    };
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let Database::Postgres(target) = &t.db else {
        unreachable!("postgres_url is set")
    };
    // Another writer of the coop holds its log end, so ann's push has to wait.
    let mut holder = pg_connect(target).await;
    let tx = holder.transaction().await.expect("begin");
    tx.execute(
        "SELECT seq FROM log_ends WHERE coop = $1 FOR UPDATE",
        &[&t.coop_id],
    )
    .await
    .expect("lock the log end");
    let pusher = ann.clone();
    let push = tokio::spawn(async move {
        pusher
            .try_push(vec![push_doc(
                "timesheet:ann/stolen",
                &[b"after revocation"],
            )])
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    tx.execute(
        "UPDATE devices SET revoked = true WHERE id = $1",
        &[&ann.device_id],
    )
    .await
    .expect("revoke");
    tx.commit().await.expect("commit");
    let result = tokio::time::timeout(Duration::from_secs(15), push)
        .await
        .expect("push answered")
        .expect("task");
    assert_eq!(result.err(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(
        t.count(
            "SELECT count(*) FROM log WHERE doc = $1",
            "timesheet:ann/stolen"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn the_binary_serves_and_administers_a_postgres_database() {
    let Some(url) = postgres("the_binary_serves_and_administers_a_postgres_database") else {
        return;
    };
    let target = fresh_target(&url);
    let schema = target.schema.clone().expect("schema");
    // The URL carries the schema as libpq options, as an operator could.
    let url = format!(
        "{}?options=-c%20search_path%3D{schema}",
        target.url.split('?').next().unwrap_or_default()
    );
    let bin = env!("CARGO_BIN_EXE_logbook-relay");
    let out = Command::new(bin)
        .args(["admin", "create-coop", "--name", "Postgres Bakery"])
        .env("LOGBOOK_RELAY_DATABASE", &url)
        .env_remove("LOGBOOK_RELAY_DATA")
        .output()
        .expect("admin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .expect("field")
    };
    let (coop_id, code) = (field("coop id:"), field("coordinator code:"));
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
        .env_remove("LOGBOOK_RELAY_DATA")
        .env_remove("LOGBOOK_RELAY_DATABASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address line")
        .to_string();
    let http = reqwest::Client::new();
    let coord = join_at(&http, &base, &code, "laptop").await;
    coord
        .push(vec![push_doc("directory/main", &[b"roster"])])
        .await;
    let out = Command::new(bin)
        .args(["admin", "--database", &url, "devices", "--coop", &coop_id])
        .output()
        .expect("devices");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&coord.device_id));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn check_reaches_a_postgres_database_and_says_when_it_cannot() {
    let Some(url) = postgres("check_reaches_a_postgres_database_and_says_when_it_cannot") else {
        return;
    };
    let target = fresh_target(&url);
    let schema = target.schema.clone().expect("schema");
    let url = format!(
        "{}?options=-c%20search_path%3D{schema}",
        target.url.split('?').next().unwrap_or_default()
    );
    let bin = env!("CARGO_BIN_EXE_logbook-relay");
    let check = |database: &str| {
        let out = Command::new(bin)
            .args(["check", "--listen", "127.0.0.1:0", "--database", database])
            .env_remove("LOGBOOK_RELAY_DATA")
            .env_remove("LOGBOOK_RELAY_DATABASE")
            .output()
            .expect("check");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    // Reachable, nothing created yet: fine, the relay creates its tables at start.
    let (code, out) = check(&url);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("tables will be created at start"), "{out}");
    // After a relay (here `admin`) created them: the schema version is named.
    let created = Command::new(bin)
        .args([
            "admin",
            "--database",
            &url,
            "create-coop",
            "--name",
            "Check Co-op",
        ])
        .env_remove("LOGBOOK_RELAY_DATA")
        .output()
        .expect("admin");
    assert!(created.status.success());
    let (code, out) = check(&url);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("reachable (schema version {END_VERSION})")),
        "{out}"
    );
    // Nothing listens on port 1: a failure, exit code 1, and the password is not echoed.
    let (code, out) = check("postgres://relay:not-to-be-printed@127.0.0.1:1/logbook");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL PostgreSQL database"), "{out}");
    assert!(!out.contains("not-to-be-printed"), "{out}");
}

fn checked(doc: &str, blobs: &[&[u8]]) -> logbook_relay::store::CheckedDoc {
    logbook_relay::store::CheckedDoc {
        doc: doc.to_string(),
        scope: doc.split('/').next().unwrap_or_default().to_string(),
        key: None,
        blobs: blobs
            .iter()
            .map(|b| (logbook_protocol::content_id(b), b.to_vec()))
            .collect(),
        supersedes: vec![],
        supersede_any: false,
        supersede_orphans: false,
    }
}

/// Group commit on PostgreSQL: many threads push into three coops at once through one
/// store, so batches span coops; one device is over its quota, and its pushes fail alone.
/// Every other push is stored exactly once, and each coop's log is numbered 1..N with no gap.
#[test]
fn concurrent_pushes_are_group_committed_and_a_refused_push_leaves_the_others() {
    let Some(url) =
        postgres("concurrent_pushes_are_group_committed_and_a_refused_push_leaves_the_others")
    else {
        return;
    };
    let target = fresh_target(&url);
    let store = std::sync::Arc::new(PgStore::open(&target).expect("open").with_quotas(
        logbook_relay::store::Quotas {
            coop_bytes: 0,
            device_bytes: 1_000,
        },
    ));
    for c in ["c0", "c1", "c2"] {
        store.create_coop(c, "Coop", 0).expect("coop");
    }
    let threads: Vec<_> = (0..9)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let coop = format!("c{}", t % 3);
                (0..30)
                    .map(|i| {
                        // Thread 4's device pushes 2,000-byte blobs: over its 1,000-byte quota.
                        let bytes = if t == 4 {
                            vec![b'x'; 2_000 + i]
                        } else {
                            format!("t{t} i{i}").into_bytes()
                        };
                        let again = format!("t{t} i{}", i - i % 2).into_bytes();
                        let blobs: Vec<&[u8]> = if t == 4 {
                            vec![&bytes]
                        } else {
                            vec![&bytes, &again]
                        };
                        let docs = vec![checked(&format!("records:p{t}/x"), &blobs)];
                        store.push(&coop, &format!("dev{t}"), docs)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (t, thread) in threads.into_iter().enumerate() {
        for (i, r) in thread.join().expect("thread").into_iter().enumerate() {
            if t == 4 {
                assert!(
                    matches!(r, Err(RelayError::QuotaExceeded(_))),
                    "push {i} of the device over quota: {r:?}"
                );
            } else {
                let r = r.expect("push");
                assert_eq!((r.stored, r.duplicates), (1, 1), "thread {t} push {i}");
            }
        }
    }
    let all = logbook_relay::access::ReadFilter::AllButNotes { notes: vec![] };
    for c in 0..3 {
        let page = store
            .pull(&format!("c{c}"), &all, 0, None, 5000, usize::MAX)
            .expect("pull");
        let writers = if c == 1 { 2 } else { 3 };
        let blobs: usize = page.docs.iter().map(|d| d.blobs.len()).sum();
        assert_eq!(blobs, writers * 30, "coop c{c}");
        assert_eq!(
            page.next,
            (writers * 30) as u64,
            "coop c{c}: numbered without gaps"
        );
    }
}

/// The store's methods poll their queries on the calling thread. Called from inside a tokio
/// task, the task's co-operative budget used to run out after some hundred queries and the
/// call then spun for ever (a bench creating 1,000 coops stopped at the 21st). Run on a
/// thread of its own so that a regression fails after a minute instead of hanging.
#[test]
fn many_store_calls_from_inside_an_async_task_all_finish() {
    let Some(url) = postgres("many_store_calls_from_inside_an_async_task_all_finish") else {
        return;
    };
    let target = fresh_target(&url);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let db = Database::Postgres(target);
            for i in 0..150 {
                logbook_relay::admin::create_coop(&db, &format!("Coop {i}")).expect("coop");
            }
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(120))
        .expect("150 coops created from inside an async task within two minutes");
}
