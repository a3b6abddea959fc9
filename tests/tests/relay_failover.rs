//! A device knows several addresses of its relay: when one refuses connections or answers
//! with a server error, its requests go to the next, at join and at every sync.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use logbook_e2e::logbook_core::{HourType, Logbook, PunchKind, PunchSource};
use logbook_e2e::{Coop, coordinator_grant, free_port, punches};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback server that answers every request with `503` (a relay process whose
/// database is gone, or a proxy with no backend), counting the requests.
async fn failing_server() -> (String, Arc<AtomicU32>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let task = tokio::spawn(async move {
        for _ in 0..10_000 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                // Read the request head (bounded), then answer and close.
                let mut buf = vec![0u8; 64 * 1024];
                let mut read = 0;
                while read < buf.len() {
                    match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf[read..]))
                        .await
                    {
                        Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                        Ok(Ok(n)) => read += n,
                    }
                    if buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (url, hits, task)
}

fn punch(book: &Logbook, person: &str, n: i64) -> String {
    let at = logbook_e2e::at("2026-11-02T07:00:00Z") + n * 1800;
    let (kind, ht) = if n % 2 == 0 {
        (PunchKind::ClockIn, Some(HourType::Paid))
    } else {
        (PunchKind::ClockOut, None)
    };
    book.timesheets()
        .punch(person, kind, Some(at), ht, None, PunchSource::Phone)
        .expect("punch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_fail_over_to_the_next_relay_address() {
    let coop = Coop::start(1, 0).await;
    let live = coop.url.clone();
    // Nothing listens there.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let (failing, failing_hits, failing_task) = failing_server().await;

    // Join through a list whose first two addresses are down and failing.
    let code = coop
        .coordinator
        .sync()
        .invite(coordinator_grant(), None)
        .await
        .expect("invite")
        .code;
    let laptop = Logbook::open(
        coop.root.path().join("second-laptop"),
        &logbook_e2e::logbook_core::StoreKey::insecure_test_key(),
    )
    .expect("open the store");
    let info = laptop
        .sync()
        .join(
            &format!("{dead}, {failing},{live}/"),
            &code,
            "second laptop",
        )
        .await
        .expect("join through the third address");
    assert!(info.synced, "{:?}", info.sync_error);
    assert_eq!(
        laptop.sync().relay_urls().expect("urls"),
        vec![dead.clone(), failing.clone(), live.clone()]
    );
    assert!(
        failing_hits.load(Ordering::SeqCst) > 0,
        "the 503s were tried"
    );
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator syncs");

    // A phone that joined with one address is given a dead one first, later.
    let aisha = coop.worker("Aisha");
    assert_eq!(
        aisha.phone.sync().relay_urls().expect("urls"),
        vec![live.clone()]
    );
    let set = aisha
        .phone
        .sync()
        .set_relay_urls(&format!("{dead} {live}"))
        .expect("set the addresses");
    assert_eq!(set, vec![dead.clone(), live.clone()]);
    let made: Vec<String> = (0..4)
        .map(|n| punch(&aisha.phone, &aisha.person, n))
        .collect();
    let summary = aisha
        .phone
        .sync()
        .run()
        .await
        .expect("sync through the live address");
    assert!(summary.pushed_changes > 0);
    assert_eq!(aisha.phone.sync().pending_changes().expect("pending"), 0);

    // Only a dead address: the sync fails (the failover is what made it work), and the
    // punch waits.
    aisha.phone.sync().set_relay_urls(&dead).expect("set");
    let more = punch(&aisha.phone, &aisha.person, 4);
    assert!(aisha.phone.sync().run().await.is_err());
    assert_eq!(aisha.phone.sync().pending_changes().expect("pending"), 1);
    aisha
        .phone
        .sync()
        .set_relay_urls(&format!("{failing},{live}"))
        .expect("set");
    aisha.phone.sync().run().await.expect("sync after the 503s");
    assert_eq!(aisha.phone.sync().pending_changes().expect("pending"), 0);

    // Everything arrived once.
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator syncs");
    laptop.sync().run().await.expect("laptop syncs");
    let mut expected = made;
    expected.push(more);
    expected.sort();
    for book in [&coop.coordinator, &laptop] {
        let mut held: Vec<String> = punches(book, &aisha.person)
            .into_iter()
            .map(|p| p.id)
            .collect();
        held.sort();
        assert_eq!(held, expected);
    }

    // Bad lists are refused and change nothing.
    assert!(aisha.phone.sync().set_relay_urls(" , ").is_err());
    assert!(
        aisha
            .phone
            .sync()
            .set_relay_urls(&format!("{live},http://relay.example.org"))
            .is_err(),
        "plain http beyond this machine"
    );
    assert_eq!(
        aisha.phone.sync().relay_urls().expect("urls"),
        vec![failing, live]
    );
    failing_task.abort();
    coop.shutdown().await;
}
