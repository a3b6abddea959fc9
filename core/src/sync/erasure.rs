//! Erasure that deletes keys, and opaque tombstones (docs/SECURITY.md, *Erasure*).
//!
//! - **Opaque tombstones.** An erasure goes to the relay with the document's tags (a keyed
//!   hash of its id under each version of its scope's key this device holds), so the
//!   relay's tombstone keeps the scope and the tags, never the id. Devices recompute the
//!   tags of the documents they hold in that scope and erase the one that matches.
//! - **Keys.** Erasing a CPO order or a note thread here marks its scope: the next key
//!   round rotates the scope's key (the new version goes to the scope's other holders as
//!   any rotation does), queues a snapshot of each of the scope's remaining documents, so
//!   they go to the relay sealed to the new version, and marks the old versions to
//!   retire. A device that matches an opaque tombstone marks the versions up to the tags'
//!   newest to retire likewise. At the end of a sync, once the device holds a newer
//!   version, it forgets the retired versions' private keys: blobs sealed to them (the
//!   erased document's, in any copy of the relay's database) open with nothing it holds.

use std::collections::BTreeSet;

use logbook_protocol::{ErasedDoc, Role, Scope};
use rusqlite::Connection;

use super::transport::HttpRelay;
use super::trust::{self, Trust};
use crate::error::{Error, Result};
use crate::store::meta;
use crate::store::writer::Writer;

/// Scopes erased in here whose key the next key round rotates: their remaining documents
/// are then sealed again to the new version and the old versions retired.
const RESEAL: &str = "e2e_erasure_reseal";
/// `<scope> <version>`: forget the scope's key versions below `version` once this device
/// holds `version` or newer.
const RETIRE: &str = "e2e_erasure_retire";

/// Opaque tombstones tagged under a key version newer than this device holds yet (JSON of
/// [`ErasedDoc`]): matched again once it holds that version.
const PENDING: &str = "e2e_erasure_pending";
/// At most this many wait (a hostile relay could send any number).
const MAX_PENDING: usize = 1000;

/// This file's meta keys, forgotten with the membership.
pub(crate) const MEMBERSHIP_KEYS: [&str; 3] = [RESEAL, RETIRE, PENDING];

fn newest_tagged(erased: &ErasedDoc) -> Option<u32> {
    erased
        .tags
        .iter()
        .filter_map(|t| t.split_once('.').and_then(|(v, _)| v.parse::<u32>().ok()))
        .max()
}

fn get_set(conn: &Connection, key: &str) -> Result<BTreeSet<String>> {
    Ok(meta::get_meta(conn, key)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

fn put_set(w: &mut Writer<'_>, key: &str, set: &BTreeSet<String>) -> Result<()> {
    if set.is_empty() {
        return w.delete_meta(key);
    }
    let json = serde_json::to_string(set).map_err(|e| Error::Corrupt(e.to_string()))?;
    w.set_meta(key, &json)
}

/// The documents held here in one scope: ids `<scope>/…`, a range of the chunks' index.
fn docs_in(conn: &Connection, scope: &str) -> Result<Vec<String>> {
    let from = format!("{scope}/");
    let to = format!("{scope}0");
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT doc FROM chunks WHERE doc >= ?1 AND doc < ?2 ORDER BY doc",
    )?;
    let docs = stmt
        .query_map([&from, &to], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(docs)
}

/// A document was erased here (`Logbook::erase_doc`, in the same transaction): if this
/// device reads and issues its scope's key, rotate it at the next key round and seal the
/// scope's other documents again (see the module docs). Only CPO orders (`records:`) and
/// note threads (`notes:`) are erased this way.
pub(crate) fn after_local_erasure(w: &mut Writer<'_>, doc: &str) -> Result<()> {
    let Ok(scope) = Scope::of_doc(doc) else {
        return Ok(());
    };
    if !matches!(scope, Scope::Records(_) | Scope::Notes(_)) {
        return Ok(());
    }
    let Some(t) = trust::load(&w.tx)? else {
        return Ok(());
    };
    if !t.ring.can_read(&scope) || !logbook_crypto::may_issue_key(&t.grant, &scope) {
        return Ok(());
    }
    if rotates_notes_elsewhere(&t, &scope) {
        // A supporter of a person who has a phone: the phone rotates when it matches the
        // tombstone (a supporter's new version would not reach it without its approval);
        // this device retires the old versions once that version arrives.
        if let Some(newest) = t.ring.newest(&scope) {
            let mut retire = get_set(&w.tx, RETIRE)?;
            retire.insert(format!("{scope} {}", newest.id().version.saturating_add(1)));
            put_set(w, RETIRE, &retire)?;
        }
        return Ok(());
    }
    rotate_and_reseal(w, &scope)
}

fn rotate_and_reseal(w: &mut Writer<'_>, scope: &Scope) -> Result<()> {
    trust::rotate_at_next_round(w, scope)?;
    let mut reseal = get_set(&w.tx, RESEAL)?;
    reseal.insert(scope.to_string());
    put_set(w, RESEAL, &reseal)
}

/// The person's own devices trusted here (worker grants for `person`), by device id.
fn person_devices<'a>(t: &'a Trust, person: &str) -> Vec<&'a str> {
    t.devices
        .iter()
        .filter(|d| d.grant.role == Role::Worker && d.grant.person.as_deref() == Some(person))
        .map(|d| d.device_id.as_str())
        .collect()
}

