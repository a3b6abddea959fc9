//! End-to-end encryption in the sync client (docs/SECURITY.md): the relay only ever sees
//! sealed blobs.
//!
//! - **Keys kept here** (meta rows, hex; the store itself is not encrypted yet): this
//!   device's [`Identity`] (its id is the device key that names its own documents), its
//!   [`KeyRing`] of scope keys, and the [`DeviceDirectory`] of devices it trusts.
//! - **Join**: the code's secret part opens the key envelope the inviter left at the relay;
//!   the device registers its public keys with a join proof.
//! - **Invite**: a coordinator seals the envelope for the new device's grant and keeps the
//!   proof key, to recognise the new device's keys later.
//! - **Key round** ([`SyncClient::key_round`]; before the push when something local calls
//!   for it, after the pull when the relay's keys epoch moved): trust new devices by
//!   join proof or by a trusted coordinator's certificate (never because the relay listed
//!   them), unwrap keys sent to this device, create missing scope keys this device issues,
//!   wrap keys for trusted devices that may hold them, and retry blobs held for a key.
//! - **Push** seals each blob to the scope's newest key, signed by this device; **pull**
//!   verifies and opens each blob. A blob that fails its checks is dropped into quarantine
//!   (reported, never merged) and the rest of the page goes on.
//!
//! A store without an identity (joined before this version) syncs plaintext as before.

use std::collections::{BTreeMap, BTreeSet};

use logbook_crypto::{
    self as crypto, BlobContext, BlobKind, Compression, CryptoError, DeviceDirectory,
    DevicePublicKeys, Identity, JoinCode, KeyRing, zeroize::Zeroizing,
};
use logbook_protocol::{self as proto, Grant, Role, Scope};
use rusqlite::Connection;

use super::transport::HttpRelay;
use super::{SyncClient, with_retries};
use crate::error::{Error, Result};
use crate::observer::ChangeOrigin;
use crate::store::documents::DocKind;
use crate::store::meta;
use crate::store::quarantine::{self, Reason};
use crate::store::writer::Writer;

const IDENTITY: &str = "e2e_identity";
const KEYS: &str = "e2e_keys";
const DEVICES: &str = "e2e_devices";
/// Proof keys of invites this coordinator issued whose device it has not recognised yet.
const PROOF_KEYS: &str = "e2e_proof_keys";
/// The join proof to upload with this device's public keys (until the relay has them).
const JOIN_PROOF: &str = "e2e_join_proof";
const REGISTERED: &str = "e2e_registered";
/// `<relay device id> <key id> <s|p>` of every key already wrapped for another device.
const DELIVERED: &str = "e2e_delivered";
/// People who consented to coordinators reading their notes (as this device set it).
const CONSENTED: &str = "e2e_consented";
/// The relay's keys epoch as of the last completed key round (docs/PROTOCOL.md, pull):
/// while the pulls report this epoch, `GET /v1/keys` has nothing new for this device.
const EPOCH: &str = "e2e_keys_epoch";
/// Fingerprint of the local state a key round reads besides the relay's listing (see
/// [`local_fingerprint`]) as of the last completed round.
const LOCAL: &str = "e2e_keys_local";

/// Everything of this file kept per membership: a device that leaves its relay forgets
/// its scope keys and whom it trusted. It keeps its identity: its own documents are named
/// for it, and joining again registers the same keys.
pub(crate) const MEMBERSHIP_KEYS: [&str; 9] = [
    KEYS, DEVICES, PROOF_KEYS, JOIN_PROOF, REGISTERED, DELIVERED, CONSENTED, EPOCH, LOCAL,
];

/// Forgets what this device believed the relay holds of its key state (its registered
/// keys, the scope keys it delivered, the keys epoch): after the relay was restored from
/// a backup, the next key round registers and delivers them again.
pub(crate) fn forget_relay_state(w: &mut Writer<'_>) -> Result<()> {
    for key in [REGISTERED, DELIVERED, EPOCH, LOCAL] {
        w.delete_meta(key)?;
    }
    Ok(())
}

