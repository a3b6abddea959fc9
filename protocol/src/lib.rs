//! Wire types shared by the relay (`logbook-relay`) and its clients (`logbook-core`).
//!
//! The relay is a scoped log of opaque blobs: it never parses document content. What it
//! does read is the *document id*, whose first path segment is the *scope*, and the scope
//! decides who may read and write (see [`Scope`] and docs/PROTOCOL.md).
//!
//! Bulk bodies (push and pull) are CBOR so that blob bytes travel without base64
//! inflation; small control bodies (join, invites, devices, consent, errors) are JSON.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Every endpoint lives under this prefix; a breaking change gets a new one.
pub const API_PREFIX: &str = "/v1";
/// Media type of push request bodies and pull response bodies.
pub const CBOR_MEDIA_TYPE: &str = "application/cbor";
/// Largest accepted request body, in bytes (413 above it).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Largest accepted JSON control body (join, invites, revoke, consent, delete), in bytes
/// (413 above it). Only push bodies may be as large as [`MAX_BODY_BYTES`].
pub const MAX_JSON_BODY_BYTES: usize = 16 * 1024;
/// Largest single blob, in bytes (413 above it).
pub const MAX_BLOB_BYTES: usize = 4 * 1024 * 1024;
/// Most documents in one push (413 above it).
pub const MAX_DOCS_PER_PUSH: usize = 1_000;
/// Most blobs in one push, all documents together (413 above it).
pub const MAX_BLOBS_PER_PUSH: usize = 5_000;
/// Default and largest number of log entries a pull returns.
pub const DEFAULT_PULL_LIMIT: u32 = 1_000;
pub const MAX_PULL_LIMIT: u32 = 5_000;
/// Soft cap on the blob bytes of one pull response: the relay stops adding entries once
/// it has gathered this many bytes (always returning at least one entry) and sets `more`.
pub const MAX_PULL_BYTES: usize = 8 * 1024 * 1024;
/// Longest document id, in bytes.
pub const MAX_DOC_ID_LEN: usize = 200;
/// Longest entity id (person, site, device), in bytes.
pub const MAX_ENTITY_ID_LEN: usize = 64;

/// The content id of a blob: lowercase hex SHA-256 of its bytes. The relay computes it
/// itself on push; clients use it to name superseded blobs.
pub fn content_id(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("invalid id: must be 1-{MAX_ENTITY_ID_LEN} characters of A-Z a-z 0-9 _ -")]
    InvalidId,
    #[error("invalid document id")]
    InvalidDocId,
    #[error("unknown scope")]
    UnknownScope,
}

/// A person, site or device id: short, URL- and path-safe.
pub fn validate_entity_id(id: &str) -> Result<(), ProtocolError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ENTITY_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ProtocolError::InvalidId)
    }
}

/// Which slice of a coop's data a document belongs to. A document id is
/// `<scope>/<rest>`, so the relay learns the scope without reading content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `directory`: coop settings, sites, people's names and roles.
    Directory,
    /// `site:<site>`: a site's kiosk roster (names and PIN verifiers).
    Site(String),
    /// `timesheet:<person>`: that person's punches, written by any device.
    Timesheet(String),
    /// `review:<person>`: coordinators' corrections, approvals and week locks.
    Review(String),
    /// `records:<person>`: training, certificates, CPO orders, the disadvantaged flag.
    Records(String),
    /// `notes:<person>`: peer-support note threads about that person.
    Notes(String),
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, ProtocolError> {
        if s == "directory" {
            return Ok(Scope::Directory);
        }
        let (kind, id) = s.split_once(':').ok_or(ProtocolError::UnknownScope)?;
        validate_entity_id(id)?;
        let id = id.to_string();
        Ok(match kind {
            "site" => Scope::Site(id),
            "timesheet" => Scope::Timesheet(id),
            "review" => Scope::Review(id),
            "records" => Scope::Records(id),
            "notes" => Scope::Notes(id),
            _ => return Err(ProtocolError::UnknownScope),
        })
    }

    /// The scope of a document id: its first path segment. Also checks the rest of the
    /// id is well formed (1-200 bytes of A-Z a-z 0-9 _ - . : /, no empty segment).
    pub fn of_doc(doc_id: &str) -> Result<Scope, ProtocolError> {
        if doc_id.len() > MAX_DOC_ID_LEN {
            return Err(ProtocolError::InvalidDocId);
        }
        let (scope, rest) = doc_id.split_once('/').ok_or(ProtocolError::InvalidDocId)?;
        let rest_ok = !rest.is_empty()
            && rest.split('/').all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
            });
        if !rest_ok {
            return Err(ProtocolError::InvalidDocId);
        }
        Scope::parse(scope)
    }

    /// The person this scope is about, if it is a per-person scope.
    pub fn person(&self) -> Option<&str> {
        match self {
            Scope::Timesheet(p) | Scope::Review(p) | Scope::Records(p) | Scope::Notes(p) => Some(p),
            Scope::Directory | Scope::Site(_) => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Directory => f.write_str("directory"),
            Scope::Site(s) => write!(f, "site:{s}"),
            Scope::Timesheet(p) => write!(f, "timesheet:{p}"),
            Scope::Review(p) => write!(f, "review:{p}"),
            Scope::Records(p) => write!(f, "records:{p}"),
            Scope::Notes(p) => write!(f, "notes:{p}"),
        }
    }
}

