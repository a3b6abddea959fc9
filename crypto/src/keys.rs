//! Device keys and scope keys, and their storage format.
//!
//! Storage layout (all types): `"LBK"` (3 bytes), format version `0x01`, a kind byte, then
//! the body described on each type. `to_bytes` of a secret type returns a [`Zeroizing`]
//! buffer: store it in the device's (SQLCipher) store and let it drop.

use crate::codec::{Reader, Writer, check_id, random_bytes};
use crate::error::{CryptoError, Result};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use logbook_protocol::{Grant, Scope};
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub(crate) const KEY_MAGIC: &[u8; 3] = b"LBK";
pub(crate) const KEY_FORMAT: u8 = 1;
const KIND_IDENTITY: u8 = 1;
const KIND_SCOPE_SECRET: u8 = 2;
const KIND_SCOPE_PUBLIC: u8 = 3;
pub(crate) const KIND_KEY_RING: u8 = 4;
const KIND_DEVICE_PUBLIC: u8 = 5;
pub(crate) const KIND_DEVICE_DIRECTORY: u8 = 6;

pub(crate) fn write_key_header(w: &mut Writer, kind: u8) {
    w.bytes(KEY_MAGIC);
    w.u8(KEY_FORMAT);
    w.u8(kind);
}

pub(crate) fn read_key_header(r: &mut Reader<'_>, kind: u8) -> Result<()> {
    if r.take(3)? != KEY_MAGIC {
        return Err(CryptoError::Malformed);
    }
    if r.u8()? != KEY_FORMAT {
        return Err(CryptoError::UnsupportedVersion);
    }
    if r.u8()? != kind {
        return Err(CryptoError::Malformed);
    }
    Ok(())
}

/// The X25519 public key of a secret scalar (clamped by x25519-dalek).
fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    let s = x25519_dalek::StaticSecret::from(*secret);
    x25519_dalek::PublicKey::from(&s).to_bytes()
}

// ---------------------------------------------------------------------------------------
// Device keys
// ---------------------------------------------------------------------------------------

/// A device's own secret keys plus its relay-assigned device id: an Ed25519 signing key
/// (signs every blob and wrapped key it writes) and an X25519 key (receives wrapped scope
/// keys). Made once at join, kept in the device store, never leaves the device.
///
/// Storage body (kind 1): `str8 device_id`, 32-byte Ed25519 seed, 32-byte X25519 secret.
pub struct Identity {
    device_id: String,
    signing: SigningKey,
    encryption: [u8; 32],
}

impl Identity {
    /// Fresh keys for a device. Generate before `POST /v1/join` (so the public half can go
    /// with the join request) and pass the device id the relay returns.
    pub fn generate(device_id: &str) -> Result<Identity> {
        check_id(device_id)?;
        let seed = random_bytes::<32>()?;
        let enc = random_bytes::<32>()?;
        Ok(Identity {
            device_id: device_id.to_string(),
            signing: SigningKey::from_bytes(&seed),
            encryption: *enc,
        })
    }

    /// The relay-assigned device id these keys belong to.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The public half, with the grant the device joined with, for the relay and the
    /// device directory.
    pub fn public_keys(&self, grant: Grant) -> DevicePublicKeys {
        DevicePublicKeys {
            device_id: self.device_id.clone(),
            grant,
            signing: self.signing.verifying_key().to_bytes(),
            encryption: x25519_public(&self.encryption),
        }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    pub(crate) fn encryption_secret(&self) -> &[u8; 32] {
        &self.encryption
    }

    /// Storage form (see the type's docs). Zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(5 + 1 + self.device_id.len() + 64);
        write_key_header(&mut w, KIND_IDENTITY);
        // A checked id (1-64 bytes) always fits a str8.
        let _ = w.str8(&self.device_id);
        let seed = Zeroizing::new(self.signing.to_bytes());
        w.bytes(&*seed);
        w.bytes(&self.encryption);
        w.into_secret()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Identity> {
        let mut r = Reader::new(bytes);
        read_key_header(&mut r, KIND_IDENTITY)?;
        let device_id = r.str8()?.to_string();
        check_id(&device_id).map_err(|_| CryptoError::Malformed)?;
        let seed = Zeroizing::new(r.array::<32>()?);
        let encryption = r.array::<32>()?;
        r.finish()?;
        Ok(Identity {
            device_id,
            signing: SigningKey::from_bytes(&seed),
            encryption,
        })
    }
}

impl Zeroize for Identity {
    fn zeroize(&mut self) {
        // Replacing the signing key drops (and so zeroizes) the old one.
        self.signing = SigningKey::from_bytes(&[0u8; 32]);
        self.encryption.zeroize();
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        self.encryption.zeroize();
        // `SigningKey` zeroizes itself on drop.
    }
}

impl ZeroizeOnDrop for Identity {}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("device_id", &self.device_id)
            .field("keys", &"<redacted>")
            .finish()
    }
}

