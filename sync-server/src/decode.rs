//! Push bodies decoded with the batch limits applied *while* decoding.
//!
//! Decoding a whole `PushRequest` first and counting afterwards lets 8 MiB of one-byte
//! empty byte strings become millions of `Vec`s (hundreds of MB) before the count check
//! refuses them. Here every document, blob and supersedes entry is counted before it is
//! decoded, so decoding stops at the first one over `MAX_DOCS_PER_PUSH` /
//! `MAX_BLOBS_PER_PUSH`: at most the limits' worth of small allocations plus the blob
//! bytes themselves (bounded by the 8 MiB body). Unknown fields are skipped without
//! allocating (`IgnoredAny`).

use logbook_protocol::{self as proto, PushDoc, PushRequest};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::cell::Cell;
use std::fmt;

const TOO_MANY_DOCS: &str = "too many documents in one push";
const TOO_MANY_BLOBS: &str = "too many blobs in one push";
/// The messages that mean "over a limit" (413) rather than "malformed" (400).
const OVER_LIMIT: [&str; 2] = [TOO_MANY_DOCS, TOO_MANY_BLOBS];

#[derive(Debug, PartialEq, Eq)]
pub enum PushDecodeError {
    Malformed,
    TooLarge(&'static str),
}

/// Decodes a CBOR push body, refusing it as soon as it goes over a count limit.
pub fn decode_push(body: &[u8]) -> Result<PushRequest, PushDecodeError> {
    match ciborium::from_reader::<Bounded, _>(body) {
        Ok(Bounded(req)) => Ok(req),
        Err(e) => Err(classify(e)),
    }
}

/// What the first bytes of a push body already show: `Some` if they cannot begin an
/// acceptable push (malformed, or over a count limit), `None` if they can, or if the body
/// is complete already (the full decode then decides). Lets the relay refuse a hostile
/// 8 MiB body after its first kilobytes instead of reading it all. A prefix of a valid
/// body is never refused: running out of bytes reads as an I/O error, which says nothing.
pub fn check_prefix(prefix: &[u8]) -> Option<PushDecodeError> {
    match ciborium::from_reader::<Bounded, _>(prefix) {
        Ok(_) | Err(ciborium::de::Error::Io(_)) => None,
        Err(e) => Some(classify(e)),
    }
}

fn classify<T>(e: ciborium::de::Error<T>) -> PushDecodeError {
    match e {
        ciborium::de::Error::Semantic(_, msg) => OVER_LIMIT
            .into_iter()
            .find(|m| *m == msg)
            .map_or(PushDecodeError::Malformed, PushDecodeError::TooLarge),
        _ => PushDecodeError::Malformed,
    }
}

/// Counters shared by every level of one decode.
#[derive(Default)]
struct Counts {
    docs: Cell<usize>,
    blobs: Cell<usize>,
    supersedes: Cell<usize>,
}

/// Counts one more item, failing once the count is over `max` (before the item is
/// decoded).
fn bump<E: de::Error>(counter: &Cell<usize>, max: usize, msg: &'static str) -> Result<(), E> {
    let n = counter.get() + 1;
    counter.set(n);
    if n > max { Err(E::custom(msg)) } else { Ok(()) }
}

struct Bounded(PushRequest);

impl<'de> Deserialize<'de> for Bounded {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let counts = Counts::default();
        d.deserialize_map(RequestVisitor(&counts)).map(Bounded)
    }
}

struct RequestVisitor<'c>(&'c Counts);

impl<'de> Visitor<'de> for RequestVisitor<'_> {
    type Value = PushRequest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a push request map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PushRequest, A::Error> {
        let mut docs = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "docs" if docs.is_none() => {
                    docs = Some(map.next_value_seed(Many(DocSeed(self.0)))?)
                }
                "docs" => return Err(de::Error::duplicate_field("docs")),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let docs = docs.ok_or_else(|| de::Error::missing_field("docs"))?;
        Ok(PushRequest { docs })
    }
}

/// A sequence whose elements are decoded by seed `S` (which does the counting).
struct Many<S>(S);

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for Many<S> {
    type Value = Vec<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for Many<S> {
    type Value = Vec<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // No capacity from the length prefix: it is the attacker's number.
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(self.0)? {
            out.push(item);
        }
        Ok(out)
    }
}

