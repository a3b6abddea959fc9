//! docs/SECURITY.md, *Erasure*: once a CPO order or a note thread is erased, the relay's
//! files (database, WAL, every file under its data directory) name neither the document
//! nor the order or thread, so the fact of a spent CPO does not outlive its erasure; and
//! every device that held the document still erases it, matching the relay's opaque
//! tombstone with its own keys.

use std::path::Path;
use std::time::Duration;

use logbook_crypto::{
    BlobContext, DeviceDirectory, Identity, KeyRing, open_blob, unwrap_scope_key,
};
use logbook_e2e::logbook_core::Logbook;
use logbook_e2e::{Coop, coordinator_grant, file_contains, files_under, meta, supporter_grant};

/// Files under the relay's data directory whose raw bytes hold any of `needles`.
fn relay_files_holding(relay_dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for file in files_under(relay_dir) {
        for n in needles {
            if file_contains(&file, n.as_bytes()) {
                out.push(format!("{} holds {n}", file.display()));
            }
        }
    }
    out
}

/// What the erasure tests start from, in a coop whose worker is Aisha: a second
/// coordinator laptop, Aisha's supporter (approved for her notes), and for her a spent
/// CPO order to erase and one that stays, a note thread to erase and one that stays.
/// Nothing synced yet.
struct Erasable {
    person: String,
    laptop: Logbook,
    supporter: Logbook,
    order: String,
    kept_order: String,
    thread: String,
    kept_thread: String,
}

