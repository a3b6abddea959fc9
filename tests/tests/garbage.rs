//! The relay refuses garbage with the right status and keeps serving: while one device
//! floods it with bad requests, another device's punches sync intact.

use std::time::Duration;

use logbook_e2e::logbook_core::{HourType, PunchKind, PunchSource};
use logbook_e2e::logbook_protocol::{
    self as proto, CBOR_MEDIA_TYPE, MAX_BLOB_BYTES, MAX_BLOBS_PER_PUSH, MAX_BODY_BYTES,
    MAX_DOCS_PER_PUSH, PushDoc, PushRequest,
};
use logbook_e2e::{Coop, Raw, at, punches};
use reqwest::StatusCode;

/// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn garbage_round(raw: &Raw, person: &str, round: u64) {
    let cbor = Some(CBOR_MEDIA_TYPE);
    // Random bytes and broken CBOR.
    for len in [0usize, 1, 7, 64, 4096] {
        let status = raw
            .push_bytes(cbor, noise(round * 31 + len as u64, len))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{len} random bytes");
    }
    // Well-formed CBOR of the wrong shape.
    for value in [
        serde_json::json!({ "hello": "world" }),
        serde_json::json!([1, 2, 3]),
        serde_json::json!({ "docs": "not a list" }),
        serde_json::json!({ "docs": [{ "doc": 7, "blobs": [] }] }),
    ] {
        let status = raw.push_bytes(cbor, proto::to_cbor(&value)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
    }
    // A valid push body with a malformed document id or supersedes entry.
    for (doc, supersedes) in [
        ("no-scope-here", vec![]),
        ("timesheet:has space/2026-11/x", vec![]),
        ("secrets:p/x", vec![]),
        (&*format!("timesheet:{person}//x"), vec![]),
        (
            &*format!("timesheet:{person}/2026-11/x"),
            vec!["not-a-content-id".to_string()],
        ),
    ] {
        let body = proto::to_cbor(&PushRequest {
            docs: vec![PushDoc {
                doc: doc.to_string(),
                blobs: vec![serde_bytes::ByteBuf::from(b"x".to_vec())],
                supersedes,
                key: None,
            }],
        });
        assert_eq!(
            raw.push_bytes(cbor, body).await,
            StatusCode::BAD_REQUEST,
            "{doc}"
        );
    }
    // Wrong or missing content types.
    let valid = proto::to_cbor(&logbook_e2e::push_request(&[(
        &format!("timesheet:{person}/e2e/garbage/1"),
        b"x",
    )]));
    for ct in [
        Some("application/json"),
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        assert_eq!(
            raw.push_bytes(ct, valid.clone()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{ct:?}"
        );
    }
    // Bad pull parameters.
    for q in [
        "after=abc",
        "after=-1",
        "after=1.5",
        "limit=lots",
        "limit=-3",
        "after=99999999999999999999999",
        "scope=secrets:x",
        "scope=timesheet:has%20space",
        "scope=",
    ] {
        assert_eq!(
            raw.pull_query(q).await.0,
            StatusCode::BAD_REQUEST,
            "pull {q}"
        );
    }
    // Bad JSON control bodies.
    let delete = raw.url("/v1/docs/delete");
    assert_eq!(
        raw.status_of(raw.http.post(&delete).body("{not json"))
            .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        raw.status_of(
            raw.http
                .post(&delete)
                .header("content-type", "text/plain")
                .body("{\"doc\":\"x\"}")
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        raw.status_of(
            raw.http
                .post(&delete)
                .json(&serde_json::json!({ "doc": "../../etc" }))
        )
        .await,
        StatusCode::BAD_REQUEST
    );
}

async fn oversized(raw: &Raw, person: &str) {
    let cbor = Some(CBOR_MEDIA_TYPE);
    let doc = format!("timesheet:{person}/e2e/big/1");
    // Too many blobs (tiny ones), too many documents.
    let many_blobs = PushRequest {
        docs: vec![PushDoc {
            doc: doc.clone(),
            blobs: (0..=MAX_BLOBS_PER_PUSH)
                .map(|i| serde_bytes::ByteBuf::from(i.to_le_bytes().to_vec()))
                .collect(),
            supersedes: vec![],
            key: None,
        }],
    };
    assert_eq!(
        raw.push_bytes(cbor, proto::to_cbor(&many_blobs)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "more than MAX_BLOBS_PER_PUSH blobs"
    );
    let many_docs = PushRequest {
        docs: (0..=MAX_DOCS_PER_PUSH)
            .map(|i| PushDoc {
                doc: format!("timesheet:{person}/e2e/many/{i}"),
                blobs: vec![serde_bytes::ByteBuf::from(vec![1])],
                supersedes: vec![],
                key: None,
            })
            .collect(),
    };
    assert_eq!(
        raw.push_bytes(cbor, proto::to_cbor(&many_docs)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "more than MAX_DOCS_PER_PUSH documents"
    );
    // One blob over MAX_BLOB_BYTES (the body itself is under MAX_BODY_BYTES).
    let big_blob = proto::to_cbor(&logbook_e2e::push_request(&[(
        &doc,
        &vec![7u8; MAX_BLOB_BYTES + 1],
    )]));
    assert!(big_blob.len() < MAX_BODY_BYTES);
    assert_eq!(
        raw.push_bytes(cbor, big_blob).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a blob over MAX_BLOB_BYTES"
    );
    // A body over MAX_BODY_BYTES.
    let status = raw.push_bytes(cbor, vec![0x42; MAX_BODY_BYTES + 1]).await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a body over MAX_BODY_BYTES"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_refused_and_the_relay_keeps_serving() {
    // No push rate limit: the relay charges a device 60 pushes' allowance for each push it
    // refuses as garbage (sync-server/tests/robustness.rs tests that), and this test sends
    // rounds of dozens; it is about the answers and the relay staying up.
    let coop = Coop::start_configured(2, 0, |c| c.limits.push_per_minute = 0).await;
    let (aisha, ben) = (coop.worker("Aisha"), coop.worker("Ben"));
    // Ben's phone sends the garbage, with its own valid token.
    let raw = coop.raw(&ben.phone);
    let end = coop.raw(&coop.coordinator).pull_all(0, None).await.next;

    // Meanwhile Aisha's phone punches and syncs, shift after shift.
    let worker = async {
        let mut ids = Vec::new();
        for day in 1..=10 {
            let t = |hm: &str| Some(at(&format!("2026-10-{day:02}T{hm}:00Z")));
            let p = &aisha.person;
            let phone = &aisha.phone;
            ids.push(
                phone
                    .timesheets()
                    .punch(
                        p,
                        PunchKind::ClockIn,
                        t("09:00"),
                        Some(HourType::Paid),
                        None,
                        PunchSource::Phone,
                    )
                    .expect("clock-in"),
            );
            ids.push(
                phone
                    .timesheets()
                    .punch(
                        p,
                        PunchKind::ClockOut,
                        t("17:00"),
                        None,
                        None,
                        PunchSource::Phone,
                    )
                    .expect("clock-out"),
            );
            phone
                .sync()
                .run()
                .await
                .expect("Aisha's sync works during the flood");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ids
    };
    let flood = async {
        for round in 0..3 {
            garbage_round(&raw, &ben.person, round).await;
        }
        oversized(&raw, &ben.person).await;
    };
    let (ids, ()) = tokio::join!(worker, flood);

    // Nothing of the garbage was stored: the coordinator sees only Aisha's documents.
    let coord = coop.raw(&coop.coordinator);
    let after = coord.pull_all(end, None).await;
    assert!(
        after
            .docs
            .iter()
            .all(|d| d.starts_with(&format!("timesheet:{}/", aisha.person))),
        "only Aisha's punches were stored: {after:?}"
    );
    // The relay still answers, and Aisha's data is intact at the coordinator.
    let health = coop
        .http
        .get(format!("{}/healthz", coop.url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    coop.coordinator
        .sync()
        .run()
        .await
        .expect("coordinator sync");
    ben.phone
        .sync()
        .run()
        .await
        .expect("Ben's own sync still works");
    let mut held: Vec<String> = punches(&coop.coordinator, &aisha.person)
        .into_iter()
        .map(|p| p.id)
        .collect();
    held.sort();
    let mut ids = ids;
    ids.sort();
    assert_eq!(held, ids, "every punch arrived, once");
    let report = coop
        .coordinator
        .reports()
        .hours("2026-10-01", "2026-10-31")
        .expect("report");
    assert_eq!(report.len(), 1);
    assert_eq!((report[0].shifts, report[0].minutes), (10, 10 * 8 * 60));

    coop.shutdown().await;
}
