//! Storage behind a small trait with two backends, chosen by [`Database`].
//! [`SqliteStore`] is the default: one file `relay.sqlite3` under the data
//! directory, WAL, `synchronous=FULL` (a push is committed and fsynced before the relay
//! answers), one writer connection behind a mutex and a small pool of readers.
//! [`PgStore`] (`postgres.rs`) keeps everything in one PostgreSQL database, so several
//! relay processes can serve the same coops.
//!
//! Every method is blocking: the HTTP layer calls them from `spawn_blocking`.

use crate::access::ReadFilter;
use crate::credentials::Hash;
use crate::error::RelayError;
use logbook_protocol::{DeviceInfo, Grant, PullResponse, PulledDoc, PushResponse};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

mod database;
pub mod postgres;
pub use database::Database;
pub use postgres::{PgStore, PgTarget};

/// File name of the SQLite database inside the data directory.
pub const DB_FILE: &str = "relay.sqlite3";

/// A device as the auth layer needs it.
#[derive(Debug, Clone)]
pub struct DeviceRecord {
    pub device_id: String,
    pub coop_id: String,
    pub coop_name: String,
    pub grant: Grant,
    /// SHA-256 of the device secret.
    pub token_hash: Vec<u8>,
    pub last_seen_at: Option<i64>,
    pub revoked: bool,
    /// The device's registered public keys (`DevicePublicKeys` storage form), if any. A
    /// device with keys may push only blobs sealed and signed by those keys.
    pub public_keys: Option<Vec<u8>>,
}

/// What registering a device's public keys did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysSet {
    Stored,
    /// The same keys were already registered: a retried request.
    AlreadySet,
    /// Other keys are registered for this device, or another device of the coop uses
    /// the same key id: keys never change.
    Conflict,
}

/// One device's keys as `GET /v1/keys` lists them.
#[derive(Debug, Clone)]
pub struct DeviceKeysRow {
    pub device_id: String,
    pub public_keys: Vec<u8>,
    pub proof: Option<Vec<u8>>,
    pub certificates: Vec<Vec<u8>>,
    pub revoked: bool,
}

/// What `GET /v1/keys` answers one device.
#[derive(Debug, Clone)]
pub struct KeysListing {
    /// Every device of the coop with registered keys.
    pub devices: Vec<DeviceKeysRow>,
    /// The wrapped keys addressed to the caller, oldest first.
    pub wrapped: Vec<Vec<u8>>,
    /// The coop's keys epoch, read before the rest.
    pub epoch: u64,
}

/// What keeps a coop from being "sealed only" ([`RelayStore::set_sealed_only`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlaintextLeft {
    /// Non-revoked devices that registered no public keys (clients from before end-to-end
    /// encryption, or not upgraded yet).
    pub keyless_devices: u64,
    /// Blobs in the coop's log that are not sealed (do not start with the sealed format's
    /// first byte, `0xE5`).
    pub plaintext_blobs: u64,
}

impl PlaintextLeft {
    pub fn is_empty(&self) -> bool {
        self.keyless_devices == 0 && self.plaintext_blobs == 0
    }
}

/// The `relay_meta` key that marks a coop "sealed only". Kept there (a key-value table
/// both backends already have) rather than in a new column: no schema step.
pub(crate) fn sealed_only_key(coop_id: &str) -> String {
    format!("sealed_only:{coop_id}")
}

/// Counting plaintext blobs: a sealed blob's first byte is `0xE5` (`logbook_crypto::classify`);
/// anything else (a legacy automerge chunk, garbage) counts as plaintext.
pub(crate) const SEALED_FIRST_BYTE: u8 = 0xE5;

/// One document of a migration listing ([`RelayStore::own_plaintext`],
/// [`RelayStore::orphaned_plaintext`]): `(content id, bytes)` of its plaintext blobs in
/// log order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaintextDoc {
    pub doc: String,
    pub blobs: Vec<(String, Option<Vec<u8>>)>,
}

/// Groups `(doc, content id, bytes)` rows, sorted by document then seq, into one page of
/// whole documents: at most `limit` of them, stopping after the document that reaches
/// `max_bytes` (one bigger than that comes alone). Returns the page and whether more
/// documents follow. The same for every backend.
pub(crate) fn plaintext_page(
    rows: impl IntoIterator<Item = (String, String, Option<Vec<u8>>)>,
    limit: u32,
    max_bytes: usize,
) -> (Vec<PlaintextDoc>, bool) {
    let mut out: Vec<PlaintextDoc> = Vec::new();
    let mut bytes = 0usize;
    for (doc, content_id, data) in rows {
        if out.last().is_none_or(|d| d.doc != doc) {
            if out.len() >= limit as usize || bytes >= max_bytes {
                return (out, true);
            }
            out.push(PlaintextDoc {
                doc,
                blobs: Vec::new(),
            });
        }
        bytes += data.as_ref().map_or(0, Vec::len);
        if let Some(last) = out.last_mut() {
            last.blobs.push((content_id, data));
        }
    }
    (out, false)
}

/// [`plaintext_page`] over SQLite rows `(doc, content id, data)`, read one by one: the
/// page stops early and the rest of the log is never loaded (one row past the page says
/// that more follow).
fn page_rows(
    rows: &mut rusqlite::Rows<'_>,
    limit: u32,
    max_bytes: usize,
) -> Result<(Vec<PlaintextDoc>, bool), RelayError> {
    let mut read: Vec<(String, String, Option<Vec<u8>>)> = Vec::new();
    let mut docs = 0usize;
    let mut bytes = 0usize;
    while let Some(r) = rows.next()? {
        let doc: String = r.get(0)?;
        if read.last().is_none_or(|(d, _, _)| *d != doc) {
            if docs >= limit as usize || bytes >= max_bytes {
                read.push((doc, String::new(), None));
                break;
            }
            docs += 1;
        }
        let data: Option<Vec<u8>> = r.get(2)?;
        bytes += data.as_ref().map_or(0, Vec::len);
        read.push((
            doc,
            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            data,
        ));
    }
    Ok(plaintext_page(read, limit, max_bytes))
}

/// A device created by redeeming a join code.
#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    pub device_id: &'a str,
    pub name: &'a str,
    pub token_hash: Hash,
}

/// What a redeemed join code grants.
#[derive(Debug, Clone)]
pub struct Joined {
    pub coop_id: String,
    pub coop_name: String,
    pub grant: Grant,
    /// The key envelope the inviter left for the code, if any.
    pub key_envelope: Option<Vec<u8>>,
}

/// One document of a push, already validated and authorised by the caller.
#[derive(Debug, Clone)]
pub struct CheckedDoc {
    pub doc: String,
    /// The scope string (`Scope::to_string()`), stored so pulls filter without parsing.
    pub scope: String,
    pub key: Option<String>,
    /// `(content_id, bytes)` for each blob.
    pub blobs: Vec<(String, Vec<u8>)>,
    pub supersedes: Vec<String>,
    /// Whether `supersedes` may remove blobs other devices pushed (the pusher may also
    /// delete documents of this scope). If not, it removes only the pusher's own blobs,
    /// so a device cannot erase someone else's entries from a shared document.
    pub supersede_any: bool,
    /// Whether `supersedes` may also remove plaintext blobs pushed by revoked devices that
    /// never registered keys (migration from plaintext: the pusher has keys and the coop is
    /// not sealed only; docs/SECURITY.md, custody).
    pub supersede_orphans: bool,
}