/// The public half of a device's keys plus its grant: what the relay stores with the
/// device and what readers look up to verify a writer. Not secret.
///
/// Storage body (kind 5): `str8 device_id`, grant (role byte, `str8` person, `str8` site,
/// u16 count of `str8` supported people), 32-byte Ed25519 public key, 32-byte X25519
/// public key.
#[derive(Clone, PartialEq, Eq)]
pub struct DevicePublicKeys {
    pub device_id: String,
    pub grant: Grant,
    /// Ed25519 verifying key.
    pub signing: [u8; 32],
    /// X25519 public key (to wrap scope keys to this device).
    pub encryption: [u8; 32],
}

impl DevicePublicKeys {
    pub(crate) fn encode_body(&self, w: &mut Writer) -> Result<()> {
        w.str8(&self.device_id)?;
        w.grant(&self.grant)?;
        w.bytes(&self.signing);
        w.bytes(&self.encryption);
        Ok(())
    }

    pub(crate) fn decode_body(r: &mut Reader<'_>) -> Result<DevicePublicKeys> {
        let device_id = r.str8()?.to_string();
        check_id(&device_id).map_err(|_| CryptoError::Malformed)?;
        let grant = r.grant()?;
        let signing = r.array()?;
        VerifyingKey::from_bytes(&signing).map_err(|_| CryptoError::Malformed)?;
        let encryption = r.array()?;
        Ok(DevicePublicKeys {
            device_id,
            grant,
            signing,
            encryption,
        })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::with_capacity(128);
        write_key_header(&mut w, KIND_DEVICE_PUBLIC);
        self.encode_body(&mut w)?;
        Ok(w.into_public())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<DevicePublicKeys> {
        let mut r = Reader::new(bytes);
        read_key_header(&mut r, KIND_DEVICE_PUBLIC)?;
        let out = Self::decode_body(&mut r)?;
        r.finish()?;
        Ok(out)
    }

    pub(crate) fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_bytes(&self.signing).map_err(|_| CryptoError::Malformed)
    }

    /// Verify a signature made by this device (strict Ed25519: no malleable signatures).
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> Result<()> {
        let sig = ed25519_dalek::Signature::from_bytes(sig);
        self.verifying_key()?
            .verify_strict(msg, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl fmt::Debug for DevicePublicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevicePublicKeys")
            .field("device_id", &self.device_id)
            .field("role", &self.grant.role)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------
// Scope keys
// ---------------------------------------------------------------------------------------

/// Which key: a scope and a version (1, 2, … one more at each rotation).
///
/// Its text form `<scope>#<version>` (e.g. `timesheet:ann#3`, at most 85 bytes of printable
/// ASCII) is what goes into the protocol's `PushDoc.key` / `PulledDoc.key` field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeKeyId {
    pub scope: Scope,
    pub version: u32,
}

impl ScopeKeyId {
    /// Parse `<scope>#<version>`.
    pub fn parse(s: &str) -> Result<ScopeKeyId> {
        let (scope, version) = s.rsplit_once('#').ok_or(CryptoError::Malformed)?;
        let scope = Scope::parse(scope).map_err(|_| CryptoError::Malformed)?;
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CryptoError::Malformed);
        }
        let version = version.parse().map_err(|_| CryptoError::Malformed)?;
        Ok(ScopeKeyId { scope, version })
    }
}

impl fmt::Display for ScopeKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.scope, self.version)
    }
}

/// A scope's X25519 key pair of one version. Whoever holds it can open every blob sealed
/// to this version of the scope. Zeroized on drop; `Debug` shows only the id.
///
/// Storage body (kind 2): `str8 scope`, u32 version, 32-byte X25519 secret.
pub struct ScopeSecretKey {
    id: ScopeKeyId,
    secret: [u8; 32],
    public: [u8; 32],
}

impl ScopeSecretKey {
    /// Version 1 of a new scope key.
    pub fn generate(scope: Scope) -> Result<ScopeSecretKey> {
        Self::generate_version(scope, 1)
    }

    /// A fresh key with the given version (rotation uses [`ScopeSecretKey::rotate`]).
    pub fn generate_version(scope: Scope, version: u32) -> Result<ScopeSecretKey> {
        let secret = random_bytes::<32>()?;
        Ok(Self::from_parts(ScopeKeyId { scope, version }, &secret))
    }

    /// The next version: a fresh key pair with `version + 1`.
    pub fn rotate(&self) -> Result<ScopeSecretKey> {
        let next = self
            .id
            .version
            .checked_add(1)
            .ok_or(CryptoError::Malformed)?;
        Self::generate_version(self.id.scope.clone(), next)
    }

    fn from_parts(id: ScopeKeyId, secret: &[u8; 32]) -> ScopeSecretKey {
        // Stored as generated; X25519 clamps at use (x25519-dalek and hpke both do).
        ScopeSecretKey {
            id,
            secret: *secret,
            public: x25519_public(secret),
        }
    }

    pub fn id(&self) -> &ScopeKeyId {
        &self.id
    }

    pub fn public_key(&self) -> ScopePublicKey {
        ScopePublicKey {
            id: self.id.clone(),
            public: self.public,
        }
    }

