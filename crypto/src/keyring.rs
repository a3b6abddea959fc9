//! The keys a device holds ([`KeyRing`]), the devices it knows ([`DeviceDirectory`]), and
//! the rules for who may hold and hand out which key.

use crate::codec::{Reader, Writer};
use crate::error::{CryptoError, Result};
use crate::keys::{
    DevicePublicKeys, KIND_DEVICE_DIRECTORY, KIND_KEY_RING, ScopeKey, ScopeKeyId, ScopePublicKey,
    ScopeSecretKey, read_key_header, write_key_header,
};
use logbook_protocol::{Grant, Role, Scope, may_read, may_write};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// May a device with this grant create, rotate and hand out (wrap, put in a join envelope)
/// keys of this scope? Coordinators own every scope except notes; a person's notes keys
/// belong to the person's own device and their supporters, so a coordinator can never
/// plant a notes key of its own choosing (which would bypass consent).
pub fn may_issue_key(grant: &Grant, scope: &Scope) -> bool {
    match scope {
        Scope::Notes(p) => match grant.role {
            Role::Worker => grant.person.as_deref() == Some(p.as_str()),
            Role::Supporter => grant.supports.iter().any(|s| s == p),
            Role::Coordinator | Role::Kiosk => false,
        },
        _ => grant.role == Role::Coordinator,
    }
}

/// May a device with this grant hold the *private* key of this scope? The access table's
/// read rule with consent assumed: for notes, the person's device or supporter decides
/// consent before wrapping the key to a coordinator.
pub fn may_hold_secret(grant: &Grant, scope: &Scope) -> bool {
    may_read(grant, scope, true)
}

/// May a device with this grant hold the *public* key of this scope (seal into it)?
pub fn may_hold_public(grant: &Grant, scope: &Scope) -> bool {
    may_read(grant, scope, true) || may_write(grant, scope)
}