async fn erasable(coop: &Coop) -> Erasable {
    let aisha = coop.worker("Aisha");
    let person = aisha.person.clone();
    let laptop = coop
        .join_device(&coordinator_grant(), "second-laptop")
        .await;
    let supporter = coop
        .join_device(&supporter_grant(&[&person]), "supporter-phone")
        .await;
    coop.approve_for_notes(&aisha.phone, &person, &supporter)
        .await;
    let order = coop
        .coordinator
        .cpo()
        .set_order(&person, 40, "2026-11-02", None)
        .expect("order");
    let kept_order = coop
        .coordinator
        .cpo()
        .set_order(&person, 20, "2026-12-01", None)
        .expect("second order");
    let thread = aisha
        .phone
        .notes()
        .add_thread(&person, "about the appeal")
        .expect("thread");
    let kept_thread = aisha
        .phone
        .notes()
        .add_thread(&person, "about the allotment")
        .expect("second thread");
    Erasable {
        person,
        laptop,
        supporter,
        order,
        kept_order,
        thread,
        kept_thread,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_order_and_thread_leave_no_id_at_the_relay_and_go_everywhere() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let Erasable {
        person,
        laptop,
        supporter,
        order,
        kept_order,
        thread,
        kept_thread,
    } = erasable(&coop).await;
    for book in [&coop.coordinator, &aisha.phone, &laptop, &supporter] {
        book.sync().run().await.expect("sync");
    }
    assert_eq!(laptop.cpo().orders(&person).expect("orders").len(), 2);
    assert_eq!(aisha.phone.cpo().orders(&person).expect("orders").len(), 2);
    assert_eq!(supporter.notes().threads(&person).expect("notes").len(), 2);
    let order_doc = format!("records:{person}/cpo/{order}");
    let thread_doc = format!("notes:{person}/{thread}");
    let needles = [
        order_doc.as_str(),
        order.as_str(),
        thread_doc.as_str(),
        thread.as_str(),
    ];
    // Positive control: before the erasure the relay names both.
    let before = relay_files_holding(&coop.relay_dir, &needles);
    assert!(
        before.iter().any(|f| f.ends_with(&order)) && before.iter().any(|f| f.ends_with(&thread)),
        "the relay names the order and the thread before the erasure: {before:#?}"
    );

    coop.coordinator
        .cpo()
        .purge(&person, &order)
        .expect("the coordinator erases the spent order");
    aisha
        .phone
        .notes()
        .delete_thread(&thread)
        .expect("Aisha erases her thread");
    coop.coordinator.sync().run().await.expect("sync");
    // Every other device that held them erases them, from the opaque tombstones alone.
    let s = aisha.phone.sync().run().await.expect("sync");
    assert_eq!(
        s.erased_documents, 1,
        "the order goes from her phone too: {s:?}"
    );
    let s = laptop.sync().run().await.expect("laptop syncs");
    assert_eq!(s.erased_documents, 1, "{s:?}");
    let s = supporter.sync().run().await.expect("supporter syncs");
    assert_eq!(s.erased_documents, 1, "{s:?}");
    let s = aisha.phone.sync().run().await.expect("Aisha syncs again");
    assert_eq!(s.erased_documents, 0, "{s:?}");
    let s = coop.coordinator.sync().run().await.expect("sync again");
    assert_eq!(s.erased_documents, 0, "no thread here (no consent): {s:?}");
    for book in [&coop.coordinator, &laptop, &aisha.phone] {
        let orders = book.cpo().orders(&person).expect("orders");
        assert_eq!(
            orders.iter().map(|o| o.id.clone()).collect::<Vec<_>>(),
            vec![kept_order.clone()],
            "only the other order is left"
        );
    }
    for book in [&aisha.phone, &supporter] {
        let threads = book.notes().threads(&person).expect("threads");
        assert_eq!(
            threads.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
            vec![kept_thread.clone()],
            "only the other thread is left"
        );
    }

    // The relay's files name neither the documents nor the order or thread.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = relay_files_holding(&coop.relay_dir, &needles);
    assert!(
        after.is_empty(),
        "the relay still names what was erased: {after:#?}"
    );
    // What it keeps instead: the scopes and opaque tags.
    let conn = rusqlite::Connection::open(coop.relay_dir.join("relay.sqlite3")).expect("db");
    let tombstones: Vec<(String, String)> = conn
        .prepare("SELECT scope, doc FROM log WHERE kind = 'tombstone' ORDER BY seq")
        .expect("query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("tombstones");
    assert_eq!(tombstones.len(), 2, "{tombstones:?}");
    for (scope, entry) in &tombstones {
        assert!(entry.starts_with(&format!("{scope}/#")), "{entry}");
    }

    // Later syncs bring nothing back, and the rest still syncs.
    coop.coordinator
        .cpo()
        .set_order(&person, 30, "2027-01-04", None)
        .expect("a new order");
    coop.coordinator.sync().run().await.expect("sync");
    laptop.sync().run().await.expect("sync");
    assert_eq!(laptop.cpo().orders(&person).expect("orders").len(), 2);
    coop.shutdown().await;
}

/// A device's whole key material as its store keeps it: identity, scope keys, trusted
/// devices.
fn key_material(
    book: &logbook_e2e::logbook_core::Logbook,
) -> (String, Identity, KeyRing, DeviceDirectory) {
    let home = book.home();
    let hex_meta = |k: &str| hex::decode(meta(home, k).expect("joined with keys")).expect("hex");
    (
        meta(home, "coop_id").expect("joined"),
        Identity::from_bytes(&hex_meta("e2e_identity")).expect("identity"),
        KeyRing::from_bytes(&hex_meta("e2e_keys")).expect("key ring"),
        DeviceDirectory::from_bytes(&hex_meta("e2e_devices")).expect("directory"),
    )
}

/// The blobs of one document in a relay database (file).
fn blobs_of(db: &Path, doc: &str) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open(db).expect("db");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy");
    conn.prepare("SELECT data FROM log WHERE kind = 'blob' AND doc = ?1")
        .expect("query")
        .query_map([doc], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("blobs")
}

/// Every wrapped key in a relay database (file).
fn wrapped_keys(db: &Path) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open(db).expect("db");
    conn.prepare("SELECT data FROM wrapped_keys")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("wrapped keys")
}

/// How many of `blobs` (of `doc`) open with `ring`.
fn opened(
    coop: &str,
    doc: &str,
    blobs: &[Vec<u8>],
    ring: &KeyRing,
    dir: &DeviceDirectory,
) -> usize {
    let ctx = BlobContext::new(coop, doc).expect("context");
    blobs
        .iter()
        .filter(|b| open_blob(&ctx, b, ring, dir, None).is_ok())
        .count()
}

/// The ring a thief would have: the device's scope keys plus every wrapped key in the
/// relay copy that its identity can unwrap.
fn thief_ring(
    coop: &str,
    id: &Identity,
    ring: &KeyRing,
    dir: &DeviceDirectory,
    db: &Path,
) -> KeyRing {
    let mut ring = ring.clone();
    for w in wrapped_keys(db) {
        if let Ok(key) = unwrap_scope_key(coop, id, &w, dir) {
            let _ = ring.insert(key);
        }
    }
    ring
}

/// Issue 9, "Erasure": a copy of the relay's database taken before a CPO order and a note
/// thread were erased, plus a device's whole key material taken after, opens neither;
/// the person's other order and thread still open (sealed again to the new key version).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_copy_of_the_relay_and_keys_taken_after_open_nothing_erased() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let Erasable {
        person,
        laptop,
        supporter,
        order,
        kept_order,
        thread,
        kept_thread,
    } = erasable(&coop).await;
    let books = [&coop.coordinator, &aisha.phone, &laptop, &supporter];
    for _ in 0..2 {
        for book in books {
            book.sync().run().await.expect("sync");
        }
    }
    let order_doc = format!("records:{person}/cpo/{order}");
    let kept_order_doc = format!("records:{person}/cpo/{kept_order}");
    let thread_doc = format!("notes:{person}/{thread}");
    let kept_thread_doc = format!("notes:{person}/{kept_thread}");

    // The copy of the relay's database, before the erasure.
    let scratch = tempfile::tempdir().expect("tempdir");
    let before = scratch.path().join("before.sqlite3");
    rusqlite::Connection::open(coop.relay_dir.join("relay.sqlite3"))
        .expect("relay db")
        .execute("VACUUM INTO ?1", [before.to_str().expect("path")])
        .expect("copy the relay's database");
    let (coop_id, _, ring_then, dir_then) = key_material(&coop.coordinator);
    let old_order_blobs = blobs_of(&before, &order_doc);
    let old_thread_blobs = blobs_of(&before, &thread_doc);
    assert!(!old_order_blobs.is_empty() && !old_thread_blobs.is_empty());
    // Positive control: the keys as they were open the old copy.
    assert!(
        opened(
            &coop_id,
            &order_doc,
            &old_order_blobs,
            &ring_then,
            &dir_then
        ) > 0
    );
    let (_, _, aisha_then, aisha_dir_then) = key_material(&aisha.phone);
    assert!(
        opened(
            &coop_id,
            &thread_doc,
            &old_thread_blobs,
            &aisha_then,
            &aisha_dir_then
        ) > 0
    );

    coop.coordinator
        .cpo()
        .purge(&person, &order)
        .expect("erase the order");
    aisha
        .phone
        .notes()
        .delete_thread(&thread)
        .expect("erase the thread");
    for _ in 0..2 {
        for book in books {
            book.sync().run().await.expect("sync");
        }
    }

    let relay_db = coop.relay_dir.join("relay.sqlite3");
    for (who, book) in [
        ("coordinator", &coop.coordinator),
        ("second coordinator", &laptop),
        ("Aisha's phone", &aisha.phone),
        ("supporter", &supporter),
    ] {
        let (coop_id, id, ring, dir) = key_material(book);
        let ring = thief_ring(&coop_id, &id, &ring, &dir, &before);
        assert_eq!(
            opened(&coop_id, &order_doc, &old_order_blobs, &ring, &dir),
            0,
            "{who}'s keys open the erased order from the old copy"
        );
        assert_eq!(
            opened(&coop_id, &thread_doc, &old_thread_blobs, &ring, &dir),
            0,
            "{who}'s keys open the erased thread from the old copy"
        );
        // What it may still read opens: the order / thread that stayed, as the relay holds
        // them now, and through the app.
        if who != "supporter" {
            let now = blobs_of(&relay_db, &kept_order_doc);
            assert!(
                opened(&coop_id, &kept_order_doc, &now, &ring, &dir) > 0,
                "{who} still opens the other order"
            );
            let ids: Vec<String> = book
                .cpo()
                .orders(&person)
                .expect("orders")
                .into_iter()
                .map(|o| o.id)
                .collect();
            assert_eq!(ids, vec![kept_order.clone()], "{who}");
        }
        if who == "Aisha's phone" || who == "supporter" {
            let now = blobs_of(&relay_db, &kept_thread_doc);
            assert!(
                opened(&coop_id, &kept_thread_doc, &now, &ring, &dir) > 0,
                "{who} still opens the other thread"
            );
            let ids: Vec<String> = book
                .notes()
                .threads(&person)
                .expect("threads")
                .into_iter()
                .map(|t| t.id)
                .collect();
            assert_eq!(ids, vec![kept_thread.clone()], "{who}");
        }
    }
    // A device that joins afterwards reads the other order (sealed to the new version).
    let late = coop.join_device(&coordinator_grant(), "late-laptop").await;
    for _ in 0..2 {
        late.sync().run().await.expect("sync");
    }
    let ids: Vec<String> = late
        .cpo()
        .orders(&person)
        .expect("orders")
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, vec![kept_order.clone()]);
    coop.shutdown().await;
}