#[derive(Clone, Copy)]
struct DocSeed<'c>(&'c Counts);

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = PushDoc;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PushDoc, D::Error> {
        bump(&self.0.docs, proto::MAX_DOCS_PER_PUSH, TOO_MANY_DOCS)?;
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = PushDoc;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a push document map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PushDoc, A::Error> {
        let (mut doc, mut blobs, mut supersedes, mut key) = (None, None, None, None);
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "doc" if doc.is_none() => doc = Some(map.next_value::<String>()?),
                "blobs" if blobs.is_none() => {
                    blobs = Some(map.next_value_seed(Many(BlobSeed(self.0)))?)
                }
                "supersedes" if supersedes.is_none() => {
                    supersedes = Some(map.next_value_seed(Many(SupersedesSeed(self.0)))?)
                }
                "key" if key.is_none() => key = Some(map.next_value::<Option<String>>()?),
                "doc" | "blobs" | "supersedes" | "key" => {
                    return Err(de::Error::custom("duplicate field"));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(PushDoc {
            doc: doc.ok_or_else(|| de::Error::missing_field("doc"))?,
            blobs: blobs.ok_or_else(|| de::Error::missing_field("blobs"))?,
            supersedes: supersedes.unwrap_or_default(),
            key: key.flatten(),
        })
    }
}

#[derive(Clone, Copy)]
struct BlobSeed<'c>(&'c Counts);

impl<'de> DeserializeSeed<'de> for BlobSeed<'_> {
    type Value = serde_bytes::ByteBuf;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        bump(&self.0.blobs, proto::MAX_BLOBS_PER_PUSH, TOO_MANY_BLOBS)?;
        serde_bytes::ByteBuf::deserialize(d)
    }
}

#[derive(Clone, Copy)]
struct SupersedesSeed<'c>(&'c Counts);

impl<'de> DeserializeSeed<'de> for SupersedesSeed<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        // The protocol allows as many supersedes entries as blobs.
        bump(
            &self.0.supersedes,
            proto::MAX_BLOBS_PER_PUSH,
            TOO_MANY_BLOBS,
        )?;
        String::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logbook_protocol::to_cbor;

    fn doc(name: &str, blobs: usize) -> PushDoc {
        PushDoc {
            doc: name.to_string(),
            blobs: (0..blobs)
                .map(|i| serde_bytes::ByteBuf::from(i.to_le_bytes().to_vec()))
                .collect(),
            supersedes: vec!["a".repeat(64)],
            key: Some("k1".into()),
        }
    }

    #[test]
    fn no_prefix_of_a_valid_push_is_refused_and_a_bomb_is_refused_early() {
        let req = PushRequest {
            docs: vec![doc("records:ann/x", 40), doc("directory/main", 0)],
        };
        let body = to_cbor(&req);
        for n in 0..=body.len() {
            assert_eq!(check_prefix(&body[..n]), None, "prefix of {n} bytes");
        }
        // Millions of empty blobs declared: refused within the first few kilobytes.
        let mut bomb =
            b"\xa1\x64docs\x81\xa2\x63doc\x6drecords:ann/x\x65blobs\x9a\x00\x80\x00\x00".to_vec();
        bomb.resize(bomb.len() + 8 * 1024, 0x40);
        assert_eq!(
            check_prefix(&bomb),
            Some(PushDecodeError::TooLarge(TOO_MANY_BLOBS))
        );
        assert_eq!(
            check_prefix(b"\x00garbage"),
            Some(PushDecodeError::Malformed)
        );
        assert_eq!(check_prefix(b"\xa1\x64do"), None);
    }

    #[test]
    fn a_valid_push_decodes_like_the_derived_decoder() {
        let req = PushRequest {
            docs: vec![doc("records:ann/x", 3), doc("directory/main", 0)],
        };
        let back = decode_push(&to_cbor(&req)).expect("decodes");
        assert_eq!(back.docs.len(), 2);
        assert_eq!(back.docs[0].doc, "records:ann/x");
        assert_eq!(back.docs[0].blobs, req.docs[0].blobs);
        assert_eq!(back.docs[0].supersedes, req.docs[0].supersedes);
        assert_eq!(back.docs[0].key.as_deref(), Some("k1"));
        // Optional fields may be absent, unknown fields are ignored.
        let minimal = b"\xa2\x64docs\x81\xa3\x63doc\x6edirectory/main\x65blobs\x80\x61x\x9f\x40\x40\xff\x65extra\xf6";
        let back = decode_push(minimal).expect("decodes");
        assert!(back.docs[0].supersedes.is_empty() && back.docs[0].key.is_none());
    }

    #[test]
    fn counts_stop_decoding_at_the_limits() {
        let req = PushRequest {
            docs: (0..=proto::MAX_DOCS_PER_PUSH)
                .map(|i| doc(&format!("records:p{i}/x"), 0))
                .collect(),
        };
        assert_eq!(
            decode_push(&to_cbor(&req)).err(),
            Some(PushDecodeError::TooLarge(TOO_MANY_DOCS))
        );
        let req = PushRequest {
            docs: vec![
                doc("records:a/x", proto::MAX_BLOBS_PER_PUSH / 2),
                doc("records:b/x", proto::MAX_BLOBS_PER_PUSH / 2 + 1),
            ],
        };
        assert_eq!(
            decode_push(&to_cbor(&req)).err(),
            Some(PushDecodeError::TooLarge(TOO_MANY_BLOBS))
        );
        assert_eq!(decode_push(b"\xa0").err(), Some(PushDecodeError::Malformed));
        assert_eq!(decode_push(b"\xff").err(), Some(PushDecodeError::Malformed));
    }
}