/// The relay's storage. Implementations must make a successful `push` durable before
/// returning, and must hand out strictly increasing, never reused sequence numbers that
/// become visible in order (a reader that sees seq N sees every seq below N).
pub trait RelayStore: Send + Sync + 'static {
    fn create_coop(&self, coop_id: &str, name: &str, now: i64) -> Result<(), RelayError>;
    fn coop_exists(&self, coop_id: &str) -> Result<bool, RelayError>;
    /// Stores a join code (its hash) and forgets codes that have expired.
    fn add_join_code(
        &self,
        coop_id: &str,
        grant: &Grant,
        code_hash: &Hash,
        expires_at: i64,
        now: i64,
    ) -> Result<(), RelayError>;
    /// Uses up a valid code and creates the device in one transaction. `None` if the code
    /// is unknown, used or expired.
    fn redeem_join_code(
        &self,
        code_hash: &Hash,
        device: NewDevice<'_>,
        now: i64,
    ) -> Result<Option<Joined>, RelayError>;
    fn device(&self, device_id: &str) -> Result<Option<DeviceRecord>, RelayError>;
    fn touch_device(&self, device_id: &str, now: i64) -> Result<(), RelayError>;
    fn list_devices(&self, coop_id: &str) -> Result<Vec<DeviceInfo>, RelayError>;
    /// Revokes a device; with `coop_id`, only if it belongs to that coop.
    /// `RelayError::NotFound` if there is no such device (in that coop).
    fn revoke_device(&self, coop_id: Option<&str>, device_id: &str) -> Result<(), RelayError>;
    fn set_consent(
        &self,
        coop_id: &str,
        person: &str,
        coordinator_notes: bool,
        now: i64,
    ) -> Result<(), RelayError>;
    /// People of the coop who allowed coordinators to read their notes, sorted.
    fn consented_people(&self, coop_id: &str) -> Result<Vec<String>, RelayError>;
    /// Stores a whole batch from `device_id` in one transaction (see docs/PROTOCOL.md,
    /// push).
    fn push(
        &self,
        coop_id: &str,
        device_id: &str,
        docs: Vec<CheckedDoc>,
    ) -> Result<PushResponse, RelayError>;
    /// Entries after `after` that `filter` allows, at most `limit` of them and about
    /// `max_bytes` of blob bytes. `notes_readable` is left empty for the caller. With
    /// `own = Some((device, through))`, blobs `device` pushed at or below seq `through`
    /// are left out (the device holds them); tombstones are always returned.
    fn pull(
        &self,
        coop_id: &str,
        filter: &ReadFilter,
        after: u64,
        own: Option<(&str, u64)>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<PullResponse, RelayError>;
    /// Erases a document (history included), leaves a tombstone entry, and refuses the
    /// document id forever after. With `tags` (opaque, docs/SECURITY.md *Erasure*) the
    /// tombstone holds the scope and the tags only ([`tombstone_entry`]), never the id.
    fn delete_doc(
        &self,
        coop_id: &str,
        doc: &str,
        scope: &str,
        tags: &[String],
        now: i64,
    ) -> Result<(), RelayError>;
    /// Records that a device has applied everything up to `cursor` (the `after` of its
    /// full pull). May be kept in memory until the next [`RelayStore::sweep_tombstones`].
    fn ack_cursor(&self, device_id: &str, cursor: u64);
    /// Removes tombstones that every non-revoked device of their coop has pulled past;
    /// returns how many. Erased documents stay refused (by hash).
    fn sweep_tombstones(&self) -> Result<usize, RelayError>;
    /// Records which device minted a join code, so that revoking it cancels the code.
    fn set_join_code_creator(&self, code_hash: &Hash, device_id: &str) -> Result<(), RelayError>;
    /// Leaves a key envelope with an unused, unexpired join code of `coop_id`. `false` if
    /// there is no such code.
    fn set_invite_envelope(
        &self,
        coop_id: &str,
        code_hash: &Hash,
        envelope: &[u8],
        now: i64,
    ) -> Result<bool, RelayError>;
    /// Registers a device's public keys (`key_id` is the id inside them, `fingerprint`
    /// identifies the key pair) and join proof.
    fn set_device_keys(
        &self,
        coop_id: &str,
        device_id: &str,
        key_id: &str,
        fingerprint: &[u8],
        public_keys: &[u8],
        proof: Option<&[u8]>,
    ) -> Result<KeysSet, RelayError>;
    /// Every device of the coop with registered keys, the wrapped keys addressed to
    /// `recipient` (oldest first), and the coop's keys epoch as of before both were read.
    fn device_keys(&self, coop_id: &str, recipient: &str) -> Result<KeysListing, RelayError>;
    /// Stores wrapped keys `(recipient device id, bytes)` and certificates `(device id,
    /// bytes)` in one transaction. `RelayError::NotFound` if a device is not of the coop.
    fn deliver_keys(
        &self,
        coop_id: &str,
        wrapped: &[(String, Vec<u8>)],
        certificates: &[(String, Vec<u8>)],
    ) -> Result<(), RelayError>;
    /// Whether the coop is "sealed only" (docs/SECURITY.md, Migration from plaintext): it
    /// takes no plaintext blob and no key registration without a join proof.
    fn sealed_only(&self, coop_id: &str) -> Result<bool, RelayError>;
    /// Makes the coop "sealed only" if nothing plaintext stands in the way: no
    /// non-revoked device without registered keys, no blob in its log that is not sealed.
    /// Returns what stands in the way (all zero: it is sealed only now, or was already),
    /// counted and, if zero, switched in one transaction.
    fn set_sealed_only(&self, coop_id: &str) -> Result<PlaintextLeft, RelayError>;
    /// Migration from plaintext (docs/SECURITY.md): a page of the documents holding
    /// plaintext blobs that `device_id` pushed itself, in document id order after `after`,
    /// with those blobs (bytes included) in log order. Returns the page and whether more
    /// follow. See [`plaintext_page`] for `limit` and `max_bytes`.
    fn own_plaintext(
        &self,
        coop_id: &str,
        device_id: &str,
        after: Option<&str>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<PlaintextDoc>, bool), RelayError>;
    /// Migration from plaintext: a page of the documents holding plaintext blobs pushed by
    /// revoked devices that never registered keys, with those blobs, in document id order
    /// after `after`. Returns the page and whether more follow.
    fn orphaned_plaintext(
        &self,
        coop_id: &str,
        after: Option<&str>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<PlaintextDoc>, bool), RelayError>;
    /// Whether coordinator `device_id` may push a custody re-seal into `doc`, a document
    /// named for the device `owner` (its key id): only while the coop is not sealed only,
    /// if no live device registered `owner` as its key id, and if the blobs of `doc` that
    /// others pushed all come from revoked devices without keys (at least one).
    fn custody_allowed(
        &self,
        coop_id: &str,
        doc: &str,
        owner: &str,
        device_id: &str,
    ) -> Result<bool, RelayError>;
    /// Deletes the wrapped keys addressed to `recipient` with these SHA-256 hashes (it
    /// holds them now); returns how many went. Their bytes are overwritten on disk.
    fn ack_wrapped(&self, recipient: &str, hashes: &[Vec<u8>]) -> Result<usize, RelayError>;
    /// The log generation: an id that changes whenever the log may have lost entries
    /// that devices already saw (a restore from a backup). Pull responses carry it; a
    /// device that sees it change pulls again from 0 and pushes its documents again
    /// (docs/PROTOCOL.md, "Log generation"). `None` for a store without one.
    fn log_generation(&self) -> Result<Option<String>, RelayError> {
        Ok(None)
    }
    /// Starts a new log generation (after a restore) and returns it.
    fn new_log_generation(&self) -> Result<String, RelayError> {
        Err(RelayError::Invalid("this store has no log generation"))
    }
}

/// Separates the scope from the tags in an opaque tombstone's `doc` column. Document ids
/// never hold `#` (`Scope::of_doc`), so a tombstone either names a document or is opaque.
const OPAQUE_TOMBSTONE: &str = "/#";

/// What a tombstone's `doc` column holds: the document id (an erasure without tags, from
/// a device that holds no keys), else `<scope>/#<tag>,<tag>…` (no id, docs/SECURITY.md
/// *Erasure*).
pub(crate) fn tombstone_entry(doc: &str, scope: &str, tags: &[String]) -> String {
    if tags.is_empty() {
        doc.to_string()
    } else {
        format!("{scope}{OPAQUE_TOMBSTONE}{}", tags.join(","))
    }
}

/// Assembles one pull page from log rows in sequence order, the same for every backend:
/// a document's blobs sealed to one key are grouped, tombstones listed once, and the page
/// stops after the entry that reaches `max_bytes` (a row bigger than that still goes,
/// alone).
pub(crate) struct PageBuilder {
    out: PullResponse,
    after: u64,
    limit: u32,
    max_bytes: usize,
    returned: u32,
    bytes: usize,
    last_seq: i64,
    cut_short: bool,
    slot: HashMap<(String, Option<String>), usize>,
}

impl PageBuilder {
    pub(crate) fn new(after: u64, limit: u32, max_bytes: usize) -> PageBuilder {
        PageBuilder {
            out: PullResponse {
                next: after,
                ..PullResponse::default()
            },
            after,
            limit,
            max_bytes,
            returned: 0,
            bytes: 0,
            last_seq: i64::try_from(after).unwrap_or(i64::MAX),
            cut_short: false,
            slot: HashMap::new(),
        }
    }

    /// Adds one log row; returns `false` once the page is full (stop reading rows).
    pub(crate) fn add(
        &mut self,
        seq: i64,
        doc: String,
        kind: &str,
        key: Option<String>,
        data: Option<Vec<u8>>,
    ) -> bool {
        self.returned += 1;
        self.last_seq = seq;
        if kind == "tombstone" {
            match doc.split_once(OPAQUE_TOMBSTONE) {
                Some((scope, tags)) => self.out.erased.push(logbook_protocol::ErasedDoc {
                    scope: scope.to_string(),
                    tags: tags.split(',').map(str::to_string).collect(),
                }),
                None => {
                    if !self.out.deleted.contains(&doc) {
                        self.out.deleted.push(doc);
                    }
                }
            }
        } else {
            let data = data.unwrap_or_default();
            self.bytes += data.len();
            let blob = serde_bytes::ByteBuf::from(data);
            match self.slot.get(&(doc.clone(), key.clone())) {
                Some(&i) => self.out.docs[i].blobs.push(blob),
                None => {
                    self.slot
                        .insert((doc.clone(), key.clone()), self.out.docs.len());
                    self.out.docs.push(PulledDoc {
                        doc,
                        key,
                        blobs: vec![blob],
                    });
                }
            }
        }
        if self.bytes >= self.max_bytes {
            self.cut_short = true;
            return false;
        }
        true
    }

    /// Whether more entries may follow this page (it was cut short or filled up).
    pub(crate) fn more(&self) -> bool {
        self.cut_short || self.returned >= self.limit
    }

