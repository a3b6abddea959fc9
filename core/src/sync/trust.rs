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
//! - **Migration from plaintext** (docs/SECURITY.md): a store with a membership but no
//!   identity (it joined before this version) makes one at its next sync ([`upgrade`]) and
//!   registers it without a join proof; while its coop migrates, coordinators take such
//!   devices on first use and certify them, and an upgraded device takes the coop's
//!   coordinators on first use until it trusts one; each upgraded device then re-seals
//!   every document it pushed in plaintext ([`SyncClient::reseal`]), then what only the
//!   relay still holds of it and what revoked keyless devices left (`sync/migrate.rs`);
//!   a coordinator ends the migration with [`SyncClient::seal_coop`].

use std::collections::{BTreeMap, BTreeSet};

use logbook_crypto::{
    self as crypto, BlobContext, BlobKind, Compression, CryptoError, DeviceDirectory,
    DevicePublicKeys, Identity, JoinCode, KeyRing, zeroize::Zeroizing,
};
use logbook_protocol::{self as proto, Grant, Role, Scope};
use rusqlite::Connection;

use super::transport::{HttpRelay, Transport};
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
/// Scopes this device must rotate at its next key round: a person's notes after consent
/// was withdrawn on this device.
const ROTATE: &str = "e2e_rotate";
/// Device ids (key ids) of revoked devices whose revocation this device has handled: it
/// rotated what it had to (see [`rotator`]) once, never again.
const REVOKED: &str = "e2e_revoked";
/// `<person> <device key>` of the devices approved on this device to receive that person's
/// notes key: the person's other devices and their supporters. A coordinator can mint a
/// supporter (or worker) grant for a laptop of its own, and certify it; only this list,
/// kept on the person's device or an existing supporter's, lets a notes key reach it.
const APPROVED: &str = "e2e_notes_approved";
/// Set when this device upgraded from plaintext ([`upgrade`]), cleared once the relay says
/// its coop is sealed only: while set, the device takes keys on first use (see
/// [`SyncClient::key_round`]) and ignores plaintext blobs instead of reporting them.
const MIGRATING: &str = "e2e_migrating";
/// Documents this device pushed in plaintext and has not re-sealed yet (a JSON set).
const RESEAL: &str = "e2e_reseal";
/// Test-only: this store behaves as a client from before end-to-end encryption (joins
/// without keys, never upgrades). See [`SyncClient::act_as_plaintext_client`].
pub(crate) const PLAINTEXT_CLIENT: &str = "e2e_plaintext_client";

/// Everything of this file kept per membership: a device that leaves its relay forgets
/// its scope keys and whom it trusted. It keeps its identity: its own documents are named
/// for it, and joining again registers the same keys.
pub(crate) const MEMBERSHIP_KEYS: [&str; 15] = [
    KEYS,
    DEVICES,
    PROOF_KEYS,
    JOIN_PROOF,
    REGISTERED,
    DELIVERED,
    CONSENTED,
    EPOCH,
    LOCAL,
    ROTATE,
    REVOKED,
    APPROVED,
    MIGRATING,
    RESEAL,
    super::migrate::OWN_DONE,
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

/// A device that may receive a person's notes key once approved
/// ([`SyncClient::notes_devices`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesDevice {
    /// The device's key (its id in document names), which the device shows to be checked.
    pub device_key: String,
    /// The person's own device (`Worker`) or a supporter's.
    pub role: Role,
    pub approved: bool,
}

/// What this device holds for end-to-end encryption.
pub(crate) struct Trust {
    pub coop: String,
    pub grant: Grant,
    pub identity: Identity,
    pub ring: KeyRing,
    pub devices: DeviceDirectory,
    /// This device upgraded from plaintext and its coop is not sealed only yet.
    pub migrating: bool,
}

fn corrupt(_: CryptoError) -> Error {
    // The crypto error's text is fixed and free of personal data, but "corrupt" is what
    // the user can act on: the stored keys do not parse.
    Error::Corrupt("stored encryption keys do not parse".into())
}

/// This coordinator's certificate for a device it now trusts, addressed to the device's
/// id at the relay (`relay_device_id`, not its key id), to publish for the others.
fn certificate_for(
    t: &Trust,
    keys: &DevicePublicKeys,
    relay_device_id: &str,
) -> Result<proto::CertificateEntry> {
    let cert = crypto::certify_device(&t.coop, &t.identity, &t.grant, keys).map_err(crypto_err)?;
    Ok(proto::CertificateEntry {
        device_id: relay_device_id.to_string(),
        certificate: hex::encode(cert),
    })
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
    let migrating = meta::get_meta(conn, MIGRATING)?.is_some();
    Ok(Some(Trust {
        coop,
        grant,
        identity,
        ring,
        devices,
        migrating,
    }))
}

/// Whether this store must [`upgrade`] before it syncs: it is a member of a relay but has
/// no identity (it joined before end-to-end encryption).
pub(crate) fn needs_upgrade(conn: &Connection) -> Result<bool> {
    Ok(meta::get_meta(conn, "coop_id")?.is_some()
        && meta::get_meta(conn, "grant")?.is_some()
        && meta::get_meta(conn, IDENTITY)?.is_none()
        && meta::get_meta(conn, PLAINTEXT_CLIENT)?.is_none())
}

