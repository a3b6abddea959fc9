//! Join codes and the key envelope that carries a new device's keys past the relay.
//!
//! A **join code** has two parts of 12 Crockford base32 characters each (60 bits each):
//! - the *relay part*: the code `POST /v1/invites` returned, sent to `POST /v1/join`;
//! - the *secret part*: made on the inviting device, never sent to the relay.
//!
//! Typed form `K7QF-2M9X-T4PA-8RWD-3NZC-Q5HV` (six groups of four; relay part first), QR
//! form `LOGBOOK1:K7QF2M9XT4PA8RWD3NZCQ5HV` (QR alphanumeric mode). Parsing accepts
//! either, in any case, with spaces and dashes anywhere, and reads `O` as `0`, `I`/`L` as
//! `1` (as the relay does).
//!
//! The inviting device seals a **key envelope** (the scope keys the new device may hold,
//! the known devices, and a proof key) under a key derived from the secret part with
//! Argon2id, salted with the coop id, the relay part and 16 random bytes. The relay stores
//! and forwards the envelope but cannot open it: guessing the 60-bit secret offline costs
//! one Argon2id run (64 MiB, 3 passes) per guess. See docs/SECURITY.md.
//!
//! Envelope layout: `"LBJ"`, format `0x01`, 16-byte salt, ChaCha20Poly1305 ciphertext of
//! the payload with its 16-byte tag (nonce 0: every envelope has its own random salt and so
//! its own key). AAD = the 20 header bytes ‖ `str8(coop)` ‖ relay part (12 ASCII).
//! Key = HKDF-SHA256(ikm = Argon2id(secret part ASCII, salt = SHA-256(
//! `"logbook/join-salt/v1\0"` ‖ `str8(coop)` ‖ relay part ‖ salt16)), info =
//! `"logbook/join-key/v1\0"`).
//!
//! Payload (fixed layout): `str8(coop)`, the new device's grant, the inviter's
//! [`DevicePublicKeys`] body, u16 count + bodies of further devices, the key ring body,
//! 32-byte proof key.

use crate::codec::{Reader, Writer, check_id, random_bytes};
use crate::error::{CryptoError, Result};
use crate::keyring::{DeviceDirectory, KeyRing, may_issue_key};
use crate::keys::{DevicePublicKeys, Identity};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use logbook_protocol::Grant;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Characters in each part of a join code.
pub const JOIN_PART_LEN: usize = 12;
/// Prefix of the QR form.
pub const JOIN_QR_PREFIX: &str = "LOGBOOK1:";
/// Argon2id cost of the envelope key (format 1): memory in KiB, passes, lanes.
pub const JOIN_ARGON2_M_KIB: u32 = 64 * 1024;
pub const JOIN_ARGON2_T: u32 = 3;
pub const JOIN_ARGON2_P: u32 = 1;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ENVELOPE_MAGIC: &[u8; 3] = b"LBJ";
const ENVELOPE_FORMAT: u8 = 1;
const SALT_DST: &[u8] = b"logbook/join-salt/v1\0";
const KEY_DST: &[u8] = b"logbook/join-key/v1\0";
const PROOF_DST: &[u8] = b"logbook/join-proof/v1\0";

/// Canonical characters of typed input: upper case, `O`→`0`, `I`/`L`→`1`, spaces and
/// dashes dropped; anything else outside the alphabet is an error.
fn canonical(input: &str) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(2 * JOIN_PART_LEN));
    for c in input.bytes() {
        let c = match c.to_ascii_uppercase() {
            b' ' | b'-' | b'\t' | b'\n' | b'\r' => continue,
            b'O' => b'0',
            b'I' | b'L' => b'1',
            c if ALPHABET.contains(&c) => c,
            _ => return Err(CryptoError::MalformedJoinCode),
        };
        if out.len() == 2 * JOIN_PART_LEN {
            return Err(CryptoError::MalformedJoinCode);
        }
        out.push(c);
    }
    Ok(out)
}

