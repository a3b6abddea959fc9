//! Zip bombs: small gzip bodies that inflate to hundreds of megabytes. The relay's body
//! limits count decompressed bytes, so it stops inflating at the limit and answers 413,
//! in bounded memory. Alone in its own test binary, so the process's peak memory is this
//! test's.

mod common;

use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use logbook_protocol::{self as proto, CBOR_MEDIA_TYPE, ErrorBody};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use std::io::Write;

/// This process's peak resident memory in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `prefix` and then `mib` MiB of zero bytes, gzipped (about 1 KB per MiB).
fn bomb(prefix: &[u8], mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(prefix).expect("gzip");
    for _ in 0..mib {
        gz.write_all(&zeros).expect("gzip");
    }
    gz.finish().expect("gzip")
}

fn too_large(status: StatusCode, body: &[u8]) {
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let err: ErrorBody = serde_json::from_slice(body).expect("JSON error");
    assert_eq!(err.error, "too_large");
}

#[tokio::test]
async fn gzip_bombs_are_refused_at_the_decompressed_limit_in_bounded_memory() {
    let t = start_relay().await;
    let coord = t.coordinator().await;
    // A push that looks right for its first megabytes: one document whose one blob is a
    // byte string of 512 MiB (of zeros), so only the size limit can stop it.
    let head = [
        &[0xa1, 0x64][..],
        b"docs",
        &[0x81, 0xa2, 0x63],
        b"doc",
        &[0x6d],
        b"records:ann/x",
        &[0x65],
        b"blobs",
        &[0x81, 0x5a, 0x20, 0x00, 0x00, 0x00],
    ]
    .concat();
    let push_bomb = bomb(&head, 512);
    let join_bomb = bomb(b"", 16);
    assert!(push_bomb.len() < proto::MAX_BODY_BYTES / 8);

    let before = peak_rss_kib();
    // A push: 512 MiB once inflated, against the 8 MiB body limit.
    let res = coord
        .http
        .post(coord.url("/v1/push"))
        .header(AUTHORIZATION, format!("Bearer {}", coord.token))
        .header(CONTENT_TYPE, CBOR_MEDIA_TYPE)
        .header(CONTENT_ENCODING, "gzip")
        .body(push_bomb)
        .send()
        .await
        .expect("request");
    let status = res.status();
    too_large(status, &res.bytes().await.expect("body"));
    // A join (no device needed): 16 MiB once inflated, against the 64 KiB JSON limit.
    let res = t
        .http
        .post(t.url("/v1/join"))
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_ENCODING, "gzip")
        .body(join_bomb)
        .send()
        .await
        .expect("request");
    let status = res.status();
    too_large(status, &res.bytes().await.expect("body"));

    // Inflating the push bomb whole would take 512 MiB; stopping at the limit, the
    // growth is about the 8 MiB the handler may read.
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        println!("peak RSS grew by {grown_mib} MiB for a 512 MiB gzip bomb");
        assert!(grown_mib < 64, "peak memory grew by {grown_mib} MiB");
    }
    assert!(coord.pull_all().await.is_empty());
}
