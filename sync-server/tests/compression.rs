//! Gzipped request bodies (docs/PROTOCOL.md, "Transport"): a relay takes
//! `Content-Encoding: gzip` pushes and stores exactly what a plain push would, still takes
//! plain ones, says so on every answer (`Accept-Encoding: gzip`), and refuses other
//! encodings (415) and broken gzip (400). With `gzip_requests` off it behaves as relays
//! did before: no advertisement, and gzip bytes are read as they are (400), which is what
//! a client's fallback has to cope with.

mod common;

use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use logbook_protocol::{self as proto, CBOR_MEDIA_TYPE, ErrorBody, PushRequest, PushResponse};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use std::io::Write;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// A push body of one document with a blob that compresses well, as automerge chunks do.
fn push_body(doc: &str) -> (Vec<u8>, Vec<u8>) {
    let blob: Vec<u8> = (0..4000u32)
        .flat_map(|i| format!("punch {} clock-in 09:{:02};", i % 40, i % 60).into_bytes())
        .take(4000)
        .collect();
    let body = proto::to_cbor(&PushRequest {
        docs: vec![push_doc(doc, &[&blob])],
    });
    (body, blob)
}

async fn push_encoded(c: &Client, encoding: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = c
        .http
        .post(c.url("/v1/push"))
        .header(AUTHORIZATION, format!("Bearer {}", c.token))
        .header(CONTENT_TYPE, CBOR_MEDIA_TYPE)
        .body(body);
    if let Some(encoding) = encoding {
        req = req.header(CONTENT_ENCODING, encoding);
    }
    req.send().await.expect("request")
}

fn advertises_gzip(res: &reqwest::Response) -> bool {
    res.headers()
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"))
}

#[tokio::test]
async fn a_gzipped_push_is_stored_exactly_as_a_plain_one() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let (body, blob) = push_body("records:ann/x");
    let compressed = gzip(&body);
    assert!(
        compressed.len() * 3 < body.len(),
        "the test body compresses"
    );

    let res = push_encoded(&coord, Some("gzip"), compressed).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(advertises_gzip(&res));
    let answer: PushResponse =
        proto::from_cbor(&res.bytes().await.expect("body")).expect("CBOR answer");
    assert_eq!((answer.stored, answer.duplicates), (1, 0));
    assert_eq!(
        coord.pull_all().await,
        vec![("records:ann/x".to_string(), blob)]
    );
}

#[tokio::test]
async fn a_plain_push_still_works_and_every_answer_advertises_gzip() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let (body, blob) = push_body("records:ann/x");
    let res = push_encoded(&coord, None, body.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(advertises_gzip(&res));
    // The same content again, gzipped: the same content id, so nothing new is stored.
    let res = push_encoded(&coord, Some("gzip"), gzip(&body)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: PushResponse =
        proto::from_cbor(&res.bytes().await.expect("body")).expect("CBOR answer");
    assert_eq!((answer.stored, answer.duplicates), (0, 1));
    assert_eq!(
        coord.pull_all().await,
        vec![("records:ann/x".to_string(), blob)]
    );

    // Errors say it too (a client must not conclude from one that gzip is not taken).
    let res = t.http.get(t.url("/v1/me")).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(advertises_gzip(&res));
}

#[tokio::test]
async fn other_encodings_get_415_and_broken_gzip_gets_400() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let (body, _) = push_body("records:ann/x");

    let res = push_encoded(&coord, Some("br"), body.clone()).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(advertises_gzip(&res), "a 415 names what is taken");

    // Plain CBOR claiming to be gzip, and gzip cut short: unreadable, nothing stored.
    let res = push_encoded(&coord, Some("gzip"), body.clone()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let mut cut = gzip(&body);
    cut.truncate(cut.len() / 2);
    let res = push_encoded(&coord, Some("gzip"), cut).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: ErrorBody = res.json().await.expect("JSON error");
    assert_eq!(err.error, "bad_request");
    assert!(coord.pull_all().await.is_empty());
}

#[tokio::test]
async fn a_relay_without_gzip_requests_neither_advertises_nor_inflates() {
    let t = start_relay_configured(|c| c.gzip_requests = false).await;
    let coord = t.coordinator().await;
    let (body, blob) = push_body("records:ann/x");

    let res = push_encoded(&coord, Some("gzip"), gzip(&body)).await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "gzip bytes read as CBOR"
    );
    assert!(!advertises_gzip(&res));

    let res = push_encoded(&coord, None, body).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!advertises_gzip(&res));
    assert_eq!(
        coord.pull_all().await,
        vec![("records:ann/x".to_string(), blob)]
    );
}

#[tokio::test]
async fn a_compressed_body_declared_over_the_limit_is_refused_before_it_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = start_relay().await;
    let coord = t.coordinator().await;
    // Headers only: the relay must answer without waiting for 8 MiB that never come.
    let mut stream = tokio::net::TcpStream::connect(t.relay.addr())
        .await
        .expect("connect");
    let head = format!(
        "POST /v1/push HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {}\r\n\
         Content-Type: {CBOR_MEDIA_TYPE}\r\nContent-Encoding: gzip\r\n\
         Content-Length: {}\r\n\r\n",
        coord.token,
        proto::MAX_BODY_BYTES + 1
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered without the body")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}