/// What this device holds for end-to-end encryption.
pub(crate) struct Trust {
    pub coop: String,
    pub grant: Grant,
    pub identity: Identity,
    pub ring: KeyRing,
    pub devices: DeviceDirectory,
}

fn corrupt(_: CryptoError) -> Error {
    // The crypto error's text is fixed and free of personal data, but "corrupt" is what
    // the user can act on: the stored keys do not parse.
    Error::Corrupt("stored encryption keys do not parse".into())
}

fn crypto_err(e: CryptoError) -> Error {
    Error::Invalid(e.to_string())
}

fn get_hex(conn: &Connection, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let Some(v) = meta::get_meta(conn, key)? else {
        return Ok(None);
    };
    let v = Zeroizing::new(v);
    hex::decode(v.as_str())
        .map(|b| Some(Zeroizing::new(b)))
        .map_err(|_| Error::Corrupt("stored encryption keys do not parse".into()))
}

fn set_hex(w: &mut Writer<'_>, key: &str, bytes: &[u8]) -> Result<()> {
    let v = Zeroizing::new(hex::encode(bytes));
    w.set_meta(key, &v)
}

/// This device's keys, or `None` for a store that joined before end-to-end encryption.
pub(crate) fn load(conn: &Connection) -> Result<Option<Trust>> {
    let Some(id) = get_hex(conn, IDENTITY)? else {
        return Ok(None);
    };
    let identity = Identity::from_bytes(&id).map_err(corrupt)?;
    let ring = match get_hex(conn, KEYS)? {
        Some(b) => KeyRing::from_bytes(&b).map_err(corrupt)?,
        None => KeyRing::new(),
    };
    let devices = match get_hex(conn, DEVICES)? {
        Some(b) => DeviceDirectory::from_bytes(&b).map_err(corrupt)?,
        None => DeviceDirectory::new(),
    };
    // Not a member of a relay now (it left): nothing to seal or open for.
    let (Some(coop), Some(grant)) = (
        meta::get_meta(conn, "coop_id")?,
        meta::get_meta(conn, "grant")?.and_then(|g| serde_json::from_str::<Grant>(&g).ok()),
    ) else {
        return Ok(None);
    };
    Ok(Some(Trust {
        coop,
        grant,
        identity,
        ring,
        devices,
    }))
}

fn save_ring(w: &mut Writer<'_>, ring: &KeyRing) -> Result<()> {
    set_hex(w, KEYS, &ring.to_bytes())
}

fn save_devices(w: &mut Writer<'_>, devices: &DeviceDirectory) -> Result<()> {
    set_hex(w, DEVICES, &devices.to_bytes().map_err(corrupt)?)
}

