//! The access table, row by row, through real HTTP: every allowed read and write works,
//! every forbidden one is refused with 403 and nothing is stored.

mod common;

use common::*;
use logbook_protocol::Role;
use reqwest::StatusCode;
use serde_json::json;

struct Coop {
    t: TestRelay,
    coord: Client,
    ann: Client,
    bob: Client,
    /// Supporter assigned to ann only.
    sup: Client,
    /// Kiosk of the cafe site.
    kiosk: Client,
}

async fn coop() -> Coop {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let bob = t
        .device(&coord, &grant(Role::Worker, Some("bob"), None, &[]))
        .await;
    let sup = t
        .device(&coord, &grant(Role::Supporter, None, None, &["ann"]))
        .await;
    let kiosk = t
        .device(&coord, &grant(Role::Kiosk, None, Some("cafe"), &[]))
        .await;
    Coop {
        t,
        coord,
        ann,
        bob,
        sup,
        kiosk,
    }
}

/// Rows of the log for a document, straight from the SQLite file.
async fn rows_of(t: &TestRelay, doc: &str) -> i64 {
    t.count("SELECT count(*) FROM log WHERE doc = $1", doc)
        .await
}

#[tokio::test]
async fn every_write_cell_of_the_access_table() {
    let c = coop().await;
    let devices = [
        ("coordinator", &c.coord),
        ("ann", &c.ann),
        ("bob", &c.bob),
        ("supporter", &c.sup),
        ("kiosk", &c.kiosk),
    ];
    // (doc, devices that may push to it)
    let table: &[(&str, &[&str])] = &[
        ("directory/main", &["coordinator"]),
        ("site:cafe/roster", &["coordinator"]),
        ("timesheet:ann/2026-11/w", &["coordinator", "ann", "kiosk"]),
        ("review:ann/2026-11", &["coordinator"]),
        ("records:ann/training", &["coordinator"]),
        ("notes:ann/thread-1", &["ann", "supporter"]),
    ];
    for (doc, writers) in table {
        for (name, dev) in &devices {
            let before = rows_of(&c.t, doc).await;
            let bytes = format!("{name} wrote {doc}");
            let result = dev.try_push(vec![push_doc(doc, &[bytes.as_bytes()])]).await;
            if writers.contains(name) {
                let r = result.unwrap_or_else(|s| panic!("{name} -> {doc}: {s}"));
                assert_eq!(r.stored, 1, "{name} -> {doc}");
                assert_eq!(rows_of(&c.t, doc).await, before + 1);
            } else {
                assert_eq!(result.err(), Some(StatusCode::FORBIDDEN), "{name} -> {doc}");
                assert_eq!(
                    rows_of(&c.t, doc).await,
                    before,
                    "{name} -> {doc} stored something"
                );
            }
        }
    }

    // One forbidden document refuses the whole batch.
    let before = rows_of(&c.t, "timesheet:ann/2026-11/w").await;
    let mixed = c
        .ann
        .try_push(vec![
            push_doc("timesheet:ann/2026-11/w", &[b"allowed part"]),
            push_doc("timesheet:bob/2026-11/w", &[b"forbidden part"]),
        ])
        .await;
    assert_eq!(mixed.err(), Some(StatusCode::FORBIDDEN));
    assert_eq!(rows_of(&c.t, "timesheet:ann/2026-11/w").await, before);
    assert_eq!(rows_of(&c.t, "timesheet:bob/2026-11/w").await, 0);
}

