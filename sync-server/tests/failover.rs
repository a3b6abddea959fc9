//! Two relay processes (the real binary) on one store; one of them is SIGKILLed again and
//! again while 500 devices push. A device whose request fails retries on the other
//! address (the test's client does the choosing). Nothing a relay acknowledged is lost.
//! Runs on SQLite (two processes on one file) and, with `LOGBOOK_TEST_POSTGRES`, on
//! PostgreSQL, the deployment it is meant for.

mod common;

use common::*;
use logbook_protocol::Role;
use logbook_relay::admin;
use logbook_relay::store::Database;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The load: 500 devices, each pushing at least `PUSHES` punches while the relays die.
const DEVICES: usize = 500;
const PUSHES: usize = 4;
const KILLS: usize = 6;

fn store_args(db: &Database) -> Vec<String> {
    match db {
        Database::Sqlite(dir) => vec!["--data".into(), dir.display().to_string()],
        Database::Postgres(target) => {
            let base = target.url.split('?').next().unwrap_or_default();
            let schema = target.schema.clone().expect("test schema");
            vec![
                "--database".into(),
                format!("{base}?options=-c%20search_path%3D{schema}"),
            ]
        }
    }
}

fn spawn(args: &[String]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logbook-relay"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--join-per-minute", "0", "--push-per-minute", "0"])
        .args(["--pull-per-minute", "0"])
        .args(args)
        .env_remove("LOGBOOK_RELAY_DATA")
        .env_remove("LOGBOOK_RELAY_DATABASE")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn relay");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read address");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address line")
        .to_string();
    (child, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_killed_again_and_again_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = fresh_database(dir.path());
    let created = admin::create_coop(&db, "Failover Bakery").expect("coop");
    let args = store_args(&db);
    let (a, base_a) = spawn(&args);
    let (b, base_b) = spawn(&args);
    let children = Arc::new(Mutex::new([Some(a), Some(b)]));
    let bases = Arc::new(Mutex::new([base_a.clone(), base_b]));

    let http = reqwest::Client::new();
    let coord = join_at(&http, &base_a, &created.coordinator_code, "laptop").await;
    // Joined before the killing starts, sixteen at a time.
    let mut joins = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(16));
    for i in 0..DEVICES {
        let (coord, http, base, limit) =
            (coord.clone(), http.clone(), base_a.clone(), limit.clone());
        joins.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore");
            let g = grant(Role::Worker, Some(&format!("p{i}")), None, &[]);
            let code = coord.invite(&g).await;
            (i, join_at(&http, &base, &code, "phone").await)
        });
    }
    let mut devices: Vec<(usize, Client)> = joins.join_all().await;
    devices.sort_by_key(|(i, _)| *i);
    let devices: Vec<Client> = devices.into_iter().map(|(_, d)| d).collect();

    let killed = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = devices
        .into_iter()
        .enumerate()
        .map(|(i, dev)| {
            let (bases, killed) = (bases.clone(), killed.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("client");
                let mut acked = Vec::new();
                let mut which = i % 2;
                let mut retries = 0;
                // At least PUSHES each, and on until the killer is done, so every kill
                // lands during the load (bounded all the same).
                for n in 0..PUSHES * 50 {
                    if n >= PUSHES && killed.load(Ordering::SeqCst) {
                        break;
                    }
                    let blob = format!("p{i} punch {n}").into_bytes();
                    let doc = format!("timesheet:p{i}/2026-11/w{}", n % 3);
                    loop {
                        let base = bases.lock().expect("bases")[which].clone();
                        let client = Client {
                            http: http.clone(),
                            base,
                            ..dev.clone()
                        };
                        match try_push_tolerant(&client, &doc, &blob).await {
                            true => break,
                            false => {
                                // That relay is down (or was killed mid-request): the other.
                                retries += 1;
                                assert!(retries < 400, "device {i} could not push");
                                which = 1 - which;
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                    acked.push(blob);
                }
                (acked, retries)
            })
        })
        .collect();

    // The killer: SIGKILL one relay, start it again at once on a new port, alternate.
    let killer = {
        let (children, bases, args) = (children.clone(), bases.clone(), args.clone());
        let killed = killed.clone();
        tokio::task::spawn_blocking(move || {
            for k in 0..KILLS {
                std::thread::sleep(Duration::from_millis(250));
                let slot = k % 2;
                if let Some(mut child) = children.lock().expect("children")[slot].take() {
                    child.kill().expect("SIGKILL");
                    child.wait().expect("reap");
                }
                let (child, base) = spawn(&args);
                children.lock().expect("children")[slot] = Some(child);
                bases.lock().expect("bases")[slot] = base;
            }
            killed.store(true, Ordering::SeqCst);
        })
    };

    let mut acked = HashSet::new();
    let mut total_retries = 0;
    for t in tasks {
        let (blobs, retries) = t.await.expect("device task");
        total_retries += retries;
        acked.extend(blobs);
    }
    killer.await.expect("killer");
    assert!(acked.len() >= DEVICES * PUSHES);
    eprintln!(
        "{} punches acknowledged from {DEVICES} devices across {KILLS} kills; {total_retries} retries on the other relay",
        acked.len()
    );

    // Everything acknowledged is in the log, read through either relay.
    let deadline = Instant::now() + Duration::from_secs(30);
    for slot in 0..2 {
        let mut reader = coord.clone();
        reader.base = bases.lock().expect("bases")[slot].clone();
        let got: HashSet<Vec<u8>> = loop {
            let all = reader.pull_all().await;
            let got: HashSet<Vec<u8>> = all.into_iter().map(|(_, b)| b).collect();
            if acked.is_subset(&got) || Instant::now() > deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let missing = acked.difference(&got).count();
        assert_eq!(
            missing, 0,
            "{missing} acknowledged punches lost (relay {slot})"
        );
    }
    for child in children.lock().expect("children").iter_mut().flatten() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// One push attempt: true if the relay acknowledged it; false if the connection failed or
/// the relay answered 5xx (a dying process), so the caller tries the other relay.
async fn try_push_tolerant(client: &Client, doc: &str, blob: &[u8]) -> bool {
    use logbook_protocol::{self as proto, PushRequest};
    let body = proto::to_cbor(&PushRequest {
        docs: vec![push_doc(doc, &[blob])],
    });
    let res = client
        .http
        .post(client.url("/v1/push"))
        .header(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", client.token),
        )
        .header(reqwest::header::CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
        .body(body)
        .send()
        .await;
    let Ok(res) = res else {
        return false;
    };
    let status = res.status();
    let Ok(bytes) = res.bytes().await else {
        return false;
    };
    if status.is_server_error() {
        return false;
    }
    assert_eq!(status, reqwest::StatusCode::OK, "push refused");
    let r: proto::PushResponse = proto::from_cbor(&bytes).expect("push response");
    assert_eq!(r.stored + r.duplicates, 1);
    true
}
