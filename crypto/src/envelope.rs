//! Sealed blobs: what a device pushes to the relay instead of plaintext automerge bytes.
//!
//! ```text
//! offset    size     field
//! 0         1        magic 0xE5 (automerge chunks start with 0x85 0x6F 0x4A 0x83)
//! 1         1        format version, 0x01
//! 2         1        flags: bit 0 = plaintext was raw-deflated before sealing; bit 1 =
//!                    custody re-seal (see [`seal_custody_blob`]); others 0
//! 3         4        scope key version, u32 big-endian
//! 7         1        n = length of the writer's device id (1-64)
//! 8         n        writer device id (ASCII)
//! 8+n       32       HPKE encapsulated key (ephemeral X25519 public key)
//! 40+n      L+16     ChaCha20Poly1305 ciphertext of the (compressed) plaintext, with tag
//! end-64    64       Ed25519 signature of the writer device
//! ```
//! Overhead: 120 + n bytes (140 with the relay's 20-character device ids), minus what
//! compression saves.
//!
//! Coop id and document id are not on the wire (the reader knows both): they are bound in
//! the HPKE associated data and in the signature, so a blob moved to another document or
//! coop fails. HPKE: RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20Poly1305, with
//! - info = `"logbook/blob/v1\0" ‖ str8(scope) ‖ u32(version)`
//! - aad  = `"logbook/blob-aad/v1\0" ‖ str8(coop) ‖ str8(doc) ‖ bytes[0 .. 8+n]`
//!
//! Signature (Ed25519, strict verification) over
//! `"logbook/blob-sig/v1\0" ‖ str8(coop) ‖ str8(doc) ‖ SHA-256(bytes[0 .. end-64])`.

use crate::codec::{Reader, Writer, check_id};
use crate::error::{CryptoError, Result};
use crate::keyring::{DeviceDirectory, KeyRing};
use crate::keys::{DevicePublicKeys, Identity, ScopeKeyId, ScopePublicKey, ScopeSecretKey};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use logbook_protocol::{Scope, may_write};
use sha2::{Digest, Sha256};

/// First byte of a sealed blob.
pub const BLOB_MAGIC: u8 = 0xE5;
/// Current sealed-blob format.
pub const BLOB_FORMAT_V1: u8 = 0x01;
/// First four bytes of every automerge chunk (document or change): today's plaintext.
pub const AUTOMERGE_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Largest plaintext `open_blob` will inflate a compressed blob to.
pub const MAX_PLAINTEXT_BYTES: usize = 64 * 1024 * 1024;
/// Bytes a sealed blob adds to its (compressed) plaintext, besides the writer id.
pub const BLOB_OVERHEAD_WITHOUT_WRITER: usize = 8 + 32 + 16 + 64;

const FLAG_DEFLATE: u8 = 0x01;
const FLAG_CUSTODY: u8 = 0x02;
const ENC_LEN: usize = 32;
const TAG_LEN: usize = 16;
const SIG_LEN: usize = 64;
const INFO_DST: &[u8] = b"logbook/blob/v1\0";
const AAD_DST: &[u8] = b"logbook/blob-aad/v1\0";
const SIG_DST: &[u8] = b"logbook/blob-sig/v1\0";

type Kem = X25519HkdfSha256;

/// Where a blob lives: the reader's and writer's own coop, and the document id the relay
/// files it under. Both are bound into every sealed blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobContext<'a> {
    pub coop_id: &'a str,
    pub doc_id: &'a str,
}

impl<'a> BlobContext<'a> {
    /// Checks the coop id (entity id) and the document id (protocol grammar).
    pub fn new(coop_id: &'a str, doc_id: &'a str) -> Result<BlobContext<'a>> {
        let ctx = BlobContext { coop_id, doc_id };
        ctx.scope()?;
        Ok(ctx)
    }

    /// The scope of the document, from its id.
    pub fn scope(&self) -> Result<Scope> {
        check_id(self.coop_id)?;
        Scope::of_doc(self.doc_id).map_err(|_| CryptoError::InvalidId)
    }
}

