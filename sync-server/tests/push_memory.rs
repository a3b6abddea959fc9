//! A push body built to explode when decoded: millions of empty byte strings in 8 MiB.
//! The relay must count while it decodes and refuse it at the blob limit, not decode it
//! all first. Alone in its own test binary, so the process's peak memory is this test's.

mod common;

use common::*;
use logbook_protocol::{self as proto, CBOR_MEDIA_TYPE, ErrorBody};
use reqwest::StatusCode;

/// This process's peak resident memory in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_push_of_millions_of_empty_blobs_is_refused_without_decoding_them() {
    let t = start_relay().await;
    let coord = t.coordinator().await;

    // {"docs": [{"doc": "records:ann/x", "blobs": [h'', h'', ... ]}]} filling 8 MiB.
    let mut body = vec![0xa1, 0x64];
    body.extend_from_slice(b"docs");
    body.extend_from_slice(&[0x81, 0xa2, 0x63]);
    body.extend_from_slice(b"doc");
    body.push(0x6d);
    body.extend_from_slice(b"records:ann/x");
    body.push(0x65);
    body.extend_from_slice(b"blobs");
    let n = proto::MAX_BODY_BYTES - body.len() - 5;
    body.push(0x9a);
    body.extend_from_slice(&u32::try_from(n).expect("fits").to_be_bytes());
    body.resize(body.len() + n, 0x40);
    assert!(body.len() <= proto::MAX_BODY_BYTES);

    let before = peak_rss_kib();
    let (status, answer) = coord.push_raw(CBOR_MEDIA_TYPE, body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let err: ErrorBody = serde_json::from_slice(&answer).expect("JSON error");
    assert_eq!(err.error, "too_large");

    // Decoding all ~8.4 million empty blobs first would need 200+ MB for their Vec
    // alone; counting as it goes keeps the growth to about the body's own size.
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        println!("peak RSS grew by {grown_mib} MiB for an 8 MiB hostile push");
        assert!(grown_mib < 64, "peak memory grew by {grown_mib} MiB");
    }
    assert!(coord.pull_all().await.is_empty());
}