    pub(crate) fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    pub(crate) fn from_secret(id: ScopeKeyId, secret: &[u8; 32]) -> ScopeSecretKey {
        Self::from_parts(id, secret)
    }

    pub(crate) fn encode_body(&self, w: &mut Writer) -> Result<()> {
        w.scope(&self.id.scope)?;
        w.u32(self.id.version);
        w.bytes(&self.secret);
        Ok(())
    }

    pub(crate) fn decode_body(r: &mut Reader<'_>) -> Result<ScopeSecretKey> {
        let scope = r.scope()?;
        let version = r.u32()?;
        let secret = Zeroizing::new(r.array::<32>()?);
        Ok(Self::from_parts(ScopeKeyId { scope, version }, &secret))
    }

    /// Storage form (see the type's docs). Zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(128);
        write_key_header(&mut w, KIND_SCOPE_SECRET);
        // A parsed scope is at most 74 bytes: always fits a str8.
        let _ = self.encode_body(&mut w);
        w.into_secret()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<ScopeSecretKey> {
        let mut r = Reader::new(bytes);
        read_key_header(&mut r, KIND_SCOPE_SECRET)?;
        let out = Self::decode_body(&mut r)?;
        r.finish()?;
        Ok(out)
    }
}

impl Clone for ScopeSecretKey {
    fn clone(&self) -> Self {
        ScopeSecretKey {
            id: self.id.clone(),
            secret: self.secret,
            public: self.public,
        }
    }
}

impl PartialEq for ScopeSecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && bool::from(self.secret.ct_eq(&other.secret))
    }
}

impl Eq for ScopeSecretKey {}

impl Zeroize for ScopeSecretKey {
    fn zeroize(&mut self) {
        self.secret.zeroize();
    }
}

impl Drop for ScopeSecretKey {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl ZeroizeOnDrop for ScopeSecretKey {}

impl fmt::Debug for ScopeSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeSecretKey")
            .field("id", &self.id.to_string())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The public half of a scope key: enough to seal blobs into the scope, never to open
/// them. What a kiosk holds for timesheets.
///
/// Storage body (kind 3): `str8 scope`, u32 version, 32-byte X25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct ScopePublicKey {
    id: ScopeKeyId,
    public: [u8; 32],
}

impl ScopePublicKey {
    pub fn id(&self) -> &ScopeKeyId {
        &self.id
    }

    pub fn public_bytes(&self) -> &[u8; 32] {
        &self.public
    }

    pub(crate) fn from_public(id: ScopeKeyId, public: [u8; 32]) -> ScopePublicKey {
        ScopePublicKey { id, public }
    }

    pub(crate) fn encode_body(&self, w: &mut Writer) -> Result<()> {
        w.scope(&self.id.scope)?;
        w.u32(self.id.version);
        w.bytes(&self.public);
        Ok(())
    }

    pub(crate) fn decode_body(r: &mut Reader<'_>) -> Result<ScopePublicKey> {
        let scope = r.scope()?;
        let version = r.u32()?;
        let public = r.array()?;
        Ok(ScopePublicKey {
            id: ScopeKeyId { scope, version },
            public,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(128);
        write_key_header(&mut w, KIND_SCOPE_PUBLIC);
        let _ = self.encode_body(&mut w);
        w.into_public()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<ScopePublicKey> {
        let mut r = Reader::new(bytes);
        read_key_header(&mut r, KIND_SCOPE_PUBLIC)?;
        let out = Self::decode_body(&mut r)?;
        r.finish()?;
        Ok(out)
    }
}

impl fmt::Debug for ScopePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopePublicKey")
            .field("id", &self.id.to_string())
            .finish_non_exhaustive()
    }
}

/// A scope key as held by a device: the full pair (reader) or only the public half
/// (write-only, e.g. a kiosk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeKey {
    Secret(ScopeSecretKey),
    Public(ScopePublicKey),
}

impl ScopeKey {
    pub fn id(&self) -> &ScopeKeyId {
        match self {
            ScopeKey::Secret(k) => k.id(),
            ScopeKey::Public(k) => k.id(),
        }
    }

    pub fn public_key(&self) -> ScopePublicKey {
        match self {
            ScopeKey::Secret(k) => k.public_key(),
            ScopeKey::Public(k) => k.clone(),
        }
    }

    pub fn is_secret(&self) -> bool {
        matches!(self, ScopeKey::Secret(_))
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        match self {
            ScopeKey::Secret(k) => {
                w.u8(KIND_SCOPE_SECRET);
                k.encode_body(w)
            }
            ScopeKey::Public(k) => {
                w.u8(KIND_SCOPE_PUBLIC);
                k.encode_body(w)
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<ScopeKey> {
        match r.u8()? {
            KIND_SCOPE_SECRET => Ok(ScopeKey::Secret(ScopeSecretKey::decode_body(r)?)),
            KIND_SCOPE_PUBLIC => Ok(ScopeKey::Public(ScopePublicKey::decode_body(r)?)),
            _ => Err(CryptoError::Malformed),
        }
    }
}