/// Whether to deflate the plaintext before sealing (ciphertext does not compress).
///
/// Compression makes the blob's length depend on its content's redundancy; an observer of
/// sizes who can also inject content into the same blob could learn something (CRIME-style).
/// Automerge change chunks of one user action give little room for that; use `None` for
/// scopes where you prefer sizes that depend only on length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Never compress.
    None,
    /// Always deflate (flagged in the header).
    Deflate,
    /// Deflate, and keep it only if it saves bytes.
    #[default]
    Auto,
}

/// A sealed blob ready for `PushDoc.blobs`, and the key id for `PushDoc.key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBlob {
    pub bytes: Vec<u8>,
    pub key_id: ScopeKeyId,
}

/// What the clear header of a sealed blob says (nothing here is authenticated until
/// [`open_blob`] or [`verify_blob`] succeeds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHeader {
    pub format: u8,
    pub compressed: bool,
    pub key_version: u32,
    pub writer: String,
    /// A coordinator's custody re-seal of a document named for another device
    /// ([`seal_custody_blob`]).
    pub custody: bool,
}

/// What kind of bytes a pulled blob is: for the migration from plaintext sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobKind {
    /// Today's plaintext automerge chunk.
    LegacyPlaintext,
    /// A sealed blob of a format this build reads.
    Sealed(BlobHeader),
    /// A sealed blob of a newer format (upgrade the app).
    SealedNewer(u8),
    /// Neither: damaged or foreign.
    Unknown,
}

/// Tell a legacy plaintext automerge chunk from a sealed blob, without keys.
pub fn classify(bytes: &[u8]) -> BlobKind {
    if bytes.starts_with(&AUTOMERGE_MAGIC) {
        return BlobKind::LegacyPlaintext;
    }
    match bytes {
        [BLOB_MAGIC, BLOB_FORMAT_V1, ..] => match parse(bytes) {
            Ok(p) => BlobKind::Sealed(p.header),
            Err(_) => BlobKind::Unknown,
        },
        [BLOB_MAGIC, v, ..] if *v > BLOB_FORMAT_V1 => BlobKind::SealedNewer(*v),
        _ => BlobKind::Unknown,
    }
}

struct Parsed<'a> {
    header: BlobHeader,
    /// Bytes 0 .. 8+n: what goes into the AEAD associated data.
    clear: &'a [u8],
    enc: &'a [u8],
    ciphertext: &'a [u8],
    /// Everything before the signature.
    signed: &'a [u8],
    signature: [u8; 64],
}

fn parse(bytes: &[u8]) -> Result<Parsed<'_>> {
    let mut r = Reader::new(bytes);
    if r.u8()? != BLOB_MAGIC {
        return Err(CryptoError::Malformed);
    }
    let format = r.u8()?;
    if format != BLOB_FORMAT_V1 {
        return Err(CryptoError::UnsupportedVersion);
    }
    let flags = r.u8()?;
    if flags & !(FLAG_DEFLATE | FLAG_CUSTODY) != 0 {
        return Err(CryptoError::Malformed);
    }
    let key_version = r.u32()?;
    let writer = r.str8()?.to_string();
    check_id(&writer).map_err(|_| CryptoError::Malformed)?;
    let clear_len = r.pos();
    let enc = r.take(ENC_LEN)?;
    let rest = r.rest();
    if rest.len() < TAG_LEN + SIG_LEN {
        return Err(CryptoError::Malformed);
    }
    let (ciphertext, sig) = rest.split_at(rest.len() - SIG_LEN);
    let mut signature = [0u8; 64];
    signature.copy_from_slice(sig);
    Ok(Parsed {
        header: BlobHeader {
            format,
            compressed: flags & FLAG_DEFLATE != 0,
            key_version,
            writer,
            custody: flags & FLAG_CUSTODY != 0,
        },
        clear: &bytes[..clear_len],
        enc,
        ciphertext,
        signed: &bytes[..bytes.len() - SIG_LEN],
        signature,
    })
}

