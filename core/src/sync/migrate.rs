//! The steps of the migration from plaintext that need the relay's copy of plaintext
//! blobs (docs/SECURITY.md, "Migration from plaintext", steps 4 and 5):
//!
//! - **Own plaintext** ([`SyncClient::reseal_own_from_relay`]): a device that forgot
//!   documents it pushed in plaintext (a kiosk forgets its taps once the relay holds
//!   them) fetches its own plaintext blobs back (`POST /v1/migrate/own-plaintext`), loads
//!   each document's blobs into a transient automerge document (never stored here), seals
//!   a snapshot to the scope's public key (a kiosk can seal, not read back), and pushes it
//!   superseding those blobs. Only documents named for this device (one writer: all their
//!   changes are its own). Runs once per migration, after [`SyncClient::reseal`]; a crash
//!   between push and bookkeeping loses nothing (the relay removed the plaintext: it is
//!   not listed again).
//! - **Orphans** ([`SyncClient::reseal_orphans`], `POST /v1/migrate/orphaned`): the
//!   plaintext of revoked devices that never registered keys. Each sync of a migrating
//!   device re-seals it in the shared documents the device may read and write (a notes
//!   thread by the person's device or a supporter), its copy merged with those blobs.
//! - **Custody** ([`SyncClient::custody_reseal`]): a coordinator's explicit step that also
//!   re-seals, as custodian, the documents named for such a device, which nobody else may
//!   write. There the blob carries the signed custody flag; readers open it only there
//!   and only while that device is not one they know with keys ([`custody_ok`]).

use automerge::{Automerge, ReadDoc};
use logbook_crypto::{self as crypto, BlobContext, BlobKind, CryptoError};
use logbook_protocol::{self as proto, Role, Scope};

use super::transport::{HttpRelay, Transport};
use super::trust::{self, Trust, named_writer};
use super::{SyncClient, with_retries};
use crate::error::{Error, Result};
use crate::observer::ChangeOrigin;

/// Set once this device's own plaintext at the relay is all re-sealed (or was none).
pub(crate) const OWN_DONE: &str = "e2e_own_plaintext_done";

/// Pages of a migration listing one call reads at most (200 documents each): bounds the
/// loop whatever the relay answers.
const MAX_PAGES: usize = 1_000;

/// Whether a reader may open `bytes`, a blob of `doc` signed by another device than the
/// one `doc` is named for, as a coordinator's custody re-seal: its signed header says so
/// and the named device is not one this reader trusts with keys (it never registered
/// any: a revoked device from before end-to-end encryption). The relay checks the rest
/// (the device is revoked, the coop still migrating); a custody blob for a device known
/// here is dropped and reported.
pub(crate) fn custody_ok(t: &Trust, doc: &str, bytes: &[u8]) -> bool {
    let custody = matches!(crypto::classify(bytes), BlobKind::Sealed(h) if h.custody);
    custody && named_writer(doc).is_some_and(|owner| t.devices.get(owner).is_none())
}

/// One listed document's blobs loaded into a transient automerge document, with `base`
/// (this device's copy, if it holds one) first. `None` if a blob does not match its
/// content id, does not load, or depends on changes that are not there (left as it is:
/// nothing is superseded that the snapshot would not hold).
fn transient(base: Option<Vec<u8>>, d: &proto::MigrateDoc) -> Option<Vec<u8>> {
    if d.blobs.len() != d.content_ids.len() {
        return None;
    }
    let mut doc = match base {
        Some(b) => Automerge::load(&b).ok()?,
        None => Automerge::new(),
    };
    for (hex_blob, id) in d.blobs.iter().zip(&d.content_ids) {
        let blob = hex::decode(hex_blob).ok()?;
        if proto::content_id(&blob) != *id || !blob.starts_with(&crypto::AUTOMERGE_MAGIC) {
            return None;
        }
        doc.load_incremental(&blob).ok()?;
    }
    if !doc.get_missing_deps(&[]).is_empty() {
        return None;
    }
    Some(doc.save())
}