/// 12 random Crockford characters (60 bits, no modulo bias: 5 bits per character).
fn random_part() -> Result<Zeroizing<[u8; JOIN_PART_LEN]>> {
    let bytes = random_bytes::<8>()?;
    let mut bits = Zeroizing::new(u64::from_be_bytes(*bytes));
    let mut out = Zeroizing::new([0u8; JOIN_PART_LEN]);
    for c in out.iter_mut() {
        *c = ALPHABET[(*bits & 31) as usize];
        *bits >>= 5;
    }
    Ok(out)
}

/// A two-part join code. `Debug` shows neither part.
#[derive(Clone)]
pub struct JoinCode {
    relay: [u8; JOIN_PART_LEN],
    secret: [u8; JOIN_PART_LEN],
}

impl JoinCode {
    /// Both parts random (tests, or a relay that accepts device-proposed codes).
    pub fn generate() -> Result<JoinCode> {
        Ok(JoinCode {
            relay: *random_part()?,
            secret: *random_part()?,
        })
    }

    /// Add a fresh secret part to the relay's code from `POST /v1/invites`
    /// (`InviteResponse.code`, e.g. `K7QF-2M9X-T4PA`).
    pub fn with_relay_code(relay_code: &str) -> Result<JoinCode> {
        let c = canonical(relay_code)?;
        let relay: [u8; JOIN_PART_LEN] = c
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::MalformedJoinCode)?;
        Ok(JoinCode {
            relay,
            secret: *random_part()?,
        })
    }

    /// Parse the typed or QR form (tolerant: case, spaces, dashes, O/I/L).
    pub fn parse(input: &str) -> Result<JoinCode> {
        let trimmed = input.trim();
        let body = match trimmed.get(..JOIN_QR_PREFIX.len()) {
            Some(p) if p.eq_ignore_ascii_case(JOIN_QR_PREFIX) => &trimmed[JOIN_QR_PREFIX.len()..],
            _ => trimmed,
        };
        let c = canonical(body)?;
        if c.len() != 2 * JOIN_PART_LEN {
            return Err(CryptoError::MalformedJoinCode);
        }
        let mut code = JoinCode {
            relay: [0; JOIN_PART_LEN],
            secret: [0; JOIN_PART_LEN],
        };
        code.relay.copy_from_slice(&c[..JOIN_PART_LEN]);
        code.secret.copy_from_slice(&c[JOIN_PART_LEN..]);
        Ok(code)
    }

    /// The relay part as the relay prints it (`K7QF-2M9X-T4PA`): send it in
    /// `JoinRequest.code`. Never send anything else of the code to the relay.
    pub fn relay_code(&self) -> String {
        let mut out = String::with_capacity(14);
        for (i, c) in self.relay.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(*c));
        }
        out
    }

    /// The code to type: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX` (relay part first).
    pub fn typed(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(30));
        for (i, c) in self.relay.iter().chain(self.secret.iter()).enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(*c));
        }
        out
    }

    /// The QR form: `LOGBOOK1:` and the 24 characters (QR alphanumeric mode).
    pub fn qr(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(40));
        out.push_str(JOIN_QR_PREFIX);
        for c in self.relay.iter().chain(self.secret.iter()) {
            out.push(char::from(*c));
        }
        out
    }

    fn envelope_key(&self, coop_id: &str, salt16: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let mut salt_in = Writer::with_capacity(128);
        salt_in.bytes(SALT_DST);
        salt_in.str8(coop_id)?;
        salt_in.bytes(&self.relay);
        salt_in.bytes(salt16);
        let salt = Sha256::digest(salt_in.as_slice());
        let params = argon2::Params::new(JOIN_ARGON2_M_KIB, JOIN_ARGON2_T, JOIN_ARGON2_P, Some(32))
            .map_err(|_| CryptoError::Malformed)?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut stretched = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(&self.secret, &salt, &mut *stretched)
            .map_err(|_| CryptoError::Malformed)?;
        let mut key = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<Sha256>::new(None, &*stretched)
            .expand(KEY_DST, &mut *key)
            .map_err(|_| CryptoError::Malformed)?;
        Ok(key)
    }
}

