//! What a client decodes from the relay: a CBOR pull response. Never panics; what decodes
//! re-encodes to bytes that decode to the same encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logbook_protocol::{PullResponse, from_cbor, to_cbor};

fuzz_target!(|data: &[u8]| {
    let Ok(resp) = from_cbor::<PullResponse>(data) else {
        return;
    };
    let bytes = to_cbor(&resp);
    let back: PullResponse = from_cbor(&bytes).expect("a re-encoded pull decodes");
    assert_eq!(to_cbor(&back), bytes);
    let blob_bytes: usize = resp
        .docs
        .iter()
        .flat_map(|d| &d.blobs)
        .map(|b| b.len())
        .sum();
    assert!(blob_bytes <= data.len());
});