impl SyncClient<'_> {
    /// A page of a migration listing (`path`), after `after`.
    async fn migrate_page(
        &self,
        relay: &HttpRelay,
        retries: &mut u32,
        path: &str,
        after: Option<String>,
    ) -> Result<proto::MigratePageResponse> {
        let body = proto::MigratePageRequest { after, limit: None };
        Ok(with_retries(retries, || {
            relay.json_call::<proto::MigratePageResponse>(reqwest::Method::POST, path, Some(&body))
        })
        .await?
        .unwrap_or_default())
    }

    /// Push one sealed snapshot of `doc` superseding `superseded` (plaintext blobs).
    async fn push_superseding(
        &self,
        relay: &HttpRelay,
        retries: &mut u32,
        doc: &str,
        sealed: Vec<u8>,
        key: String,
        superseded: &[String],
    ) -> Result<()> {
        let body = proto::to_cbor(&proto::PushRequest {
            docs: vec![proto::PushDoc {
                doc: doc.to_string(),
                blobs: vec![serde_bytes::ByteBuf::from(sealed)],
                supersedes: superseded.to_vec(),
                key: Some(key),
            }],
        });
        let resp = with_retries(retries, || relay.push(&body)).await?;
        self.lb.store.write(ChangeOrigin::Sync, |w| {
            super::pull::record_own_through(w, &resp)
        })
    }

    /// Migration from plaintext, after [`SyncClient::reseal`]: re-seal this device's
    /// plaintext that only the relay still holds (see the module docs). Does nothing (no
    /// request) unless this device upgraded, the coop is not sealed only yet, its local
    /// re-seal is done and this has not completed before. Returns how many documents it
    /// re-sealed.
    pub(super) async fn reseal_own_from_relay(
        &self,
        relay: &HttpRelay,
        retries: &mut u32,
    ) -> Result<u32> {
        let Some(t) = self.lb.store.read(trust::load)? else {
            return Ok(0);
        };
        let (done, local_left) = self.lb.store.read(|c| {
            Ok((
                crate::store::meta::get_meta(c, OWN_DONE)?.is_some(),
                trust::reseal_left(c)?,
            ))
        })?;
        if !t.migrating || done || local_left > 0 {
            return Ok(0);
        }
        let me = t.identity.device_id().to_string();
        let mut resealed = 0;
        let mut waiting = false;
        let mut complete = false;
        let mut after = None;
        for _ in 0..MAX_PAGES {
            let page = match self
                .migrate_page(relay, retries, "/v1/migrate/own-plaintext", after)
                .await
            {
                Ok(page) => page,
                // A relay without the listing (older), or that does not know this device's
                // keys yet: the sync goes on, and a later one asks again.
                Err(Error::Relay {
                    status: 403 | 404, ..
                }) => return Ok(resealed),
                Err(e) => return Err(e),
            };
            for d in &page.docs {
                let writable = Scope::of_doc(&d.doc).is_ok_and(|s| proto::may_write(&t.grant, &s));
                // Documents named for this device hold its changes only; anything else
                // (a shared document it let go of) is not for it to rebuild from its part.
                if !writable || named_writer(&d.doc) != Some(me.as_str()) {
                    continue;
                }
                let Some(snapshot) = transient(None, d) else {
                    continue;
                };
                let Some((sealed, key)) = trust::seal(&t, &d.doc, &snapshot)? else {
                    waiting = true; // no key for it yet: a later sync
                    continue;
                };
                drop(snapshot);
                self.push_superseding(relay, retries, &d.doc, sealed, key, &d.content_ids)
                    .await?;
                resealed += 1;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => {
                    complete = true;
                    break;
                }
            }
        }
        if complete && !waiting {
            self.lb
                .store
                .write(ChangeOrigin::Sync, |w| w.set_meta(OWN_DONE, "1"))?;
        }
        if resealed > 0 {
            // A count only: document ids name people.
            tracing::info!(
                documents = resealed,
                "re-sealed plaintext this device had forgotten"
            );
        }
        Ok(resealed)
    }

    /// Migration from plaintext, on a coordinator (docs/SECURITY.md): seal, as custodian,
    /// the plaintext that revoked devices which never registered keys left at the relay,
    /// superseding it. Documents named for such a device get a custody re-seal; shared
    /// documents get an ordinary sealed snapshot (as each sync does on its own, see
    /// `reseal_orphans`). What it cannot seal (a person's notes without
    /// consent: no key; a document it holds no key for yet) stays and is counted by
    /// `seal_coop`. Returns how many documents it re-sealed. Idempotent.
    pub async fn custody_reseal(self) -> Result<u32> {
        let m = self.membership()?;
        if m.grant.role != Role::Coordinator {
            return Err(Error::invalid(
                "only a coordinator can re-seal a revoked device's plaintext",
            ));
        }
        if self.lb.store.read(trust::load)?.is_none() {
            return Err(Error::invalid(
                "this device has no keys yet: sync once with this version first",
            ));
        }
        let n = self.reseal_orphans(&m.relay, &mut 0, true).await?;
        if n > 0 {
            tracing::info!(
                documents = n,
                "re-sealed revoked devices' plaintext as custodian"
            );
        }
        Ok(n)
    }

    /// Re-seal the plaintext that revoked devices without keys left in documents this
    /// device may read and write (`POST /v1/migrate/orphaned` lists only those): its own
    /// copy merged with those blobs, transiently, sealed as one snapshot that supersedes
    /// them. With `custody` (a coordinator's explicit step) also the documents named for
    /// such a device, flagged as custody re-seals; without it those are left. Every sync
    /// of a migrating device runs it without `custody` once its own re-seal is done: that
    /// is how a revoked device's entries in a notes thread are sealed, by the person's
    /// device or a supporter, who hold the key. Returns how many documents it re-sealed.
    pub(super) async fn reseal_orphans(
        &self,
        relay: &HttpRelay,
        retries: &mut u32,
        custody: bool,
    ) -> Result<u32> {
        let Some(t) = self.lb.store.read(trust::load)? else {
            return Ok(0);
        };
        if !custody && (!t.migrating || self.lb.store.read(trust::reseal_left)? > 0) {
            return Ok(0);
        }
        let me = t.identity.device_id().to_string();
        let mut resealed = 0;
        let mut after = None;
        for _ in 0..MAX_PAGES {
            let page = match self
                .migrate_page(relay, retries, "/v1/migrate/orphaned", after)
                .await
            {
                Ok(page) => page,
                Err(Error::Relay {
                    status: 403 | 404, ..
                }) if !custody => return Ok(resealed),
                Err(e) => return Err(e),
            };
            for d in &page.docs {
                let owner = named_writer(&d.doc).filter(|o| *o != me);
                if owner.is_some() && !custody {
                    continue;
                }
                let held = self
                    .lb
                    .store
                    .read(|c| crate::store::chunks::last_chunk_id(c, &d.doc))?
                    > 0;
                let base = if held {
                    Some(self.lb.store.read_doc(&d.doc, |doc| Ok(doc.save()))?)
                } else {
                    None
                };
                let Some(snapshot) = transient(base, d) else {
                    continue;
                };
                let sealed = match owner {
                    Some(_) => {
                        let ctx = BlobContext::new(&t.coop, &d.doc)
                            .map_err(|e| Error::Invalid(e.to_string()))?;
                        match crypto::seal_custody_blob(&ctx, &t.identity, &t.ring, &snapshot) {
                            Ok(s) => Some((s.bytes, s.key_id.to_string())),
                            Err(CryptoError::NoKey) => None,
                            Err(e) => return Err(Error::Invalid(e.to_string())),
                        }
                    }
                    None => trust::seal(&t, &d.doc, &snapshot)?,
                };
                let Some((sealed, key)) = sealed else {
                    continue; // no key for it here
                };
                self.push_superseding(relay, retries, &d.doc, sealed, key, &d.content_ids)
                    .await?;
                resealed += 1;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(resealed)
    }
}