/// A notes scope whose key a device of the person rotates, not this (supporter) device.
fn rotates_notes_elsewhere(t: &Trust, scope: &Scope) -> bool {
    match scope {
        Scope::Notes(p) => t.grant.role == Role::Supporter && !person_devices(t, p).is_empty(),
        _ => false,
    }
}

/// Whether this device rotates `scope` after matching another device's erasure in it:
/// the person's own device with the smallest id, when a supporter erased one of the
/// person's threads ([`rotates_notes_elsewhere`]).
fn rotates_for_others(t: &Trust, scope: &Scope) -> bool {
    match scope {
        Scope::Notes(p) => {
            t.grant.role == Role::Worker
                && t.grant.person.as_deref() == Some(p.as_str())
                && person_devices(t, p).into_iter().min() == Some(t.identity.device_id())
        }
        _ => false,
    }
}

/// After a key round rotated `rotated` (in its final transaction): for the scopes erased
/// here, queue a snapshot of each remaining document (the push seals it to the newest
/// version) and mark the older versions to retire.
pub(super) fn after_key_round(w: &mut Writer<'_>, rotated: &BTreeSet<Scope>) -> Result<()> {
    let mut reseal = get_set(&w.tx, RESEAL)?;
    if reseal.is_empty() || rotated.is_empty() {
        return Ok(());
    }
    let Some(t) = trust::load(&w.tx)? else {
        return Ok(());
    };
    let mut retire = get_set(&w.tx, RETIRE)?;
    for scope in rotated {
        let name = scope.to_string();
        if !reseal.remove(&name) {
            continue;
        }
        let Some(newest) = t.ring.newest(scope) else {
            continue;
        };
        retire.insert(format!("{name} {}", newest.id().version));
        for doc in docs_in(&w.tx, &name)? {
            let snapshot = w.load(&doc)?.save();
            w.tx.prepare_cached("INSERT INTO outbox (doc, data) VALUES (?1, ?2)")?
                .execute(rusqlite::params![doc, snapshot])?;
        }
    }
    put_set(w, RESEAL, &reseal)?;
    put_set(w, RETIRE, &retire)
}

/// An opaque tombstone matched a document held here (erased in the same transaction):
/// retire the versions its tags were made under once a newer one is held.
pub(super) fn matched(w: &mut Writer<'_>, erased: &ErasedDoc) -> Result<()> {
    let Some(v) = newest_tagged(erased).and_then(|v| v.checked_add(1)) else {
        return Ok(());
    };
    let mut retire = get_set(&w.tx, RETIRE)?;
    retire.insert(format!("{} {v}", erased.scope));
    put_set(w, RETIRE, &retire)?;
    // A supporter erased one of this person's threads: the person's phone rotates.
    if let (Some(t), Ok(scope)) = (trust::load(&w.tx)?, Scope::parse(&erased.scope))
        && rotates_for_others(&t, &scope)
    {
        rotate_and_reseal(w, &scope)?;
    }
    Ok(())
}

/// An opaque tombstone matched nothing here: if it was tagged under a version of a scope
/// this device reads but does not hold yet (the erasing device rotated since), keep it
/// to match again once that version arrives ([`after_sync`]).
pub(super) fn unmatched(
    w: &mut Writer<'_>,
    keys: Option<&Trust>,
    erased: &ErasedDoc,
) -> Result<()> {
    let (Some(t), Ok(scope), Some(tagged)) =
        (keys, Scope::parse(&erased.scope), newest_tagged(erased))
    else {
        return Ok(());
    };
    if !t.ring.can_read(&scope)
        || t.ring
            .newest(&scope)
            .is_some_and(|k| k.id().version >= tagged)
    {
        return Ok(());
    }
    let mut pending = get_set(&w.tx, PENDING)?;
    if pending.len() < MAX_PENDING {
        pending.insert(serde_json::to_string(erased).map_err(|e| Error::Corrupt(e.to_string()))?);
        put_set(w, PENDING, &pending)?;
    }
    Ok(())
}

