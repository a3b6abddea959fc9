//! Two relays on one store (docs/ARCHITECTURE.md, "Relay storage"): any device may talk
//! to either, and a pull's cursor never moves past an entry that commits later with a
//! lower sequence number. Runs on SQLite (two stores on one file) and, with
//! `LOGBOOK_TEST_POSTGRES` set, on PostgreSQL (two stores on one schema): the case that
//! matters for several stateless relay processes.

mod common;

use common::*;
use logbook_protocol::Role;
use logbook_relay::Limits;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn unlimited() -> Limits {
    Limits {
        join_per_minute: 0,
        push_per_minute: 0,
        pull_per_minute: 0,
        pushes_in_flight_per_device: 8,
        ..Limits::default()
    }
}

const WRITERS: usize = 12;
const PUSHES: usize = 20;
const READERS: usize = 4;

/// A device's client pointed at another relay, on its own connection pool.
fn at(c: &Client, base: &str) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: base.to_string(),
        ..c.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cursors_never_skip_with_many_writers_on_two_relays() {
    let t = start_relay_with(unlimited()).await;
    let mut second_config = t.config("127.0.0.1:0".parse().expect("addr"));
    second_config.limits = unlimited();
    let second = logbook_relay::start(second_config)
        .await
        .expect("second relay");
    let bases = [t.relay.url(), second.url()];
    let coord = t.coordinator().await;
    let everyone = grant(Role::Coordinator, None, None, &[]);
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        writers.push(t.device(&coord, &everyone).await);
    }
    let mut readers = Vec::new();
    for _ in 0..READERS {
        readers.push(t.device(&coord, &everyone).await);
    }

    let done = Arc::new(AtomicBool::new(false));
    // Readers pull continuously, each alternating between the two relays, keeping every
    // blob they receive (duplicates included) until the writers are done and one more
    // pass finds nothing new.
    let reader_tasks: Vec<_> = readers
        .iter()
        .enumerate()
        .map(|(r, dev)| {
            let clients = [at(dev, &bases[0]), at(dev, &bases[1])];
            let done = done.clone();
            tokio::spawn(async move {
                let mut got: Vec<Vec<u8>> = Vec::new();
                let mut after = 0;
                let mut turn = r;
                let mut quiet_after_done = 0;
                let deadline = Instant::now() + Duration::from_secs(120);
                while quiet_after_done < 2 && Instant::now() < deadline {
                    let finished = done.load(Ordering::SeqCst);
                    let page = clients[turn % 2].pull(after).await;
                    turn += 1;
                    let n: usize = page.docs.iter().map(|d| d.blobs.len()).sum();
                    for d in page.docs {
                        got.extend(d.blobs.into_iter().map(|b| b.into_vec()));
                    }
                    assert!(page.next >= after, "a cursor went backwards");
                    after = page.next;
                    if finished && n == 0 && !page.more {
                        quiet_after_done += 1;
                    }
                }
                got
            })
        })
        .collect();

    // Writers push at once, each through its own connections, alternating relays; a
    // push counts once the relay acknowledged it.
    let writer_tasks: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(w, dev)| {
            let clients = [at(dev, &bases[0]), at(dev, &bases[1])];
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..PUSHES {
                    let blobs: Vec<Vec<u8>> = (0..1 + i % 3)
                        .map(|k| format!("w{w} push{i} blob{k}").into_bytes())
                        .collect();
                    let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
                    let doc = format!("records:p{w}/doc{}", i % 4);
                    let r = clients[(w + i) % 2].push(vec![push_doc(&doc, &refs)]).await;
                    assert_eq!(r.stored as usize, blobs.len());
                    acked.extend(blobs);
                }
                acked
            })
        })
        .collect();
    let mut acked = HashSet::new();
    for task in writer_tasks {
        for blob in task.await.expect("writer") {
            assert!(acked.insert(blob), "a blob was pushed twice");
        }
    }
    done.store(true, Ordering::SeqCst);

    let expected: usize = (0..PUSHES).map(|i| 1 + i % 3).sum::<usize>() * WRITERS;
    assert_eq!(acked.len(), expected);
    for (r, task) in reader_tasks.into_iter().enumerate() {
        let got = task.await.expect("reader");
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        for blob in &got {
            *seen.entry(blob.as_slice()).or_default() += 1;
        }
        let twice = seen.values().filter(|&&n| n > 1).count();
        assert_eq!(twice, 0, "reader {r} received {twice} blobs twice");
        let missing = acked
            .iter()
            .filter(|b| !seen.contains_key(b.as_slice()))
            .count();
        assert_eq!(missing, 0, "reader {r} missed {missing} acknowledged blobs");
    }
    second.shutdown().await;
}

#[tokio::test]
async fn a_device_may_use_either_relay_in_any_order() {
    let t = start_relay().await;
    let second = logbook_relay::start(t.config("127.0.0.1:0".parse().expect("addr")))
        .await
        .expect("second relay");
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let ann2 = at(&ann, &second.url());
    // Joined at the first relay, known at the second; pushes through both are one log.
    ann.push(vec![push_doc("timesheet:ann/2026-11/w1", &[b"one"])])
        .await;
    let r = ann2
        .push(vec![push_doc(
            "timesheet:ann/2026-11/w1",
            &[b"one", b"two"],
        )])
        .await;
    assert_eq!((r.stored, r.duplicates), (1, 1), "idempotent across relays");
    let mut all = coord.pull_all().await;
    all.sort();
    assert_eq!(
        all,
        vec![
            ("timesheet:ann/2026-11/w1".to_string(), b"one".to_vec()),
            ("timesheet:ann/2026-11/w1".to_string(), b"two".to_vec()),
        ]
    );
    // A revocation through one relay is refused at the other.
    let (status, _) = at(&coord, &second.url())
        .post(
            &format!("/v1/devices/{}/revoke", ann.device_id),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        ann.try_push(vec![push_doc("timesheet:ann/2026-11/w2", &[b"x"])])
            .await
            .err(),
        Some(reqwest::StatusCode::UNAUTHORIZED)
    );
    second.shutdown().await;
}
