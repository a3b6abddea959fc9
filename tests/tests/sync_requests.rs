//! How many requests a sync that finds nothing new costs, counted from the relay's own
//! per-request log lines (docs/PERFORMANCE.md, end-to-end encryption).

use std::io::Write;
use std::sync::{Arc, Mutex};

use logbook_e2e::Coop;

/// Collects the relay's log lines.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    /// The routes of the requests answered since the last call.
    fn take_routes(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| l.contains("response"))
            .filter_map(|l| {
                let route = l.split("route=").nth(1)?;
                Some(
                    route
                        .split([' ', '}'])
                        .next()?
                        .trim_matches('"')
                        .to_string(),
                )
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_finds_nothing_new_is_two_requests() {
    let lines = Lines::default();
    let writer = lines.clone();
    tracing_subscriber::fmt()
        .with_env_filter("tower_http=info,logbook_relay=info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let coop = Coop::start(1, 0).await;
    let aisha = coop.worker("Aisha");
    for _ in 0..2 {
        for book in [&coop.coordinator, &aisha.phone, &coop.kiosk] {
            book.sync().run().await.expect("sync");
        }
    }
    for (who, book) in [
        ("coordinator", &coop.coordinator),
        ("phone", &aisha.phone),
        ("kiosk", &coop.kiosk),
    ] {
        lines.take_routes();
        book.sync().run().await.expect("sync");
        let routes = lines.take_routes();
        println!("{who}: {} requests: {routes:?}", routes.len());
        assert_eq!(
            routes,
            vec!["/v1/keys".to_string(), "/v1/pull".to_string()],
            "{who}: the key listing, then one pull page"
        );
    }
    coop.shutdown().await;
}
