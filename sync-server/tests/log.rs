//! The log itself: idempotent pushes, compaction, erasure, cursors and pages.

mod common;

use common::*;
use logbook_protocol::{PushDoc, Role, content_id};
use reqwest::StatusCode;

fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes.windows(needle.len()).any(|w| w == needle),
        Err(_) => false,
    }
}

#[tokio::test]
async fn the_same_blob_pushed_twice_is_stored_once() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let worker = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let doc = "timesheet:ann/2026-11/phone";
    let r = worker.push(vec![push_doc(doc, &[b"punch 1"])]).await;
    assert_eq!((r.stored, r.duplicates, r.discarded), (1, 0, 0));
    // A retry after a lost response, and the same punch inside a bigger batch.
    let r = worker.push(vec![push_doc(doc, &[b"punch 1"])]).await;
    assert_eq!((r.stored, r.duplicates), (0, 1));
    let r = worker
        .push(vec![push_doc(doc, &[b"punch 1", b"punch 2"])])
        .await;
    assert_eq!((r.stored, r.duplicates), (1, 1));
    assert_eq!(
        coord.pull_all().await,
        vec![
            (doc.to_string(), b"punch 1".to_vec()),
            (doc.to_string(), b"punch 2".to_vec())
        ]
    );
}

#[tokio::test]
async fn a_snapshot_supersedes_the_chunks_it_merged() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let doc = "records:ann/training";
    coord
        .push(vec![push_doc(doc, &[b"c1", b"c2", b"c3"])])
        .await;
    coord.push(vec![push_doc("directory/main", &[b"c1"])]).await;
    let r = coord
        .push(vec![PushDoc {
            doc: doc.into(),
            blobs: vec![blob(b"snapshot(c1,c2)")],
            // c1 and c2 are merged; the id of a blob of another document changes nothing.
            supersedes: vec![content_id(b"c1"), content_id(b"c2"), content_id(b"unknown")],
            key: None,
        }])
        .await;
    assert_eq!(r.stored, 1);
    let mut all = coord.pull_all().await;
    all.sort();
    assert_eq!(
        all,
        vec![
            ("directory/main".to_string(), b"c1".to_vec()),
            (doc.to_string(), b"c3".to_vec()),
            (doc.to_string(), b"snapshot(c1,c2)".to_vec()),
        ]
    );
}

#[tokio::test]
async fn deleting_a_document_erases_its_history_and_it_never_comes_back() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let sup = t
        .device(&coord, &grant(Role::Supporter, None, None, &["ann"]))
        .await;
    let doc = "notes:ann/thread-1";
    let secret = b"NOTE-MARKER-7f3a9c: a very private sentence".to_vec();
    ann.push(vec![push_doc(doc, &[&secret, b"second change"])])
        .await;
    ann.push(vec![push_doc("notes:ann/keep", &[b"kept"])]).await;
    let sup_cursor = sup.pull(0).await.next;

    assert_eq!(ann.delete_doc(doc).await, StatusCode::NO_CONTENT);
    // Deleting again is harmless.
    assert_eq!(ann.delete_doc(doc).await, StatusCode::NO_CONTENT);

    // The rows are gone from the store: only one tombstone remains.
    assert_eq!(t.log_rows(doc).await, vec![("tombstone".to_string(), None)]);
    // ... and so are the bytes: not in the SQLite file, not in its WAL. (PostgreSQL
    // keeps dead row versions until VACUUM: docs/OPERATIONS-POSTGRES.md.)
    if !common::sqlite_only("erased bytes on disk") {
        let db = t.dir.path().join("relay.sqlite3");
        assert!(!file_contains(&db, b"NOTE-MARKER-7f3a9c"));
        assert!(!file_contains(
            &t.dir.path().join("relay.sqlite3-wal"),
            b"NOTE-MARKER-7f3a9c"
        ));
    }

    // A reader that had the document learns of the erasure.
    let page = sup.pull(sup_cursor).await;
    assert_eq!(page.deleted, vec![doc.to_string()]);
    assert!(page.docs.is_empty());
    // A fresh reader sees the tombstone and none of the history.
    let page = sup.pull(0).await;
    assert_eq!(page.deleted, vec![doc.to_string()]);
    assert_eq!(page.docs.len(), 1);
    assert_eq!(page.docs[0].doc, "notes:ann/keep");

    // A device that was offline pushes to the erased document: discarded, never stored.
    let r = sup
        .push(vec![push_doc(doc, &[b"late edit", &secret])])
        .await;
    assert_eq!((r.stored, r.duplicates, r.discarded), (0, 0, 2));
    assert!(sup.pull(page.next).await.docs.is_empty());
    assert_eq!(t.log_rows(doc).await, vec![("tombstone".to_string(), None)]);
    if !common::sqlite_only("late push's bytes on disk") {
        let db = t.dir.path().join("relay.sqlite3");
        assert!(!file_contains(&db, b"NOTE-MARKER-7f3a9c"));
    }
}