/// A device that was offline through two erasures in one scope: the second tombstone is
/// tagged only under a key version it does not hold yet (the first erasure rotated the
/// scope). It waits, and is matched at the end of the sync that brings that version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tombstone_tagged_under_a_newer_key_waits_for_it() {
    let coop = Coop::start(1, 0).await;
    let person = coop.worker("Aisha").person.clone();
    let laptop = coop
        .join_device(&coordinator_grant(), "second-laptop")
        .await;
    let cpo = coop.coordinator.cpo();
    let first = cpo
        .set_order(&person, 40, "2026-11-02", None)
        .expect("order");
    let second = cpo
        .set_order(&person, 30, "2026-12-01", None)
        .expect("order");
    let kept = cpo
        .set_order(&person, 20, "2027-01-04", None)
        .expect("order");
    for _ in 0..2 {
        coop.coordinator.sync().run().await.expect("sync");
        laptop.sync().run().await.expect("sync");
    }
    assert_eq!(laptop.cpo().orders(&person).expect("orders").len(), 3);

    // The laptop is offline while both are erased, each in its own sync.
    cpo.purge(&person, &first).expect("erase");
    coop.coordinator.sync().run().await.expect("sync");
    cpo.purge(&person, &second).expect("erase");
    coop.coordinator.sync().run().await.expect("sync");
    let records =
        logbook_e2e::logbook_protocol::Scope::parse(&format!("records:{person}")).expect("scope");
    let (_, _, ring, _) = key_material(&coop.coordinator);
    let versions: Vec<u32> = ring
        .secrets_of(&records)
        .iter()
        .map(|k| k.id().version)
        .collect();
    assert_eq!(
        versions,
        vec![3],
        "two erasures, two rotations, old versions retired"
    );
    let (_, _, ring, _) = key_material(&laptop);
    let versions: Vec<u32> = ring
        .secrets_of(&records)
        .iter()
        .map(|k| k.id().version)
        .collect();
    assert_eq!(versions, vec![1], "the laptop has heard of neither");

    let s = laptop.sync().run().await.expect("the laptop comes back");
    assert_eq!(s.erased_documents, 2, "both erasures applied: {s:?}");
    let ids: Vec<String> = laptop
        .cpo()
        .orders(&person)
        .expect("orders")
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, vec![kept]);
    let (_, _, ring, _) = key_material(&laptop);
    let versions: Vec<u32> = ring
        .secrets_of(&records)
        .iter()
        .map(|k| k.id().version)
        .collect();
    assert_eq!(versions, vec![3], "and it retired the old versions too");
    coop.shutdown().await;
}