#[tokio::test]
async fn every_read_cell_of_the_access_table() {
    let c = coop().await;
    c.coord
        .push(vec![
            push_doc("directory/main", &[b"dir"]),
            push_doc("site:cafe/roster", &[b"cafe"]),
            push_doc("site:bakery/roster", &[b"bakery"]),
            push_doc("review:ann/2026-11", &[b"review"]),
            push_doc("records:ann/training", &[b"records"]),
        ])
        .await;
    c.ann
        .push(vec![
            push_doc("timesheet:ann/2026-11/phone", &[b"ann punch"]),
            push_doc("notes:ann/thread-1", &[b"ann note"]),
        ])
        .await;
    c.sup
        .push(vec![push_doc("notes:ann/thread-2", &[b"sup note"])])
        .await;
    c.bob
        .push(vec![
            push_doc("timesheet:bob/2026-11/phone", &[b"bob punch"]),
            push_doc("notes:bob/thread-1", &[b"bob note"]),
        ])
        .await;
    c.kiosk
        .push(vec![push_doc(
            "timesheet:ann/2026-11/kiosk",
            &[b"kiosk punch"],
        )])
        .await;

    let expect = |docs: &[&str]| docs.iter().map(|d| d.to_string()).collect::<Vec<_>>();
    assert_eq!(
        c.coord.docs_readable().await,
        expect(&[
            "directory/main",
            "records:ann/training",
            "review:ann/2026-11",
            "site:bakery/roster",
            "site:cafe/roster",
            "timesheet:ann/2026-11/kiosk",
            "timesheet:ann/2026-11/phone",
            "timesheet:bob/2026-11/phone",
        ])
    );
    assert_eq!(
        c.ann.docs_readable().await,
        expect(&[
            "directory/main",
            "notes:ann/thread-1",
            "notes:ann/thread-2",
            "records:ann/training",
            "review:ann/2026-11",
            "timesheet:ann/2026-11/kiosk",
            "timesheet:ann/2026-11/phone",
        ])
    );
    assert_eq!(
        c.bob.docs_readable().await,
        expect(&[
            "directory/main",
            "notes:bob/thread-1",
            "timesheet:bob/2026-11/phone",
        ])
    );
    // The supporter sees only the assigned person's notes.
    assert_eq!(
        c.sup.docs_readable().await,
        expect(&["directory/main", "notes:ann/thread-1", "notes:ann/thread-2"])
    );
    // The kiosk wrote a timesheet but never reads one back: only its site's roster.
    assert_eq!(c.kiosk.docs_readable().await, expect(&["site:cafe/roster"]));

    let page = c.sup.pull(0).await;
    assert_eq!(page.notes_readable, vec!["ann".to_string()]);
    assert!(c.kiosk.pull(0).await.notes_readable.is_empty());
    assert!(c.coord.pull(0).await.notes_readable.is_empty());

    // Asking for one scope directly is subject to the same table.
    for (dev, scope) in [
        (&c.kiosk, "timesheet:ann"),
        (&c.kiosk, "directory"),
        (&c.ann, "notes:bob"),
        (&c.sup, "notes:bob"),
        (&c.sup, "records:ann"),
        (&c.coord, "notes:ann"),
    ] {
        assert_eq!(
            dev.try_pull_query(&format!("after=0&scope={scope}"))
                .await
                .err(),
            Some(StatusCode::FORBIDDEN),
            "{scope}"
        );
    }
    let only = c
        .ann
        .try_pull_query("after=0&scope=notes:ann")
        .await
        .expect("own notes");
    assert_eq!(only.docs.len(), 2);
}

