//! Writes the seed corpora, `fuzz/corpus/<target>/`: a few valid bodies, ids and
//! documents of each kind. Run from `fuzz/` with the fuzz build's flags so that it reuses
//! the instrumented dependencies (see docs/SECURITY.md, "Fuzzing"):
//!
//! ```text
//! RUSTFLAGS="<the flags cargo fuzz build prints>" cargo run --release \
//!     --target x86_64-unknown-linux-gnu --example seeds
//! ```
//!
//! Seeds are named by their content hash, as libFuzzer names corpus files.

use logbook_core::logbook::Logbook;
use logbook_core::model::{PunchKind, PunchSource};
use logbook_core::store::documents::{self, DocKind};
use logbook_protocol::{PullResponse, PulledDoc, PushDoc, PushRequest, content_id, to_cbor};
use serde_bytes::ByteBuf;
use std::path::Path;

// The dependencies are built with coverage instrumentation, which libFuzzer's runtime
// provides; a target that does nothing links it in.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});

const KINDS: [DocKind; 8] = [
    DocKind::Directory,
    DocKind::Roster,
    DocKind::Profile,
    DocKind::Punches,
    DocKind::Review,
    DocKind::Training,
    DocKind::Cpo,
    DocKind::Notes,
];

fn write(target: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    std::fs::write(dir.join(&content_id(bytes)[..40]), bytes).expect("seed");
}

fn main() {
    let tmp = std::env::temp_dir().join(format!("logbook-seeds-{}", std::process::id()));
    let lb = Logbook::open(tmp.join("a"), &logbook_core::StoreKey::insecure_test_key()).expect("open");
    lb.directory()
        .init("Seed Coop", "Europe/London")
        .expect("init");
    let site = lb.directory().add_site("Yard").expect("site");
    let ann = lb
        .directory()
        .add_person("Ann", &[], std::slice::from_ref(&site), false)
        .expect("person");
    lb.timesheets()
        .punch(
            &ann,
            PunchKind::ClockIn,
            Some(1_793_610_000),
            None,
            None,
            PunchSource::Phone,
        )
        .expect("punch");
    let _ = lb.training().add_course("First aid", Some(12));
    let _ = lb.notes().add_thread(&ann, "a note");
    let chunks = lb.export_chunks().expect("chunks");

    // hydrate_docs: mode byte 2*kind (raw bytes) + a chunk, and the whole saved document.
    for (doc_id, bytes) in &chunks {
        let Ok(kind) = DocKind::of(doc_id) else {
            continue;
        };
        let k = KINDS.iter().position(|x| *x == kind).expect("kind") as u8;
        write("hydrate_docs", &[&[k * 2][..], bytes].concat());
        let all: Vec<Vec<u8>> = chunks
            .iter()
            .filter(|(d, _)| d == doc_id)
            .map(|(_, b)| b.clone())
            .collect();
        if let Ok(doc) = documents::load(kind, &all) {
            write("hydrate_docs", &[&[k * 2][..], &doc.save()].concat());
        }
    }
    // hydrate_docs, program mode (odd mode byte): put an object, a string, a number.
    for k in 0..8u8 {
        write(
            "hydrate_docs",
            &[
                k * 2 + 1,
                1,
                1,
                0x3a,
                0,
                0,
                2,
                0x28,
                3,
                0x1d,
                0,
                1,
                0,
                7,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            ],
        );
    }

    // push_body and pull_body.
    let docs: Vec<PushDoc> = chunks
        .iter()
        .take(4)
        .map(|(d, b)| PushDoc {
            doc: d.clone(),
            blobs: vec![ByteBuf::from(b.clone())],
            supersedes: vec![content_id(b)],
            key: None,
        })
        .collect();
    write("push_body", &to_cbor(&PushRequest { docs: docs.clone() }));
    write(
        "push_body",
        &to_cbor(&PushRequest {
            docs: vec![PushDoc {
                doc: "notes:p-1/t-1".into(),
                blobs: vec![ByteBuf::from(vec![1, 2, 3]), ByteBuf::new()],
                supersedes: vec![],
                key: Some("k1".into()),
            }],
        }),
    );
    write("push_body", b"\xa2\x64docs\x81\xa3\x63doc\x6edirectory/main\x65blobs\x80\x61x\x9f\x40\x40\xff\x65extra\xf6");
    write("push_body", &to_cbor(&PushRequest::default()));
    let pulled = PullResponse {
        docs: docs
            .iter()
            .map(|d| PulledDoc {
                doc: d.doc.clone(),
                key: Some("k1".into()),
                blobs: d.blobs.clone(),
            })
            .collect(),
        deleted: vec!["notes:p-1/old".into()],
        erased: vec![],
        next: 42,
        more: true,
        notes_readable: vec!["p-1".into()],
        keys_epoch: Some(1),
        generation: Some("0123456789abcdef0123456789abcdef".into()),
    };
    write("pull_body", &to_cbor(&pulled));
    write("pull_body", &to_cbor(&PullResponse::default()));

    // control_json.
    for body in [
        r#"{"code":"K7QF-2M9X-T4PA","device_name":"Ann's phone"}"#,
        r#"{"role":"worker","person":"p-1","expires_in_hours":72}"#,
        r#"{"role":"supporter","supports":["p-1","p-2"]}"#,
        r#"{"role":"kiosk","site":"s-1"}"#,
        r#"{"role":"coordinator"}"#,
        r#"{"coordinator_notes":true}"#,
        r#"{"doc":"notes:p-1/t-1"}"#,
        r#"{"error":"bad_request","message":"malformed JSON body"}"#,
    ] {
        write("control_json", body.as_bytes());
    }

    // scope_and_ids.
    for s in [
        "directory",
        "directory/main",
        "site:s-1/roster",
        "timesheet:p-1/2026-11/dev-9",
        "review:p-1/2026/dev-9",
        "records:p_2/training",
        "records:p_2/profile",
        "records:p_2/cpo/o-1",
        "notes:p-3/t-1",
        "notes:p-1//x",
        "p-1",
    ] {
        write("scope_and_ids", s.as_bytes());
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!("seeds written to fuzz/corpus/");
}