#[tokio::test]
async fn pulls_page_through_the_log_and_a_no_change_pull_is_empty() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    for i in 0..25u32 {
        let doc = format!("records:p{}/training", i % 5);
        coord
            .push(vec![push_doc(&doc, &[format!("chunk {i}").as_bytes()])])
            .await;
    }
    let mut after = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = coord
            .try_pull_query(&format!("after={after}&limit=10"))
            .await
            .expect("pull");
        pages += 1;
        // Within a page, blobs are grouped by document in order of first appearance.
        let firsts: Vec<&str> = page.docs.iter().map(|d| d.doc.as_str()).collect();
        let mut dedup = firsts.clone();
        dedup.dedup();
        assert_eq!(firsts, dedup);
        for d in &page.docs {
            for b in &d.blobs {
                seen.push(String::from_utf8(b.to_vec()).expect("utf8"));
            }
        }
        assert!(page.next > after);
        after = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = (0..25).map(|i| format!("chunk {i}")).collect();
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected);

    // Nothing new: empty, the cursor stays, nothing more.
    let page = coord.pull(after).await;
    assert!(page.docs.is_empty() && page.deleted.is_empty() && !page.more);
    assert_eq!(page.next, after);

    // Limits are clamped, not refused.
    let page = coord
        .try_pull_query("after=0&limit=0")
        .await
        .expect("limit 0");
    assert_eq!(page.docs.iter().map(|d| d.blobs.len()).sum::<usize>(), 1);
    assert!(page.more);
    let page = coord
        .try_pull_query("after=0&limit=999999")
        .await
        .expect("big limit");
    assert!(!page.more);
}

#[tokio::test]
async fn a_cursor_skips_entries_the_device_cannot_read() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let kiosk = t
        .device(&coord, &grant(Role::Kiosk, None, Some("cafe"), &[]))
        .await;
    coord
        .push(vec![push_doc("site:cafe/roster", &[b"roster"])])
        .await;
    let first = kiosk.pull(0).await;
    assert_eq!(first.docs.len(), 1);
    // Lots of traffic the kiosk may not read.
    for i in 0..20u32 {
        kiosk
            .push(vec![push_doc(
                "timesheet:ann/2026-11/kiosk",
                &[format!("p{i}").as_bytes()],
            )])
            .await;
    }
    let page = kiosk.pull(first.next).await;
    assert!(page.docs.is_empty());
    // The cursor moved past them, so the next pull does not scan them again.
    assert!(page.next >= first.next + 20);
    coord
        .push(vec![push_doc("site:cafe/roster", &[b"roster v2"])])
        .await;
    let page = kiosk.pull(page.next).await;
    assert_eq!(page.docs.len(), 1);
    assert_eq!(page.docs[0].blobs[0].as_ref(), b"roster v2");
}

#[tokio::test]
async fn superseding_removes_only_what_the_device_may_erase() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let kiosk = t
        .device(&coord, &grant(Role::Kiosk, None, Some("cafe"), &[]))
        .await;
    let doc = "timesheet:ann/2026-11/shared";
    kiosk.push(vec![push_doc(doc, &[b"kiosk punch"])]).await;
    ann.push(vec![push_doc(doc, &[b"phone punch"])]).await;

    // Ann's device compacts: it may drop its own chunk, not the kiosk's record of her
    // punch (workers cannot delete timesheets, so they cannot erase others' entries).
    ann.push(vec![PushDoc {
        doc: doc.into(),
        blobs: vec![blob(b"ann snapshot")],
        supersedes: vec![content_id(b"kiosk punch"), content_id(b"phone punch")],
        key: None,
    }])
    .await;
    let mut held: Vec<Vec<u8>> = coord.pull_all().await.into_iter().map(|(_, b)| b).collect();
    held.sort();
    assert_eq!(
        held,
        vec![b"ann snapshot".to_vec(), b"kiosk punch".to_vec()]
    );

    // A coordinator, who may delete timesheets, compacts everything.
    coord
        .push(vec![PushDoc {
            doc: doc.into(),
            blobs: vec![blob(b"coordinator snapshot")],
            supersedes: vec![content_id(b"kiosk punch"), content_id(b"ann snapshot")],
            key: None,
        }])
        .await;
    let held: Vec<Vec<u8>> = coord.pull_all().await.into_iter().map(|(_, b)| b).collect();
    assert_eq!(held, vec![b"coordinator snapshot".to_vec()]);
}