/// Step 1 of the migration from plaintext (docs/SECURITY.md): make this device's keys as a
/// join would, without an envelope (no scope keys, nobody trusted but itself) and without
/// a join proof, and note every document it pushed in plaintext, to re-seal once it holds
/// that document's key. The next key round registers the keys.
pub(crate) fn upgrade(w: &mut Writer<'_>, device_key: &str) -> Result<()> {
    let grant: Grant = meta::get_meta(&w.tx, "grant")?
        .and_then(|g| serde_json::from_str(&g).ok())
        .ok_or_else(|| Error::Corrupt("the stored grant does not parse".into()))?;
    let identity = Identity::generate(device_key).map_err(crypto_err)?;
    let mut devices = DeviceDirectory::new();
    devices
        .insert(identity.public_keys(grant))
        .map_err(crypto_err)?;
    let pushed: BTreeSet<String> = {
        let mut stmt =
            w.tx.prepare_cached("SELECT DISTINCT doc FROM pushed ORDER BY doc")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    set_hex(w, IDENTITY, &identity.to_bytes())?;
    save_ring(w, &KeyRing::new())?;
    save_devices(w, &devices)?;
    set_json_set(w, RESEAL, &pushed)?;
    w.set_meta(MIGRATING, "1")?;
    for key in [
        JOIN_PROOF,
        REGISTERED,
        EPOCH,
        LOCAL,
        super::migrate::OWN_DONE,
    ] {
        w.delete_meta(key)?;
    }
    // Counts only: document ids can name a person.
    tracing::info!(
        documents = pushed.len(),
        "upgraded to end-to-end encryption"
    );
    Ok(())
}

pub(super) fn save_ring(w: &mut Writer<'_>, ring: &KeyRing) -> Result<()> {
    set_hex(w, KEYS, &ring.to_bytes())
}

/// Rotate `scope` at the next key round, as a consent withdrawal does (an erasure here:
/// sync/erasure.rs).
pub(crate) fn rotate_at_next_round(w: &mut Writer<'_>, scope: &Scope) -> Result<()> {
    let mut rotate = json_set(&w.tx, ROTATE)?;
    rotate.insert(scope.to_string());
    set_json_set(w, ROTATE, &rotate)
}

fn save_devices(w: &mut Writer<'_>, devices: &DeviceDirectory) -> Result<()> {
    set_hex(w, DEVICES, &devices.to_bytes().map_err(corrupt)?)
}

/// How many documents this device pushed in plaintext and has not re-sealed yet.
pub(super) fn reseal_left(conn: &Connection) -> Result<usize> {
    Ok(json_set(conn, RESEAL)?.len())
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
    field(
        meta::get_meta(conn, APPROVED)?
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
    if meta::get_meta(conn, REGISTERED)?.is_none()
        || meta::get_meta(conn, EPOCH)?.is_none()
        || !json_set(conn, ROTATE)?.is_empty()
    {
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

/// Whether this device makes `person`'s notes key now, so that two devices do not make
/// rival keys: the person's own device; if no device of the person is trusted here (a
/// person without a phone), the supporter with the smallest device id, and only when it
/// has a note to seal (so a key exists only once notes sealed to it are on their way).
/// Either waits if blobs of the person's notes sealed to a key it does not hold have
/// arrived (someone made one), and, when another device could have made one (it is a
/// supporter, or it trusts a supporter of the person), decides only in the key round after
/// a pull (`after_pull`), so such blobs would have arrived: a phone that joins after months
/// of notes written by a supporter waits for the supporter's key.
fn notes_key_decision(
    conn: &Connection,
    t: &Trust,
    person: &str,
    revoked: &BTreeSet<String>,
    after_pull: bool,
) -> Result<bool> {
    let me = t.identity.device_id();
    let live = |d: &&DevicePublicKeys| d.device_id != me && !revoked.contains(&d.device_id);
    let person_devices = t
        .devices
        .iter()
        .filter(live)
        .any(|d| d.grant.role == Role::Worker && d.grant.person.as_deref() == Some(person));
    let supporters: Vec<&str> = t
        .devices
        .iter()
        .filter(live)
        .filter(|d| d.grant.role == Role::Supporter && d.grant.supports.iter().any(|s| s == person))
        .map(|d| d.device_id.as_str())
        .collect();
    let supporter_here = t.grant.role == Role::Supporter;
    let prefix = format!("{}/", Scope::Notes(person.to_string()));
    if supporter_here {
        let wants: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE substr(doc, 1, ?2) = ?1)")?
            .query_row(rusqlite::params![prefix, prefix.len() as i64], |r| r.get(0))?;
        if person_devices || supporters.iter().any(|d| *d < me) || !wants {
            return Ok(false);
        }
    }
    if quarantine::awaiting_key(conn)?
        .iter()
        .any(|(_, doc, _)| doc.starts_with(&prefix))
    {
        return Ok(false);
    }
    // Contested (a supporter could make it too): only after a pull.
    let contested = supporter_here || !supporters.is_empty();
    Ok(after_pull || !contested)
}

/// The scopes a device issues keys for, from what it knows locally: a coordinator the
/// directory, every site and every person's timesheet, review and records; a worker their
/// own notes and a supporter the notes of the people it supports, as
/// [`notes_key_decision`] decides.
fn scopes_to_issue(
    conn: &Connection,
    t: &Trust,
    revoked: &BTreeSet<String>,
    after_pull: bool,
) -> Result<Vec<Scope>> {
    let grant = &t.grant;
    let mut out = Vec::new();
    let notes = |p: &str, out: &mut Vec<Scope>| -> Result<()> {
        if t.ring.newest(&Scope::Notes(p.to_string())).is_none()
            && notes_key_decision(conn, t, p, revoked, after_pull)?
        {
            out.push(Scope::Notes(p.to_string()));
        }
        Ok(())
    };
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
                notes(p, &mut out)?;
            }
        }
        Role::Supporter => {
            for p in &grant.supports {
                notes(p, &mut out)?;
            }
        }
        Role::Kiosk => {}
    }
    Ok(out)
}

