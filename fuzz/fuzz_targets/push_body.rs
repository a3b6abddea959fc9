//! The relay's counting push decoder on arbitrary bytes: never panics, never keeps more
//! than the batch limits' worth of documents, blobs or supersedes entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logbook_protocol::{self as proto, to_cbor};
use logbook_relay::fuzzing::decode_push;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = decode_push(data) else {
        return;
    };
    assert!(req.docs.len() <= proto::MAX_DOCS_PER_PUSH);
    let blobs: usize = req.docs.iter().map(|d| d.blobs.len()).sum();
    let supersedes: usize = req.docs.iter().map(|d| d.supersedes.len()).sum();
    assert!(blobs <= proto::MAX_BLOBS_PER_PUSH);
    assert!(supersedes <= proto::MAX_BLOBS_PER_PUSH);
    // Blob bytes come from the body: never more than it held.
    let bytes: usize = req
        .docs
        .iter()
        .flat_map(|d| &d.blobs)
        .map(|b| b.len())
        .sum();
    assert!(bytes <= data.len());
    // What decoded re-encodes and decodes to the same thing.
    let again = decode_push(&to_cbor(&req)).expect("a re-encoded push decodes");
    assert_eq!(again.docs.len(), req.docs.len());
    for (a, b) in again.docs.iter().zip(&req.docs) {
        assert_eq!(a.doc, b.doc);
        assert_eq!(a.blobs, b.blobs);
        assert_eq!(a.supersedes, b.supersedes);
        assert_eq!(a.key, b.key);
    }
});
