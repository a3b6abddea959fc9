//! End-to-end encryption for Co-op Logbook.
//!
//! The relay stores and forwards *sealed blobs*: each automerge chunk is encrypted to the
//! public key of its document's **scope** (HPKE, RFC 9180) and signed by the writing
//! **device** (Ed25519), bound to coop id and document id. A device holds the private keys
//! of exactly the scopes it may read, and only public keys where it may only write (a kiosk
//! seals punches it can never open). See docs/SECURITY.md for the threat model and
//! crypto/README.md for the file map.
//!
//! # Wiring it in
//!
//! | when | call |
//! |---|---|
//! | first coordinator sets up a coop | [`Identity::generate`], [`KeyRing::create_scope`] for `directory` and each site/person scope (notes keys: see below) |
//! | invite | `POST /v1/invites` → [`JoinCode::with_relay_code`], [`KeyRing::subset_for`] → [`seal_key_envelope`]; show [`JoinCode::typed`] / [`JoinCode::qr`]; keep [`SealedInvite::proof_key`] |
//! | join | [`JoinCode::parse`], send [`JoinCode::relay_code`] to `POST /v1/join`, [`Identity::generate`] with the returned device id, [`open_key_envelope`], upload [`Identity::public_keys`] with [`join_proof`] |
//! | inviter sees the new device | [`verify_join_proof`], then [`certify_device`]; others add it with [`DeviceDirectory::insert_certified`] |
//! | push | per document: [`seal_blob`] (plaintext → `PushDoc.blobs`, [`SealedBlob::key_id`] → `PushDoc.key`) |
//! | pull | [`classify`]: legacy plaintext → load as today; sealed → [`open_blob`] |
//! | consent / new reader / rotation | [`wrap_scope_key`] → deliver → [`unwrap_scope_key`] → [`KeyRing::insert`]; rotate with [`KeyRing::rotate`] |
//! | relay (optional) | [`verify_blob`] on push: refuse unsigned or mis-filed blobs |
//!
//! # Example: a coordinator invites the café kiosk, the kiosk records a punch
//!
//! ```
//! use logbook_crypto::*;
//! # fn main() -> Result<(), CryptoError> {
//! let coop = "coop-7hq2k9x3m1t4p8vd";
//! let coordinator = Grant { role: Role::Coordinator, person: None, site: None, supports: vec![] };
//! let kiosk = Grant { role: Role::Kiosk, person: None, site: Some("cafe".into()), supports: vec![] };
//!
//! // The coordinator's laptop made its keys at join and created the scope keys.
//! let laptop = Identity::generate("dev-laptop")?;
//! let mut ring = KeyRing::new();
//! ring.create_scope(Scope::parse("site:cafe").unwrap())?;
//! ring.create_scope(Scope::parse("timesheet:ann").unwrap())?;
//! let mut devices = DeviceDirectory::new();
//! devices.insert(laptop.public_keys(coordinator.clone()))?;
//!
//! // Invite: the relay gave "K7QF-2M9X-T4PA"; add the secret part and seal the envelope.
//! let code = JoinCode::with_relay_code("K7QF-2M9X-T4PA")?;
//! let keys = ring.subset_for(&kiosk, |_| false); // site key, timesheet PUBLIC keys
//! let invite = seal_key_envelope(&code, coop, &laptop, &coordinator, &kiosk, &keys, &devices)?;
//! let shown = code.typed(); // "K7QF-2M9X-T4PA-…" on screen (or code.qr() as a QR code)
//!
//! // The kiosk: types the code, joins with the relay part, opens the envelope.
//! let typed = JoinCode::parse(&shown)?;
//! assert_eq!(typed.relay_code(), "K7QF-2M9X-T4PA"); // the only part the relay sees
//! let mut joined = open_key_envelope(&typed, coop, &invite.envelope)?;
//! let me = Identity::generate("dev-kiosk")?; // with the device id from POST /v1/join
//! joined.devices.insert(me.public_keys(kiosk.clone()))?; // trust yourself too
//! let proof = join_proof(&joined.proof_key, coop, &me.public_keys(kiosk.clone()))?;
//!
//! // The laptop checks the proof and certifies the kiosk.
//! verify_join_proof(&invite.proof_key, coop, &me.public_keys(kiosk.clone()), &proof)?;
//! let cert = certify_device(coop, &laptop, &coordinator, &me.public_keys(kiosk.clone()))?;
//! devices.insert_certified(coop, &cert)?;
//!
//! // The kiosk seals a punch; it cannot read it back, the coordinator can.
//! let ctx = BlobContext::new(coop, "timesheet:ann/2026-11/dev-kiosk")?;
//! let sealed = seal_blob(&ctx, &me, &joined.keys, b"automerge bytes", Compression::Auto)?;
//! // -> PushDoc { doc, blobs: [sealed.bytes], key: Some(sealed.key_id.to_string()), .. }
//! assert_eq!(open_blob(&ctx, &sealed.bytes, &joined.keys, &joined.devices, None), Err(CryptoError::CannotOpen));
//! let opened = open_blob(&ctx, &sealed.bytes, &ring, &devices, Some("dev-kiosk"))?;
//! assert_eq!(opened.plaintext, b"automerge bytes");
//! # Ok(())
//! # }
//! ```
//!
//! Notes keys (`notes:<person>`) are created by the person's own device or a supporter
//! ([`may_issue_key`]), never by a coordinator, so consent stays the person's decision.
//!
//! Secret types ([`Identity`], [`ScopeSecretKey`], [`JoinCode`]) zeroize on drop and print
//! no key bytes with `Debug`; storage forms are versioned fixed binary layouts returned in
//! [`zeroize::Zeroizing`] buffers.

pub mod cert;
mod codec;
pub mod envelope;
pub mod erasure;
pub mod error;
pub mod join;
pub mod keyring;
pub mod keys;
pub mod wrap;

pub use cert::{certificate_issuer, certify_device};
pub use envelope::{
    AUTOMERGE_MAGIC, BLOB_FORMAT_V1, BLOB_MAGIC, BlobContext, BlobHeader, BlobKind, Compression,
    MAX_PLAINTEXT_BYTES, OpenedBlob, SealedBlob, check_key_field, classify, open_blob,
    open_custody_blob, seal_blob, seal_blob_to, seal_custody_blob, verify_blob,
};
pub use erasure::{MAX_ERASURE_TAGS, erasure_tag};
pub use error::{CryptoError, Result};
pub use join::{
    JoinCode, JoinedKeys, SealedInvite, join_proof, open_key_envelope, seal_key_envelope,
    verify_join_proof,
};
pub use keyring::{DeviceDirectory, KeyRing, may_hold_public, may_hold_secret, may_issue_key};
pub use keys::{DevicePublicKeys, Identity, ScopeKey, ScopeKeyId, ScopePublicKey, ScopeSecretKey};
pub use logbook_protocol::{Grant, Role, Scope};
pub use wrap::{unwrap_scope_key, wrap_scope_key};
pub use zeroize;