#[tokio::test]
async fn every_delete_cell_of_the_access_table() {
    let c = coop().await;
    // (doc, devices that may delete it); each allowed delete erases, so each doc is tried
    // by the forbidden devices first.
    let table: &[(&str, &[&str])] = &[
        ("directory/main", &[]),
        ("site:cafe/roster", &["coordinator"]),
        ("timesheet:ann/2026-11/w", &["coordinator"]),
        ("review:ann/2026-11", &["coordinator"]),
        ("records:ann/training", &["coordinator"]),
        // Both may delete; the second delete of an erased document is a no-op.
        ("notes:ann/thread-1", &["ann", "supporter"]),
        ("notes:ann/thread-2", &["supporter", "ann"]),
    ];
    let devices = [
        ("coordinator", &c.coord),
        ("ann", &c.ann),
        ("bob", &c.bob),
        ("supporter", &c.sup),
        ("kiosk", &c.kiosk),
    ];
    for (doc, deleters) in table {
        let writer = if doc.starts_with("notes:") {
            &c.ann
        } else {
            &c.coord
        };
        writer.push(vec![push_doc(doc, &[doc.as_bytes()])]).await;
        for (name, dev) in &devices {
            if deleters.contains(name) {
                continue;
            }
            assert_eq!(
                dev.delete_doc(doc).await,
                StatusCode::FORBIDDEN,
                "{name} {doc}"
            );
            assert_eq!(rows_of(&c.t, doc).await, 1, "{name} deleted {doc}");
        }
        for name in *deleters {
            let dev = devices.iter().find(|(n, _)| n == name).expect("device").1;
            assert_eq!(
                dev.delete_doc(doc).await,
                StatusCode::NO_CONTENT,
                "{name} {doc}"
            );
        }
    }
}

#[tokio::test]
async fn notes_reach_the_coordinator_only_while_the_person_consents() {
    let c = coop().await;
    c.ann
        .push(vec![push_doc("notes:ann/thread-1", &[b"private words"])])
        .await;
    c.coord
        .push(vec![push_doc("directory/main", &[b"dir"])])
        .await;
    let cursor = c.coord.pull(0).await.next;
    assert!(
        !c.coord
            .docs_readable()
            .await
            .iter()
            .any(|d| d.starts_with("notes:"))
    );

    // Coordinators cannot grant themselves access; nor can other workers or the kiosk.
    let yes = json!({"coordinator_notes": true});
    for dev in [&c.coord, &c.bob, &c.kiosk] {
        assert_eq!(
            dev.put("/v1/consent/ann", &yes).await.0,
            StatusCode::FORBIDDEN
        );
    }
    assert!(
        !c.coord
            .docs_readable()
            .await
            .iter()
            .any(|d| d.starts_with("notes:"))
    );

    // The person consents.
    assert_eq!(
        c.ann.put("/v1/consent/ann", &yes).await.0,
        StatusCode::NO_CONTENT
    );
    // A coordinator that had already synced past the note learns it may now read ann's
    // notes, and back-fills that one scope from the start.
    let page = c.coord.pull(cursor).await;
    assert!(page.docs.is_empty());
    assert_eq!(page.notes_readable, vec!["ann".to_string()]);
    let back = c
        .coord
        .try_pull_query("after=0&scope=notes:ann")
        .await
        .expect("back-fill");
    assert_eq!(back.docs.len(), 1);
    assert_eq!(back.docs[0].blobs[0].as_ref(), b"private words");
    assert!(
        c.coord
            .docs_readable()
            .await
            .contains(&"notes:ann/thread-1".to_string())
    );
    // Reading is all consent gives: coordinators still cannot write or delete notes.
    assert_eq!(
        c.coord
            .try_push(vec![push_doc("notes:ann/thread-1", &[b"edit"])])
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(
        c.coord.delete_doc("notes:ann/thread-1").await,
        StatusCode::FORBIDDEN
    );

    // The supporter withdraws it: hidden again at the next pull.
    let no = json!({"coordinator_notes": false});
    assert_eq!(
        c.sup.put("/v1/consent/ann", &no).await.0,
        StatusCode::NO_CONTENT
    );
    let page = c.coord.pull(0).await;
    assert!(page.notes_readable.is_empty());
    assert!(!page.docs.iter().any(|d| d.doc.starts_with("notes:")));
    assert_eq!(
        c.coord
            .try_pull_query("after=0&scope=notes:ann")
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );

    // Consent requests are checked like any body.
    assert_eq!(
        c.ann
            .put("/v1/consent/ann", &json!({"coordinator_notes": "yes"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    for bad in ["not%20an%20id", "%FF"] {
        let (status, body) = c.ann.put(&format!("/v1/consent/{bad}"), &yes).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], "invalid person id");
    }
    let (status, _) = c.coord.post("/v1/devices/%FF/revoke", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