fn info(id: &ScopeKeyId) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(INFO_DST.len() + 80);
    w.bytes(INFO_DST);
    w.scope(&id.scope)?;
    w.u32(id.version);
    Ok(w.into_public())
}

fn aad(ctx: &BlobContext<'_>, clear: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(AAD_DST.len() + 300);
    w.bytes(AAD_DST);
    w.str8(ctx.coop_id)?;
    w.str8(ctx.doc_id)?;
    w.bytes(clear);
    Ok(w.into_public())
}

fn signed_message(ctx: &BlobContext<'_>, signed: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(SIG_DST.len() + 300);
    w.bytes(SIG_DST);
    w.str8(ctx.coop_id)?;
    w.str8(ctx.doc_id)?;
    w.bytes(&Sha256::digest(signed));
    Ok(w.into_public())
}

/// Seal `plaintext` (automerge bytes) for the document in `ctx`, to the newest key of the
/// document's scope in `ring`, signed by `writer`. The ring may hold only the public key
/// (a kiosk). Returns the blob and the key id for the push.
pub fn seal_blob(
    ctx: &BlobContext<'_>,
    writer: &Identity,
    ring: &KeyRing,
    plaintext: &[u8],
    compression: Compression,
) -> Result<SealedBlob> {
    let key = ring.sealing_key(&ctx.scope()?)?;
    seal_blob_to(ctx, writer, &key, plaintext, compression)
}

/// [`seal_blob`] flagged as a custody re-seal (migration from plaintext, docs/SECURITY.md):
/// a coordinator seals, in a document named for another device (a revoked device that
/// never had keys), what that device once pushed in plaintext. The flag is signed; only
/// [`open_custody_blob`] opens such a blob in a document named for another writer.
pub fn seal_custody_blob(
    ctx: &BlobContext<'_>,
    writer: &Identity,
    ring: &KeyRing,
    plaintext: &[u8],
) -> Result<SealedBlob> {
    let key = ring.sealing_key(&ctx.scope()?)?;
    seal_with_flags(
        ctx,
        writer,
        &key,
        plaintext,
        Compression::Auto,
        FLAG_CUSTODY,
    )
}

/// [`seal_blob`] to an explicit scope key, which must be of the document's scope.
pub fn seal_blob_to(
    ctx: &BlobContext<'_>,
    writer: &Identity,
    key: &ScopePublicKey,
    plaintext: &[u8],
    compression: Compression,
) -> Result<SealedBlob> {
    seal_with_flags(ctx, writer, key, plaintext, compression, 0)
}

fn seal_with_flags(
    ctx: &BlobContext<'_>,
    writer: &Identity,
    key: &ScopePublicKey,
    plaintext: &[u8],
    compression: Compression,
    flags: u8,
) -> Result<SealedBlob> {
    if key.id().scope != ctx.scope()? {
        return Err(CryptoError::WrongDocument);
    }
    let deflated = match compression {
        Compression::None => None,
        Compression::Deflate => Some(miniz_oxide::deflate::compress_to_vec(plaintext, 6)),
        Compression::Auto => Some(miniz_oxide::deflate::compress_to_vec(plaintext, 6))
            .filter(|d| d.len() < plaintext.len()),
    };
    let body = deflated.as_deref().unwrap_or(plaintext);

    let writer_id = writer.device_id();
    let mut out =
        Writer::with_capacity(BLOB_OVERHEAD_WITHOUT_WRITER + writer_id.len() + body.len());
    out.u8(BLOB_MAGIC);
    out.u8(BLOB_FORMAT_V1);
    out.u8(flags | if deflated.is_some() { FLAG_DEFLATE } else { 0 });
    out.u32(key.id().version);
    out.str8(writer_id)?;
    let aad = aad(ctx, out.as_slice())?;

    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(key.public_bytes())
        .map_err(|_| CryptoError::Malformed)?;
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk,
        &info(key.id())?,
        body,
        &aad,
    )
    .map_err(|_| CryptoError::Malformed)?;
    out.bytes(&enc.to_bytes());
    out.bytes(&ciphertext);
    let sig = writer.sign(&signed_message(ctx, out.as_slice())?);
    out.bytes(&sig);
    Ok(SealedBlob {
        bytes: out.into_public(),
        key_id: key.id().clone(),
    })
}