/// What a device is. Chosen by the coordinator who issued its join code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Coordinator,
    Worker,
    Supporter,
    Kiosk,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Worker => "worker",
            Role::Supporter => "supporter",
            Role::Kiosk => "kiosk",
        }
    }
}

/// A device's role and what it is bound to. `person` is required for a worker,
/// `site` for a kiosk, `supports` (non-empty) for a supporter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supports: Vec<String>,
}

/// The access table (docs/DOMAIN.md), one place for the relay and the core to share.
/// `consented` is whether the person a `notes:` scope is about has consented to
/// coordinators reading their notes; it is ignored for other scopes.
pub fn may_read(grant: &Grant, scope: &Scope, consented: bool) -> bool {
    let own = |p: &str| grant.person.as_deref() == Some(p);
    let supports = |p: &str| grant.supports.iter().any(|s| s == p);
    match (grant.role, scope) {
        (Role::Kiosk, Scope::Site(s)) => grant.site.as_deref() == Some(s.as_str()),
        (Role::Kiosk, _) => false,
        (_, Scope::Directory) => true,
        (Role::Coordinator, Scope::Notes(_)) => consented,
        (Role::Coordinator, _) => true,
        (
            Role::Worker,
            Scope::Timesheet(p) | Scope::Review(p) | Scope::Records(p) | Scope::Notes(p),
        ) => own(p),
        (Role::Supporter, Scope::Notes(p)) => supports(p),
        (Role::Worker | Role::Supporter, _) => false,
    }
}

/// May this device push blobs into `scope`?
pub fn may_write(grant: &Grant, scope: &Scope) -> bool {
    let own = |p: &str| grant.person.as_deref() == Some(p);
    let supports = |p: &str| grant.supports.iter().any(|s| s == p);
    match (grant.role, scope) {
        // The kiosk writes punches for anyone at the coop, and never reads them back.
        (Role::Kiosk, Scope::Timesheet(_)) => true,
        (Role::Kiosk, _) => false,
        (Role::Coordinator, Scope::Notes(_)) => false,
        (Role::Coordinator, _) => true,
        (Role::Worker, Scope::Timesheet(p) | Scope::Notes(p)) => own(p),
        (Role::Supporter, Scope::Notes(p)) => supports(p),
        (Role::Worker | Role::Supporter, _) => false,
    }
}

/// May this device erase a document (and its history) in `scope`?
pub fn may_delete(grant: &Grant, scope: &Scope) -> bool {
    match scope {
        Scope::Directory => false,
        Scope::Notes(_) => may_write(grant, scope),
        _ => grant.role == Role::Coordinator,
    }
}

/// May this device set `person`'s consent to coordinators reading their notes?
/// Only the person's own device or their assigned supporter: never a coordinator.
pub fn may_set_consent(grant: &Grant, person: &str) -> bool {
    match grant.role {
        Role::Worker => grant.person.as_deref() == Some(person),
        Role::Supporter => grant.supports.iter().any(|s| s == person),
        Role::Coordinator | Role::Kiosk => false,
    }
}

/// Checks a grant is complete and its ids are well formed, before a join code is minted
/// for it. The relay refuses an invite that fails this; clients check it first.
pub fn validate_invite_grant(grant: &Grant) -> Result<(), &'static str> {
    let valid = validate_entity_id;
    let ids_ok = grant.person.iter().all(|p| valid(p).is_ok())
        && grant.site.iter().all(|s| valid(s).is_ok())
        && grant.supports.iter().all(|p| valid(p).is_ok());
    if !ids_ok {
        return Err("invalid id in grant");
    }
    if grant.supports.len() > 1_000 {
        return Err("too many people in supports");
    }
    match grant.role {
        Role::Worker if grant.person.is_none() => Err("a worker grant needs a person"),
        Role::Kiosk if grant.site.is_none() => Err("a kiosk grant needs a site"),
        Role::Supporter if grant.supports.is_empty() => {
            Err("a supporter grant needs at least one person in supports")
        }
        _ => Ok(()),
    }
}

