//! Wrapped keys: one scope key sealed to one device's X25519 key and signed by the device
//! that hands it out. For delivery after join: a person's notes key to a coordinator upon
//! consent, a rotated key to every remaining reader, a new person's timesheet public key
//! to a kiosk.
//!
//! ```text
//! "LBW" 0x01
//! str8 wrapper device id ‖ str8 recipient device id
//! kind (0x02 private key, 0x03 public key only) ‖ str8 scope ‖ u32 version
//! 32   HPKE encapsulated key
//! 48   ChaCha20Poly1305 ciphertext of the 32 key bytes, with tag
//! 64   Ed25519 signature of the wrapper
//! ```
//! HPKE (same suite as blobs) to the recipient's X25519 key with info `"logbook/wrap/v1\0"`
//! and aad `"logbook/wrap-aad/v1\0"` ‖ `str8(coop)` ‖ every byte before the encapsulated key;
//! signature over `"logbook/wrap-sig/v1\0"` ‖ `str8(coop)` ‖ SHA-256(every byte before it).

use crate::codec::{Reader, Writer, check_id};
use crate::error::{CryptoError, Result};
use crate::keyring::{DeviceDirectory, may_hold_public, may_hold_secret, may_issue_key};
use crate::keys::{
    DevicePublicKeys, Identity, ScopeKey, ScopeKeyId, ScopePublicKey, ScopeSecretKey,
};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use logbook_protocol::Grant;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

type Kem = X25519HkdfSha256;

const MAGIC: &[u8; 3] = b"LBW";
const FORMAT: u8 = 1;
const KIND_SECRET: u8 = 2;
const KIND_PUBLIC: u8 = 3;
const INFO: &[u8] = b"logbook/wrap/v1\0";
const AAD_DST: &[u8] = b"logbook/wrap-aad/v1\0";
const SIG_DST: &[u8] = b"logbook/wrap-sig/v1\0";

fn aad(coop_id: &str, header: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(AAD_DST.len() + 256);
    w.bytes(AAD_DST);
    w.str8(coop_id)?;
    w.bytes(header);
    Ok(w.into_public())
}

fn signed_message(coop_id: &str, signed: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(SIG_DST.len() + 128);
    w.bytes(SIG_DST);
    w.str8(coop_id)?;
    w.bytes(&Sha256::digest(signed));
    Ok(w.into_public())
}

/// Wrap `key` (private, or public only) for `recipient`, signed by `wrapper`.
///
/// Refused with [`CryptoError::NotAllowed`] unless `wrapper_grant` may issue keys of the
/// scope ([`may_issue_key`]) and the recipient's grant may hold that kind of key (a private
/// notes key goes to a coordinator only if the person consented: the caller decides that).
pub fn wrap_scope_key(
    coop_id: &str,
    wrapper: &Identity,
    wrapper_grant: &Grant,
    recipient: &DevicePublicKeys,
    key: &ScopeKey,
) -> Result<Vec<u8>> {
    check_id(coop_id)?;
    let scope = &key.id().scope;
    let recipient_ok = if key.is_secret() {
        may_hold_secret(&recipient.grant, scope)
    } else {
        may_hold_public(&recipient.grant, scope)
    };
    if !may_issue_key(wrapper_grant, scope) || !recipient_ok {
        return Err(CryptoError::NotAllowed);
    }
    let mut out = Writer::with_capacity(300);
    out.bytes(MAGIC);
    out.u8(FORMAT);
    out.str8(wrapper.device_id())?;
    out.str8(&recipient.device_id)?;
    out.u8(if key.is_secret() {
        KIND_SECRET
    } else {
        KIND_PUBLIC
    });
    out.scope(scope)?;
    out.u32(key.id().version);
    let aad = aad(coop_id, out.as_slice())?;

    let plaintext: Zeroizing<[u8; 32]> = Zeroizing::new(match key {
        ScopeKey::Secret(k) => *k.secret_bytes(),
        ScopeKey::Public(k) => *k.public_bytes(),
    });
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&recipient.encryption)
        .map_err(|_| CryptoError::Malformed)?;
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk,
        INFO,
        &*plaintext,
        &aad,
    )
    .map_err(|_| CryptoError::Malformed)?;
    out.bytes(&enc.to_bytes());
    out.bytes(&ct);
    let sig = wrapper.sign(&signed_message(coop_id, out.as_slice())?);
    out.bytes(&sig);
    Ok(out.into_public())
}

/// Unwrap a key wrapped for `me`. Checks: addressed to this device (else
/// [`CryptoError::CannotOpen`]), wrapper known ([`CryptoError::UnknownWriter`]), signature
/// ([`CryptoError::BadSignature`]), wrapper may issue keys of the scope
/// ([`CryptoError::NotAllowed`]: a kiosk or a hostile coordinator cannot plant a key),
/// decryption ([`CryptoError::CannotOpen`]). Insert the result into the [`crate::KeyRing`].
pub fn unwrap_scope_key(
    coop_id: &str,
    me: &Identity,
    wrapped: &[u8],
    devices: &DeviceDirectory,
) -> Result<ScopeKey> {
    check_id(coop_id)?;
    let mut r = Reader::new(wrapped);
    if r.take(3)? != MAGIC {
        return Err(CryptoError::Malformed);
    }
    if r.u8()? != FORMAT {
        return Err(CryptoError::UnsupportedVersion);
    }
    let wrapper_id = r.str8()?;
    let recipient_id = r.str8()?;
    let kind = r.u8()?;
    let scope = r.scope()?;
    let version = r.u32()?;
    let header_len = r.pos();
    let enc = r.take(32)?;
    let ct = r.take(48)?;
    let signed_len = r.pos();
    let sig = r.array::<64>()?;
    r.finish()?;
    if kind != KIND_SECRET && kind != KIND_PUBLIC {
        return Err(CryptoError::Malformed);
    }
    if recipient_id != me.device_id() {
        return Err(CryptoError::CannotOpen);
    }
    let wrapper = devices.get(wrapper_id).ok_or(CryptoError::UnknownWriter)?;
    wrapper.verify(&signed_message(coop_id, &wrapped[..signed_len])?, &sig)?;
    if !may_issue_key(&wrapper.grant, &scope) {
        return Err(CryptoError::NotAllowed);
    }
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(me.encryption_secret())
        .map_err(|_| CryptoError::CannotOpen)?;
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|_| CryptoError::Malformed)?;
    let pt = Zeroizing::new(
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &sk,
            &enc,
            INFO,
            ct,
            &aad(coop_id, &wrapped[..header_len])?,
        )
        .map_err(|_| CryptoError::CannotOpen)?,
    );
    let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
        pt.as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed)?,
    );
    let id = ScopeKeyId { scope, version };
    Ok(if kind == KIND_SECRET {
        ScopeKey::Secret(ScopeSecretKey::from_secret(id, &bytes))
    } else {
        ScopeKey::Public(ScopePublicKey::from_public(id, *bytes))
    })
}