fn json_set(conn: &Connection, key: &str) -> Result<BTreeSet<String>> {
    Ok(meta::get_meta(conn, key)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

fn set_json_set(w: &mut Writer<'_>, key: &str, set: &BTreeSet<String>) -> Result<()> {
    let v = Zeroizing::new(serde_json::to_string(set).map_err(|e| Error::Corrupt(e.to_string()))?);
    w.set_meta(key, &v)
}

/// The two parts of a typed join code: what goes to the relay, and the whole code if it
/// has a secret part. A 12-character code (the operator's first coordinator code) has none.
pub(crate) fn split_code(typed: &str) -> (String, Option<JoinCode>) {
    match JoinCode::parse(typed) {
        Ok(code) => (code.relay_code(), Some(code)),
        Err(_) => (typed.trim().to_string(), None),
    }
}

/// After `POST /v1/join`: make this device's keys, open the envelope, and keep all of it
/// in the same write as the membership. Returns nothing to show; the keys are registered
/// with the relay by the first key round.
pub(crate) fn on_join(
    w: &mut Writer<'_>,
    device_key: &str,
    coop: &str,
    grant: &Grant,
    code: Option<&JoinCode>,
    envelope: Option<&str>,
) -> Result<()> {
    // A store that joins again keeps its identity (its documents are named for it).
    let identity = match get_hex(&w.tx, IDENTITY)? {
        Some(b) => Identity::from_bytes(&b)
            .ok()
            .filter(|i| i.device_id() == device_key),
        None => None,
    };
    let identity = match identity {
        Some(i) => i,
        None => Identity::generate(device_key).map_err(crypto_err)?,
    };
    let mine = identity.public_keys(grant.clone());
    let (ring, mut devices, proof) = match (envelope, code) {
        (Some(envelope), Some(code)) => {
            let bytes = hex::decode(envelope)
                .map_err(|_| Error::invalid("the relay sent an unreadable key envelope"))?;
            let joined = crypto::open_key_envelope(code, coop, &bytes).map_err(|e| match e {
                CryptoError::WrongJoinCode => {
                    Error::invalid("wrong join code: check the second half of the code")
                }
                other => crypto_err(other),
            })?;
            if joined.grant != *grant {
                return Err(Error::invalid(
                    "the key envelope was made for another role than the relay granted",
                ));
            }
            let proof = crypto::join_proof(&joined.proof_key, coop, &mine).map_err(crypto_err)?;
            (joined.keys, joined.devices, Some(proof))
        }
        (Some(_), None) => {
            return Err(Error::invalid(
                "this join code is missing its second half: type all 24 characters",
            ));
        }
        (None, _) if grant.role == Role::Coordinator => {
            // The operator's code for a coop's first coordinator: this device is the root
            // of trust and creates the scope keys itself (first key round).
            (KeyRing::new(), DeviceDirectory::new(), None)
        }
        (None, _) => {
            return Err(Error::invalid(
                "this join code carries no keys: ask a coordinator for a new code",
            ));
        }
    };
    devices.insert(mine).map_err(crypto_err)?;
    set_hex(w, IDENTITY, &identity.to_bytes())?;
    save_ring(w, &ring)?;
    save_devices(w, &devices)?;
    if let Some(proof) = proof {
        w.set_meta(JOIN_PROOF, &hex::encode(proof))?;
    }
    w.delete_meta(REGISTERED)?;
    // A new membership starts with a key round, whatever the last one knew.
    w.delete_meta(EPOCH)?;
    w.delete_meta(LOCAL)?;
    Ok(())
}

/// A fingerprint of what a key round reads locally and only local writes (or pulled
/// documents) change: the grant, the people and their sites, the sites, and the consents
/// this device recorded. Those decide which scope keys this device creates and which it
/// wraps for whom; a change means the next sync must run a key round even if the relay's
/// keys epoch did not move. (The ring and trusted devices change only in a key round, at
/// join, or when an invite is sealed, which is followed by the new device registering: a
/// key event at the relay.)
fn local_fingerprint(conn: &Connection) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        // Length-prefixed, so two different lists never hash alike.
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(
        meta::get_meta(conn, "grant")?
            .unwrap_or_default()
            .as_bytes(),
    );
    field(
        meta::get_meta(conn, CONSENTED)?
            .unwrap_or_default()
            .as_bytes(),
    );
    let mut people = conn.prepare_cached("SELECT id, sites FROM people ORDER BY id")?;
    let mut rows = people.query([])?;
    while let Some(r) = rows.next()? {
        field(r.get_ref(0)?.as_bytes().unwrap_or_default());
        field(r.get_ref(1)?.as_bytes().unwrap_or_default());
    }
    field(b"sites");
    let mut sites = conn.prepare_cached("SELECT id FROM sites ORDER BY id")?;
    let mut rows = sites.query([])?;
    while let Some(r) = rows.next()? {
        field(r.get_ref(0)?.as_bytes().unwrap_or_default());
    }
    Ok(hex::encode(h.finalize()))
}

/// Whether a sync must run a key round before pushing: this device has keys and either
/// never completed a round in this membership, has not registered its keys, talks to a
/// relay without a keys epoch, or changed locally what a round reads. Otherwise the round
/// waits for the pull to report a new keys epoch.
pub(crate) fn round_due_before_push(conn: &Connection) -> Result<bool> {
    if meta::get_meta(conn, IDENTITY)?.is_none() || meta::get_meta(conn, "coop_id")?.is_none() {
        return Ok(false);
    }
    if meta::get_meta(conn, REGISTERED)?.is_none() || meta::get_meta(conn, EPOCH)?.is_none() {
        return Ok(true);
    }
    Ok(meta::get_meta(conn, LOCAL)?.as_deref() != Some(local_fingerprint(conn)?.as_str()))
}

/// Whether a pull that reported `epoch` calls for a key round: the relay recorded a key
/// event since this device's last round. A relay without an epoch reports none; the round
/// before the push covered it (it runs every sync with such a relay).
pub(crate) fn round_due_after_pull(conn: &Connection, epoch: Option<u64>) -> Result<bool> {
    let Some(epoch) = epoch else {
        return Ok(false);
    };
    if meta::get_meta(conn, IDENTITY)?.is_none() || meta::get_meta(conn, "coop_id")?.is_none() {
        return Ok(false);
    }
    Ok(meta::get_meta(conn, EPOCH)?.as_deref() != Some(epoch.to_string().as_str()))
}

/// The scopes a device with `grant` issues keys for, from what it knows locally: a
/// coordinator the directory, every site and every person's timesheet, review and
/// records; a worker their own notes. Supporters never create (the person's device does),
/// so two devices never create rival keys for one scope.
fn scopes_to_issue(conn: &Connection, grant: &Grant) -> Result<Vec<Scope>> {
    let mut out = Vec::new();
    match grant.role {
        Role::Coordinator => {
            out.push(Scope::Directory);
            let ids = |sql: &str| -> Result<Vec<String>> {
                let mut stmt = conn.prepare_cached(sql)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            };
            for s in ids("SELECT id FROM sites ORDER BY id")? {
                out.push(Scope::Site(s));
            }
            for p in ids("SELECT id FROM people ORDER BY id")? {
                out.push(Scope::Timesheet(p.clone()));
                out.push(Scope::Review(p.clone()));
                out.push(Scope::Records(p));
            }
        }
        Role::Worker => {
            if let Some(p) = &grant.person {
                out.push(Scope::Notes(p.clone()));
            }
        }
        Role::Supporter | Role::Kiosk => {}
    }
    Ok(out)
}

/// The keys `ring` holds that a device with `grant` should get: what the access table
/// allows (`subset_for`), what this device may hand out, and for a kiosk only the
/// timesheets of its site's people (it seals their punches; nobody else taps there).
fn keys_for(
    conn: &Connection,
    t: &Trust,
    grant: &Grant,
    consented: &BTreeSet<String>,
) -> Result<KeyRing> {
    let mut keys = t.ring.subset_for(grant, |p| consented.contains(p));
    keys.retain(|s| crypto::may_issue_key(&t.grant, s));
    if let (Role::Kiosk, Some(site)) = (grant.role, &grant.site) {
        let mut stmt = conn.prepare_cached("SELECT id, sites FROM people")?;
        let at_site: BTreeSet<String> = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .filter_map(|r| r.ok())
            .filter(|(_, sites)| sites.split(',').any(|s| s == site))
            .map(|(id, _)| id)
            .collect();
        keys.retain(|s| !matches!(s, Scope::Timesheet(p) if !at_site.contains(p)));
    }
    Ok(keys)
}

/// Create the keys this device issues and does not hold yet. Returns whether any was made.
fn create_missing(conn: &Connection, t: &mut Trust) -> Result<bool> {
    let mut made = false;
    for scope in scopes_to_issue(conn, &t.grant)? {
        if t.ring.newest(&scope).is_none() && crypto::may_issue_key(&t.grant, &scope) {
            t.ring.create_scope(scope).map_err(crypto_err)?;
            made = true;
        }
    }
    Ok(made)
}

/// Seal one blob of `doc` for the relay. `Ok(None)`: this device holds no key for the
/// document's scope yet (the blob waits in the outbox for the key round to bring one).
pub(crate) fn seal(t: &Trust, doc: &str, plaintext: &[u8]) -> Result<Option<(Vec<u8>, String)>> {
    let ctx = BlobContext::new(&t.coop, doc).map_err(crypto_err)?;
    match crypto::seal_blob(&ctx, &t.identity, &t.ring, plaintext, Compression::Auto) {
        Ok(sealed) => Ok(Some((sealed.bytes, sealed.key_id.to_string()))),
        Err(CryptoError::NoKey) => Ok(None),
        Err(e) => Err(crypto_err(e)),
    }
}

/// What became of one pulled blob.
pub(crate) enum Opened {
    /// Verified and opened: merge these automerge bytes.
    Plain(Vec<u8>),
    /// Not for this device to open (a write-only scope): ignore.
    Skip,
    /// Sealed to a key or by a device this device does not know yet: keep it aside and
    /// retry after the next key round.
    Held,
    /// Fails its checks (altered, moved from another document, forged writer, unsigned):
    /// drop it and report it.
    Dropped,
}

/// The device a single-writer document is named for (`timesheet:<p>/<month>/<device>`,
/// `review:<p>/<year>/<device>`): only that device's blobs are accepted in it.
/// The device that alone may write `doc` (punch and review documents are named for it),
/// if any.
pub(crate) fn named_writer(doc: &str) -> Option<&str> {
    match DocKind::of(doc) {
        Ok(DocKind::Punches | DocKind::Review) => doc.rsplit('/').next(),
        _ => None,
    }
}

/// Verify and open one pulled blob of `doc`.
pub(crate) fn open(t: &Trust, doc: &str, key_field: Option<&str>, bytes: &[u8]) -> Opened {
    let (Ok(ctx), Ok(scope)) = (BlobContext::new(&t.coop, doc), Scope::of_doc(doc)) else {
        return Opened::Dropped;
    };
    match crypto::classify(bytes) {
        BlobKind::Sealed(_) => {}
        // Unsigned plaintext: anyone (the relay included) could have written it.
        BlobKind::LegacyPlaintext | BlobKind::Unknown => return Opened::Dropped,
        // A newer format from a newer app: keep it for after an update.
        BlobKind::SealedNewer(_) => return Opened::Held,
    }
    if let Some(k) = key_field
        && crypto::check_key_field(&ctx, k, bytes).is_err()
    {
        return Opened::Dropped;
    }
    match crypto::open_blob(&ctx, bytes, &t.ring, &t.devices, named_writer(doc)) {
        Ok(o) => Opened::Plain(o.plaintext),
        // Write-only here (a kiosk's timesheets): not for this device to read.
        Err(CryptoError::CannotOpen) if !t.ring.can_read(&scope) => Opened::Skip,
        Err(CryptoError::UnknownKeyVersion | CryptoError::UnknownWriter) => Opened::Held,
        Err(_) => Opened::Dropped,
    }
}

/// Quarantine reasons for what [`open`] did not merge.
pub(crate) fn set_aside(w: &mut Writer<'_>, doc: &str, blob: &[u8], held: bool) -> Result<()> {
    let reason = if held {
        Reason::AwaitingKey
    } else {
        Reason::FailedVerification
    };
    let now = w.now;
    quarantine::set_aside(&w.tx, doc, blob, reason, now)?;
    w.touch(quarantine::SCOPE);
    if !held {
        // The reason only: the document id can name a person.
        tracing::warn!("a blob from the relay failed verification and was dropped");
    }
    Ok(())
}

impl SyncClient<'_> {
    /// See the module docs. Runs before pushing, so new keys can seal this sync's changes.
    /// Returns whether this device's keys or trusted devices changed.
    pub(super) async fn key_round(&self, relay: &HttpRelay, retries: &mut u32) -> Result<bool> {
        let Some(mut t) = self.lb.store.read(load)? else {
            return Ok(false);
        };
        // Taken before anything is read: a local change made while the round runs then
        // leaves a different fingerprint, and the next sync runs another round.
        let local = self.lb.store.read(local_fingerprint)?;
        let (registered, join_proof) = self.lb.store.read(|c| {
            Ok((
                meta::get_meta(c, REGISTERED)?.is_some(),
                meta::get_meta(c, JOIN_PROOF)?,
            ))
        })?;
        if !registered {
            let keys = t
                .identity
                .public_keys(t.grant.clone())
                .to_bytes()
                .map_err(crypto_err)?;
            let body = proto::DeviceKeysRequest {
                keys: hex::encode(keys),
                proof: join_proof,
            };
            with_retries(retries, || {
                relay.json_call::<()>(reqwest::Method::PUT, "/v1/keys/me", Some(&body))
            })
            .await?;
            self.lb.store.write(ChangeOrigin::Sync, |w| {
                w.set_meta(REGISTERED, "yes")?;
                w.delete_meta(JOIN_PROOF)
            })?;
        }
        let listing: proto::KeysResponse = with_retries(retries, || {
            relay.json_call(reqwest::Method::GET, "/v1/keys", None::<&()>)
        })
        .await?
        .unwrap_or_default();

        let before_ring = t.ring.clone();
        let before_devices = t.devices.clone();
        let mut proof_keys: BTreeSet<String> = self.lb.store.read(|c| json_set(c, PROOF_KEYS))?;
        let mut certificates: Vec<proto::CertificateEntry> = Vec::new();
        // Relay device id of each listed key id, for addressing wrapped keys.
        let mut relay_ids: BTreeMap<String, (String, bool)> = BTreeMap::new();
        let mut listed: Vec<(DevicePublicKeys, &proto::DeviceKeysEntry)> = Vec::new();
        for entry in &listing.devices {
            let Some(keys) = hex::decode(&entry.keys)
                .ok()
                .and_then(|b| DevicePublicKeys::from_bytes(&b).ok())
            else {
                continue;
            };
            relay_ids.insert(
                keys.device_id.clone(),
                (entry.device_id.clone(), entry.revoked),
            );
            listed.push((keys, entry));
        }
        // Devices this coordinator invited: recognised by their join proof, then certified
        // for everyone else.
        for (keys, entry) in &listed {
            if t.devices.get(&keys.device_id).is_some() {
                continue;
            }
            let Some(proof) = entry.proof.as_ref().and_then(|p| hex::decode(p).ok()) else {
                continue;
            };
            let matched = proof_keys.iter().find(|pk| {
                let Ok(pk) = hex::decode(pk.as_str()).map(Zeroizing::new) else {
                    return false;
                };
                let Ok(pk) = <[u8; 32]>::try_from(pk.as_slice()).map(Zeroizing::new) else {
                    return false;
                };
                crypto::verify_join_proof(&pk, &t.coop, keys, &proof).is_ok()
            });
            if let Some(pk) = matched.cloned() {
                if t.devices.insert(keys.clone()).is_err() {
                    continue;
                }
                proof_keys.remove(&pk);
                if t.grant.role == Role::Coordinator {
                    let cert = crypto::certify_device(&t.coop, &t.identity, &t.grant, keys)
                        .map_err(crypto_err)?;
                    certificates.push(proto::CertificateEntry {
                        device_id: entry.device_id.clone(),
                        certificate: hex::encode(cert),
                    });
                }
            }
        }
        // Everyone else: a certificate by a coordinator this device already trusts. Repeat
        // while it helps (a device certified by a coordinator that is itself certified).
        loop {
            let mut progress = false;
            for (keys, entry) in &listed {
                if t.devices.get(&keys.device_id).is_some() {
                    continue;
                }
                for cert in &entry.certificates {
                    let Ok(cert) = hex::decode(cert) else {
                        continue;
                    };
                    if let Ok(certified) = t.devices.insert_certified(&t.coop, &cert)
                        && certified == *keys
                    {
                        progress = true;
                        break;
                    }
                }
            }
            if !progress {
                break;
            }
        }
        // Keys wrapped for this device by devices it trusts.
        for wrapped in &listing.wrapped {
            let Ok(bytes) = hex::decode(wrapped) else {
                continue;
            };
            match crypto::unwrap_scope_key(&t.coop, &t.identity, &bytes, &t.devices) {
                Ok(key) => {
                    if t.ring.insert(key).is_err() {
                        tracing::warn!("a delivered scope key conflicts with one held here");
                    }
                }
                Err(CryptoError::UnknownWriter) => {} // its issuer is not trusted yet
                Err(_) => tracing::warn!("a delivered scope key failed its checks"),
            }
        }
        self.lb
            .store
            .read(|c| create_missing(c, &mut t).map(drop))?;
        // Wrap what each trusted device may hold and has not been sent yet.
        let (mut delivered, consented) = self
            .lb
            .store
            .read(|c| Ok((json_set(c, DELIVERED)?, json_set(c, CONSENTED)?)))?;
        let mut wrapped = Vec::new();
        let me = t.identity.device_id().to_string();
        for device in t.devices.iter() {
            let Some((relay_id, revoked)) = relay_ids.get(&device.device_id) else {
                continue;
            };
            if device.device_id == me || *revoked {
                continue;
            }
            let subset = self
                .lb
                .store
                .read(|c| keys_for(c, &t, &device.grant, &consented))?;
            for key in subset.keys() {
                let mark = format!(
                    "{relay_id} {} {}",
                    key.id(),
                    if key.is_secret() { 's' } else { 'p' }
                );
                if delivered.contains(&mark) {
                    continue;
                }
                let bytes = crypto::wrap_scope_key(&t.coop, &t.identity, &t.grant, device, key)
                    .map_err(crypto_err)?;
                wrapped.push(proto::WrappedKeyEntry {
                    to: relay_id.clone(),
                    key: hex::encode(bytes),
                });
                delivered.insert(mark);
            }
        }
        let delivering = !wrapped.is_empty() || !certificates.is_empty();
        if delivering {
            let body = proto::KeyDeliveryRequest {
                wrapped,
                certificates,
            };
            with_retries(retries, || {
                relay.json_call::<()>(reqwest::Method::POST, "/v1/keys/wrapped", Some(&body))
            })
            .await?;
        }
        let changed = t.ring != before_ring || t.devices != before_devices;
        self.lb.store.write(ChangeOrigin::Sync, |w| {
            save_ring(w, &t.ring)?;
            save_devices(w, &t.devices)?;
            set_json_set(w, DELIVERED, &delivered)?;
            set_json_set(w, PROOF_KEYS, &proof_keys)?;
            // The epoch the listing was read at, plus this round's own delivery (the relay
            // bumps it once per delivery). Epochs only grow, so any other event since the
            // listing leaves the relay's epoch above this and the next pull asks for a
            // round: never too new, at worst one round too many.
            match listing.epoch {
                Some(e) => w.set_meta(EPOCH, &(e + u64::from(delivering)).to_string())?,
                None => w.delete_meta(EPOCH)?,
            }
            w.set_meta(LOCAL, &local)?;
            Ok(())
        })?;
        if changed {
            self.retry_held(&t)?;
        }
        Ok(changed)
    }

    /// Blobs held for a key or a device this device did not know: open the ones it can now.
    fn retry_held(&self, t: &Trust) -> Result<u32> {
        let held = self.lb.store.read(quarantine::awaiting_key)?;
        if held.is_empty() {
            return Ok(0);
        }
        let mut merged = 0;
        self.lb.store.write(ChangeOrigin::Sync, |w| {
            for (row, doc, blob) in &held {
                match open(t, doc, None, blob) {
                    Opened::Held => continue,
                    Opened::Plain(plain) => {
                        quarantine::remove(&w.tx, *row)?;
                        if DocKind::of(doc).is_ok() {
                            merged += w.merge_remote(doc, &[plain])? as u32;
                        }
                    }
                    Opened::Skip => quarantine::remove(&w.tx, *row)?,
                    Opened::Dropped => {
                        quarantine::remove(&w.tx, *row)?;
                        set_aside(w, doc, blob, false)?;
                    }
                }
            }
            w.touch(quarantine::SCOPE);
            Ok(())
        })?;
        Ok(merged)
    }

    /// Coordinators: after `POST /v1/invites`, seal the key envelope for the new device,
    /// leave it at the relay, and keep the proof key. Returns the code to show (both
    /// parts), or the relay's code alone for a store without keys.
    pub(super) async fn seal_invite(
        &self,
        relay: &HttpRelay,
        relay_code: &str,
        grant: &Grant,
    ) -> Result<String> {
        let Some(mut t) = self.lb.store.read(load)? else {
            return Ok(relay_code.to_string());
        };
        // Keys for everything this coordinator knows, so the envelope is complete.
        let made = self.lb.store.read(|c| create_missing(c, &mut t))?;
        let code = JoinCode::with_relay_code(relay_code).map_err(crypto_err)?;
        // No notes keys: a coordinator never hands them out (the person's device does).
        let keys = self
            .lb
            .store
            .read(|c| keys_for(c, &t, grant, &BTreeSet::new()))?;
        let sealed = crypto::seal_key_envelope(
            &code,
            &t.coop,
            &t.identity,
            &t.grant,
            grant,
            &keys,
            &t.devices,
        )
        .map_err(crypto_err)?;
        relay
            .json_call::<()>(
                reqwest::Method::PUT,
                "/v1/invites/envelope",
                Some(&proto::InviteEnvelopeRequest {
                    code: relay_code.to_string(),
                    envelope: hex::encode(&sealed.envelope),
                }),
            )
            .await?;
        self.lb.store.write(ChangeOrigin::Local, |w| {
            if made {
                save_ring(w, &t.ring)?;
            }
            let mut proofs = json_set(&w.tx, PROOF_KEYS)?;
            proofs.insert(hex::encode(*sealed.proof_key));
            set_json_set(w, PROOF_KEYS, &proofs)
        })?;
        Ok(code.typed().to_string())
    }

    /// Remember a person's consent as this device set it: their notes key then goes to
    /// the coop's trusted coordinators with the next key round.
    pub(super) fn record_consent(&self, person: &str, coordinator_notes: bool) -> Result<()> {
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let mut set = json_set(&w.tx, CONSENTED)?;
            if coordinator_notes {
                set.insert(person.to_string());
            } else {
                set.remove(person);
            }
            set_json_set(w, CONSENTED, &set)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_half_of_a_code_goes_to_the_relay() {
        let code = JoinCode::generate().expect("code");
        let typed = code.typed();
        let (relay, full) = split_code(&typed);
        assert_eq!(relay, code.relay_code());
        assert_eq!(relay.len(), 14, "XXXX-XXXX-XXXX");
        assert!(typed.starts_with(&relay) && typed.len() > relay.len() + 10);
        assert!(full.is_some_and(|f| f.typed() == typed));
        // The operator's first coordinator code has no second half: sent as typed.
        let (relay, full) = split_code(" K7QF-2M9X-T4PA ");
        assert_eq!(relay, "K7QF-2M9X-T4PA");
        assert!(full.is_none());
    }

    #[test]
    fn single_writer_documents_name_their_writer() {
        assert_eq!(named_writer("timesheet:ann/2026-11/d-1"), Some("d-1"));
        assert_eq!(named_writer("review:ann/2026/d-2"), Some("d-2"));
        assert_eq!(named_writer("notes:ann/n-1"), None);
        assert_eq!(named_writer("records:ann/cpo/o-1"), None);
        assert_eq!(named_writer("directory/main"), None);
    }
}