/// The keys `ring` holds that a device with `grant` should get: what the access table
/// allows (`subset_for`), what this device may hand out, and for a kiosk only the
/// timesheets of its site's people (it seals their punches; nobody else taps there).
///
/// A notes key goes to a coordinator only with the person's consent (`consented`), and to
/// any other device (the person's other devices, supporters) only if it was approved here
/// (`approved`, see [`SyncClient::approve_notes_device`]); `device` is its device key,
/// `None` for a device not joined yet (an invite: a coordinator never hands out notes).
fn keys_for(
    conn: &Connection,
    t: &Trust,
    device: Option<&str>,
    grant: &Grant,
    consented: &BTreeSet<String>,
    approved: &BTreeSet<String>,
) -> Result<KeyRing> {
    let mut keys = t.ring.subset_for(grant, |p| consented.contains(p));
    keys.retain(|s| crypto::may_issue_key(&t.grant, s));
    if grant.role != Role::Coordinator {
        keys.retain(|s| match (s, device) {
            (Scope::Notes(p), Some(d)) => approved.contains(&format!("{p} {d}")),
            (Scope::Notes(_), None) => false,
            _ => true,
        });
    }
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

/// Whether this device is the one that rotates `scope`'s key: of the trusted devices that
/// are not revoked and may issue the scope's key, the one with the smallest device id. For
/// coordinator scopes those are the coordinators; for `notes:<p>` the person's own devices,
/// or if there is none, the person's supporters (as for making the key:
/// [`notes_key_decision`]). Every device applies the same rule to the same certified
/// directory, so one device rotates and two never make rival keys of one version. A
/// device that does not hold the scope's key cannot rotate it, and the rule does not pass
/// the job on (docs/SECURITY.md, Not done yet).
fn rotator(t: &Trust, scope: &Scope, revoked: &BTreeSet<String>) -> bool {
    if !crypto::may_issue_key(&t.grant, scope) {
        return false;
    }
    let live: Vec<&DevicePublicKeys> = t
        .devices
        .iter()
        .filter(|d| !revoked.contains(&d.device_id) && crypto::may_issue_key(&d.grant, scope))
        .collect();
    // For notes, the person's own devices first.
    let person_first =
        matches!(scope, Scope::Notes(_)) && live.iter().any(|d| d.grant.role == Role::Worker);
    live.iter()
        .filter(|d| !person_first || d.grant.role == Role::Worker)
        .map(|d| d.device_id.as_str())
        .min()
        == Some(t.identity.device_id())
}

/// Revocation and consent withdrawal rotate (docs/SECURITY.md, Rotation): the scopes to
/// give a new key version in this round. For each revoked device this device trusts and
/// has not handled yet, every scope whose private key it may have held (consent assumed for
/// notes: a coordinator may have had them) where this device is the [`rotator`]; plus the
/// scopes `pending` from [`SyncClient::record_consent`]. `handled` gains the revoked
/// devices dealt with. On a membership's first round (`handled` never written) the
/// revocations already listed are taken as handled: the devices that were members then
/// rotated, and the keys this device got are the rotated ones.
fn scopes_to_rotate(
    t: &Trust,
    revoked: &BTreeSet<String>,
    handled: &mut Option<BTreeSet<String>>,
    pending: &BTreeSet<String>,
) -> BTreeSet<Scope> {
    let mut out = BTreeSet::new();
    let first = handled.is_none();
    let handled = handled.get_or_insert_with(BTreeSet::new);
    for id in revoked {
        if handled.contains(id) {
            continue;
        }
        let Some(device) = t.devices.get(id) else {
            // Not trusted here (yet): nothing this device wrapped for it.
            continue;
        };
        if !first {
            for scope in t.ring.scopes() {
                if crypto::may_hold_secret(&device.grant, scope) && rotator(t, scope, revoked) {
                    out.insert(scope.clone());
                }
            }
        }
        handled.insert(id.clone());
    }
    for s in pending {
        if let Ok(scope) = Scope::parse(s)
            && crypto::may_issue_key(&t.grant, &scope)
        {
            out.insert(scope);
        }
    }
    out.retain(|s| t.ring.newest(s).is_some());
    out
}

/// Whether a coordinator that holds no directory key makes the coop's scope keys. A
/// coordinator that joined with an envelope got them, and the operator's first coordinator
/// of a new coop is alone: both decide as before. A coordinator that upgraded from
/// plaintext ([`upgrade`]) is one of possibly several doing the same: it makes them only if
/// no other trusted coordinator could have (it trusts none), or, when it trusts others,
/// if it has the smallest device id of them, after a pull, and no directory blob sealed
/// to a key it does not hold has arrived (someone made one). The others wait for the keys
/// to be wrapped for them, so two coordinators do not make rival keys.
fn first_coordinator_decision(
    conn: &Connection,
    t: &Trust,
    revoked: &BTreeSet<String>,
    after_pull: bool,
) -> Result<bool> {
    if !t.migrating {
        return Ok(true);
    }
    let me = t.identity.device_id();
    let others: Vec<&str> = t
        .devices
        .iter()
        .filter(|d| {
            d.device_id != me
                && d.grant.role == Role::Coordinator
                && !revoked.contains(&d.device_id)
        })
        .map(|d| d.device_id.as_str())
        .collect();
    if others.is_empty() {
        return Ok(true);
    }
    let held = quarantine::awaiting_key(conn)?
        .iter()
        .any(|(_, doc, _)| Scope::of_doc(doc).is_ok_and(|s| s == Scope::Directory));
    Ok(after_pull && !held && others.iter().all(|o| me < *o))
}

/// Create the keys this device issues and does not hold yet. Returns whether any was made.
fn create_missing(
    conn: &Connection,
    t: &mut Trust,
    revoked: &BTreeSet<String>,
    after_pull: bool,
) -> Result<bool> {
    if t.grant.role == Role::Coordinator
        && t.ring.newest(&Scope::Directory).is_none()
        && !first_coordinator_decision(conn, t, revoked, after_pull)?
    {
        // Another coordinator makes the coop's keys; this one gets them wrapped.
        return Ok(false);
    }
    let mut made = false;
    for scope in scopes_to_issue(conn, t, revoked, after_pull)? {
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
        // Plaintext while the coop migrates: what a device that has not upgraded yet
        // pushed. This device merged the coop's plaintext before it upgraded, and the
        // writer re-seals it (sealed snapshots follow), so it is ignored, not reported.
        BlobKind::LegacyPlaintext if t.migrating => return Opened::Skip,
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
    let opened = match crypto::open_blob(&ctx, bytes, &t.ring, &t.devices, named_writer(doc)) {
        // Another device's blob in a document named for a device: only a coordinator's
        // custody re-seal of a keyless device's plaintext (docs/SECURITY.md, Migration).
        Err(CryptoError::WrongWriter) if super::migrate::custody_ok(t, doc, bytes) => {
            crypto::open_custody_blob(&ctx, bytes, &t.ring, &t.devices)
        }
        other => other,
    };
    match opened {
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
    /// `after_pull`: this round follows a completed pull (a notes key whose maker is
    /// contested is made only then: [`notes_key_decision`]). Returns whether this device's
    /// keys or trusted devices changed.
    pub(super) async fn key_round(
        &self,
        relay: &HttpRelay,
        retries: &mut u32,
        after_pull: bool,
    ) -> Result<bool> {
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
        self.take_consent(&listing.consent)?;

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
        // Devices the relay lists as revoked, by device (key) id.
        let revoked: BTreeSet<String> = relay_ids
            .iter()
            .filter(|(_, (_, r))| *r)
            .map(|(id, _)| id.clone())
            .collect();
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
                    certificates.push(certificate_for(&t, keys, &entry.device_id)?);
                }
            }
        }
        // Migration from plaintext (docs/SECURITY.md): trust on first use, the one point
        // where the relay is believed, and only until the coop is sealed only. Devices
        // that upgraded register without a join proof: a coordinator takes them and
        // certifies them for everyone else; a device takes the coop's coordinators until
        // it trusts one (the rest come with certificates).
        if t.migrating && listing.sealed_only {
            t.migrating = false;
        }
        if t.migrating {
            let me = t.identity.device_id().to_string();
            let trusts_coordinator = t.devices.iter().any(|d| {
                d.device_id != me
                    && d.grant.role == Role::Coordinator
                    && !revoked.contains(&d.device_id)
            });
            for (keys, entry) in &listed {
                if entry.revoked
                    || entry.proof.is_some()
                    || t.devices.get(&keys.device_id).is_some()
                {
                    continue;
                }
                let take = t.grant.role == Role::Coordinator
                    || (keys.grant.role == Role::Coordinator && !trusts_coordinator);
                if !take || t.devices.insert(keys.clone()).is_err() {
                    continue;
                }
                if t.grant.role == Role::Coordinator {
                    certificates.push(certificate_for(&t, keys, &entry.device_id)?);
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
                    // A revoked coordinator vouches for nothing new (docs/SECURITY.md,
                    // Certificates after revocation).
                    if crypto::certificate_issuer(&cert).is_ok_and(|i| revoked.contains(i)) {
                        continue;
                    }
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
        // Keys wrapped for this device by devices it trusts. Those kept are acknowledged
        // (below, once saved): the relay then deletes them (sync/erasure.rs).
        let mut held_wrapped: Vec<String> = Vec::new();
        for wrapped in &listing.wrapped {
            let Ok(bytes) = hex::decode(wrapped) else {
                continue;
            };
            match crypto::unwrap_scope_key(&t.coop, &t.identity, &bytes, &t.devices) {
                Ok(key) => {
                    if t.ring.insert(key).is_err() {
                        tracing::warn!("a delivered scope key conflicts with one held here");
                    } else {
                        use sha2::Digest;
                        held_wrapped.push(hex::encode(sha2::Sha256::digest(&bytes)));
                    }
                }
                Err(CryptoError::UnknownWriter) => {} // its issuer is not trusted yet
                Err(_) => tracing::warn!("a delivered scope key failed its checks"),
            }
        }
        // Revoked devices and withdrawn consent: new key versions, wrapped below to the
        // remaining devices only (revoked ones are skipped, a coordinator without consent
        // gets no notes key).
        let (mut handled, pending) = self.lb.store.read(|c| {
            Ok((
                meta::get_meta(c, REVOKED)?.and_then(|v| serde_json::from_str(&v).ok()),
                json_set(c, ROTATE)?,
            ))
        })?;
        let rotate = scopes_to_rotate(&t, &revoked, &mut handled, &pending);
        for scope in &rotate {
            t.ring.rotate(scope).map_err(crypto_err)?;
        }
        if !rotate.is_empty() {
            // The count only: scope names can name a person.
            tracing::info!(scopes = rotate.len(), "rotated scope keys");
        }
        self.lb
            .store
            .read(|c| create_missing(c, &mut t, &revoked, after_pull).map(drop))?;
        // Wrap what each trusted device may hold and has not been sent yet.
        let (mut delivered, consented, approved) = self.lb.store.read(|c| {
            Ok((
                json_set(c, DELIVERED)?,
                json_set(c, CONSENTED)?,
                json_set(c, APPROVED)?,
            ))
        })?;
        let mut wrapped = Vec::new();
        let me = t.identity.device_id().to_string();
        for device in t.devices.iter() {
            let Some((relay_id, revoked)) = relay_ids.get(&device.device_id) else {
                continue;
            };
            if device.device_id == me || *revoked {
                continue;
            }
            let subset = self.lb.store.read(|c| {
                keys_for(
                    c,
                    &t,
                    Some(&device.device_id),
                    &device.grant,
                    &consented,
                    &approved,
                )
            })?;
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
        let requests = delivery_requests(wrapped, certificates);
        let deliveries = requests.len() as u64;
        for body in &requests {
            with_retries(retries, || {
                relay.json_call::<()>(reqwest::Method::POST, "/v1/keys/wrapped", Some(body))
            })
            .await?;
        }
        let changed = t.ring != before_ring || t.devices != before_devices;
        self.lb.store.write(ChangeOrigin::Sync, |w| {
            save_ring(w, &t.ring)?;
            save_devices(w, &t.devices)?;
            // Erased here: seal the scope's other documents to the new version.
            super::erasure::after_key_round(w, &rotate)?;
            set_json_set(w, DELIVERED, &delivered)?;
            set_json_set(w, PROOF_KEYS, &proof_keys)?;
            set_json_set(w, REVOKED, &handled.unwrap_or_default())?;
            // Only what this round rotated: a withdrawal recorded meanwhile stays pending.
            let mut still = json_set(&w.tx, ROTATE)?;
            still.retain(|s| !pending.contains(s));
            set_json_set(w, ROTATE, &still)?;
            // The epoch the listing was read at, plus this round's own deliveries (the
            // relay bumps it once per delivery request). Epochs only grow, so any other event since the
            // listing leaves the relay's epoch above this and the next pull asks for a
            // round: never too new, at worst one round too many.
            match listing.epoch {
                Some(e) => w.set_meta(EPOCH, &(e + deliveries).to_string())?,
                None => w.delete_meta(EPOCH)?,
            }
            w.set_meta(LOCAL, &local)?;
            if !t.migrating {
                w.delete_meta(MIGRATING)?;
            }
            Ok(())
        })?;
        super::erasure::ack_wrapped(relay, held_wrapped).await;
        if changed {
            self.retry_held(&t)?;
        }
        Ok(changed)
    }

    /// Step 3 of the migration from plaintext (docs/SECURITY.md): push a sealed snapshot of
    /// each document this device pushed in plaintext, superseding every blob of it this
    /// device pushed (the relay removes them, its `secure_delete` zeroes their bytes).
    /// A document whose key this device does not hold yet waits for a later sync; one it
    /// no longer holds (erased, forgotten) or may no longer write is let go. Costs nothing
    /// (no request) once every document is re-sealed. Returns how many were.
    pub(super) async fn reseal(&self, relay: &HttpRelay, retries: &mut u32) -> Result<u32> {
        let pending = self.lb.store.read(|c| json_set(c, RESEAL))?;
        if pending.is_empty() {
            return Ok(0);
        }
        let Some(t) = self.lb.store.read(load)? else {
            return Ok(0);
        };
        let mut done = 0;
        for doc in &pending {
            let writable = Scope::of_doc(doc).is_ok_and(|s| proto::may_write(&t.grant, &s));
            let held = self
                .lb
                .store
                .read(|c| crate::store::chunks::last_chunk_id(c, doc))?
                > 0;
            let sealed = if writable && held && DocKind::of(doc).is_ok() {
                let snapshot = self.lb.store.read_doc(doc, |d| Ok(d.save()))?;
                match seal(&t, doc, &snapshot)? {
                    Some(sealed) => Some(sealed),
                    None => continue, // no key for it yet: a later sync
                }
            } else {
                None
            };
            if let Some((snapshot, key)) = sealed {
                let snapshot_id = proto::content_id(&snapshot);
                let superseded: Vec<String> = self.lb.store.read(|c| {
                    let mut stmt =
                        c.prepare_cached("SELECT content_id FROM pushed WHERE doc = ?1")?;
                    let rows = stmt.query_map([doc], |r| r.get::<_, String>(0))?;
                    let all = rows.collect::<Result<Vec<_>, _>>()?;
                    Ok(all.into_iter().filter(|id| *id != snapshot_id).collect())
                })?;
                let body = proto::to_cbor(&proto::PushRequest {
                    docs: vec![proto::PushDoc {
                        doc: doc.clone(),
                        blobs: vec![serde_bytes::ByteBuf::from(snapshot)],
                        supersedes: superseded.clone(),
                        key: Some(key),
                    }],
                });
                let resp = with_retries(retries, || relay.push(&body)).await?;
                self.lb.store.write(ChangeOrigin::Sync, |w| {
                    let mut del = w
                        .tx
                        .prepare_cached("DELETE FROM pushed WHERE doc = ?1 AND content_id = ?2")?;
                    for id in &superseded {
                        del.execute([doc.as_str(), id.as_str()])?;
                    }
                    drop(del);
                    crate::store::chunks::record_pushed(&w.tx, doc, &snapshot_id)?;
                    super::pull::record_own_through(w, &resp)?;
                    Ok(())
                })?;
                done += 1;
            }
            self.lb.store.write(ChangeOrigin::Sync, |w| {
                let mut set = json_set(&w.tx, RESEAL)?;
                set.remove(doc);
                set_json_set(w, RESEAL, &set)
            })?;
        }
        if done > 0 {
            tracing::info!(documents = done, "re-sealed documents pushed in plaintext");
        }
        Ok(done)
    }

    /// Documents this device pushed in plaintext and has not re-sealed yet (migration from
    /// plaintext): 0 once it is done.
    pub fn plaintext_documents_left(&self) -> Result<u32> {
        Ok(self.lb.store.read(|c| json_set(c, RESEAL))?.len() as u32)
    }

    /// Step 6 of the migration from plaintext (docs/SECURITY.md), on a coordinator: make the
    /// coop "sealed only". The relay refuses while a device has not upgraded (has no keys)
    /// or a plaintext blob remains, and the error says how many; afterwards it refuses
    /// plaintext pushes and key registrations without a join proof, and devices stop
    /// trusting devices on first use. Idempotent.
    pub async fn seal_coop(self) -> Result<()> {
        let m = self.membership()?;
        if m.grant.role != Role::Coordinator {
            return Err(Error::invalid(
                "only a coordinator can make the coop sealed only",
            ));
        }
        let res = m
            .relay
            .json_call::<proto::SealedOnlyResponse>(
                reqwest::Method::POST,
                "/v1/coop/sealed-only",
                None::<&()>,
            )
            .await;
        match res {
            Ok(_) => {}
            Err(Error::Relay {
                status: 409,
                message,
            }) => return Err(Error::Invalid(message)),
            Err(e) => return Err(e),
        }
        self.lb
            .store
            .write(ChangeOrigin::Local, |w| w.delete_meta(MIGRATING))
    }

    /// **Tests only**: make this store behave as a client from before end-to-end
    /// encryption did: `join` makes no keys, and syncs push and pull plaintext and never
    /// upgrade. Turning it off lets the next sync upgrade the store (docs/SECURITY.md,
    /// Migration from plaintext). This is how the tests build a coop that runs the old
    /// protocol; no app calls it.
    #[doc(hidden)]
    pub fn act_as_plaintext_client(&self, on: bool) -> Result<()> {
        self.lb.store.write(ChangeOrigin::Local, |w| {
            if on {
                w.set_meta(PLAINTEXT_CLIENT, "1")
            } else {
                w.delete_meta(PLAINTEXT_CLIENT)
            }
        })
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

    /// The relay device ids of the devices that `revoked` (a relay device id) certified,
    /// from the relay's key listing, counting only certificates that verify against this
    /// device's trusted directory: the devices it brought in.
    pub(super) async fn brought_in(
        &self,
        relay: &HttpRelay,
        revoked: &str,
    ) -> Result<BTreeSet<String>> {
        let Some(t) = self.lb.store.read(load)? else {
            return Ok(BTreeSet::new());
        };
        let listing: proto::KeysResponse = relay
            .json_call(reqwest::Method::GET, "/v1/keys", None::<&()>)
            .await?
            .unwrap_or_default();
        let Some(key_id) = listing
            .devices
            .iter()
            .find(|e| e.device_id == revoked)
            .and_then(|e| hex::decode(&e.keys).ok())
            .and_then(|b| DevicePublicKeys::from_bytes(&b).ok())
            .map(|k| k.device_id)
        else {
            return Ok(BTreeSet::new());
        };
        let mut out = BTreeSet::new();
        for entry in &listing.devices {
            for cert in &entry.certificates {
                let Ok(cert) = hex::decode(cert) else {
                    continue;
                };
                if crypto::certificate_issuer(&cert).ok() != Some(key_id.as_str()) {
                    continue;
                }
                if t.devices.clone().insert_certified(&t.coop, &cert).is_ok() {
                    out.insert(entry.device_id.clone());
                    break;
                }
            }
        }
        Ok(out)
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
        let made = self
            .lb
            .store
            .read(|c| create_missing(c, &mut t, &BTreeSet::new(), false))?;
        let code = JoinCode::with_relay_code(relay_code).map_err(crypto_err)?;
        // No notes keys: a coordinator never hands them out (the person's device does).
        let keys = self
            .lb
            .store
            .read(|c| keys_for(c, &t, None, grant, &BTreeSet::new(), &BTreeSet::new()))?;
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

    /// The devices this device trusts that could receive `person`'s notes key if approved
    /// here (the person's other devices and their supporters), with whether they are. Only
    /// a device that may hand out that key (the person's own, or a supporter's) lists any.
    pub fn notes_devices(&self, person: &str) -> Result<Vec<NotesDevice>> {
        let Some(t) = self.lb.store.read(load)? else {
            return Ok(Vec::new());
        };
        let scope = Scope::Notes(person.to_string());
        if !crypto::may_issue_key(&t.grant, &scope) {
            return Ok(Vec::new());
        }
        let approved = self.lb.store.read(|c| json_set(c, APPROVED))?;
        let me = t.identity.device_id();
        Ok(t.devices
            .iter()
            .filter(|d| {
                d.device_id != me
                    && d.grant.role != Role::Coordinator
                    && crypto::may_hold_secret(&d.grant, &scope)
            })
            .map(|d| NotesDevice {
                device_key: d.device_id.clone(),
                role: d.grant.role,
                approved: approved.contains(&format!("{person} {}", d.device_id)),
            })
            .collect())
    }

    /// Approve a device to receive `person`'s notes key: on the person's own device, or on
    /// the device of a supporter who holds the key. The person (or the supporter) checks
    /// that `device_key` is the one the new device shows. A coordinator alone can never
    /// get a device approved (docs/SECURITY.md, Notes). The key goes with the next sync.
    pub fn approve_notes_device(&self, person: &str, device_key: &str) -> Result<()> {
        let listed = self.notes_devices(person)?;
        if !listed.iter().any(|d| d.device_key == device_key) {
            return Err(Error::invalid(
                "not a trusted device of this person or their supporters",
            ));
        }
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let mut set = json_set(&w.tx, APPROVED)?;
            set.insert(format!("{person} {device_key}"));
            set_json_set(w, APPROVED, &set)
        })
    }

    /// Consent as the relay has it for the people whose consent this device may set
    /// ([`proto::KeysResponse::consent`]), before this key round wraps anything. A
    /// withdrawal made on another of the person's devices (or on a supporter's, which
    /// may not make the person's notes keys) reaches this one here: it stops wrapping
    /// their notes key to coordinators (a phone where consent was given would otherwise
    /// hand every new version to them again), and if consent had been given here it
    /// rotates the notes key in this round, as the withdrawing device does, where it may
    /// make that key (the person's own device). Only a withdrawal changes what is
    /// wrapped: consent the relay claims is shown on the screen but never makes this
    /// device wrap a notes key (the device where it was given does that), so a lying
    /// relay can at worst keep coordinators out.
    fn take_consent(&self, consent: &[proto::PersonConsent]) -> Result<()> {
        if consent.is_empty() {
            return Ok(());
        }
        self.lb.store.write(ChangeOrigin::Sync, |w| {
            let mut set = json_set(&w.tx, CONSENTED)?;
            let mut rotate = json_set(&w.tx, ROTATE)?;
            let (set_before, rotate_before) = (set.len(), rotate.len());
            for c in consent {
                // Given here, so this device has been wrapping the notes key to coordinators.
                if !c.coordinator_notes && set.contains(&c.person) {
                    set.remove(&c.person);
                    rotate.insert(Scope::Notes(c.person.clone()).to_string());
                }
                crate::notes::consent::show(w, &c.person, c.coordinator_notes)?;
            }
            if set.len() != set_before {
                set_json_set(w, CONSENTED, &set)?;
            }
            if rotate.len() != rotate_before {
                set_json_set(w, ROTATE, &rotate)?;
            }
            Ok(())
        })
    }

    /// Remember a person's consent as this device set it: their notes key then goes to
    /// the coop's trusted coordinators with the next key round.
    pub(super) fn record_consent(&self, person: &str, coordinator_notes: bool) -> Result<()> {
        self.lb.store.write(ChangeOrigin::Local, |w| {
            let mut set = json_set(&w.tx, CONSENTED)?;
            if coordinator_notes {
                set.insert(person.to_string());
            } else {
                // Withdrawn (here or, as far as this device knows, elsewhere): the next key
                // round rotates the notes key, and the new version goes to the person's
                // devices and supporters only (docs/SECURITY.md).
                set.remove(person);
                let mut rotate = json_set(&w.tx, ROTATE)?;
                rotate.insert(Scope::Notes(person.to_string()).to_string());
                set_json_set(w, ROTATE, &rotate)?;
            }
            // Shown at once: the screen says what this device just set, and the relay's
            // report of it in the key round that follows changes nothing.
            crate::notes::consent::show(w, person, coordinator_notes)?;
            set_json_set(w, CONSENTED, &set)
        })
    }
}

/// What one key-delivery request may carry, in JSON bytes: half the relay's body limit,
/// so that the estimate below never has to be exact.
const DELIVERY_BUDGET: usize = proto::MAX_KEY_BODY_BYTES / 2;

/// A round's key delivery as the requests the relay takes, none over [`DELIVERY_BUDGET`]:
/// a coop with many people and devices wraps thousands of keys in one round (about 500
/// bytes each; a new coordinator laptop in a coop of 150 people needs ~600), more than one
/// body holds, and one request too large would fail the whole round with `413` every
/// time. Certificates go first. Each request stands alone at the relay, so a round cut
/// between two is finished by the next one (what was delivered is delivered again, which
/// the relay takes as a no-op). Empty when there is nothing to deliver.
fn delivery_requests(
    wrapped: Vec<proto::WrappedKeyEntry>,
    certificates: Vec<proto::CertificateEntry>,
) -> Vec<proto::KeyDeliveryRequest> {
    // `{"to":"…","key":"…"},` and `{"device_id":"…","certificate":"…"},`
    const ENTRY_OVERHEAD: usize = 40;
    const BODY_OVERHEAD: usize = 64;
    let mut requests = Vec::new();
    let mut current = proto::KeyDeliveryRequest::default();
    let mut size = BODY_OVERHEAD;
    for cert in certificates {
        let len = cert.device_id.len() + cert.certificate.len() + ENTRY_OVERHEAD;
        if size + len > DELIVERY_BUDGET && size > BODY_OVERHEAD {
            requests.push(std::mem::take(&mut current));
            size = BODY_OVERHEAD;
        }
        size += len;
        current.certificates.push(cert);
    }
    for entry in wrapped {
        let len = entry.to.len() + entry.key.len() + ENTRY_OVERHEAD;
        if size + len > DELIVERY_BUDGET && size > BODY_OVERHEAD {
            requests.push(std::mem::take(&mut current));
            size = BODY_OVERHEAD;
        }
        size += len;
        current.wrapped.push(entry);
    }
    if size > BODY_OVERHEAD {
        requests.push(current);
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_key_delivery_is_split_into_requests_the_relay_takes() {
        // 6,000 wrapped keys of a real size (hex of ~220 bytes) and 50 certificates:
        // about 2.8 MB as one body, over the relay's 2 MiB.
        let key = "ab".repeat(220);
        let wrapped: Vec<proto::WrappedKeyEntry> = (0..6_000)
            .map(|i| proto::WrappedKeyEntry {
                to: format!("dev-{i:05}-0123456789abcdef"),
                key: key.clone(),
            })
            .collect();
        let certificates: Vec<proto::CertificateEntry> = (0..50)
            .map(|i| proto::CertificateEntry {
                device_id: format!("dev-{i:05}-0123456789abcdef"),
                certificate: "cd".repeat(150),
            })
            .collect();
        let one = proto::KeyDeliveryRequest {
            wrapped: wrapped.clone(),
            certificates: certificates.clone(),
        };
        assert!(serde_json::to_vec(&one).unwrap().len() > proto::MAX_KEY_BODY_BYTES);
        let requests = delivery_requests(wrapped.clone(), certificates.clone());
        assert!(requests.len() >= 3, "{} requests", requests.len());
        for r in &requests {
            let len = serde_json::to_vec(r).unwrap().len();
            assert!(len <= DELIVERY_BUDGET, "a request of {len} bytes");
            assert!(r.wrapped.len() + r.certificates.len() <= 10_000);
        }
        // Everything, once, in order; the certificates first.
        let sent: Vec<&str> = requests
            .iter()
            .flat_map(|r| r.wrapped.iter().map(|w| w.to.as_str()))
            .collect();
        assert_eq!(
            sent,
            wrapped.iter().map(|w| w.to.as_str()).collect::<Vec<_>>()
        );
        assert_eq!(requests[0].certificates.len(), certificates.len());
        assert!(requests[1..].iter().all(|r| r.certificates.is_empty()));
        // Nothing to deliver: no request; a little: one.
        assert!(delivery_requests(Vec::new(), Vec::new()).is_empty());
        assert_eq!(
            delivery_requests(wrapped[..3].to_vec(), Vec::new()).len(),
            1
        );
    }

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
