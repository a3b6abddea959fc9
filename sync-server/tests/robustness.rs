//! Garbage in: the relay answers 4xx with a short JSON error, stores nothing, never
//! panics, and keeps serving other devices.

mod common;

use common::*;
use logbook_protocol::{
    self as proto, CBOR_MEDIA_TYPE, ErrorBody, MAX_BLOB_BYTES, MAX_BLOBS_PER_PUSH,
    MAX_DOCS_PER_PUSH, PushDoc, PushRequest, Role,
};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

fn error_of(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).expect("JSON error body")
}

/// Tiny deterministic generator, so failures reproduce.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn no_push_limit() -> logbook_relay::Limits {
    logbook_relay::Limits {
        push_per_minute: 0,
        ..logbook_relay::Limits::default()
    }
}

#[tokio::test]
async fn a_device_that_sends_garbage_runs_out_of_pushes() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;
    let bob = t
        .device(&coord, &grant(Role::Worker, Some("bob"), None, &[]))
        .await;
    // 600 pushes a minute, but each refused one costs 60: the eleventh garbage push in a
    // minute finds the allowance gone.
    let mut statuses = Vec::new();
    for i in 0..11u8 {
        statuses.push(ann.push_raw(CBOR_MEDIA_TYPE, vec![0xff, i]).await.0);
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    // Other devices are not affected.
    assert_eq!(
        bob.try_push(vec![push_doc("timesheet:bob/x", &[b"p"])])
            .await
            .map(|r| r.stored),
        Ok(1)
    );
}

#[tokio::test]
async fn garbage_pushes_are_refused_and_the_relay_keeps_serving() {
    // No push rate limit: each refused push would otherwise use up 60 pushes' allowance
    // (see `a_device_that_sends_garbage_runs_out_of_pushes`), and this test sends dozens.
    let t = start_relay_with(no_push_limit()).await;
    let coord = t.coordinator().await;
    let ann = t
        .device(&coord, &grant(Role::Worker, Some("ann"), None, &[]))
        .await;

    // Wrong or missing content type.
    let good = proto::to_cbor(&PushRequest {
        docs: vec![push_doc("timesheet:ann/x", &[b"p"])],
    });
    let (status, body) = ann.push_raw("application/json", good.clone()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_of(&body).error, "unsupported_media_type");
    let res = t
        .http
        .post(t.url("/v1/push"))
        .header(AUTHORIZATION, format!("Bearer {}", ann.token))
        .body(good.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Random bytes, truncated CBOR, CBOR of the wrong shape, a lying length prefix.
    let mut rng = XorShift(0x5eed_1234_abcd_ef01);
    let mut bodies: Vec<Vec<u8>> = (0..40).map(|i| rng.bytes(1 + i * 37)).collect();
    bodies.push(Vec::new());
    bodies.push(good[..good.len() / 2].to_vec());
    bodies.push(proto::to_cbor(&vec![1u32, 2, 3]));
    bodies.push(proto::to_cbor(&"docs"));
    // A map whose "docs" claims a byte string of 2^63 bytes.
    bodies.push(
        [
            &[0xa1, 0x64][..],
            b"docs",
            &[0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ]
        .concat(),
    );
    // Deep nesting.
    bodies.push(vec![0x81; 100_000]);
    for body in bodies {
        let (status, bytes) = ann.push_raw(CBOR_MEDIA_TYPE, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let err = error_of(&bytes);
        assert_eq!(err.error, "bad_request");
        assert!(err.message.len() < 100);
    }

    // Invalid document ids and supersedes entries.
    for doc in [
        "",
        "secrets:ann/x",
        "timesheet:ann",
        "timesheet:ann//x",
        "timesheet:a n/x",
    ] {
        assert_eq!(
            ann.try_push(vec![push_doc(doc, &[b"p"])]).await.err(),
            Some(StatusCode::BAD_REQUEST),
            "{doc:?}"
        );
    }
    let mut bad_supersedes = push_doc("timesheet:ann/x", &[b"p"]);
    bad_supersedes.supersedes = vec!["not-a-content-id".into()];
    assert_eq!(
        ann.try_push(vec![bad_supersedes]).await.err(),
        Some(StatusCode::BAD_REQUEST)
    );

    // Garbage JSON on control endpoints.
    for (path, body) in [
        ("/v1/join", &b"{not json"[..]),
        ("/v1/join", b"{\"code\": 5}"),
        ("/v1/docs/delete", b"[]"),
        ("/v1/invites", b"\xff\xfe"),
    ] {
        let res = t
            .http
            .post(t.url(path))
            .header(AUTHORIZATION, format!("Bearer {}", coord.token))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let bytes = res.bytes().await.expect("body");
        assert_eq!(error_of(&bytes).error, "bad_request");
    }
    let res = t
        .http
        .post(t.url("/v1/docs/delete"))
        .header(AUTHORIZATION, format!("Bearer {}", coord.token))
        .header(CONTENT_TYPE, "text/plain")
        .body("{\"doc\": \"records:ann/x\"}")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        coord.try_pull_query("after=minus-one").await.err(),
        Some(StatusCode::BAD_REQUEST)
    );
    assert_eq!(
        coord.try_pull_query("after=0&scope=bogus").await.err(),
        Some(StatusCode::BAD_REQUEST)
    );

    // Unknown routes and methods get JSON errors too.
    let res = t.http.get(t.url("/v1/nope")).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        error_of(&res.bytes().await.expect("body")).error,
        "not_found"
    );
    let res = t.http.delete(t.url("/v1/push")).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);

    // Nothing was stored by any of that, and the relay still serves everyone.
    assert!(coord.pull_all().await.is_empty());
    let r = ann
        .push(vec![push_doc("timesheet:ann/x", &[b"real punch"])])
        .await;
    assert_eq!(r.stored, 1);
    assert_eq!(coord.pull_all().await.len(), 1);
}