/// An opened blob: the plaintext and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedBlob {
    /// The automerge bytes, decompressed.
    pub plaintext: Vec<u8>,
    /// The device that signed it (verified, and allowed to write the scope).
    pub writer: String,
    pub key_version: u32,
}

/// Checks shared by [`open_blob`] and [`verify_blob`]: the writer is known, is the expected
/// one, may write the scope, and signed exactly these bytes for this coop and document.
fn verify_parsed<'d>(
    ctx: &BlobContext<'_>,
    p: &Parsed<'_>,
    devices: &'d DeviceDirectory,
    expected_writer: Option<&str>,
) -> Result<&'d DevicePublicKeys> {
    let scope = ctx.scope()?;
    let writer = devices
        .get(&p.header.writer)
        .ok_or(CryptoError::UnknownWriter)?;
    if expected_writer.is_some_and(|w| w != p.header.writer) {
        return Err(CryptoError::WrongWriter);
    }
    if !may_write(&writer.grant, &scope) {
        return Err(CryptoError::WrongWriter);
    }
    writer.verify(&signed_message(ctx, p.signed)?, &p.signature)?;
    Ok(writer)
}

/// Verify a sealed blob without opening it: the signature, the writer's right to write the
/// document's scope, and the binding to coop and document. Needs no scope key, so the relay
/// (which knows the devices' public keys) or a write-only device can run it.
pub fn verify_blob(
    ctx: &BlobContext<'_>,
    bytes: &[u8],
    devices: &DeviceDirectory,
) -> Result<BlobHeader> {
    let p = parse(bytes)?;
    verify_parsed(ctx, &p, devices, None)?;
    Ok(p.header)
}

/// Verify and open a sealed blob of the document in `ctx`.
///
/// `expected_writer`: for single-writer documents (`timesheet:<p>/<month>/<device>`,
/// `review:<p>/<year>/<device>`) pass the device named in the id, so a blob by any other
/// device is refused with [`CryptoError::WrongWriter`].
///
/// Order of checks: format, writer known and allowed, signature (so nothing unsigned is
/// decrypted or inflated), key version held, private key held, decryption, inflation.
///
/// What to do with each error: [`CryptoError::UnknownKeyVersion`] — keep the blob and retry
/// when keys arrive (a rotated key or a notes key after consent may still be on its way);
/// [`CryptoError::CannotOpen`] on a write-only device — expected, skip; anything else
/// (`BadSignature`, `WrongWriter`, `UnknownWriter`, `Malformed`) — drop the blob and report
/// it (count, never content) as tampering or a bug.
pub fn open_blob(
    ctx: &BlobContext<'_>,
    bytes: &[u8],
    ring: &KeyRing,
    devices: &DeviceDirectory,
    expected_writer: Option<&str>,
) -> Result<OpenedBlob> {
    let p = parse(bytes)?;
    verify_parsed(ctx, &p, devices, expected_writer)?;
    open_parsed(ctx, p, ring)
}

/// Verify and open a custody re-seal ([`seal_custody_blob`]) in a document named for
/// another device: the blob must carry the signed custody flag and be signed by a
/// coordinator allowed to write the scope. Whether the named device may have its documents
/// re-sealed by a custodian (it is revoked and never had keys) is the caller's to decide;
/// any other blob is [`CryptoError::WrongWriter`].
pub fn open_custody_blob(
    ctx: &BlobContext<'_>,
    bytes: &[u8],
    ring: &KeyRing,
    devices: &DeviceDirectory,
) -> Result<OpenedBlob> {
    let p = parse(bytes)?;
    if !p.header.custody {
        return Err(CryptoError::WrongWriter);
    }
    let writer = verify_parsed(ctx, &p, devices, None)?;
    if writer.grant.role != logbook_protocol::Role::Coordinator {
        return Err(CryptoError::WrongWriter);
    }
    open_parsed(ctx, p, ring)
}