impl Zeroize for JoinCode {
    fn zeroize(&mut self) {
        self.relay.zeroize();
        self.secret.zeroize();
    }
}

impl Drop for JoinCode {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for JoinCode {}

impl fmt::Debug for JoinCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinCode(<redacted>)")
    }
}

/// What the inviting device gets back: the envelope to hand to the relay with the invite,
/// and the proof key to keep with the pending invite until the new device shows up (see
/// [`verify_join_proof`]).
pub struct SealedInvite {
    pub envelope: Vec<u8>,
    pub proof_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for SealedInvite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedInvite")
            .field("envelope_len", &self.envelope.len())
            .field("proof_key", &"<redacted>")
            .finish()
    }
}

/// What the new device learns from the envelope.
pub struct JoinedKeys {
    /// The grant the inviter meant (compare with `JoinResponse.grant`).
    pub grant: Grant,
    /// The inviting device: the new device's first trusted coordinator.
    pub inviter: DevicePublicKeys,
    /// The inviter and every device it vouched for. Add the new device's own public keys
    /// too, or it will not open its own blobs (`UnknownWriter`).
    pub devices: DeviceDirectory,
    /// The scope keys for this device: private where it reads, public where it only writes.
    pub keys: KeyRing,
    /// Key for [`join_proof`] over the new device's own public keys.
    pub proof_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for JoinedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinedKeys")
            .field("grant", &self.grant)
            .field("inviter", &self.inviter)
            .field("devices", &self.devices.len())
            .field("keys", &self.keys)
            .field("proof_key", &"<redacted>")
            .finish()
    }
}

fn envelope_aad(header: &[u8], coop_id: &str, relay: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(128);
    w.bytes(header);
    w.str8(coop_id)?;
    w.bytes(relay);
    Ok(w.into_public())
}

/// Build the key envelope for an invite (inviting device).
///
/// `keys` is what the new device gets (usually `ring.subset_for(&invitee_grant, …)`).
/// Refused with [`CryptoError::NotAllowed`] if it holds a key the invitee may not hold
/// (e.g. a private timesheet key for a kiosk) or one the inviter may not hand out (notes
/// keys belong to the person and their supporters). `devices` are further devices the new
/// device should trust (at least the coop's coordinators).
pub fn seal_key_envelope(
    code: &JoinCode,
    coop_id: &str,
    inviter: &Identity,
    inviter_grant: &Grant,
    invitee_grant: &Grant,
    keys: &KeyRing,
    devices: &DeviceDirectory,
) -> Result<SealedInvite> {
    check_id(coop_id)?;
    keys.check_allowed_for(invitee_grant)?;
    if keys
        .keys()
        .any(|k| !may_issue_key(inviter_grant, &k.id().scope))
    {
        return Err(CryptoError::NotAllowed);
    }
    let proof_key = random_bytes::<32>()?;
    let mut p = Writer::with_capacity(256 + keys.keys().count() * 120 + devices.len() * 140);
    p.str8(coop_id)?;
    p.grant(invitee_grant)?;
    inviter
        .public_keys(inviter_grant.clone())
        .encode_body(&mut p)?;
    let others: Vec<_> = devices
        .iter()
        .filter(|d| d.device_id != inviter.device_id())
        .collect();
    p.u16(u16::try_from(others.len()).map_err(|_| CryptoError::Malformed)?);
    for d in others {
        d.encode_body(&mut p)?;
    }
    keys.encode_body(&mut p)?;
    p.bytes(&*proof_key);

    let salt = random_bytes::<16>()?;
    let mut header = Vec::with_capacity(20);
    header.extend_from_slice(ENVELOPE_MAGIC);
    header.push(ENVELOPE_FORMAT);
    header.extend_from_slice(&*salt);
    let key = code.envelope_key(coop_id, &*salt)?;
    let cipher = ChaCha20Poly1305::new_from_slice(&*key).map_err(|_| CryptoError::Malformed)?;
    let aad = envelope_aad(&header, coop_id, &code.relay)?;
    let ct = cipher
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: p.as_slice(),
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Malformed)?;
    let mut envelope = header;
    envelope.extend_from_slice(&ct);
    Ok(SealedInvite {
        envelope,
        proof_key,
    })
}

