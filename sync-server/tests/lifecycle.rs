//! The relay process: an acknowledged push survives SIGKILL, and a graceful shutdown
//! lets a request in flight finish.

mod common;

use common::*;
use logbook_protocol::{self as proto, PushRequest, Role};
use logbook_relay::{RelayConfig, admin};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts the real binary on a free loopback port and returns it with its base URL.
fn spawn_relay(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logbook-relay"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn relay");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    (child, url)
}

#[tokio::test]
async fn every_acknowledged_push_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = admin::create_coop(dir.path(), "Durable Coop").expect("coop");
    let (mut child, url) = spawn_relay(dir.path());
    let http = reqwest::Client::new();
    let coord = join_at(&http, &url, &created.coordinator_code, "laptop").await;
    let code = coord
        .invite(&grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let worker = join_at(&http, &url, &code, "phone").await;

    // Push batches from a background task; kill the process while it is pushing.
    let pusher = worker.clone();
    let pushing = tokio::spawn(async move {
        let mut acked: Vec<Vec<u8>> = Vec::new();
        for batch in 0..100_000u32 {
            let blobs: Vec<Vec<u8>> = (0..5)
                .map(|i| format!("batch {batch} punch {i}").into_bytes())
                .collect();
            let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
            let body = proto::to_cbor(&PushRequest {
                docs: vec![push_doc(
                    &format!("timesheet:ann/2026-11/b{}", batch % 7),
                    &refs,
                )],
            });
            let res = pusher
                .http
                .post(pusher.url("/v1/push"))
                .header("authorization", format!("Bearer {}", pusher.token))
                .header("content-type", proto::CBOR_MEDIA_TYPE)
                .body(body)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            // Only a complete 200 response counts as acknowledged.
            match res {
                Ok(r) if r.status().is_success() => match r.bytes().await {
                    Ok(_) => acked.extend(blobs),
                    Err(_) => break,
                },
                _ => break,
            }
        }
        acked
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let acked = tokio::time::timeout(Duration::from_secs(30), pushing)
        .await
        .expect("pusher stops")
        .expect("pusher task");
    assert!(
        acked.len() >= 10,
        "too few pushes before the kill: {}",
        acked.len()
    );

    // Restart on the same data dir: everything acknowledged is there.
    let (mut child, url) = spawn_relay(dir.path());
    let mut coord = coord;
    coord.base = url;
    let stored: std::collections::HashSet<Vec<u8>> =
        coord.pull_all().await.into_iter().map(|(_, b)| b).collect();
    let missing = acked.iter().filter(|b| !stored.contains(*b)).count();
    child.kill().expect("kill");
    child.wait().expect("reap");
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged blobs lost",
        acked.len()
    );
}

#[tokio::test]
async fn graceful_shutdown_finishes_a_request_in_flight() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let body = proto::to_cbor(&PushRequest {
        docs: vec![push_doc("directory/main", &[&vec![42u8; 200_000]])],
    });
    let head = format!(
        "POST /v1/push HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/cbor\r\nContent-Length: {}\r\n\r\n",
        coord.token,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(t.relay.addr())
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&body[..1000]).await.expect("first part");
    stream.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Shut down while the request is half sent.
    let relay = t.relay;
    let started = Instant::now();
    let shutdown = tokio::spawn(relay.shutdown());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown did not wait for the request"
    );
    stream.write_all(&body[1000..]).await.expect("rest");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown completes")
        .expect("shutdown task");
    assert!(started.elapsed() < Duration::from_secs(10));

    // The push was committed: a new relay on the same data dir has it.
    let addr = "127.0.0.1:0".parse().expect("addr");
    let again = logbook_relay::start(config_for(&t.db, t.dir.path(), addr))
        .await
        .expect("restart");
    let mut coord = coord;
    coord.base = again.url();
    let all = coord.pull_all().await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].1.len(), 200_000);
    again.shutdown().await;
}

#[tokio::test]
async fn the_relay_serves_https_with_a_certificate_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    // A throwaway self-signed certificate; skip where openssl is not installed.
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: openssl is not available to make a test certificate");
        return;
    }
    let mut config = RelayConfig::new(
        dir.path().join("data"),
        "127.0.0.1:0".parse().expect("addr"),
    );
    config.tls = Some(logbook_relay::TlsFiles {
        cert: cert.clone(),
        key,
    });
    let relay = logbook_relay::start(config).await.expect("start with TLS");
    assert!(relay.url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(&cert).expect("cert");
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("parse cert")])
        .build()
        .expect("client");
    let res = http
        .get(format!("{}/healthz", relay.url()))
        .send()
        .await
        .expect("https request");
    assert_eq!(res.text().await.expect("body"), "ok");
    // Plain HTTP to the TLS port does not get an answer from the API.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", relay.addr()))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.expect("response").status().is_success());
    relay.shutdown().await;
}

#[tokio::test]
async fn sigterm_stops_the_binary_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, url) = spawn_relay(dir.path());
    let health = reqwest::get(format!("{url}/healthz"))
        .await
        .expect("health");
    assert_eq!(health.text().await.expect("body"), "ok");
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "relay did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
}