fn open_parsed(ctx: &BlobContext<'_>, p: Parsed<'_>, ring: &KeyRing) -> Result<OpenedBlob> {
    let scope = ctx.scope()?;
    let id = ScopeKeyId {
        scope,
        version: p.header.key_version,
    };
    let secret: &ScopeSecretKey = match ring.get(&id) {
        None => return Err(CryptoError::UnknownKeyVersion),
        Some(_) => ring
            .secret(&id.scope, id.version)
            .ok_or(CryptoError::CannotOpen)?,
    };
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(secret.secret_bytes())
        .map_err(|_| CryptoError::CannotOpen)?;
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(p.enc).map_err(|_| CryptoError::Malformed)?;
    let body = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        &info(&id)?,
        p.ciphertext,
        &aad(ctx, p.clear)?,
    )
    .map_err(|_| CryptoError::CannotOpen)?;
    let plaintext = if p.header.compressed {
        miniz_oxide::inflate::decompress_to_vec_with_limit(&body, MAX_PLAINTEXT_BYTES).map_err(
            |e| match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => CryptoError::TooLarge,
                _ => CryptoError::Malformed,
            },
        )?
    } else {
        body
    };
    Ok(OpenedBlob {
        plaintext,
        writer: p.header.writer,
        key_version: p.header.key_version,
    })
}