// ---------- JSON control bodies ----------

/// `POST /v1/join` (no credential).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequest {
    pub code: String,
    pub device_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinResponse {
    pub device_id: String,
    /// The bearer credential: `<device_id>.<secret>`. Shown once; the relay keeps a hash.
    pub token: String,
    pub coop_id: String,
    pub coop_name: String,
    pub grant: Grant,
    /// The key envelope the inviting device left for this code (hex), if any: sealed under
    /// the join code's secret part, which the relay never sees (docs/SECURITY.md). Absent
    /// for the operator's first coordinator code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_envelope: Option<String>,
}

/// `PUT /v1/invites/envelope` (coordinator): leave the key envelope for an unused join
/// code of this coop. `code` is the relay part the relay issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteEnvelopeRequest {
    pub code: String,
    /// Hex of the sealed key envelope.
    pub envelope: String,
}

/// Largest key envelope, in bytes (before hex): about 14,000 scope keys.
pub const MAX_KEY_ENVELOPE_BYTES: usize = 512 * 1024;

/// `PUT /v1/keys/me`: this device's public keys, once, right after join.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceKeysRequest {
    /// Hex of the device's public keys (`DevicePublicKeys` storage form: key id, grant,
    /// Ed25519 and X25519 public keys). The key id is the device's own document-naming id.
    pub keys: String,
    /// Hex of the join proof (HMAC under the proof key from the key envelope), so the
    /// inviter can tell these keys came from the holder of the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

/// One device in `GET /v1/keys`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceKeysEntry {
    pub device_id: String,
    /// Hex of the device's public keys.
    pub keys: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
    /// Hex device certificates coordinators issued for it.
    #[serde(default)]
    pub certificates: Vec<String>,
    pub revoked: bool,
}

/// `GET /v1/keys`: every device of the coop that registered keys, and the wrapped scope
/// keys addressed to the calling device.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeysResponse {
    pub devices: Vec<DeviceKeysEntry>,
    /// Hex wrapped scope keys for this device, oldest first.
    #[serde(default)]
    pub wrapped: Vec<String>,
    /// The coop's keys epoch (see [`PullResponse::keys_epoch`]) as of before this
    /// listing was read: the listing holds at least every key event up to it. Absent from
    /// relays older than the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// The coop is "sealed only" (`POST /v1/coop/sealed-only`): its migration from
    /// plaintext is over, so devices stop trusting devices on first use. Absent (false)
    /// from relays without the switch.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sealed_only: bool,
    /// Consent as the relay has it, for the people whose consent the caller may set (the
    /// person's own devices and their supporters): a withdrawal made on another of those
    /// devices reaches this one here. Empty for coordinators and kiosks, and from relays
    /// before this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consent: Vec<PersonConsent>,
}

/// One person's consent in [`KeysResponse::consent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonConsent {
    pub person: String,
    /// Coordinators may read this person's notes (false also when never given).
    pub coordinator_notes: bool,
}

/// `POST /v1/coop/sealed-only` (coordinators): the coop takes only sealed blobs from now
/// on, and only key registrations with a join proof. `200` with this body once it is (all
/// counts zero); `409` while plaintext remains, with the counts in the error message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedOnlyResponse {
    pub sealed_only: bool,
    /// Non-revoked devices of the coop without registered keys (not upgraded yet).
    pub keyless_devices: u64,
    /// Blobs in the coop's log that are not sealed.
    pub plaintext_blobs: u64,
}

/// `POST /v1/migrate/own-plaintext` and `POST /v1/migrate/orphaned` (migration from
/// plaintext, docs/SECURITY.md): one page of documents, in document id order, after
/// `after` (a document id; absent: from the first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigratePageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Documents per page, at most [`MAX_MIGRATE_DOCS`] (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Most documents in one page of a migration listing.
pub const MAX_MIGRATE_DOCS: u32 = 200;
/// About the most blob bytes in one page of `POST /v1/migrate/own-plaintext` (a
/// document is never split: one bigger than this comes alone).
pub const MAX_MIGRATE_BYTES: usize = 4 * 1024 * 1024;

/// One document of a migration listing: its plaintext blobs (hex, in log order) and their
/// content ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrateDoc {
    pub doc: String,
    pub content_ids: Vec<String>,
    pub blobs: Vec<String>,
}

/// A page of a migration listing; `next` is the `after` of the next page, absent on the
/// last one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigratePageResponse {
    pub docs: Vec<MigrateDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `POST /v1/keys/wrapped`: scope keys wrapped for other devices of the coop, and device
