//! Erasure: opaque tombstone tags and retiring the key versions that opened erased data
//! (docs/SECURITY.md, *Erasure*).
//!
//! **Tag.** The relay must tell every device that a document was erased, without keeping
//! the document's id (`records:<p>/cpo/<order>` says that a person had a CPO order). The
//! erasing device sends, with the erasure, one tag per private version of the scope's key
//! it holds:
//!
//! ```text
//! tag key = HKDF-SHA256(ikm = the scope key's X25519 secret, salt = none,
//!                       info = "logbook erasure tag key v1")
//! tag     = "<version>." + hex(HMAC-SHA256(tag key, "LBT1" ‖ str8 coop ‖ str8 doc))
//! ```
//!
//! The relay keeps the scope and the tags, never the id; a device that holds the scope's
//! private key of that version recomputes the tag of each document it holds in the scope
//! and erases the one that matches. Without the scope's private key the tag is a PRF
//! output: it cannot be inverted or confirmed by guessing ids. Several tags (one per
//! version) let a device that holds only some of the versions still match.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::codec::Writer;
use crate::error::{CryptoError, Result};
use crate::keyring::KeyRing;
use crate::keys::ScopeSecretKey;
use logbook_protocol::Scope;

const TAG_KEY_INFO: &[u8] = b"logbook erasure tag key v1";
const TAG_DST: &[u8] = b"LBT1";
/// At most this many tags go with one erasure (the newest versions).
pub use logbook_protocol::MAX_ERASURE_TAGS;

/// The opaque tag of `doc` under one version of its scope's key (see the module docs).
pub fn erasure_tag(coop_id: &str, key: &ScopeSecretKey, doc: &str) -> Result<String> {
    let mut tag_key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, key.secret_bytes())
        .expand(TAG_KEY_INFO, &mut *tag_key)
        .map_err(|_| CryptoError::Malformed)?;
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&*tag_key)
        .map_err(|_| CryptoError::Malformed)?;
    let mut w = Writer::with_capacity(128);
    w.bytes(TAG_DST);
    w.str8(coop_id)?;
    w.str8(doc)?;
    mac.update(w.as_slice());
    let out = mac.finalize().into_bytes();
    let mut tag = format!("{}.", key.id().version);
    for b in out.iter() {
        tag.push_str(&format!("{b:02x}"));
    }
    Ok(tag)
}

impl KeyRing {
    /// The tags of `doc` under every private version of `scope` held here, newest first,
    /// at most [`MAX_ERASURE_TAGS`]. Empty if this device cannot read the scope.
    pub fn erasure_tags(&self, coop_id: &str, scope: &Scope, doc: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for key in self.secrets_of(scope).into_iter().rev() {
            if out.len() == MAX_ERASURE_TAGS {
                break;
            }
            out.push(erasure_tag(coop_id, key, doc)?);
        }
        Ok(out)
    }

    /// Whether one of `tags` is `doc`'s tag under a version of its scope's key held here.
    pub fn matches_erasure(
        &self,
        coop_id: &str,
        scope: &Scope,
        doc: &str,
        tags: &[String],
    ) -> bool {
        self.secrets_of(scope).into_iter().any(|key| {
            let prefix = format!("{}.", key.id().version);
            tags.iter().any(|t| t.starts_with(&prefix))
                && erasure_tag(coop_id, key, doc).is_ok_and(|mine| {
                    tags.iter().any(|t| {
                        bool::from(subtle::ConstantTimeEq::ct_eq(t.as_bytes(), mine.as_bytes()))
                    })
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ScopeKey;

    fn scope() -> Scope {
        Scope::parse("records:ann").expect("scope")
    }

    #[test]
    fn tags_match_only_with_the_scope_key_and_name_no_id() {
        let mut ring = KeyRing::new();
        ring.create_scope(scope()).expect("create");
        let doc = "records:ann/cpo/o-0123456789abcdef";
        let tags = ring.erasure_tags("coop-1", &scope(), doc).expect("tags");
        assert_eq!(tags.len(), 1);
        assert!(tags[0].starts_with("1."));
        assert_eq!(tags[0].len(), 2 + 64);
        assert!(!tags[0].contains("ann") && !tags[0].contains("o-0123"));
        assert!(ring.matches_erasure("coop-1", &scope(), doc, &tags));
        // Another document, another coop, another key: no match.
        assert!(!ring.matches_erasure("coop-1", &scope(), "records:ann/cpo/o-1", &tags));
        assert!(!ring.matches_erasure("coop-2", &scope(), doc, &tags));
        let mut other = KeyRing::new();
        other.create_scope(scope()).expect("create");
        assert!(!other.matches_erasure("coop-1", &scope(), doc, &tags));
        // Only the public key (a writer that cannot read): no tags, no match.
        let mut public = KeyRing::new();
        let pk = ring.newest(&scope()).expect("key").public_key();
        public.insert(ScopeKey::Public(pk)).expect("insert");
        assert!(
            public
                .erasure_tags("coop-1", &scope(), doc)
                .expect("tags")
                .is_empty()
        );
        assert!(!public.matches_erasure("coop-1", &scope(), doc, &tags));
    }

    #[test]
    fn a_device_holding_an_older_version_still_matches() {
        let mut old = KeyRing::new();
        old.create_scope(scope()).expect("create");
        let mut ring = old.clone();
        ring.rotate(&scope()).expect("rotate");
        let doc = "records:ann/cpo/o-1";
        let tags = ring.erasure_tags("c", &scope(), doc).expect("tags");
        assert_eq!(tags.len(), 2);
        assert!(tags[0].starts_with("2.") && tags[1].starts_with("1."));
        assert!(old.matches_erasure("c", &scope(), doc, &tags));
        // Retired below version 2: only the newest tag is made and matched.
        ring.retire_below(&scope(), 2);
        let tags2 = ring.erasure_tags("c", &scope(), doc).expect("tags");
        assert_eq!(tags2, vec![tags[0].clone()]);
        assert!(!old.matches_erasure("c", &scope(), doc, &tags2));
    }
}