    /// The finished page. `log_end`: the coop's log end in the same snapshot, asked only
    /// when the page is the last one: nothing readable is left up to it, so the cursor may
    /// skip the unreadable entries too and the next pull starts where the log ends now.
    pub(crate) fn finish(
        mut self,
        keys_epoch: u64,
        log_end: impl FnOnce() -> Result<i64, RelayError>,
    ) -> Result<PullResponse, RelayError> {
        self.out.keys_epoch = Some(keys_epoch);
        self.out.more = self.more();
        self.out.next = if self.out.more {
            self.last_seq as u64
        } else {
            self.after.max(log_end()?.max(0) as u64)
        };
        Ok(self.out)
    }
}

// ---------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------

/// Schema version written by this relay.
const END_VERSION: i64 = 5;
/// The SQLite schema version this relay writes (and the newest it opens).
pub const SCHEMA_VERSION: i64 = END_VERSION;
/// Reader connections kept open.
/// Reader connections, at most; a reader waits when all are busy (the machine has
/// few cores, and opening extra connections under load costs more than waiting).
const READERS: usize = 4;

const SCHEMA_V1: &str = "
CREATE TABLE coops (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    coop          TEXT NOT NULL REFERENCES coops(id),
    name          TEXT NOT NULL,
    grant_json    TEXT NOT NULL,
    token_hash    BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER,
    revoked       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_coop ON devices(coop);
CREATE TABLE join_codes (
    code_hash   BLOB PRIMARY KEY,
    coop        TEXT NOT NULL REFERENCES coops(id),
    grant_json  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE TABLE consents (
    coop               TEXT NOT NULL REFERENCES coops(id),
    person             TEXT NOT NULL,
    coordinator_notes  INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (coop, person)
) WITHOUT ROWID;
-- The log. AUTOINCREMENT: a deleted entry's seq is never handed out again, so a cursor
-- never skips a later entry. `data` is last so filtering never reads blob pages.
CREATE TABLE log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    coop        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    doc         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('blob', 'tombstone')),
    content_id  TEXT,
    key         TEXT,
    device      TEXT,  -- who pushed a blob: supersedes may only remove one's own
    data        BLOB
);
-- Pull: range scan on (coop, seq) with the scope test answered from the index.
CREATE INDEX log_coop_seq ON log(coop, seq, scope);
-- Idempotent push and supersedes; tombstones have a NULL content id.
CREATE UNIQUE INDEX log_blob ON log(coop, doc, content_id);
CREATE TABLE deleted_docs (
    coop        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    deleted_at  INTEGER NOT NULL,
    PRIMARY KEY (coop, doc)
) WITHOUT ROWID;
";

/// v2: stored blob bytes per (coop, pushing device), kept up to date by push, supersedes
/// and erasure, so quotas cost one indexed read instead of summing the log.
const SCHEMA_V2: &str = "
CREATE TABLE usage (
    coop    TEXT NOT NULL,
    device  TEXT NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (coop, device)
) WITHOUT ROWID;
INSERT INTO usage (coop, device, bytes)
    SELECT coop, coalesce(device, ''), sum(length(data)) FROM log
    WHERE kind = 'blob' GROUP BY coop, coalesce(device, '');
-- The last cursor each device acknowledged (the `after` of a full pull): tombstones at or
-- below every non-revoked device's cursor are swept.
ALTER TABLE devices ADD COLUMN acked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX log_tombstones ON log(coop, seq) WHERE kind = 'tombstone';
-- Erased documents by SHA-256 of their id: keeps later pushes to them discarded after
-- their tombstone is swept, without keeping the id (it can name a person and a thread).
CREATE TABLE erased_docs (
    coop        TEXT NOT NULL,
    doc_hash    BLOB NOT NULL,
    deleted_at  INTEGER NOT NULL,
    PRIMARY KEY (coop, doc_hash)
) WITHOUT ROWID;
";

/// v3: end-to-end encryption (docs/SECURITY.md). Devices' public keys and join proofs, the
/// key envelopes inviters leave with join codes, device certificates, and scope keys
/// wrapped for one device. None of it is secret from the relay's point of view: the
/// envelopes and wrapped keys are sealed to keys the relay never holds.
const SCHEMA_V3: &str = "
ALTER TABLE devices ADD COLUMN public_keys BLOB;
ALTER TABLE devices ADD COLUMN key_id TEXT;
ALTER TABLE devices ADD COLUMN join_proof BLOB;
-- SHA-256 of the signing and encryption keys. A key id (the id that names a device's own
-- documents) belongs to one key pair per coop: a device cannot claim another's documents
-- by registering its key id with other keys. The same keys again (a store that left the
-- relay and joined again) are fine: only their holder can sign with them.
ALTER TABLE devices ADD COLUMN key_fingerprint BLOB;
CREATE INDEX devices_key_id ON devices(coop, key_id) WHERE key_id IS NOT NULL;
ALTER TABLE join_codes ADD COLUMN key_envelope BLOB;
-- The device that minted a code: revoking it cancels its unused codes (a stolen laptop's
-- open invites must not let anyone join later).
ALTER TABLE join_codes ADD COLUMN created_by TEXT;
CREATE TABLE certificates (
    device  TEXT NOT NULL,
    hash    BLOB NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (device, hash)
) WITHOUT ROWID;
CREATE TABLE wrapped_keys (
    id         INTEGER PRIMARY KEY,
    recipient  TEXT NOT NULL,
    hash       BLOB NOT NULL,
    data       BLOB NOT NULL
);
CREATE UNIQUE INDEX wrapped_keys_recipient ON wrapped_keys(recipient, hash);
";

/// v4: the keys epoch (docs/PROTOCOL.md, pull): a per-coop counter bumped in the same
/// transaction as every key event, so a device learns from its pull whether
/// `GET /v1/keys` has anything new for it. No row means epoch 0.
const SCHEMA_V4: &str = "
CREATE TABLE keys_epochs (
    coop   TEXT PRIMARY KEY,
    epoch  INTEGER NOT NULL
) WITHOUT ROWID;
";

/// v5: relay-wide settings; for now the log generation (see
/// `RelayStore::log_generation`), a random id set at creation and replaced by a restore.
const SCHEMA_V5: &str = "
CREATE TABLE relay_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
";

/// A fresh random log generation id (128 bits, hex).
pub(crate) fn new_generation_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

fn set_generation(conn: &Connection, generation: &str) -> Result<(), RelayError> {
    conn.execute(
        "INSERT INTO relay_meta (key, value) VALUES ('log_generation', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [generation],
    )?;
    Ok(())
}

/// Bumps the keys epoch of `coop_id` (inside the caller's transaction).
fn bump_keys_epoch(conn: &Connection, coop_id: &str) -> Result<(), RelayError> {
    conn.prepare_cached(
        "INSERT INTO keys_epochs (coop, epoch) VALUES (?1, 1)
         ON CONFLICT (coop) DO UPDATE SET epoch = epoch + 1",
    )?
    .execute([coop_id])?;
    Ok(())
}

/// The keys epoch of `coop_id` (0 before its first key event).
fn keys_epoch(conn: &Connection, coop_id: &str) -> Result<u64, RelayError> {
    let epoch: Option<i64> = conn
        .prepare_cached("SELECT epoch FROM keys_epochs WHERE coop = ?1")?
        .query_row([coop_id], |r| r.get(0))
        .optional()?;
    Ok(epoch.unwrap_or(0).max(0) as u64)
}

/// The key under which an erased document id is remembered.
fn doc_hash(doc: &str) -> crate::credentials::Hash {
    crate::credentials::sha256(doc.as_bytes())
}

/// Storage quotas on stored blob bytes; `0` means no quota.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quotas {
    pub coop_bytes: u64,
    pub device_bytes: u64,
}

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: ReaderPool,
    /// Pushes queued for the next group commit.
    pending: Mutex<Vec<Arc<PushJob>>>,
    quotas: Quotas,
    /// Acknowledged pull cursors not yet written (a pull must not cost a write); lost on
    /// a crash, which only delays a sweep.
    acks: Mutex<HashMap<String, u64>>,
    /// An erasure's WAL checkpoint could not finish yet (readers were busy); a
    /// background thread retries until it does. Shared with that thread.
    erasure_pending: Arc<std::sync::atomic::AtomicBool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock rolled its transaction back (Transaction's Drop);
    // the connection itself is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn configure(conn: &Connection) -> Result<(), RelayError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(())
}

fn grant_to_json(grant: &Grant) -> Result<String, RelayError> {
    serde_json::to_string(grant).map_err(|_| RelayError::Invalid("grant"))
}

fn grant_from_json(s: &str) -> Result<Grant, RelayError> {
    serde_json::from_str(s).map_err(|_| RelayError::Corrupt("grant"))
}

/// Idle reader connections and how many are open in all.
#[derive(Default)]
struct ReaderPool {
    idle: Mutex<(Vec<Connection>, usize)>,
    freed: std::sync::Condvar,
}

/// A reader connection borrowed from the pool, given back on drop.
struct Reader<'a> {
    conn: Option<Connection>,
    pool: &'a ReaderPool,
}

