//! What the relay keeps and drops under pressure: a revocation that lands while a push
//! waits wins, an erasure's bytes leave the WAL even when readers delay the checkpoint,
//! and one party of a note thread cannot compact away the other party's entries.

mod common;

use common::*;
use logbook_protocol::{PushDoc, Role, content_id};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        .unwrap_or(false)
}

fn db(t: &TestRelay) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(t.dir.path().join("relay.sqlite3")).expect("open db");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    conn
}

#[tokio::test]
async fn a_device_revoked_while_its_push_waits_does_not_commit() {
    // Holds SQLite's write lock; the PostgreSQL store checks revocation after taking the
    // coop's log end (tests/postgres.rs).
    if sqlite_only("a_device_revoked_while_its_push_waits_does_not_commit") {
        return;
    }
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    // Hold the write lock so ann's push, already past authentication, has to wait.
    let conn = db(&t);
    conn.execute_batch("BEGIN IMMEDIATE").expect("write lock");
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
    // The coordinator revokes the phone (as `admin revoke` does) while the push waits.
    conn.execute(
        "UPDATE devices SET revoked = 1 WHERE id = ?1",
        [ann.device_id.as_str()],
    )
    .expect("revoke");
    conn.execute_batch("COMMIT").expect("commit");
    let result = tokio::time::timeout(Duration::from_secs(15), push)
        .await
        .expect("push answered")
        .expect("task");
    assert_eq!(result.err(), Some(StatusCode::UNAUTHORIZED));
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM log WHERE doc = 'timesheet:ann/stolen'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn an_erasure_delayed_by_a_reader_still_leaves_the_wal() {
    if sqlite_only("an_erasure_delayed_by_a_reader_still_leaves_the_wal") {
        return;
    }
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let marker = b"WAL-MARKER-51c0: a note that must not linger".to_vec();
    ann.push(vec![push_doc("notes:ann/t", &[&marker])]).await;
    let wal = t.dir.path().join("relay.sqlite3-wal");
    assert!(
        file_contains(&wal, &marker),
        "the note is in the WAL before erasure"
    );

    // A long reader (a backup, say) keeps the checkpoint from finishing.
    let reader = db(&t);
    reader.execute_batch("BEGIN").expect("begin");
    let _: i64 = reader
        .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
        .expect("read");
    let start = Instant::now();
    assert_eq!(ann.delete_doc("notes:ann/t").await, StatusCode::NO_CONTENT);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );

    // Once the reader is gone, the relay finishes the checkpoint by itself.
    reader.execute_batch("COMMIT").expect("end read");
    drop(reader);
    let deadline = Instant::now() + Duration::from_secs(10);
    while file_contains(&wal, &marker) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !file_contains(&wal, &marker),
        "erased bytes stayed in the WAL"
    );
    assert!(!file_contains(&t.dir.path().join("relay.sqlite3"), &marker));
}

#[tokio::test]
async fn in_a_note_thread_supersedes_removes_only_ones_own_blobs() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let sup = t
        .device(&coord, &grant(Role::Supporter, None, None, &["ann"]))
        .await;
    let doc = "notes:ann/thread-1";
    sup.push(vec![push_doc(doc, &[b"supporter's note"])]).await;
    ann.push(vec![push_doc(doc, &[b"ann's note"])]).await;

    // Each compacts naming both entries: only their own goes.
    ann.push(vec![PushDoc {
        doc: doc.into(),
        blobs: vec![blob(b"ann's snapshot")],
        supersedes: vec![content_id(b"supporter's note"), content_id(b"ann's note")],
        key: None,
    }])
    .await;
    sup.push(vec![PushDoc {
        doc: doc.into(),
        blobs: vec![blob(b"supporter's snapshot")],
        supersedes: vec![
            content_id(b"ann's snapshot"),
            content_id(b"supporter's note"),
        ],
        key: None,
    }])
    .await;
    let mut held: Vec<Vec<u8>> = ann.pull_all().await.into_iter().map(|(_, b)| b).collect();
    held.sort();
    assert_eq!(
        held,
        vec![b"ann's snapshot".to_vec(), b"supporter's snapshot".to_vec()]
    );

    // Erasing the whole thread is still each party's right.
    assert_eq!(ann.delete_doc(doc).await, StatusCode::NO_CONTENT);
    assert!(sup.pull_all().await.is_empty());
}

async fn tombstones(t: &TestRelay) -> i64 {
    t.count(
        "SELECT count(*) FROM log WHERE kind = 'tombstone' AND doc <> $1",
        "",
    )
    .await
}

#[tokio::test]
async fn tombstones_are_swept_once_every_device_has_pulled_past_them() {
    let t = start_relay_with(logbook_relay::Limits {
        tombstone_sweep: Duration::from_millis(100),
        ..logbook_relay::Limits::default()
    })
    .await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let sup = t
        .device(&coord, &grant(Role::Supporter, None, None, &["ann"]))
        .await;
    let lost = t
        .device(&coord, &grant(Role::Worker, Some("bob"), None, &[]))
        .await;
    let doc = "notes:ann/thread-9";
    ann.push(vec![push_doc(doc, &[b"a note"])]).await;
    let sup_cursor = sup.pull(0).await.next;
    assert_eq!(ann.delete_doc(doc).await, StatusCode::NO_CONTENT);

    // Everyone but the supporter (and the lost phone) pulls past the tombstone: it stays,
    // because the supporter still holds the note and must learn of its erasure.
    for dev in [&coord, &ann] {
        let end = dev.pull(0).await.next;
        dev.pull(end).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(tombstones(&t).await, 1);
    let page = sup.pull(sup_cursor).await;
    assert_eq!(page.deleted, vec![doc.to_string()]);
    // The supporter acknowledges with its next pull; the lost phone is revoked.
    sup.pull(page.next).await;
    let (status, _) = coord
        .post(
            &format!("/v1/devices/{}/revoke", lost.device_id),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tombstones(&t).await > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(tombstones(&t).await, 0, "the tombstone was not swept");

    // Swept, yet still erased: a late push to the document is discarded, and the relay
    // keeps no readable trace of its id.
    let r = sup.push(vec![push_doc(doc, &[b"late edit"])]).await;
    assert_eq!((r.stored, r.discarded), (0, 1));
    let named = t
        .count("SELECT count(*) FROM log WHERE doc = $1", doc)
        .await;
    assert_eq!(named, 0);
    // A device that joins later starts past every old tombstone.
    let late = t
        .device(&coord, &grant(Role::Worker, Some("cy"), None, &[]))
        .await;
    assert!(late.pull(0).await.deleted.is_empty());
}