/// Check the `key` field the relay returned with a pulled document (`PulledDoc.key`)
/// against the document and the blob: another scope is [`CryptoError::WrongDocument`],
/// another version [`CryptoError::Malformed`].
pub fn check_key_field(ctx: &BlobContext<'_>, key_field: &str, bytes: &[u8]) -> Result<()> {
    let id = ScopeKeyId::parse(key_field)?;
    if id.scope != ctx.scope()? {
        return Err(CryptoError::WrongDocument);
    }
    if id.version != parse(bytes)?.header.key_version {
        return Err(CryptoError::Malformed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use logbook_protocol::{Grant, Role};

    /// Encrypt-then-sign must not let a device take credit for someone else's ciphertext:
    /// the writer id is in the AEAD associated data, so a blob whose signature was stripped
    /// and replaced by another (allowed) writer's no longer decrypts.
    #[test]
    fn re_signing_someone_elses_ciphertext_does_not_open() {
        let coop = "coop-1";
        let doc = "timesheet:ann/2026-11/dev-a";
        let ctx = BlobContext::new(coop, doc).unwrap();
        let ann = Identity::generate("dev-ann1").unwrap();
        let kiosk = Identity::generate("dev-kio1").unwrap();
        let mut devices = DeviceDirectory::new();
        let worker = Grant {
            role: Role::Worker,
            person: Some("ann".into()),
            site: None,
            supports: vec![],
        };
        let kiosk_grant = Grant {
            role: Role::Kiosk,
            person: None,
            site: Some("cafe".into()),
            supports: vec![],
        };
        devices.insert(ann.public_keys(worker)).unwrap();
        devices.insert(kiosk.public_keys(kiosk_grant)).unwrap();
        let mut ring = KeyRing::new();
        ring.create_scope(Scope::Timesheet("ann".into())).unwrap();
        let sealed = seal_blob(&ctx, &ann, &ring, b"clock-in", Compression::None).unwrap();

        // The kiosk swaps the writer id (same length) and signs the result itself.
        let mut forged = sealed.bytes.clone();
        forged[8..16].copy_from_slice(b"dev-kio1");
        let n = forged.len();
        let sig = kiosk.sign(&signed_message(&ctx, &forged[..n - 64]).unwrap());
        forged[n - 64..].copy_from_slice(&sig);
        assert_eq!(
            verify_blob(&ctx, &forged, &devices).unwrap().writer,
            "dev-kio1"
        );
        assert_eq!(
            open_blob(&ctx, &forged, &ring, &devices, None),
            Err(CryptoError::CannotOpen)
        );

        // Signing as itself without changing the header fails Ann's signature check.
        let mut resigned = sealed.bytes.clone();
        let sig = kiosk.sign(&signed_message(&ctx, &resigned[..n - 64]).unwrap());
        resigned[n - 64..].copy_from_slice(&sig);
        assert_eq!(
            open_blob(&ctx, &resigned, &ring, &devices, None),
            Err(CryptoError::BadSignature)
        );
        assert!(open_blob(&ctx, &sealed.bytes, &ring, &devices, None).is_ok());
    }

    /// A custody re-seal opens only through `open_custody_blob`, only if a coordinator
    /// signed it, and its flag cannot be added or removed without breaking the signature.
    #[test]
    fn a_custody_re_seal_is_a_signed_coordinator_blob() {
        let coop = "coop-1";
        let doc = "timesheet:ann/2026-11/dev-gone";
        let ctx = BlobContext::new(coop, doc).unwrap();
        let coord = Identity::generate("dev-coord").unwrap();
        let ann = Identity::generate("dev-ann1").unwrap();
        let mut devices = DeviceDirectory::new();
        devices
            .insert(coord.public_keys(Grant {
                role: Role::Coordinator,
                person: None,
                site: None,
                supports: vec![],
            }))
            .unwrap();
        devices
            .insert(ann.public_keys(Grant {
                role: Role::Worker,
                person: Some("ann".into()),
                site: None,
                supports: vec![],
            }))
            .unwrap();
        let mut ring = KeyRing::new();
        ring.create_scope(Scope::Timesheet("ann".into())).unwrap();

        let custody = seal_custody_blob(&ctx, &coord, &ring, b"old punches").unwrap();
        match classify(&custody.bytes) {
            BlobKind::Sealed(h) => assert!(h.custody && h.writer == "dev-coord"),
            other => panic!("{other:?}"),
        }
        let opened = open_custody_blob(&ctx, &custody.bytes, &ring, &devices).unwrap();
        assert_eq!(opened.plaintext, b"old punches");
        // Not as the named device's own blob.
        assert_eq!(
            open_blob(&ctx, &custody.bytes, &ring, &devices, Some("dev-gone")),
            Err(CryptoError::WrongWriter)
        );
        // An ordinary blob is no custody re-seal.
        let plain = seal_blob(&ctx, &coord, &ring, b"x", Compression::None).unwrap();
        assert_eq!(
            open_custody_blob(&ctx, &plain.bytes, &ring, &devices),
            Err(CryptoError::WrongWriter)
        );
        // Setting the flag on it breaks the signature.
        let mut flagged = plain.bytes.clone();
        flagged[2] |= FLAG_CUSTODY;
        assert_eq!(
            open_custody_blob(&ctx, &flagged, &ring, &devices),
            Err(CryptoError::BadSignature)
        );
        // A worker (who may write her own timesheet scope) is no custodian.
        let by_ann = seal_custody_blob(&ctx, &ann, &ring, b"forged").unwrap();
        assert_eq!(
            open_custody_blob(&ctx, &by_ann.bytes, &ring, &devices),
            Err(CryptoError::WrongWriter)
        );
    }

    /// A compressed blob that would inflate past the cap is refused, not allocated.
    #[test]
    fn inflation_is_capped() {
        let ctx = BlobContext::new("coop-1", "directory/main").unwrap();
        let coord = Identity::generate("dev-c").unwrap();
        let grant = Grant {
            role: Role::Coordinator,
            person: None,
            site: None,
            supports: vec![],
        };
        let mut devices = DeviceDirectory::new();
        devices.insert(coord.public_keys(grant)).unwrap();
        let mut ring = KeyRing::new();
        ring.create_scope(Scope::Directory).unwrap();
        let zeros = vec![0u8; MAX_PLAINTEXT_BYTES + 1];
        let sealed = seal_blob(&ctx, &coord, &ring, &zeros, Compression::Deflate).unwrap();
        assert!(sealed.bytes.len() < 200_000);
        assert_eq!(
            open_blob(&ctx, &sealed.bytes, &ring, &devices, None),
            Err(CryptoError::TooLarge)
        );
    }
}