/// Every scope key a device holds, all versions, secret or public only.
///
/// Storage form: `"LBK" 0x01 0x04`, u32 count, then per key a kind byte (2 = secret,
/// 3 = public) and that key's body (see [`ScopeSecretKey`], [`ScopePublicKey`]).
/// `to_bytes` is zeroized on drop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    scopes: BTreeMap<Scope, BTreeMap<u32, ScopeKey>>,
}

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Add a key. Adding the same key again is a no-op; adding the secret key whose public
    /// half is already held upgrades it; a *different* key under the same scope and version
    /// is refused with [`CryptoError::KeyConflict`].
    pub fn insert(&mut self, key: ScopeKey) -> Result<()> {
        let id = key.id().clone();
        let versions = self.scopes.entry(id.scope.clone()).or_default();
        match versions.get(&id.version) {
            None => {
                versions.insert(id.version, key);
                Ok(())
            }
            Some(old) if old.public_key() != key.public_key() => Err(CryptoError::KeyConflict),
            Some(old) => {
                if !old.is_secret() && key.is_secret() {
                    versions.insert(id.version, key);
                }
                Ok(())
            }
        }
    }

    /// Create version 1 of a scope's key (the scope must have no key yet) and keep it.
    /// Returns a copy to hand out (join envelopes, wrapping).
    pub fn create_scope(&mut self, scope: Scope) -> Result<ScopeSecretKey> {
        if self.scopes.get(&scope).is_some_and(|v| !v.is_empty()) {
            return Err(CryptoError::KeyConflict);
        }
        let key = ScopeSecretKey::generate(scope)?;
        self.insert(ScopeKey::Secret(key.clone()))?;
        Ok(key)
    }

    /// Rotate: make the next version of the scope's key, keep it (old versions stay, so
    /// old blobs still open) and return it to hand out to the scope's remaining readers and
    /// writers. Writers seal to the newest version from then on.
    pub fn rotate(&mut self, scope: &Scope) -> Result<ScopeSecretKey> {
        let newest = self.newest(scope).ok_or(CryptoError::NoKey)?;
        let next = newest
            .id()
            .version
            .checked_add(1)
            .ok_or(CryptoError::Malformed)?;
        let key = ScopeSecretKey::generate_version(scope.clone(), next)?;
        self.insert(ScopeKey::Secret(key.clone()))?;
        Ok(key)
    }

    /// The newest version held for a scope.
    pub fn newest(&self, scope: &Scope) -> Option<&ScopeKey> {
        self.scopes.get(scope)?.values().next_back()
    }

    /// The key to seal new blobs of this scope to: always the newest version.
    pub fn sealing_key(&self, scope: &Scope) -> Result<ScopePublicKey> {
        Ok(self.newest(scope).ok_or(CryptoError::NoKey)?.public_key())
    }

    pub fn get(&self, id: &ScopeKeyId) -> Option<&ScopeKey> {
        self.scopes.get(&id.scope)?.get(&id.version)
    }

    /// The private key of one version, if held.
    pub fn secret(&self, scope: &Scope, version: u32) -> Option<&ScopeSecretKey> {
        match self.scopes.get(scope)?.get(&version)? {
            ScopeKey::Secret(k) => Some(k),
            ScopeKey::Public(_) => None,
        }
    }

    /// Can this device open blobs of the scope (holds a private key of some version)?
    pub fn can_read(&self, scope: &Scope) -> bool {
        self.scopes
            .get(scope)
            .is_some_and(|v| v.values().any(ScopeKey::is_secret))
    }

    /// Can this device seal blobs into the scope?
    pub fn can_write(&self, scope: &Scope) -> bool {
        self.newest(scope).is_some()
    }

    /// The private keys of a scope held here, oldest version first.
    pub fn secrets_of(&self, scope: &Scope) -> Vec<&ScopeSecretKey> {
        self.scopes
            .get(scope)
            .map(|v| {
                v.values()
                    .filter_map(|k| match k {
                        ScopeKey::Secret(s) => Some(s),
                        ScopeKey::Public(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Retire: forget every version of a scope's key below `version` (secret and public;
    /// the dropped secrets are zeroized). Erasure does this once the scope's live documents
    /// are sealed to `version` (docs/SECURITY.md, *Erasure*). Returns how many went. Keeps
    /// the scope's newest version whatever `version` says, so a device never loses the
    /// key it seals with.
    pub fn retire_below(&mut self, scope: &Scope, version: u32) -> usize {
        let Some(versions) = self.scopes.get_mut(scope) else {
            return 0;
        };
        let newest = versions.keys().next_back().copied().unwrap_or(0);
        let below = version.min(newest);
        let before = versions.len();
        versions.retain(|v, _| *v >= below);
        before - versions.len()
    }

    /// Forget every key of a scope (e.g. a coordinator whose notes consent was withdrawn).
    pub fn remove_scope(&mut self, scope: &Scope) -> bool {
        self.scopes.remove(scope).is_some()
    }

    /// Keep only the scopes `keep` says yes to (e.g. a kiosk's site's people).
    pub fn retain(&mut self, mut keep: impl FnMut(&Scope) -> bool) {
        self.scopes.retain(|s, _| keep(s));
    }

    pub fn scopes(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.keys()
    }

    /// Every key, by scope then version.
    pub fn keys(&self) -> impl Iterator<Item = &ScopeKey> {
        self.scopes.values().flat_map(|v| v.values())
    }

    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// The part of this ring a device with `grant` may hold, per the access table: every
    /// version of the private key where it may read (`consented(person)` decides notes for
    /// coordinators), only the newest *public* key where it may only write (a kiosk's
    /// timesheets), nothing elsewhere. Use it to fill a join envelope or to pick what to wrap.
    ///
    /// A coordinator building a join envelope passes `|_| false`: notes keys never travel
    /// from a coordinator ([`may_issue_key`]); the person's device or a supporter wraps them.
    pub fn subset_for(&self, grant: &Grant, consented: impl Fn(&str) -> bool) -> KeyRing {
        let mut out = KeyRing::new();
        for (scope, versions) in &self.scopes {
            let consent = scope.person().is_some_and(&consented);
            if may_read(grant, scope, consent) {
                out.scopes.insert(scope.clone(), versions.clone());
            } else if may_write(grant, scope)
                && let Some(newest) = versions.values().next_back()
            {
                let public = ScopeKey::Public(newest.public_key());
                out.scopes.insert(
                    scope.clone(),
                    BTreeMap::from([(newest.id().version, public)]),
                );
            }
        }
        out
    }

    /// Fails with [`CryptoError::NotAllowed`] if the ring holds a key `grant` may not hold.
    pub(crate) fn check_allowed_for(&self, grant: &Grant) -> Result<()> {
        for key in self.keys() {
            let scope = &key.id().scope;
            let ok = if key.is_secret() {
                may_hold_secret(grant, scope)
            } else {
                may_hold_public(grant, scope)
            };
            if !ok {
                return Err(CryptoError::NotAllowed);
            }
        }
        Ok(())
    }

    pub(crate) fn encode_body(&self, w: &mut Writer) -> Result<()> {
        let n = u32::try_from(self.keys().count()).map_err(|_| CryptoError::Malformed)?;
        w.u32(n);
        for key in self.keys() {
            key.encode(w)?;
        }
        Ok(())
    }

    pub(crate) fn decode_body(r: &mut Reader<'_>) -> Result<KeyRing> {
        let n = r.u32()?;
        let mut ring = KeyRing::new();
        for _ in 0..n {
            ring.insert(ScopeKey::decode(r)?)
                .map_err(|_| CryptoError::Malformed)?;
        }
        Ok(ring)
    }

    /// Storage form (see the type's docs). Zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(16 + self.keys().count() * 120);
        write_key_header(&mut w, KIND_KEY_RING);
        // Keys come from parsed scopes: always encodable.
        let _ = self.encode_body(&mut w);
        w.into_secret()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<KeyRing> {
        let mut r = Reader::new(bytes);
        read_key_header(&mut r, KIND_KEY_RING)?;
        let out = Self::decode_body(&mut r)?;
        r.finish()?;
        Ok(out)
    }
}

/// The devices whose signatures this device accepts, by device id, with their grants.
///
/// Readers check every blob against it: the writer must be listed and its grant must allow
/// writing the blob's scope. Where entries come from matters (see docs/SECURITY.md): the
/// ones in a join envelope are vouched for by the inviter; entries fetched from the relay
/// alone could be forged by a hostile relay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceDirectory {
    devices: BTreeMap<String, DevicePublicKeys>,
}

impl DeviceDirectory {
    pub fn new() -> DeviceDirectory {
        DeviceDirectory::default()
    }

    /// Add a device. The same entry again is a no-op; different keys or a different grant
    /// under a known device id are refused with [`CryptoError::KeyConflict`].
    pub fn insert(&mut self, device: DevicePublicKeys) -> Result<()> {
        match self.devices.get(&device.device_id) {
            Some(old) if *old != device => Err(CryptoError::KeyConflict),
            Some(_) => Ok(()),
            None => {
                self.devices.insert(device.device_id.clone(), device);
                Ok(())
            }
        }
    }

    pub fn get(&self, device_id: &str) -> Option<&DevicePublicKeys> {
        self.devices.get(device_id)
    }

    /// Forget a device: its blobs no longer open (use with care: see docs/SECURITY.md on
    /// revocation).
    pub fn remove(&mut self, device_id: &str) -> Option<DevicePublicKeys> {
        self.devices.remove(device_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &DevicePublicKeys> {
        self.devices.values()
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Storage form: `"LBK" 0x01 0x06`, u32 count, then each device's public keys body
    /// (see [`DevicePublicKeys`]). Not secret.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::with_capacity(16 + self.devices.len() * 140);
        write_key_header(&mut w, KIND_DEVICE_DIRECTORY);
        w.u32(u32::try_from(self.devices.len()).map_err(|_| CryptoError::Malformed)?);
        for d in self.devices.values() {
            d.encode_body(&mut w)?;
        }
        Ok(w.into_public())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<DeviceDirectory> {
        let mut r = Reader::new(bytes);
        read_key_header(&mut r, KIND_DEVICE_DIRECTORY)?;
        let mut out = DeviceDirectory::new();
        for _ in 0..r.u32()? {
            out.insert(DevicePublicKeys::decode_body(&mut r)?)
                .map_err(|_| CryptoError::Malformed)?;
        }
        r.finish()?;
        Ok(out)
    }
}
