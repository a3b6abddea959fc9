//! Device certificates: a coordinator vouches for another device's public keys and grant,
//! so devices learn about each other without trusting the relay's device list.
//!
//! ```text
//! "LBC" 01 | str8 certifier device id | device public keys body (see keys.rs) | Ed25519 signature (64)
//! ```
//! Signature over `"logbook/device-cert/v1\0"` ‖ `str8(coop)` ‖ SHA-256(every byte before it).
//!
//! Flow: the inviter checks the new device's [`crate::join_proof`], then issues a
//! certificate; certificates travel in any channel (e.g. a list inside the sealed
//! `directory/main` document, or from the relay next to the device: forging one needs a
//! coordinator's signing key). Each device accepts a certificate only from a coordinator it
//! already trusts ([`DeviceDirectory::insert_certified`]); the first trusted devices come
//! from the join envelope.

use crate::codec::{Reader, Writer, check_id};
use crate::error::{CryptoError, Result};
use crate::keyring::DeviceDirectory;
use crate::keys::{DevicePublicKeys, Identity};
use logbook_protocol::{Grant, Role};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 3] = b"LBC";
const FORMAT: u8 = 1;
const SIG_DST: &[u8] = b"logbook/device-cert/v1\0";

fn signed_message(coop_id: &str, signed: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(SIG_DST.len() + 128);
    w.bytes(SIG_DST);
    w.str8(coop_id)?;
    w.bytes(&Sha256::digest(signed));
    Ok(w.into_public())
}

/// A coordinator certifies `device` (its keys and grant) for `coop_id`. Only coordinators
/// certify ([`CryptoError::NotAllowed`] otherwise).
pub fn certify_device(
    coop_id: &str,
    certifier: &Identity,
    certifier_grant: &Grant,
    device: &DevicePublicKeys,
) -> Result<Vec<u8>> {
    check_id(coop_id)?;
    if certifier_grant.role != Role::Coordinator {
        return Err(CryptoError::NotAllowed);
    }
    let mut w = Writer::with_capacity(256);
    w.bytes(MAGIC);
    w.u8(FORMAT);
    w.str8(certifier.device_id())?;
    device.encode_body(&mut w)?;
    let sig = certifier.sign(&signed_message(coop_id, w.as_slice())?);
    w.bytes(&sig);
    Ok(w.into_public())
}

/// The device id of the coordinator that signed a certificate, read without checking the
/// signature: use it to tell which devices a coordinator brought in, after
/// [`DeviceDirectory::insert_certified`] (or a trusted listing) vouched for the device.
pub fn certificate_issuer(cert: &[u8]) -> Result<&str> {
    let mut r = Reader::new(cert);
    if r.take(3)? != MAGIC {
        return Err(CryptoError::Malformed);
    }
    if r.u8()? != FORMAT {
        return Err(CryptoError::UnsupportedVersion);
    }
    r.str8()
}

impl DeviceDirectory {
    /// Add (or update the grant of) a device from a certificate signed by a coordinator
    /// this directory already trusts. Unknown certifier: [`CryptoError::UnknownWriter`];
    /// certifier not a coordinator: [`CryptoError::NotAllowed`]; bad signature:
    /// [`CryptoError::BadSignature`]; other keys under a known device id:
    /// [`CryptoError::KeyConflict`] (a device's keys never change; it joins again instead).
    pub fn insert_certified(&mut self, coop_id: &str, cert: &[u8]) -> Result<DevicePublicKeys> {
        check_id(coop_id)?;
        let mut r = Reader::new(cert);
        if r.take(3)? != MAGIC {
            return Err(CryptoError::Malformed);
        }
        if r.u8()? != FORMAT {
            return Err(CryptoError::UnsupportedVersion);
        }
        let certifier_id = r.str8()?;
        let device = DevicePublicKeys::decode_body(&mut r)?;
        let signed_len = r.pos();
        let sig = r.array::<64>()?;
        r.finish()?;
        let certifier = self.get(certifier_id).ok_or(CryptoError::UnknownWriter)?;
        if certifier.grant.role != Role::Coordinator {
            return Err(CryptoError::NotAllowed);
        }
        certifier.verify(&signed_message(coop_id, &cert[..signed_len])?, &sig)?;
        if let Some(old) = self.get(&device.device_id)
            && (old.signing != device.signing || old.encryption != device.encryption)
        {
            return Err(CryptoError::KeyConflict);
        }
        self.remove(&device.device_id);
        self.insert(device.clone())?;
        Ok(device)
    }
}