/// Open the key envelope (new device, after `POST /v1/join`). A wrong secret part, or an
/// envelope for another coop or invite, is [`CryptoError::WrongJoinCode`]. Also refuses
/// envelopes holding keys the grant may not hold or the inviter may not issue.
pub fn open_key_envelope(code: &JoinCode, coop_id: &str, envelope: &[u8]) -> Result<JoinedKeys> {
    check_id(coop_id)?;
    if envelope.len() < 20 + 16 || &envelope[..3] != ENVELOPE_MAGIC {
        return Err(CryptoError::Malformed);
    }
    if envelope[3] != ENVELOPE_FORMAT {
        return Err(CryptoError::UnsupportedVersion);
    }
    let (header, ct) = envelope.split_at(20);
    let key = code.envelope_key(coop_id, &header[4..20])?;
    let cipher = ChaCha20Poly1305::new_from_slice(&*key).map_err(|_| CryptoError::Malformed)?;
    let aad = envelope_aad(header, coop_id, &code.relay)?;
    let payload = Zeroizing::new(
        cipher
            .decrypt(&Nonce::default(), Payload { msg: ct, aad: &aad })
            .map_err(|_| CryptoError::WrongJoinCode)?,
    );

    let mut r = Reader::new(&payload);
    if r.str8()? != coop_id {
        return Err(CryptoError::WrongJoinCode);
    }
    let grant = r.grant()?;
    let inviter = DevicePublicKeys::decode_body(&mut r)?;
    let mut devices = DeviceDirectory::new();
    devices.insert(inviter.clone())?;
    for _ in 0..r.u16()? {
        devices.insert(DevicePublicKeys::decode_body(&mut r)?)?;
    }
    let keys = KeyRing::decode_body(&mut r)?;
    let proof_key = Zeroizing::new(r.array::<32>()?);
    r.finish()?;
    keys.check_allowed_for(&grant)?;
    if keys
        .keys()
        .any(|k| !may_issue_key(&inviter.grant, &k.id().scope))
    {
        return Err(CryptoError::NotAllowed);
    }
    Ok(JoinedKeys {
        grant,
        inviter,
        devices,
        keys,
        proof_key,
    })
}

fn proof_mac(
    proof_key: &[u8; 32],
    coop_id: &str,
    device: &DevicePublicKeys,
) -> Result<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(proof_key)
        .map_err(|_| CryptoError::Malformed)?;
    let mut w = Writer::with_capacity(256);
    w.bytes(PROOF_DST);
    w.str8(coop_id)?;
    device.encode_body(&mut w)?;
    mac.update(w.as_slice());
    Ok(mac)
}

/// The new device's proof that *it* (the holder of the join code) made these public keys:
/// HMAC-SHA256 under the envelope's proof key. Upload it with the public keys; the relay
/// cannot forge it, so a relay that swaps a device's keys is caught by the inviter.
pub fn join_proof(
    proof_key: &[u8; 32],
    coop_id: &str,
    device: &DevicePublicKeys,
) -> Result<[u8; 32]> {
    Ok(proof_mac(proof_key, coop_id, device)?
        .finalize()
        .into_bytes()
        .into())
}

/// Inviting device: check a new device's public keys against its [`join_proof`] before
/// adding it to the directory it vouches for. [`CryptoError::BadSignature`] if they differ.
pub fn verify_join_proof(
    proof_key: &[u8; 32],
    coop_id: &str,
    device: &DevicePublicKeys,
    proof: &[u8],
) -> Result<()> {
    proof_mac(proof_key, coop_id, device)?
        .verify_slice(proof)
        .map_err(|_| CryptoError::BadSignature)
}