#[tokio::test]
async fn oversized_pushes_get_413_and_store_nothing() {
    let t = start_relay_with(no_push_limit()).await;
    let coord = t.coordinator().await;

    // A body over MAX_BODY_BYTES.
    let huge = vec![0u8; proto::MAX_BODY_BYTES + 1];
    let (status, body) = coord.push_raw(CBOR_MEDIA_TYPE, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_of(&body).error, "too_large");

    // One blob over MAX_BLOB_BYTES (the body itself is under the limit).
    let big = vec![7u8; MAX_BLOB_BYTES + 1];
    assert_eq!(
        coord
            .try_push(vec![push_doc("records:ann/x", &[b"ok", &big])])
            .await
            .err(),
        Some(StatusCode::PAYLOAD_TOO_LARGE)
    );
    // Too many documents, too many blobs.
    let docs: Vec<PushDoc> = (0..=MAX_DOCS_PER_PUSH)
        .map(|i| push_doc(&format!("records:p{i}/x"), &[b"b"]))
        .collect();
    assert_eq!(
        coord.try_push(docs).await.err(),
        Some(StatusCode::PAYLOAD_TOO_LARGE)
    );
    let many: Vec<Vec<u8>> = (0..=MAX_BLOBS_PER_PUSH)
        .map(|i| i.to_le_bytes().to_vec())
        .collect();
    let refs: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
    assert_eq!(
        coord
            .try_push(vec![push_doc("records:ann/x", &refs)])
            .await
            .err(),
        Some(StatusCode::PAYLOAD_TOO_LARGE)
    );
    assert!(coord.pull_all().await.is_empty());

    // Right at the limits is fine.
    let ok = coord
        .push(vec![push_doc(
            "records:ann/x",
            &[&vec![1u8; MAX_BLOB_BYTES]],
        )])
        .await;
    assert_eq!(ok.stored, 1);
}

#[tokio::test]
async fn big_pulls_are_split_into_pages_by_bytes() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    // 4 blobs of 3 MiB: more than one pull's byte budget.
    for i in 0..4u8 {
        coord
            .push(vec![push_doc(
                "records:ann/scans",
                &[&vec![i; 3 * 1024 * 1024]],
            )])
            .await;
    }
    let first = coord.pull(0).await;
    assert!(first.more);
    let blobs = |p: &proto::PullResponse| p.docs.iter().map(|d| d.blobs.len()).sum::<usize>();
    assert!(blobs(&first) < 4);
    assert_eq!(coord.pull_all().await.len(), 4);
}
