//! Hostile devices, slow clients and poor links: timeouts, the connection cap, body
//! limits on JSON routes, rate limits and quotas. Servers on loopback only; every wait is
//! bounded.

mod common;

use common::*;
use logbook_protocol::{self as proto, ErrorBody, PushDoc, Role, content_id};
use logbook_relay::Limits;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

async fn connect(t: &TestRelay) -> TcpStream {
    TcpStream::connect(t.relay.addr()).await.expect("connect")
}

/// Reads until the server closes the connection (EOF or reset) or `limit` passes.
/// Returns what was read and whether the connection was closed in time.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn headers_sent_a_byte_at_a_time_are_cut_off() {
    let t = start_relay_with(Limits {
        header_timeout: secs(1),
        ..Limits::default()
    })
    .await;
    let mut stream = connect(&t).await;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: relay\r\nX-Slow: {}\r\n\r\n",
        "a".repeat(200)
    );
    let start = Instant::now();
    let (mut rd, mut wr) = stream.split();
    let dribble = async {
        for b in request.bytes() {
            if wr.write_all(&[b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let closed = async {
        let mut buf = [0u8; 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    // The whole request would take over 20 s; the relay must hang up long before.
    let cut = tokio::time::timeout(secs(6), async {
        tokio::select! {
            _ = closed => true,
            _ = dribble => false,
        }
    })
    .await;
    assert_eq!(cut, Ok(true), "the slow client was not cut off");
    assert!(start.elapsed() < secs(5), "{:?}", start.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let t = start_relay_with(Limits {
        header_timeout: secs(1),
        ..Limits::default()
    })
    .await;
    let mut stream = connect(&t).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .expect("write");
    let (got, closed) = read_until_closed(&mut stream, secs(5)).await;
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(closed, "an idle keep-alive connection stayed open");
}

#[tokio::test]
async fn a_stalled_upload_is_closed_after_the_idle_timeout() {
    let t = start_relay_with(Limits {
        header_timeout: secs(30),
        request_timeout: secs(30),
        idle_timeout: secs(1),
        ..Limits::default()
    })
    .await;
    let mut stream = connect(&t).await;
    stream
        .write_all(
            b"POST /v1/join HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"code\":",
        )
        .await
        .expect("write");
    let start = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, secs(6)).await;
    assert!(closed, "a stalled upload held its connection");
    assert!(start.elapsed() < secs(5), "{:?}", start.elapsed());
}

#[tokio::test]
async fn a_request_slower_than_the_request_timeout_gets_408() {
    let t = start_relay_with(Limits {
        header_timeout: secs(30),
        request_timeout: secs(1),
        idle_timeout: secs(30),
        ..Limits::default()
    })
    .await;
    let mut stream = connect(&t).await;
    stream
        .write_all(
            b"POST /v1/join HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n",
        )
        .await
        .expect("write");
    // The body trickles in, a byte every 200 ms: never idle, but far too slow.
    let (mut rd, mut wr) = stream.split();
    let dribble = async {
        for _ in 0..100 {
            if wr.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let answer = async {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        // Until the JSON body's end (or the relay hangs up).
        while !got.ends_with(b"}") {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        got
    };
    let got = tokio::time::timeout(secs(6), async {
        tokio::select! {
            got = answer => got,
            _ = dribble => Vec::new(),
        }
    })
    .await
    .expect("an answer within 6 s");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"timeout\""), "{text}");
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let t = start_relay_with(Limits {
        max_connections: 2,
        header_timeout: secs(30),
        ..Limits::default()
    })
    .await;
    let first = connect(&t).await;
    let second = connect(&t).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Both slots are held by connections that send nothing.
    let blocked = reqwest::Client::new()
        .get(t.url("/healthz"))
        .timeout(Duration::from_millis(1500))
        .send()
        .await;
    assert!(blocked.is_err(), "a third connection was served");
    drop(first);
    let res = reqwest::Client::new()
        .get(t.url("/healthz"))
        .timeout(secs(10))
        .send()
        .await
        .expect("served once a slot is free");
    assert_eq!(res.status(), StatusCode::OK);
    drop(second);
}

#[tokio::test]
async fn json_bodies_over_16_kib_get_413() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let big = "x".repeat(proto::MAX_JSON_BODY_BYTES + 1);
    for (path, body) in [
        (
            "/v1/join",
            json!({"code": "K7QF-2M9X-T4PA", "device_name": big}),
        ),
        ("/v1/docs/delete", json!({ "doc": big })),
        ("/v1/invites", json!({"role": "worker", "person": big})),
    ] {
        let (status, body) = coord.post(path, &body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(body["error"], "too_large", "{path}");
    }
    // Push keeps its 8 MiB.
    let blob = vec![3u8; 1 << 20];
    let r = coord
        .push(vec![push_doc("records:ann/scan", &[&blob])])
        .await;
    assert_eq!(r.stored, 1);
}

#[tokio::test]
async fn a_wrong_join_code_never_waits_for_the_writer() {
    // SQLite's single write lock; PostgreSQL has none to hold.
    if common::sqlite_only("a_wrong_join_code_never_waits_for_the_writer") {
        return;
    }
    let t = start_relay().await;
    // Someone else holds SQLite's write lock (an admin command, a long push batch).
    let db = rusqlite::Connection::open(t.dir.path().join("relay.sqlite3")).expect("open");
    db.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let start = Instant::now();
    let res = t
        .http
        .post(t.url("/v1/join"))
        .json(&json!({"code": "0000-0000-0000", "device_name": "guess"}))
        .timeout(secs(5))
        .send()
        .await
        .expect("answered while the writer is busy");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(start.elapsed() < secs(2), "{:?}", start.elapsed());
    db.execute_batch("ROLLBACK").expect("release");
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn joins_pushes_and_pulls_over_their_rate_get_429_with_retry_after() {
    let t = start_relay_with(Limits {
        join_per_minute: 3,
        push_per_minute: 2,
        pull_per_minute: 2,
        ..Limits::default()
    })
    .await;
    let coord = t.coordinator().await; // join 1
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await; // join 2
    let guess = json!({"code": "0000-0000-0000", "device_name": "guess"});
    let res = t
        .http
        .post(t.url("/v1/join"))
        .json(&guess)
        .send()
        .await
        .expect("join 3");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = t
        .http
        .post(t.url("/v1/join"))
        .json(&guess)
        .send()
        .await
        .expect("join 4");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&res);
    assert!((1..=60).contains(&wait), "{wait}");
    let body: ErrorBody = res.json().await.expect("JSON error");
    assert_eq!(body.error, "rate_limited");

    for i in 0..2u8 {
        ann.push(vec![push_doc("timesheet:ann/x", &[&[i]])]).await;
    }
    let res = ann
        .http
        .post(ann.url("/v1/push"))
        .bearer_auth(&ann.token)
        .header(reqwest::header::CONTENT_TYPE, proto::CBOR_MEDIA_TYPE)
        .body(proto::to_cbor(&proto::PushRequest {
            docs: vec![push_doc("timesheet:ann/x", &[b"third"])],
        }))
        .send()
        .await
        .expect("push 3");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&res) >= 1);

    ann.pull(0).await;
    ann.pull(0).await;
    assert_eq!(
        ann.try_pull_query("after=0").await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    // Limits are per device: the coordinator still pushes and pulls.
    coord.push(vec![push_doc("directory/main", &[b"d"])]).await;
    assert_eq!(coord.pull_all().await.len(), 3);
}

#[tokio::test]
async fn quotas_refuse_growth_and_supersedes_and_erasure_free_space() {
    let t = start_relay_with(Limits {
        device_quota_bytes: 1_000,
        coop_quota_bytes: 1_500,
        ..Limits::default()
    })
    .await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let (b600, b500, b100) = (vec![6u8; 600], vec![5u8; 500], vec![1u8; 100]);
    ann.push(vec![push_doc("timesheet:ann/a", &[&b600])]).await;
    // 1,100 bytes for ann: over the device quota.
    let err = ann
        .try_push(vec![push_doc("timesheet:ann/b", &[&b500])])
        .await
        .err();
    assert_eq!(err, Some(StatusCode::INSUFFICIENT_STORAGE));
    let (status, body) = ann
        .push_raw(
            proto::CBOR_MEDIA_TYPE,
            proto::to_cbor(&proto::PushRequest {
                docs: vec![push_doc("timesheet:ann/b", &[&b500])],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    let body: ErrorBody = serde_json::from_slice(&body).expect("JSON error");
    assert_eq!(body.error, "quota_exceeded");
    // The coop: 600 + 800 fits in 1,500; 200 more does not.
    coord
        .push(vec![push_doc("records:ann/x", &[&[8u8; 800]])])
        .await;
    assert_eq!(
        coord
            .try_push(vec![push_doc("records:ann/y", &[&[2u8; 200]])])
            .await
            .err(),
        Some(StatusCode::INSUFFICIENT_STORAGE)
    );

    // Compaction frees ann's quota: the 600-byte chunk becomes a 100-byte snapshot.
    ann.push(vec![PushDoc {
        doc: "timesheet:ann/a".into(),
        blobs: vec![blob(&b100)],
        supersedes: vec![content_id(&b600)],
        key: None,
    }])
    .await;
    ann.push(vec![push_doc("timesheet:ann/b", &[&b500])]).await;
    // Erasure frees the coop's quota.
    assert_eq!(
        coord.delete_doc("records:ann/x").await,
        StatusCode::NO_CONTENT
    );
    coord
        .push(vec![push_doc("records:ann/z", &[&[7u8; 700]])])
        .await;
    // Nothing refused was stored.
    let held = coord.pull_all().await;
    assert_eq!(
        held.len(),
        3,
        "{:?}",
        held.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_device_with_two_pushes_in_flight_gets_429_for_a_third() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    // Two uploads that stall mid-body hold the device's two push slots.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = connect(&t).await;
        let head = format!(
            "POST /v1/push HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/cbor\r\nContent-Length: 1000\r\n\r\nxx",
            coord.token
        );
        s.write_all(head.as_bytes()).await.expect("write");
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = coord
        .push_raw(
            proto::CBOR_MEDIA_TYPE,
            proto::to_cbor(&proto::PushRequest {
                docs: vec![push_doc("directory/main", &[b"third"])],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let err: ErrorBody = serde_json::from_slice(&body).expect("JSON error");
    assert_eq!(err.error, "rate_limited");
    // Another device is not affected; once the stalled uploads go, the slots are free.
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    ann.push(vec![push_doc("timesheet:ann/x", &[b"punch"])])
        .await;
    drop(held);
    let deadline = Instant::now() + secs(5);
    loop {
        let r = coord
            .try_push(vec![push_doc("directory/main", &[b"later"])])
            .await;
        if r.is_ok() || Instant::now() > deadline {
            assert_eq!(r.map(|r| r.stored).ok(), Some(1));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