impl Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("reader present until drop")
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("reader present until drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            lock(&self.pool.idle).0.push(conn);
            self.pool.freed.notify_one();
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `relay.sqlite3` in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, RelayError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut writer = Connection::open(&path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        configure(&writer)?;
        migrate(&mut writer)?;
        // A relay stopped while an erasure's checkpoint was pending left old page images
        // in the WAL: fold them into the main file (zeroed there) and empty the WAL now.
        if let Err(e) = truncate_wal(&writer) {
            tracing::warn!(error = %e, "could not empty the WAL at start; will retry after the next erasure");
        }
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: ReaderPool::default(),
            pending: Mutex::new(Vec::new()),
            quotas: Quotas::default(),
            acks: Mutex::default(),
            erasure_pending: Arc::default(),
        })
    }

    /// The same store with storage quotas enforced on push.
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// Whether an erasure's WAL checkpoint is still waiting for busy readers (old page
    /// images of erased blobs may still be in the `-wal` file until it runs).
    pub fn erasure_checkpoint_pending(&self) -> bool {
        self.erasure_pending
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// After an erasure: checkpoint and truncate the WAL, or, if readers keep it busy,
    /// hand the job to a background thread that retries until it succeeds. Never
    /// silently gives up: an erased note must not stay readable in the `-wal` file.
    fn checkpoint_after_erasure(&self, conn: &Connection) {
        use std::sync::atomic::Ordering;
        // Wait only briefly here: the writer lock is held, and the retry thread waits
        // longer without holding it.
        let _ = conn.busy_timeout(std::time::Duration::from_millis(200));
        let done = truncate_wal(conn);
        let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
        match done {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "erasure checkpoint postponed; retrying in the background")
            }
        }
        if self.erasure_pending.swap(true, Ordering::SeqCst) {
            return; // a retry thread is already running; it will cover this erasure too
        }
        let (path, pending) = (self.path.clone(), self.erasure_pending.clone());
        let spawned = std::thread::Builder::new()
            .name("erasure-checkpoint".into())
            .spawn(move || {
                let mut wait = std::time::Duration::from_millis(50);
                loop {
                    std::thread::sleep(wait);
                    let attempt = Connection::open(&path)
                        .map_err(RelayError::from)
                        .and_then(|c| {
                            c.busy_timeout(std::time::Duration::from_secs(1))?;
                            truncate_wal(&c)
                        });
                    match attempt {
                        Ok(()) => {
                            pending.store(false, Ordering::SeqCst);
                            tracing::info!("postponed erasure checkpoint done");
                            return;
                        }
                        Err(e) if wait >= std::time::Duration::from_secs(5) => {
                            tracing::warn!(error = %e, "erasure checkpoint still postponed");
                        }
                        Err(_) => {}
                    }
                    wait = (wait * 2).min(std::time::Duration::from_secs(5));
                }
            });
        if let Err(e) = spawned {
            // Next erasure (or the next start) tries again.
            self.erasure_pending.store(false, Ordering::SeqCst);
            tracing::error!(error = %e, "could not start the erasure checkpoint thread");
        }
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> Result<Reader<'_>, RelayError> {
        let pool = &self.readers;
        let mut idle = lock(&pool.idle);
        loop {
            if let Some(conn) = idle.0.pop() {
                return Ok(Reader {
                    conn: Some(conn),
                    pool,
                });
            }
            if idle.1 < READERS {
                idle.1 += 1;
                drop(idle);
                return match self.open_reader() {
                    Ok(conn) => Ok(Reader {
                        conn: Some(conn),
                        pool,
                    }),
                    Err(e) => {
                        lock(&pool.idle).1 -= 1;
                        pool.freed.notify_one();
                        Err(e)
                    }
                };
            }
            idle = pool.freed.wait(idle).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn open_reader(&self) -> Result<Connection, RelayError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        lock(&self.writer)
    }
}

/// Copies every WAL frame into the main file and truncates the WAL to zero bytes. An
/// error if readers kept it from finishing (SQLite then reports the checkpoint busy).
fn truncate_wal(conn: &Connection) -> Result<(), RelayError> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        return Err(RelayError::Io(std::io::Error::other(
            "WAL checkpoint blocked by readers",
        )));
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), RelayError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > END_VERSION {
        return Err(RelayError::NewerSchema(version));
    }
    if version < 1 {
        tx.execute_batch(SCHEMA_V1)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_V2)?;
        // v1 kept erased document ids in clear; keep only their hashes.
        let erased: Vec<(String, String, i64)> = tx
            .prepare("SELECT coop, doc, deleted_at FROM deleted_docs")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (coop, doc, at) in erased {
            tx.execute(
                "INSERT OR IGNORE INTO erased_docs (coop, doc_hash, deleted_at) VALUES (?1, ?2, ?3)",
                params![coop, doc_hash(&doc).as_slice(), at],
            )?;
        }
        tx.execute_batch("DROP TABLE deleted_docs")?;
    }
    if version < 3 {
        tx.execute_batch(SCHEMA_V3)?;
    }
    if version < 4 {
        tx.execute_batch(SCHEMA_V4)?;
    }
    if version < 5 {
        tx.execute_batch(SCHEMA_V5)?;
        set_generation(&tx, &new_generation_id())?;
    }
    // Later versions: `if version < 6 { ... }`, each step in this same transaction.
    if version < END_VERSION {
        tx.pragma_update(None, "user_version", END_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

/// A push waiting for the writer connection (see `SqliteStore::push`).
struct PushJob {
    coop_id: String,
    device_id: String,
    docs: Vec<CheckedDoc>,
    quotas: Quotas,
    result: Mutex<Option<Result<PushResponse, RelayError>>>,
}

/// Commits a batch of pushes in one transaction, each in its own savepoint so that one
/// failing push leaves the others intact. The outer error means nothing was committed.
fn commit_pushes(
    conn: &mut Connection,
    batch: &[Arc<PushJob>],
) -> Result<Vec<Result<PushResponse, RelayError>>, RelayError> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let sp = tx.savepoint()?;
        let r = append_push(&sp, &job.coop_id, &job.device_id, &job.docs, job.quotas);
        if r.is_ok() {
            sp.commit()?;
        } // else: dropping the savepoint rolls this push back.
        results.push(r);
    }
    tx.commit()?;
    Ok(results)
}

/// Adds `delta` (may be negative) to a device's stored bytes.
fn add_usage(conn: &Connection, coop_id: &str, device: &str, delta: i64) -> Result<(), RelayError> {
    if delta != 0 {
        conn.prepare_cached(
            "INSERT INTO usage (coop, device, bytes) VALUES (?1, ?2, ?3)
             ON CONFLICT (coop, device) DO UPDATE SET bytes = bytes + excluded.bytes",
        )?
        .execute(params![coop_id, device, delta])?;
    }
    Ok(())
}

/// Refuses a push that grows the coop's or the device's stored bytes past its quota. A
/// push that frees more than it adds (compaction) always passes, even over quota.
fn check_quotas(
    conn: &Connection,
    coop_id: &str,
    device_id: &str,
    quotas: Quotas,
) -> Result<(), RelayError> {
    let over = |used: i64, quota: u64| quota > 0 && used > i64::try_from(quota).unwrap_or(i64::MAX);
    let device: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(bytes), 0) FROM usage WHERE coop = ?1 AND device = ?2",
        )?
        .query_row(params![coop_id, device_id], |r| r.get(0))?;
    if over(device, quotas.device_bytes) {
        return Err(RelayError::QuotaExceeded(
            "this device's storage quota on the relay is full",
        ));
    }
    let coop: i64 = conn
        .prepare_cached("SELECT coalesce(sum(bytes), 0) FROM usage WHERE coop = ?1")?
        .query_row([coop_id], |r| r.get(0))?;
    if over(coop, quotas.coop_bytes) {
        return Err(RelayError::QuotaExceeded(
            "the coop's storage quota on the relay is full",
        ));
    }
    Ok(())
}

/// Appends one validated push inside the caller's transaction.
fn append_push(
    conn: &Connection,
    coop_id: &str,
    device_id: &str,
    docs: &[CheckedDoc],
    quotas: Quotas,
) -> Result<PushResponse, RelayError> {
    // The credential was checked before the push was queued; a revocation committed
    // since then (a stolen phone, revoked while its upload was in flight) must win.
    let revoked = conn
        .prepare_cached("SELECT revoked FROM devices WHERE id = ?1")?
        .query_row([device_id], |r| r.get::<_, bool>(0))
        .optional()?;
    if revoked == Some(true) {
        return Err(RelayError::Revoked);
    }
    let mut out = PushResponse::default();
    // Stored bytes gained by this device and lost by each device whose blob was
    // superseded, applied to `usage` at the end.
    let mut added_bytes: i64 = 0;
    let mut freed: HashMap<String, i64> = HashMap::new();
    let mut is_deleted =
        conn.prepare_cached("SELECT 1 FROM erased_docs WHERE coop = ?1 AND doc_hash = ?2")?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO log (coop, scope, doc, kind, content_id, key, device, data)
         VALUES (?1, ?2, ?3, 'blob', ?4, ?5, ?6, ?7)",
    )?;
    let mut remove = conn.prepare_cached(
        "DELETE FROM log WHERE coop = ?1 AND doc = ?2 AND content_id = ?3 AND kind = 'blob'
         AND (?4 OR device = ?5 OR (?6 AND substr(data, 1, 1) IS NOT ?7
              AND device IN (SELECT id FROM devices
                             WHERE coop = ?1 AND revoked AND public_keys IS NULL)))
         RETURNING coalesce(device, ''), length(data)",
    )?;
    for doc in docs {
        if is_deleted.exists(params![coop_id, doc_hash(&doc.doc).as_slice()])? {
            out.discarded += doc.blobs.len() as u32;
            continue;
        }
        for (content_id, bytes) in &doc.blobs {
            let added = insert.execute(params![
                coop_id, doc.scope, doc.doc, content_id, doc.key, device_id, bytes
            ])?;
            if added == 1 {
                out.stored += 1;
                added_bytes += bytes.len() as i64;
            } else {
                out.duplicates += 1;
            }
        }
        for old in &doc.supersedes {
            // Never remove what this very push names as current.
            if doc.blobs.iter().any(|(id, _)| id == old) {
                continue;
            }
            let mut rows = remove.query(params![
                coop_id,
                doc.doc,
                old,
                doc.supersede_any,
                device_id,
                doc.supersede_orphans,
                vec![SEALED_FIRST_BYTE]
            ])?;
            while let Some(row) = rows.next()? {
                let owner: String = row.get(0)?;
                let len: Option<i64> = row.get(1)?;
                *freed.entry(owner).or_default() += len.unwrap_or(0);
            }
        }
    }
    let own_freed = freed.remove(device_id).unwrap_or(0);
    add_usage(conn, coop_id, device_id, added_bytes - own_freed)?;
    for (owner, bytes) in &freed {
        add_usage(conn, coop_id, owner, -bytes)?;
    }
    if added_bytes > own_freed + freed.values().sum::<i64>() {
        check_quotas(conn, coop_id, device_id, quotas)?;
    }
    // Every blob of this push (stored now or held already) is at or below the log's end.
    let end: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM log WHERE coop = ?1")?
        .query_row([coop_id], |r| r.get(0))?;
    out.last_seq = end.map(|e| e.max(0) as u64);
    Ok(out)
}

fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl RelayStore for SqliteStore {
    fn create_coop(&self, coop_id: &str, name: &str, now: i64) -> Result<(), RelayError> {
        self.writer().execute(
            "INSERT INTO coops (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![coop_id, name, now],
        )?;
        Ok(())
    }

    fn coop_exists(&self, coop_id: &str) -> Result<bool, RelayError> {
        Ok(self
            .reader()?
            .query_row("SELECT 1 FROM coops WHERE id = ?1", [coop_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn add_join_code(
        &self,
        coop_id: &str,
        grant: &Grant,
        code_hash: &Hash,
        expires_at: i64,
        now: i64,
    ) -> Result<(), RelayError> {
        let grant_json = grant_to_json(grant)?;
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM join_codes WHERE expires_at <= ?1", [now])?;
        tx.execute(
            "INSERT INTO join_codes (code_hash, coop, grant_json, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![code_hash.as_slice(), coop_id, grant_json, now, expires_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn redeem_join_code(
        &self,
        code_hash: &Hash,
        device: NewDevice<'_>,
        now: i64,
    ) -> Result<Option<Joined>, RelayError> {
        // Unknown, used and expired codes are refused from a reader, so guessing codes
        // never queues behind (or holds) the single writer lock. A code that passes is
        // checked again inside the write transaction: of two devices racing for one
        // code, one wins.
        let usable = self
            .reader()?
            .prepare_cached(
                "SELECT 1 FROM join_codes
                 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            )?
            .exists(params![code_hash.as_slice(), now])?;
        if !usable {
            return Ok(None);
        }
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, String, String, Option<Vec<u8>>)> = tx
            .query_row(
                "SELECT j.coop, c.name, j.grant_json, j.key_envelope FROM join_codes j
                 JOIN coops c ON c.id = j.coop
                 WHERE j.code_hash = ?1 AND j.used_at IS NULL AND j.expires_at > ?2",
                params![code_hash.as_slice(), now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((coop_id, coop_name, grant_json, key_envelope)) = found else {
            return Ok(None);
        };
        let grant = grant_from_json(&grant_json)?;
        // The envelope goes with this answer only: a used code keeps none.
        tx.execute(
            "UPDATE join_codes SET used_at = ?2, key_envelope = NULL WHERE code_hash = ?1",
            params![code_hash.as_slice(), now],
        )?;
        tx.execute(
            // A new device has no copy of anything erased before it joined: the log's end
            // is its acknowledged cursor, so old tombstones never wait for it.
            "INSERT INTO devices (id, coop, name, grant_json, token_hash, created_at, last_seen_at, acked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6,
                     (SELECT coalesce(max(seq), 0) FROM log WHERE coop = ?2))",
            params![
                device.device_id,
                coop_id,
                device.name,
                grant_json,
                device.token_hash.as_slice(),
                now
            ],
        )?;
        tx.commit()?;
        Ok(Some(Joined {
            coop_id,
            coop_name,
            grant,
            key_envelope,
        }))
    }

    fn device(&self, device_id: &str) -> Result<Option<DeviceRecord>, RelayError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT d.coop, c.name, d.grant_json, d.token_hash, d.last_seen_at, d.revoked,
                    d.public_keys
             FROM devices d JOIN coops c ON c.id = d.coop WHERE d.id = ?1",
        )?;
        let row = stmt
            .query_row([device_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                ))
            })
            .optional()?;
        row.map(
            |(coop_id, coop_name, grant_json, token_hash, last_seen_at, revoked, public_keys)| {
                Ok(DeviceRecord {
                    device_id: device_id.to_string(),
                    coop_id,
                    coop_name,
                    grant: grant_from_json(&grant_json)?,
                    token_hash,
                    last_seen_at,
                    revoked,
                    public_keys,
                })
            },
        )
        .transpose()
    }

    fn touch_device(&self, device_id: &str, now: i64) -> Result<(), RelayError> {
        self.writer().execute(
            "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
            params![device_id, now],
        )?;
        Ok(())
    }

    fn list_devices(&self, coop_id: &str) -> Result<Vec<DeviceInfo>, RelayError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, grant_json, created_at, last_seen_at, revoked
             FROM devices WHERE coop = ?1 ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([coop_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (device_id, name, grant_json, created_at, last_seen_at, revoked) = row?;
            out.push(DeviceInfo {
                device_id,
                name,
                grant: grant_from_json(&grant_json)?,
                created_at,
                last_seen_at,
                revoked,
            });
        }
        Ok(out)
    }

    fn revoke_device(&self, coop_id: Option<&str>, device_id: &str) -> Result<(), RelayError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE devices SET revoked = 1 WHERE id = ?1 AND (?2 IS NULL OR coop = ?2)",
            params![device_id, coop_id],
        )?;
        if changed == 0 {
            return Err(RelayError::NotFound("no such device"));
        }
        // The other devices must stop wrapping keys for it: a key event.
        let coop: String =
            tx.query_row("SELECT coop FROM devices WHERE id = ?1", [device_id], |r| {
                r.get(0)
            })?;
        bump_keys_epoch(&tx, &coop)?;
        // Its unused join codes go with it (their key envelopes too).
        tx.execute(
            "DELETE FROM join_codes WHERE created_by = ?1 AND used_at IS NULL",
            [device_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn set_consent(
        &self,
        coop_id: &str,
        person: &str,
        coordinator_notes: bool,
        now: i64,
    ) -> Result<(), RelayError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO consents (coop, person, coordinator_notes, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (coop, person) DO UPDATE
             SET coordinator_notes = excluded.coordinator_notes, updated_at = excluded.updated_at",
            params![coop_id, person, coordinator_notes, now],
        )?;
        // A key event: the person's other devices and supporters learn it with their
        // next key round (`GET /v1/keys` lists consent to them).
        bump_keys_epoch(&tx, coop_id)?;
        tx.commit()?;
        Ok(())
    }

    fn consented_people(&self, coop_id: &str) -> Result<Vec<String>, RelayError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT person FROM consents WHERE coop = ?1 AND coordinator_notes = 1 ORDER BY person",
        )?;
        let people = stmt
            .query_map([coop_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(people)
    }

    fn set_join_code_creator(&self, code_hash: &Hash, device_id: &str) -> Result<(), RelayError> {
        self.writer().execute(
            "UPDATE join_codes SET created_by = ?2 WHERE code_hash = ?1",
            params![code_hash.as_slice(), device_id],
        )?;
        Ok(())
    }

    fn set_invite_envelope(
        &self,
        coop_id: &str,
        code_hash: &Hash,
        envelope: &[u8],
        now: i64,
    ) -> Result<bool, RelayError> {
        let changed = self.writer().execute(
            "UPDATE join_codes SET key_envelope = ?3
             WHERE code_hash = ?1 AND coop = ?2 AND used_at IS NULL AND expires_at > ?4",
            params![code_hash.as_slice(), coop_id, envelope, now],
        )?;
        Ok(changed == 1)
    }

    fn set_device_keys(
        &self,
        coop_id: &str,
        device_id: &str,
        key_id: &str,
        fingerprint: &[u8],
        public_keys: &[u8],
        proof: Option<&[u8]>,
    ) -> Result<KeysSet, RelayError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<Vec<u8>> = tx
            .query_row(
                "SELECT public_keys FROM devices WHERE id = ?1 AND coop = ?2",
                params![device_id, coop_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(RelayError::NotFound("no such device"))?;
        if let Some(current) = current {
            return Ok(if current == public_keys {
                KeysSet::AlreadySet
            } else {
                KeysSet::Conflict
            });
        }
        let taken = tx
            .prepare_cached(
                "SELECT 1 FROM devices WHERE coop = ?1 AND key_id = ?2 AND key_fingerprint != ?3",
            )?
            .exists(params![coop_id, key_id, fingerprint])?;
        if taken {
            return Ok(KeysSet::Conflict);
        }
        tx.execute(
            "UPDATE devices SET public_keys = ?2, key_id = ?3, join_proof = ?4,
                                key_fingerprint = ?5
             WHERE id = ?1",
            params![device_id, public_keys, key_id, proof, fingerprint],
        )?;
        // A new device to recognise and wrap keys for: a key event.
        bump_keys_epoch(&tx, coop_id)?;
        tx.commit()?;
        Ok(KeysSet::Stored)
    }

    fn device_keys(&self, coop_id: &str, recipient: &str) -> Result<KeysListing, RelayError> {
        let conn = self.reader()?;
        // Read before the listing: every key event up to this epoch is in what follows
        // (an event in between only makes the device run one more round, never miss one).
        let epoch = keys_epoch(&conn, coop_id)?;
        let mut devices: Vec<DeviceKeysRow> = conn
            .prepare_cached(
                "SELECT id, public_keys, join_proof, revoked FROM devices
                 WHERE coop = ?1 AND public_keys IS NOT NULL ORDER BY created_at, id",
            )?
            .query_map([coop_id], |r| {
                Ok(DeviceKeysRow {
                    device_id: r.get(0)?,
                    public_keys: r.get(1)?,
                    proof: r.get(2)?,
                    certificates: Vec::new(),
                    revoked: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut certs = conn.prepare_cached("SELECT data FROM certificates WHERE device = ?1")?;
        for d in &mut devices {
            d.certificates = certs
                .query_map([&d.device_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
        }
        let wrapped = conn
            .prepare_cached("SELECT data FROM wrapped_keys WHERE recipient = ?1 ORDER BY id")?
            .query_map([recipient], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(KeysListing {
            devices,
            wrapped,
            epoch,
        })
    }

    fn ack_wrapped(&self, recipient: &str, hashes: &[Vec<u8>]) -> Result<usize, RelayError> {
        let conn = &mut *self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut gone = 0;
        {
            let mut del =
                tx.prepare_cached("DELETE FROM wrapped_keys WHERE recipient = ?1 AND hash = ?2")?;
            for h in hashes {
                gone += del.execute(params![recipient, h.as_slice()])?;
            }
        }
        tx.commit()?;
        if gone > 0 {
            // secure_delete zeroed the rows; fold the WAL's old page images in, as after
            // an erasure.
            self.checkpoint_after_erasure(conn);
        }
        Ok(gone)
    }

    fn deliver_keys(
        &self,
        coop_id: &str,
        wrapped: &[(String, Vec<u8>)],
        certificates: &[(String, Vec<u8>)],
    ) -> Result<(), RelayError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut of_coop =
                tx.prepare_cached("SELECT 1 FROM devices WHERE id = ?1 AND coop = ?2")?;
            for (device, _) in wrapped.iter().chain(certificates) {
                if !of_coop.exists(params![device, coop_id])? {
                    return Err(RelayError::NotFound("no such device"));
                }
            }
            let mut put_wrapped = tx.prepare_cached(
                "INSERT OR IGNORE INTO wrapped_keys (recipient, hash, data) VALUES (?1, ?2, ?3)",
            )?;
            for (to, bytes) in wrapped {
                put_wrapped.execute(params![
                    to,
                    crate::credentials::sha256(bytes).as_slice(),
                    bytes
                ])?;
            }
            let mut put_cert = tx.prepare_cached(
                "INSERT OR IGNORE INTO certificates (device, hash, data) VALUES (?1, ?2, ?3)",
            )?;
            for (device, bytes) in certificates {
                put_cert.execute(params![
                    device,
                    crate::credentials::sha256(bytes).as_slice(),
                    bytes
                ])?;
            }
        }
        if !wrapped.is_empty() || !certificates.is_empty() {
            bump_keys_epoch(&tx, coop_id)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn push(
        &self,
        coop_id: &str,
        device_id: &str,
        docs: Vec<CheckedDoc>,
    ) -> Result<PushResponse, RelayError> {
        // Group commit: queue the push, then take the writer. Whoever holds the writer
        // commits every queued push in one transaction (one fsync) and hands each its
        // result before letting go, so a push that finds its result ready is committed.
        let job = Arc::new(PushJob {
            coop_id: coop_id.to_string(),
            device_id: device_id.to_string(),
            docs,
            quotas: self.quotas,
            result: Mutex::new(None),
        });
        lock(&self.pending).push(job.clone());
        let mut conn = self.writer();
        if let Some(done) = lock(&job.result).take() {
            return done;
        }
        let batch = std::mem::take(&mut *lock(&self.pending));
        match commit_pushes(&mut conn, &batch) {
            Ok(results) => {
                for (j, r) in batch.iter().zip(results) {
                    *lock(&j.result) = Some(r);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for j in &batch {
                    *lock(&j.result) =
                        Some(Err(RelayError::Io(std::io::Error::other(msg.clone()))));
                }
            }
        }
        drop(conn);
        lock(&job.result).take().unwrap_or(Err(RelayError::Task))
    }

    fn pull(
        &self,
        coop_id: &str,
        filter: &ReadFilter,
        after: u64,
        own: Option<(&str, u64)>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<PullResponse, RelayError> {
        let (condition, scopes) = match filter {
            ReadFilter::AllButNotes { notes } => (
                format!(
                    "(substr(scope, 1, 6) <> 'notes:' OR scope IN ({}))",
                    placeholders(6, notes.len())
                ),
                notes,
            ),
            ReadFilter::Only(scopes) => (
                format!("scope IN ({})", placeholders(6, scopes.len())),
                scopes,
            ),
        };
        // `device IS ?4`: tombstones (no device) are never the puller's own.
        let sql = format!(
            "SELECT seq, doc, kind, key, data FROM log
             WHERE coop = ?1 AND seq > ?2 AND {condition}
             AND NOT (device IS ?4 AND seq <= ?5)
             ORDER BY seq LIMIT ?3"
        );
        let after_i = i64::try_from(after).unwrap_or(i64::MAX);
        let (own_device, own_through) = match own {
            Some((device, through)) => (
                Value::Text(device.to_string()),
                Value::Integer(i64::try_from(through).unwrap_or(i64::MAX)),
            ),
            None => (Value::Null, Value::Integer(0)),
        };
        let mut args: Vec<Value> = vec![
            Value::Text(coop_id.to_string()),
            Value::Integer(after_i),
            Value::Integer(i64::from(limit)),
            own_device,
            own_through,
        ];
        args.extend(scopes.iter().map(|s| Value::Text(s.clone())));

        let mut conn = self.reader()?;
        // One read transaction: the entries and the log's end come from the same snapshot.
        let tx = conn.transaction()?;
        let epoch = keys_epoch(&tx, coop_id)?;
        let mut page = PageBuilder::new(after, limit, max_bytes);
        {
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                let kind: String = row.get(2)?;
                if !page.add(row.get(0)?, row.get(1)?, &kind, row.get(3)?, row.get(4)?) {
                    break;
                }
            }
        }
        let out = page.finish(epoch, || {
            let end: Option<i64> = tx
                .prepare_cached("SELECT max(seq) FROM log WHERE coop = ?1")?
                .query_row([coop_id], |r| r.get(0))?;
            Ok(end.unwrap_or(0))
        })?;
        tx.finish()?;
        Ok(out)
    }

    fn delete_doc(
        &self,
        coop_id: &str,
        doc: &str,
        scope: &str,
        tags: &[String],
        now: i64,
    ) -> Result<(), RelayError> {
        let conn = &mut *self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let newly = tx.execute(
            "INSERT OR IGNORE INTO erased_docs (coop, doc_hash, deleted_at) VALUES (?1, ?2, ?3)",
            params![coop_id, doc_hash(doc).as_slice(), now],
        )?;
        if newly == 0 {
            // Already erased: nothing more to do, and no second tombstone.
            tx.commit()?;
            return Ok(());
        }
        {
            // Give the erased blobs' bytes back to the quotas of the devices that pushed them.
            let mut erase = tx.prepare_cached(
                "DELETE FROM log WHERE coop = ?1 AND doc = ?2
                 RETURNING coalesce(device, ''), length(data)",
            )?;
            let mut freed: HashMap<String, i64> = HashMap::new();
            let mut rows = erase.query(params![coop_id, doc])?;
            while let Some(row) = rows.next()? {
                let len: Option<i64> = row.get(1)?;
                *freed.entry(row.get(0)?).or_default() += len.unwrap_or(0);
            }
            drop(rows);
            for (owner, bytes) in &freed {
                add_usage(&tx, coop_id, owner, -bytes)?;
            }
        }
        tx.execute(
            "INSERT INTO log (coop, scope, doc, kind) VALUES (?1, ?2, ?3, 'tombstone')",
            params![coop_id, scope, tombstone_entry(doc, scope, tags)],
        )?;
        tx.commit()?;
        // secure_delete zeroed the freed pages; copy them into the main file and empty the
        // WAL so no old page image of the erased blobs stays on disk.
        self.checkpoint_after_erasure(conn);
        Ok(())
    }

    fn sealed_only(&self, coop_id: &str) -> Result<bool, RelayError> {
        let reader = self.reader()?;
        Ok(reader
            .prepare_cached("SELECT 1 FROM relay_meta WHERE key = ?1")?
            .exists([sealed_only_key(coop_id)])?)
    }

    fn set_sealed_only(&self, coop_id: &str) -> Result<PlaintextLeft, RelayError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let keyless: i64 = tx.query_row(
            "SELECT count(*) FROM devices
             WHERE coop = ?1 AND NOT revoked AND public_keys IS NULL",
            [coop_id],
            |r| r.get(0),
        )?;
        // Reads each blob's first byte: a full scan of the coop's blobs, once per flip.
        let plaintext: i64 = tx.query_row(
            "SELECT count(*) FROM log WHERE coop = ?1 AND kind = 'blob'
             AND substr(data, 1, 1) IS NOT ?2",
            params![coop_id, vec![SEALED_FIRST_BYTE]],
            |r| r.get(0),
        )?;
        let left = PlaintextLeft {
            keyless_devices: keyless.max(0) as u64,
            plaintext_blobs: plaintext.max(0) as u64,
        };
        if left.is_empty()
            && tx.execute(
                "INSERT OR IGNORE INTO relay_meta (key, value) VALUES (?1, '1')",
                [sealed_only_key(coop_id)],
            )? == 1
        {
            // A key event: devices learn from their next pull to stop trusting on first use.
            bump_keys_epoch(&tx, coop_id)?;
        }
        tx.commit()?;
        if left.is_empty() {
            // The superseded plaintext blobs' pages were zeroed (secure_delete); copy the
            // zeroed pages into the main file and empty the WAL, so no old page image of a
            // plaintext blob stays on disk.
            self.checkpoint_after_erasure(&conn);
        }
        Ok(left)
    }

    fn own_plaintext(
        &self,
        coop_id: &str,
        device_id: &str,
        after: Option<&str>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<PlaintextDoc>, bool), RelayError> {
        let reader = self.reader()?;
        let mut stmt = reader.prepare_cached(
            "SELECT doc, content_id, data FROM log
             WHERE coop = ?1 AND device = ?2 AND kind = 'blob' AND doc > ?3
             AND substr(data, 1, 1) IS NOT ?4
             ORDER BY doc, seq",
        )?;
        let mut rows = stmt.query(params![
            coop_id,
            device_id,
            after.unwrap_or(""),
            vec![SEALED_FIRST_BYTE]
        ])?;
        page_rows(&mut rows, limit, max_bytes)
    }

    fn orphaned_plaintext(
        &self,
        coop_id: &str,
        after: Option<&str>,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<PlaintextDoc>, bool), RelayError> {
        let reader = self.reader()?;
        let mut stmt = reader.prepare_cached(
            "SELECT l.doc, l.content_id, l.data FROM log l JOIN devices d ON d.id = l.device
             WHERE l.coop = ?1 AND l.kind = 'blob' AND l.doc > ?2
             AND d.revoked AND d.public_keys IS NULL
             AND substr(l.data, 1, 1) IS NOT ?3
             ORDER BY l.doc, l.seq",
        )?;
        let mut rows = stmt.query(params![
            coop_id,
            after.unwrap_or(""),
            vec![SEALED_FIRST_BYTE]
        ])?;
        page_rows(&mut rows, limit, max_bytes)
    }

    fn custody_allowed(
        &self,
        coop_id: &str,
        doc: &str,
        owner: &str,
        device_id: &str,
    ) -> Result<bool, RelayError> {
        let reader = self.reader()?;
        let sealed_only = reader
            .prepare_cached("SELECT 1 FROM relay_meta WHERE key = ?1")?
            .exists([sealed_only_key(coop_id)])?;
        let live_owner = reader
            .prepare_cached(
                "SELECT 1 FROM devices WHERE coop = ?1 AND key_id = ?2 AND NOT revoked",
            )?
            .exists(params![coop_id, owner])?;
        if sealed_only || live_owner {
            return Ok(false);
        }
        let (orphaned, others): (i64, i64) = reader
            .prepare_cached(
                "SELECT
                   coalesce(sum(CASE WHEN d.revoked AND d.public_keys IS NULL THEN 1 ELSE 0 END), 0),
                   coalesce(sum(CASE WHEN d.revoked AND d.public_keys IS NULL THEN 0 ELSE 1 END), 0)
                 FROM log l LEFT JOIN devices d ON d.id = l.device
                 WHERE l.coop = ?1 AND l.doc = ?2 AND l.kind = 'blob'
                 AND coalesce(l.device, '') <> ?3",
            )?
            .query_row(params![coop_id, doc, device_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(orphaned > 0 && others == 0)
    }

    fn log_generation(&self) -> Result<Option<String>, RelayError> {
        let reader = self.reader()?;
        Ok(reader
            .prepare_cached("SELECT value FROM relay_meta WHERE key = 'log_generation'")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }

    fn new_log_generation(&self) -> Result<String, RelayError> {
        let generation = new_generation_id();
        set_generation(&self.writer(), &generation)?;
        Ok(generation)
    }

    fn ack_cursor(&self, device_id: &str, cursor: u64) {
        let mut acks = lock(&self.acks);
        let acked = acks.entry(device_id.to_string()).or_default();
        *acked = (*acked).max(cursor);
    }

    fn sweep_tombstones(&self) -> Result<usize, RelayError> {
        let acks = std::mem::take(&mut *lock(&self.acks));
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update =
                tx.prepare_cached("UPDATE devices SET acked = max(acked, ?2) WHERE id = ?1")?;
            for (device, cursor) in &acks {
                update.execute(params![device, i64::try_from(*cursor).unwrap_or(i64::MAX)])?;
            }
        }
        // A coop whose devices are all revoked keeps its tombstones (min over no rows is
        // NULL, so nothing qualifies).
        let swept = tx.execute(
            "DELETE FROM log WHERE kind = 'tombstone' AND seq <= (
                 SELECT min(d.acked) FROM devices d WHERE d.coop = log.coop AND d.revoked = 0)",
            [],
        )?;
        tx.commit()?;
        Ok(swept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(doc: &str, blobs: &[&[u8]], supersedes: &[String]) -> CheckedDoc {
        CheckedDoc {
            doc: doc.to_string(),
            scope: doc.split('/').next().unwrap_or_default().to_string(),
            key: None,
            blobs: blobs
                .iter()
                .map(|b| (logbook_protocol::content_id(b), b.to_vec()))
                .collect(),
            supersedes: supersedes.to_vec(),
            supersede_any: true,
            supersede_orphans: false,
        }
    }

    fn all() -> ReadFilter {
        ReadFilter::AllButNotes { notes: vec![] }
    }

    #[test]
    fn the_log_generation_survives_reopening_and_changes_when_renewed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = SqliteStore::open(dir.path())
            .and_then(|s| s.log_generation())
            .expect("generation")
            .expect("set at creation");
        assert_eq!(first.len(), 32);
        let store = SqliteStore::open(dir.path()).expect("reopen");
        assert_eq!(store.log_generation().expect("read").as_ref(), Some(&first));
        let renewed = store.new_log_generation().expect("renew");
        assert_ne!(renewed, first);
        drop(store);
        let again = SqliteStore::open(dir.path())
            .and_then(|s| s.log_generation())
            .expect("generation");
        assert_eq!(again, Some(renewed));
        let other = tempfile::tempdir().expect("tempdir");
        let theirs = SqliteStore::open(other.path())
            .and_then(|s| s.log_generation())
            .expect("generation");
        assert_ne!(
            theirs,
            Some(first),
            "every new relay starts its own generation"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(SqliteStore::open(dir.path()).expect("open"));
        let conn = Connection::open(dir.path().join(DB_FILE)).expect("open raw");
        conn.pragma_update(None, "user_version", 99).expect("bump");
        drop(conn);
        assert!(matches!(
            SqliteStore::open(dir.path()),
            Err(RelayError::NewerSchema(99))
        ));
    }

    #[test]
    fn a_v1_database_is_migrated_with_usage_and_hashed_erasures() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).expect("open raw");
            conn.execute_batch(SCHEMA_V1).expect("v1 schema");
            conn.execute_batch(
                "PRAGMA user_version = 1;
                 INSERT INTO coops VALUES ('c', 'Coop', 0);
                 INSERT INTO log (coop, scope, doc, kind, content_id, device, data)
                 VALUES ('c', 'records:a', 'records:a/x', 'blob', 'id1', 'dev', x'00112233');
                 INSERT INTO deleted_docs VALUES ('c', 'notes:a/gone', 5);",
            )
            .expect("v1 rows");
        }
        let store = SqliteStore::open(dir.path()).expect("migrate");
        let conn = store.reader().expect("reader");
        let used: i64 = conn
            .query_row(
                "SELECT bytes FROM usage WHERE coop = 'c' AND device = 'dev'",
                [],
                |r| r.get(0),
            )
            .expect("usage row");
        assert_eq!(used, 4);
        let clear: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'deleted_docs'",
                [],
                |r| r.get(0),
            )
            .expect("schema");
        assert_eq!(clear, 0, "erased ids are no longer kept in clear");
        drop(conn);
        let r = store
            .push("c", "dev", vec![doc("notes:a/gone", &[b"late"], &[])])
            .expect("push");
        assert_eq!((r.stored, r.discarded), (0, 1));
    }

    #[test]
    fn the_pull_query_is_an_index_range_scan() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let conn = store.reader().expect("reader");
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT seq, doc, kind, key, data FROM log
                 WHERE coop = ?1 AND seq > ?2 AND scope IN (?6, ?7)
                 AND NOT (device IS ?4 AND seq <= ?5) ORDER BY seq LIMIT ?3",
            )
            .expect("prepare")
            .query_map(params!["c", 0, 10, "dev", 9, "a", "b"], |r| {
                r.get::<_, String>(3)
            })
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("rows");
        let plan = plan.join("\n");
        assert!(
            plan.contains("USING INDEX log_coop_seq (coop=? AND seq>?)"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn concurrent_pushes_are_group_committed_and_each_gets_its_own_result() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open(dir.path()).expect("open"));
        store.create_coop("c", "Coop", 0).expect("coop");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..40)
                        .map(|i| {
                            let bytes = format!("t{t} i{i}");
                            // Every other push repeats the previous blob: a duplicate.
                            let again = format!("t{t} i{}", i - i % 2);
                            let docs = vec![doc(
                                &format!("records:p{t}/x"),
                                &[bytes.as_bytes(), again.as_bytes()],
                                &[],
                            )];
                            store.push("c", "dev", docs).expect("push")
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for t in threads {
            for (i, r) in t.join().expect("thread").into_iter().enumerate() {
                // i even: two identical blobs (1 stored, 1 duplicate); i odd: one new blob
                // and the previous push's blob (1 stored, 1 duplicate).
                assert_eq!((r.stored, r.duplicates), (1, 1), "push {i}");
            }
        }
        let page = store
            .pull("c", &all(), 0, None, 5000, usize::MAX)
            .expect("pull");
        let blobs: usize = page.docs.iter().map(|d| d.blobs.len()).sum();
        assert_eq!(blobs, 8 * 40);
    }

    #[test]
    fn pushes_are_idempotent_and_supersedes_compacts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        store.create_coop("c", "Coop", 0).expect("coop");
        let r = store
            .push("c", "dev", vec![doc("directory/main", &[b"a", b"b"], &[])])
            .expect("push");
        assert_eq!((r.stored, r.duplicates), (2, 0));
        let r = store
            .push("c", "dev", vec![doc("directory/main", &[b"a"], &[])])
            .expect("push");
        assert_eq!((r.stored, r.duplicates), (0, 1));
        // The same bytes in another document are that document's own blob.
        let r = store
            .push("c", "dev", vec![doc("site:x/roster", &[b"a"], &[])])
            .expect("push");
        assert_eq!((r.stored, r.duplicates), (1, 0));
        let old = vec![
            logbook_protocol::content_id(b"a"),
            logbook_protocol::content_id(b"b"),
        ];
        store
            .push("c", "dev", vec![doc("directory/main", &[b"ab"], &old)])
            .expect("compact");
        let page = store
            .pull("c", &all(), 0, None, 100, usize::MAX)
            .expect("pull");
        let main: Vec<_> = page
            .docs
            .iter()
            .filter(|d| d.doc == "directory/main")
            .flat_map(|d| d.blobs.iter().map(|b| b.to_vec()))
            .collect();
        assert_eq!(main, vec![b"ab".to_vec()]);
    }

    /// Own plaintext comes in pages of whole documents, bounded in count and bytes (a
    /// document bigger than the bound alone), without sealed blobs or other devices'.
    #[test]
    fn own_plaintext_pages_hold_whole_documents_within_their_bounds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        store.create_coop("c", "Coop", 0).expect("coop");
        let big = [0x85u8; 3000];
        let sealed = [SEALED_FIRST_BYTE, 1, 2, 3];
        store
            .push(
                "c",
                "kiosk",
                vec![
                    doc("timesheet:a/2026-10/k", &[b"\x85a1", b"\x85a2"], &[]),
                    doc("timesheet:a/2026-11/k", &[&big], &[]),
                    doc("timesheet:b/2026-11/k", &[b"\x85b1", &sealed], &[]),
                ],
            )
            .expect("push");
        store
            .push(
                "c",
                "phone",
                vec![doc("timesheet:a/2026-11/p", &[b"\x85p"], &[])],
            )
            .expect("push");
        let docs = |page: &[PlaintextDoc]| page.iter().map(|d| d.doc.clone()).collect::<Vec<_>>();

        let (page, more) = store
            .own_plaintext("c", "kiosk", None, 100, 1000)
            .expect("page");
        // The first document is under the bound; the second reaches it and ends the page.
        assert_eq!(
            docs(&page),
            ["timesheet:a/2026-10/k", "timesheet:a/2026-11/k"]
        );
        assert!(more);
        assert_eq!(page[0].blobs.len(), 2, "both blobs, in log order");
        assert_eq!(page[0].blobs[0].1.as_deref(), Some(b"\x85a1".as_slice()));
        let (page, more) = store
            .own_plaintext("c", "kiosk", Some("timesheet:a/2026-11/k"), 100, 1000)
            .expect("page");
        assert_eq!(docs(&page), ["timesheet:b/2026-11/k"]);
        assert_eq!(page[0].blobs.len(), 1, "not the sealed blob");
        assert!(!more);
        let (page, more) = store
            .own_plaintext("c", "kiosk", None, 1, usize::MAX)
            .expect("page");
        assert_eq!((page.len(), more), (1, true));
        let (page, _) = store
            .own_plaintext("c", "phone", None, 100, usize::MAX)
            .expect("page");
        assert_eq!(docs(&page), ["timesheet:a/2026-11/p"]);
        // Nothing orphaned while no device is revoked.
        let (page, more) = store
            .orphaned_plaintext("c", None, 100, usize::MAX)
            .expect("page");
        assert!(page.is_empty() && !more);
    }

    #[test]
    fn a_pull_leaves_out_the_pullers_own_blobs_up_to_own_through() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        store.create_coop("c", "Coop", 0).expect("coop");
        let blobs = |page: &PullResponse| -> Vec<Vec<u8>> {
            page.docs
                .iter()
                .flat_map(|d| d.blobs.iter().map(|b| b.to_vec()))
                .collect()
        };
        let first = store
            .push("c", "phone", vec![doc("records:p/a", &[b"mine 1"], &[])])
            .expect("push");
        let through = first.last_seq.expect("the push says where the log ends");
        store
            .push("c", "other", vec![doc("records:p/b", &[b"theirs"], &[])])
            .expect("push");
        let later = store
            .push("c", "phone", vec![doc("records:p/a", &[b"mine 2"], &[])])
            .expect("push");
        assert!(later.last_seq.expect("seq") > through + 1);
        store
            .delete_doc("c", "records:p/b", "records:p", &[], 5)
            .expect("erase");
        // Up to the first push: the phone gets the other device's blob, its own later
        // blob (pushed after `through`: a restored backup needs it), and the tombstone.
        let page = store
            .pull("c", &all(), 0, Some(("phone", through)), 100, usize::MAX)
            .expect("pull");
        assert_eq!(blobs(&page), vec![b"mine 2".to_vec()]);
        assert_eq!(page.deleted, vec!["records:p/b".to_string()]);
        // Up to its last push: none of its own blobs, the cursor still at the log's end.
        let page = store
            .pull(
                "c",
                &all(),
                0,
                Some(("phone", later.last_seq.expect("seq"))),
                100,
                usize::MAX,
            )
            .expect("pull");
        assert!(blobs(&page).is_empty());
        assert_eq!(page.deleted, vec!["records:p/b".to_string()]);
        let everything = store
            .pull("c", &all(), 0, None, 100, usize::MAX)
            .expect("pull");
        assert_eq!(page.next, everything.next);
        // Another device's own_through says nothing about the phone's blobs.
        let page = store
            .pull("c", &all(), 0, Some(("other", u64::MAX)), 100, usize::MAX)
            .expect("pull");
        assert_eq!(blobs(&page), vec![b"mine 1".to_vec(), b"mine 2".to_vec()]);
    }

    /// An erasure with tags leaves a tombstone that holds the scope and the tags, never the
    /// document id: in the pull page and in the database's bytes (docs/SECURITY.md).
    #[test]
    fn a_tombstone_with_tags_keeps_no_document_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let id = "records:p/cpo/o-5eb1c0de5eb1c0de";
        store
            .push("c", "coord", vec![doc(id, &[b"an order"], &[])])
            .expect("push");
        let tags = vec![
            format!("2.{}", "ab".repeat(32)),
            format!("1.{}", "cd".repeat(32)),
        ];
        store
            .delete_doc("c", id, "records:p", &tags, 5)
            .expect("erase");
        let page = store
            .pull("c", &all(), 0, None, 100, usize::MAX)
            .expect("pull");
        assert!(page.docs.is_empty() && page.deleted.is_empty());
        assert_eq!(
            page.erased,
            vec![logbook_protocol::ErasedDoc {
                scope: "records:p".into(),
                tags: tags.clone()
            }]
        );
        // Pushes to it are still refused (by hash).
        let again = store
            .push("c", "coord", vec![doc(id, &[b"late"], &[])])
            .expect("push");
        assert_eq!(again.discarded, 1);
        drop(store);
        for entry in std::fs::read_dir(dir.path()).expect("dir") {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
            assert!(
                !bytes.windows(17).any(|w| w == b"o-5eb1c0de5eb1c0d"),
                "the order id is on disk"
            );
        }
    }
}