/// certificates for the relay to hand out with `GET /v1/keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyDeliveryRequest {
    #[serde(default)]
    pub wrapped: Vec<WrappedKeyEntry>,
    #[serde(default)]
    pub certificates: Vec<CertificateEntry>,
}

/// `POST /v1/keys/wrapped/ack`: the caller holds these keys wrapped for it (hex SHA-256 of
/// each wrapped key's bytes, as listed by `GET /v1/keys`); the relay deletes them, so a
/// copy of its database taken later holds no wrapped key the device already opened
/// (docs/SECURITY.md, *Erasure*). Not a key event: the keys epoch does not move.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WrappedKeysAck {
    pub hashes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WrappedKeyEntry {
    /// The recipient's relay device id.
    pub to: String,
    /// Hex of the wrapped key.
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateEntry {
    /// The certified device's relay device id.
    pub device_id: String,
    /// Hex of the certificate.
    pub certificate: String,
}

/// Largest key-delivery body, in bytes.
pub const MAX_KEY_BODY_BYTES: usize = 2 * 1024 * 1024;

/// `POST /v1/invites` (coordinator).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteRequest {
    #[serde(flatten)]
    pub grant: Grant,
    /// Defaults to 72 hours; at most 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_hours: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteResponse {
    /// One-time join code, e.g. `K7QF-2M9X-T4PA`.
    pub code: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// `GET /v1/me`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeResponse {
    pub device_id: String,
    pub coop_id: String,
    pub coop_name: String,
    pub grant: Grant,
}

/// One row of `GET /v1/devices` (coordinator).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub name: String,
    pub grant: Grant,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(default)]
    pub last_seen_at: Option<i64>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevicesResponse {
    pub devices: Vec<DeviceInfo>,
}

/// `PUT /v1/consent/{person}` (the person's own worker device, or an assigned supporter).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsentRequest {
    pub coordinator_notes: bool,
}

/// `POST /v1/docs/delete`: erase a document and its history from the relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteDocRequest {
    pub doc: String,
    /// Opaque tags of the document (docs/SECURITY.md, *Erasure*): a keyed hash of its id
    /// under each version of its scope's key the erasing device holds. With tags the relay
    /// keeps only the scope and the tags in the tombstone, never the id, and hands them out
    /// in [`PullResponse::erased`]; without (a device that holds no keys) the tombstone
    /// names the document as before, in [`PullResponse::deleted`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// At most this many tags in one [`DeleteDocRequest`].
pub const MAX_ERASURE_TAGS: usize = 8;