/// End of a sync (after its pull and key rounds): match the waiting opaque tombstones
/// whose key version is held now (erasing what they name), then forget the key versions
/// marked to retire whose successor is held (after the pull, so the blobs other devices
/// sealed to the old versions before the rotation are merged). Returns how many documents
/// were erased and whether any key was forgotten.
pub(super) fn after_sync(w: &mut Writer<'_>) -> Result<(u32, bool)> {
    let mut erased_docs = 0;
    let pending = get_set(&w.tx, PENDING)?;
    if !pending.is_empty() {
        let t = trust::load(&w.tx)?;
        let mut still = BTreeSet::new();
        for entry in pending {
            let Ok(erased) = serde_json::from_str::<ErasedDoc>(&entry) else {
                continue;
            };
            let (Some(t), Ok(scope), Some(tagged)) = (
                t.as_ref(),
                Scope::parse(&erased.scope),
                newest_tagged(&erased),
            ) else {
                continue;
            };
            match t.ring.newest(&scope) {
                Some(k) if k.id().version >= tagged => {
                    for doc in matching(&w.tx, Some(t), &erased)? {
                        w.erase(&doc)?;
                        erased_docs += 1;
                        matched(w, &erased)?;
                    }
                }
                Some(_) => {
                    still.insert(entry);
                }
                None => {}
            }
        }
        put_set(w, PENDING, &still)?;
    }
    Ok((erased_docs, retire_due(w)?))
}

/// Forget the key versions marked to retire whose successor is held. Returns whether any
/// key was forgotten.
fn retire_due(w: &mut Writer<'_>) -> Result<bool> {
    let mut retire = get_set(&w.tx, RETIRE)?;
    if retire.is_empty() {
        return Ok(false);
    }
    let Some(mut t) = trust::load(&w.tx)? else {
        return Ok(false);
    };
    let mut forgot = false;
    retire.retain(|entry| {
        let Some((scope, version)) = entry
            .split_once(' ')
            .and_then(|(s, v)| Some((Scope::parse(s).ok()?, v.parse::<u32>().ok()?)))
        else {
            return false;
        };
        match t.ring.newest(&scope) {
            Some(newest) if newest.id().version >= version => {
                forgot |= t.ring.retire_below(&scope, version) > 0;
                false
            }
            // Not held (any more): nothing to forget here.
            None => false,
            Some(_) => true,
        }
    });
    if forgot {
        trust::save_ring(w, &t.ring)?;
        // The count only: scope names can name a person.
        tracing::info!("retired key versions after an erasure");
    }
    put_set(w, RETIRE, &retire)?;
    Ok(forgot)
}

/// The tags to send with the erasure of `doc`: none without keys (the relay then keeps
/// the id in the tombstone, as before opaque tombstones).
pub(super) fn tags_for(keys: Option<&Trust>, doc: &str) -> Vec<String> {
    let (Some(t), Ok(scope)) = (keys, Scope::of_doc(doc)) else {
        return Vec::new();
    };
    t.ring
        .erasure_tags(&t.coop, &scope, doc)
        .unwrap_or_default()
}

/// The documents held here that an opaque tombstone names (at most one in practice).
pub(super) fn matching(
    conn: &Connection,
    keys: Option<&Trust>,
    erased: &ErasedDoc,
) -> Result<Vec<String>> {
    let (Some(t), Ok(scope)) = (keys, Scope::parse(&erased.scope)) else {
        return Ok(Vec::new());
    };
    Ok(docs_in(conn, &erased.scope)?
        .into_iter()
        .filter(|doc| t.ring.matches_erasure(&t.coop, &scope, doc, &erased.tags))
        .collect())
}

/// Tell the relay this device holds the keys wrapped for it with these hashes (hex
/// SHA-256), so it deletes them: a key version retired here then cannot be unwrapped
/// again from a later copy of the relay's database with this device's own key. Best
/// effort: a relay without the call, or a failure, leaves them listed, and the next key
/// round (which finds them held) acknowledges them again.
pub(super) async fn ack_wrapped(relay: &HttpRelay, hashes: Vec<String>) {
    if hashes.is_empty() {
        return;
    }
    let body = logbook_protocol::WrappedKeysAck { hashes };
    if relay
        .json_call::<()>(reqwest::Method::POST, "/v1/keys/wrapped/ack", Some(&body))
        .await
        .is_err()
    {
        tracing::info!("the relay kept the wrapped keys this device holds");
    }
}
