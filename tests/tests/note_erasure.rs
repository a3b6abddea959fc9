//! docs/DOMAIN.md "Erasure and retention are real": deleting a note removes it from every
//! device and the relay, history included, down to the bytes on disk. The relay only ever
//! holds the note sealed (docs/SECURITY.md), so there the scans look for pieces of its
//! sealed blobs instead of its text.

use std::path::{Path, PathBuf};
use std::time::Duration;

use logbook_e2e::logbook_core::Logbook;
use logbook_e2e::{
    Coop, relay_blob_markers, sqlite_contains, sqlite_contains_any, supporter_grant,
};

const SECRET: &str = "zq-marker-7731 talked about the housing appeal";

fn store(home: &Path) -> PathBuf {
    home.join("logbook.sqlite3")
}

/// What the erased note left where: (who, database, what to look for).
type Scans = Vec<(&'static str, PathBuf, Vec<Vec<u8>>)>;

/// Runs the scenario up to the point where the thread is erased everywhere (checked
/// through the API), and returns the coop, the supporter's (still open) device and the
/// three databases to scan with what to look for in each.
async fn write_share_and_delete() -> (Coop, Logbook, Scans) {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let supporter = coop
        .join_device(&supporter_grant(&[&aisha.person]), "supporter-phone")
        .await;
    coop.approve_for_notes(&aisha.phone, &aisha.person, &supporter)
        .await;
    let relay_db = coop.relay_dir.join("relay.sqlite3");

    let thread = aisha
        .phone
        .notes()
        .add_thread(&aisha.person, SECRET)
        .expect("Aisha writes a note about herself");
    aisha.phone.sync().run().await.expect("Aisha syncs");
    supporter.sync().run().await.expect("supporter syncs");
    let seen = supporter
        .notes()
        .threads(&aisha.person)
        .expect("supporter reads notes");
    assert_eq!(seen.len(), 1, "the supporter sees the thread");
    assert_eq!(seen[0].id, thread);
    assert_eq!(seen[0].entries[0].text, SECRET);

    let text = vec![SECRET.as_bytes().to_vec()];
    let sealed = relay_blob_markers(&coop.relay_dir, &format!("notes:{}/", aisha.person));
    assert!(!sealed.is_empty(), "the relay holds the sealed note");
    assert!(
        sqlite_contains(&relay_db, SECRET.as_bytes()).is_empty(),
        "the relay never holds the note's text"
    );
    let dbs = vec![
        ("Aisha's phone", store(aisha.phone.home()), text.clone()),
        ("the supporter", store(supporter.home()), text),
        ("the relay", relay_db, sealed),
    ];
    // Positive controls: the scans find what is there, so they mean something.
    for (who, db, markers) in &dbs {
        assert!(
            !sqlite_contains_any(db, markers).is_empty(),
            "{who} holds the note before the deletion"
        );
    }

    aisha
        .phone
        .notes()
        .delete_thread(&thread)
        .expect("Aisha deletes the thread");
    assert!(
        aisha
            .phone
            .notes()
            .threads(&aisha.person)
            .expect("notes")
            .is_empty()
    );
    aisha
        .phone
        .sync()
        .run()
        .await
        .expect("Aisha syncs the deletion");
    let s = supporter.sync().run().await.expect("supporter syncs");
    assert_eq!(s.erased_documents, 1, "the supporter erased it: {s:?}");
    assert!(
        supporter
            .notes()
            .threads(&aisha.person)
            .expect("notes")
            .is_empty(),
        "the thread is gone from the supporter"
    );
    // Later syncs do not bring it back.
    aisha.phone.sync().run().await.expect("Aisha syncs again");
    supporter.sync().run().await.expect("supporter syncs again");
    assert!(
        supporter
            .notes()
            .threads(&aisha.person)
            .expect("notes")
            .is_empty()
    );
    assert!(
        aisha
            .phone
            .notes()
            .threads(&aisha.person)
            .expect("notes")
            .is_empty()
    );
    assert!(
        matches!(
            supporter.notes().reply(&thread, "still there?"),
            Err(logbook_e2e::logbook_core::Error::NotFound(_))
        ),
        "the supporter cannot reply to an erased thread"
    );
    // Give the relay's post-delete checkpoint a moment if a reader held it up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    (coop, supporter, dbs)
}

fn lingering(dbs: &Scans) -> Vec<String> {
    let mut out = Vec::new();
    for (who, db, markers) in dbs {
        for file in sqlite_contains_any(db, markers) {
            out.push(format!("{who}: {}", file.display()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_note_thread_disappears_everywhere() {
    // The supporter's device stays open: closing SQLite's last connection would
    // checkpoint its WAL and hide text left there.
    let (coop, _supporter, dbs) = write_share_and_delete().await;
    assert!(
        lingering(&dbs).is_empty(),
        "the deleted note's text is still on disk in: {:#?}",
        lingering(&dbs)
    );
    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_erases_a_note_while_other_devices_keep_pulling() {
    let coop = Coop::start(2, 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    let relay_db = coop.relay_dir.join("relay.sqlite3");
    let thread = aisha
        .phone
        .notes()
        .add_thread(&aisha.person, SECRET)
        .expect("note");
    aisha.phone.sync().run().await.expect("sync");
    let sealed = relay_blob_markers(&coop.relay_dir, &format!("notes:{}/", aisha.person));
    assert!(!sqlite_contains_any(&relay_db, &sealed).is_empty());

    // Three devices pull from the start of the log, over and over, while Aisha erases.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let pullers = [
        coop.raw(&coop.coordinator),
        coop.raw(&coop.kiosk),
        coop.raw(&ben.phone),
    ];
    let pulling = |raw: &logbook_e2e::Raw| {
        let stop = &stop;
        let raw = raw.clone();
        async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                raw.pull_all(0, None).await;
                n += 1;
            }
            n
        }
    };
    let eraser = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        aisha.phone.notes().delete_thread(&thread).expect("delete");
        aisha.phone.sync().run().await.expect("sync the deletion");
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let (n1, n2, n3, ()) = tokio::join!(
        pulling(&pullers[0]),
        pulling(&pullers[1]),
        pulling(&pullers[2]),
        eraser
    );
    assert!(n1 + n2 + n3 > 3, "the pulls overlapped the deletion");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let left = sqlite_contains_any(&relay_db, &sealed);
    assert!(
        left.is_empty(),
        "the relay still holds the erased note in {left:?}"
    );
    coop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_reply_does_not_resurrect_a_deleted_thread() {
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let a = aisha.person.as_str();
    let supporter = coop
        .join_device(&supporter_grant(&[a]), "supporter-phone")
        .await;
    coop.approve_for_notes(&aisha.phone, a, &supporter).await;
    let thread = aisha.phone.notes().add_thread(a, SECRET).expect("note");
    aisha.phone.sync().run().await.expect("sync");
    supporter.sync().run().await.expect("sync");
    let mut sealed = relay_blob_markers(&coop.relay_dir, &format!("notes:{a}/"));
    assert!(!sealed.is_empty());
    // The supporter replies offline while Aisha erases the thread.
    supporter
        .notes()
        .reply(&thread, "zq-reply-4410 see you Tuesday")
        .expect("offline reply");
    aisha.phone.notes().delete_thread(&thread).expect("delete");
    aisha.phone.sync().run().await.expect("sync the deletion");
    // The supporter's sync pushes the reply (the relay drops it) and learns of the erasure.
    supporter.sync().run().await.expect("supporter sync");
    assert!(supporter.notes().threads(a).expect("notes").is_empty());
    assert_eq!(supporter.sync().pending_changes().expect("pending"), 0);
    for _ in 0..2 {
        aisha.phone.sync().run().await.expect("sync");
        supporter.sync().run().await.expect("sync");
    }
    assert!(
        aisha.phone.notes().threads(a).expect("notes").is_empty(),
        "the reply did not bring the thread back to Aisha"
    );
    assert!(supporter.notes().threads(a).expect("notes").is_empty());
    // A fresh device of hers never receives it either.
    let fresh = coop
        .join_device(&logbook_e2e::worker_grant(a), "aisha-new-phone")
        .await;
    assert!(fresh.notes().threads(a).expect("notes").is_empty());
    let relay_db = coop.relay_dir.join("relay.sqlite3");
    sealed.extend([SECRET.as_bytes().to_vec(), b"zq-reply-4410".to_vec()]);
    let left = sqlite_contains_any(&relay_db, &sealed);
    assert!(left.is_empty(), "the note left at the relay in {left:?}");
    coop.shutdown().await;
}

/// An erasure the relay has not heard of yet survives the device leaving its relay
/// membership: it is sent with the next membership's first sync.
#[tokio::test]
async fn an_erasure_made_before_leaving_reaches_the_relay_after_joining_again() {
    const TEXT: &str = "zq-marker-4410 moved flat";
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    let relay_db = coop.relay_dir.join("relay.sqlite3");
    let thread = aisha
        .phone
        .notes()
        .add_thread(&aisha.person, TEXT)
        .expect("write");
    aisha.phone.sync().run().await.expect("sync");
    let sealed = relay_blob_markers(&coop.relay_dir, &format!("notes:{}/", aisha.person));
    assert!(!sqlite_contains_any(&relay_db, &sealed).is_empty());

    // Offline: erase, then leave the relay (a phone being handed over, say).
    aisha.phone.notes().delete_thread(&thread).expect("erase");
    aisha.phone.sync().leave_relay().expect("leave");

    // Joining again with a fresh code sends the erasure first.
    let code = coop
        .coordinator
        .sync()
        .invite(logbook_e2e::worker_grant(&aisha.person), None)
        .await
        .expect("invite")
        .code;
    aisha
        .phone
        .sync()
        .join(&coop.url, &code, "Aisha's phone again")
        .await
        .expect("join again");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !sqlite_contains_any(&relay_db, &sealed).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the relay still holds the erased note"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        aisha
            .phone
            .notes()
            .threads(&aisha.person)
            .expect("threads")
            .is_empty()
    );
}