/// Is this a well-formed erasure tag: `<version>.<64 lowercase hex>`?
pub fn valid_erasure_tag(tag: &str) -> bool {
    let Some((version, mac)) = tag.split_once('.') else {
        return false;
    };
    !version.is_empty()
        && version.len() <= 10
        && version.bytes().all(|b| b.is_ascii_digit())
        && mac.len() == 64
        && mac.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An erasure the relay knows only by scope and opaque tags ([`DeleteDocRequest::tags`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedDoc {
    pub scope: String,
    pub tags: Vec<String>,
}

/// Every 4xx/5xx body. `message` never contains personal data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

// ---------- CBOR bulk bodies ----------

/// `POST /v1/push`, `Content-Type: application/cbor`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PushRequest {
    pub docs: Vec<PushDoc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushDoc {
    pub doc: String,
    /// Sealed blobs (an automerge chunk encrypted to the scope's key and signed by the
    /// pushing device, docs/SECURITY.md), or plain automerge chunks from a device that
    /// registered no keys (before end-to-end encryption). Any order loads.
    pub blobs: Vec<serde_bytes::ByteBuf>,
    /// Content ids of this document's blobs that the new blobs make redundant
    /// (compaction). The relay removes them after storing the new ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supersedes: Vec<String>,
    /// Id of the scope key the blobs are encrypted under; absent for plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// New blobs appended to the log.
    pub stored: u32,
    /// Blobs the relay already held (same content id): no-ops.
    pub duplicates: u32,
    /// Blobs for documents that were deleted (erased): dropped, never resurrected.
    pub discarded: u32,
    /// The log's last sequence number once this push was stored: every blob of it (new
    /// or already held) sits at or below it. The device sends the highest it has seen as
    /// `own_through` on its pulls, so that it never downloads what it pushed. Absent from
    /// older relays (the device then pulls its own blobs back, as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
}

/// `GET /v1/pull?after=<cursor>&limit=<n>[&own_through=<seq>]` returns this as CBOR.
/// With `own_through`, blobs the pulling device pushed itself at or below that sequence
/// number are left out (it holds them already); tombstones never are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PullResponse {
    /// Blobs after the cursor that this device may read, grouped by document in
    /// log order of each document's first entry.
    pub docs: Vec<PulledDoc>,
    /// Documents erased after the cursor (in scopes this device may read): delete them.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// Documents erased after the cursor, named only by scope and opaque tags: a device
    /// erases the document of that scope whose tag it computes to one of them. Absent from
    /// relays older than opaque tombstones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<ErasedDoc>,
    /// The cursor to send next time.
    pub next: u64,
    /// More entries wait after `next`: pull again at once.
    pub more: bool,
    /// People whose notes this device may read now. A coordinator whose access was
    /// withdrawn (consent revoked) forgets note documents of anyone not listed.
    #[serde(default)]
    pub notes_readable: Vec<String>,
    /// The coop's keys epoch: a counter the relay bumps with every key event (a device
    /// registered its keys, keys or certificates were delivered, a device was revoked).
    /// A client that completed a key round at this epoch has nothing to learn from
    /// `GET /v1/keys`; any other value means it should run one. Absent from relays older
    /// than the epoch (clients then run the key round every sync, as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_epoch: Option<u64>,
    /// The relay's log generation: an id that changes only when the relay's log was
    /// restored from a backup and may have lost entries devices had already pulled. A
    /// device that last pulled under another generation starts again from cursor 0 and
    /// pushes its documents again (docs/PROTOCOL.md, "Log generation"). Absent from
    /// relays older than generations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PulledDoc {
    pub doc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub blobs: Vec<serde_bytes::ByteBuf>,
}

/// Encode a bulk body as CBOR.
pub fn to_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail for these plain types.
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec");
    out
}

/// Decode a bulk body from CBOR.
pub fn from_cbor<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    ciborium::from_reader(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_round_trips_and_doc_ids_name_their_scope() {
        for s in [
            "directory",
            "site:s-1",
            "timesheet:p-1",
            "review:p-1",
            "records:p_2",
            "notes:p-3",
        ] {
            assert_eq!(Scope::parse(s).map(|x| x.to_string()), Ok(s.to_string()));
        }
        assert_eq!(
            Scope::of_doc("timesheet:p-1/2026-11/dev-9"),
            Ok(Scope::Timesheet("p-1".into()))
        );
        assert_eq!(Scope::of_doc("directory/main"), Ok(Scope::Directory));
        assert!(Scope::of_doc("directory").is_err());
        assert!(Scope::of_doc("notes:p-1//x").is_err());
        assert!(Scope::of_doc("notes:p 1/x").is_err());
        assert!(Scope::of_doc("secrets:p-1/x").is_err());
        assert!(Scope::of_doc(&format!("notes:p/{}", "x".repeat(300))).is_err());
    }

    #[test]
    fn pull_response_survives_cbor() {
        let r = PullResponse {
            docs: vec![PulledDoc {
                doc: "notes:p/t".into(),
                key: None,
                blobs: vec![serde_bytes::ByteBuf::from(vec![1, 2, 3])],
            }],
            deleted: vec!["notes:p/old".into()],
            erased: vec![ErasedDoc {
                scope: "records:p".into(),
                tags: vec![format!("1.{}", "ab".repeat(32))],
            }],
            next: 7,
            more: false,
            notes_readable: vec!["p".into()],
            keys_epoch: Some(3),
            generation: Some("g1".into()),
        };
        let back: PullResponse = from_cbor(&to_cbor(&r)).expect("round trip");
        assert_eq!(back.docs[0].blobs[0].as_ref(), &[1, 2, 3]);
        assert_eq!(back.next, 7);
        assert_eq!(back.keys_epoch, Some(3));
        assert_eq!(back.generation.as_deref(), Some("g1"));
        assert_eq!(back.erased, r.erased);
        assert!(back.erased[0].tags.iter().all(|t| valid_erasure_tag(t)));
        assert!(!valid_erasure_tag("records:p/cpo/o-1"));
        assert!(!valid_erasure_tag(&format!("1.{}", "AB".repeat(32))));
        assert!(!valid_erasure_tag(&format!(".{}", "ab".repeat(32))));
        // A relay older than the keys epoch (or the generation) sends none: the client
        // reads `None`.
        let old = PullResponse {
            keys_epoch: None,
            generation: None,
            ..r
        };
        let back: PullResponse = from_cbor(&to_cbor(&old)).expect("round trip");
        assert_eq!(back.keys_epoch, None);
        assert_eq!(back.generation, None);
    }
}