/// A supporter erases one of a person's threads: the person's phone rotates the notes key
/// (a supporter's new version would not reach the phone without the phone's approval),
/// both forget the old version, and notes still flow both ways afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supporters_erasure_rotates_on_the_persons_phone_and_notes_still_flow() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let person = aisha.person.clone();
    let supporter = coop
        .join_device(&supporter_grant(&[&person]), "supporter-phone")
        .await;
    coop.approve_for_notes(&aisha.phone, &person, &supporter)
        .await;
    let thread = aisha
        .phone
        .notes()
        .add_thread(&person, "about the appeal")
        .expect("thread");
    let kept = aisha
        .phone
        .notes()
        .add_thread(&person, "about the allotment")
        .expect("thread");
    for _ in 0..2 {
        aisha.phone.sync().run().await.expect("sync");
        supporter.sync().run().await.expect("sync");
    }
    supporter
        .notes()
        .delete_thread(&thread)
        .expect("the supporter erases the thread");
    for _ in 0..3 {
        supporter.sync().run().await.expect("sync");
        aisha.phone.sync().run().await.expect("sync");
    }
    let notes =
        logbook_e2e::logbook_protocol::Scope::parse(&format!("notes:{person}")).expect("scope");
    for (who, book) in [("Aisha", &aisha.phone), ("the supporter", &supporter)] {
        let ids: Vec<String> = book
            .notes()
            .threads(&person)
            .expect("threads")
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, vec![kept.clone()], "{who}");
        let (_, _, ring, _) = key_material(book);
        let versions: Vec<u32> = ring
            .secrets_of(&notes)
            .iter()
            .map(|k| k.id().version)
            .collect();
        assert_eq!(versions, vec![2], "{who} holds only the rotated version");
    }
    // Both ways still.
    aisha
        .phone
        .notes()
        .reply(&kept, "from Aisha")
        .expect("reply");
    supporter
        .notes()
        .reply(&kept, "from the supporter")
        .expect("reply");
    for _ in 0..2 {
        aisha.phone.sync().run().await.expect("sync");
        supporter.sync().run().await.expect("sync");
    }
    for (who, book) in [("Aisha", &aisha.phone), ("the supporter", &supporter)] {
        let threads = book.notes().threads(&person).expect("threads");
        let texts: Vec<String> = threads[0].entries.iter().map(|e| e.text.clone()).collect();
        assert!(
            texts.iter().any(|t| t == "from Aisha")
                && texts.iter().any(|t| t == "from the supporter"),
            "{who} reads both replies: {texts:?}"
        );
    }
    coop.shutdown().await;
}
