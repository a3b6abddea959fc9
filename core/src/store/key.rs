//! The key of a device store (SQLCipher, docs/SECURITY.md "At rest").
//!
//! The store file, its WAL and its shared-memory file are encrypted with a 256-bit key
//! that never lies beside the database in the clear: the apps keep it in the platform's
//! key store (Android Keystore, iOS Keychain) and hand it over through a foreign trait
//! (`StoreKeyProvider` in the bindings); the CLI takes it from the OS keyring or derives
//! it from a passphrase ([`StoreKey::from_passphrase`], Argon2id with a salt kept in
//! [`SALT_FILE`], which is not secret).
//!
//! Beside the store lies [`KEY_CHECK_FILE`]: an HMAC of a fixed label under the key. It
//! tells a wrong key (refused, nothing touched) from a damaged file (moved aside), and
//! reveals nothing of the key: the encrypted file itself already lets anyone test a
//! guess, at the same cost.

use std::fmt;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The key check beside the store (see the module documentation).
pub const KEY_CHECK_FILE: &str = "logbook.keycheck";
/// The Argon2id salt of a passphrase-derived key (not secret).
pub const SALT_FILE: &str = "logbook.salt";

const CHECK_LABEL: &[u8] = b"coop-logbook store key check v1";
// Argon2id at OWASP's recommended minimum (19 MiB, 2 passes): every CLI command derives
// the key once (about 30 ms here), and every guess at a stolen laptop's store costs as
// much.
const PASS_M_COST_KIB: u32 = 19 * 1024;
const PASS_T_COST: u32 = 2;

/// A 256-bit store key, zeroized on drop, never printed.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; 32]>, Mode);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Encrypted,
    /// No encryption at all: only for the benchmark that measures what encryption costs.
    Plaintext,
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl StoreKey {
    /// A key of exactly 32 bytes (from a platform key store).
    pub fn from_bytes(bytes: &[u8]) -> Result<StoreKey> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::invalid("a store key is exactly 32 bytes"))?;
        Ok(StoreKey(Zeroizing::new(arr), Mode::Encrypted))
    }

    /// A key written as 64 hex digits (from an OS keyring or a script).
    pub fn from_hex(hex_key: &str) -> Result<StoreKey> {
        let bytes = Zeroizing::new(
            hex::decode(hex_key.trim())
                .map_err(|_| Error::invalid("a store key is 64 hex digits"))?,
        );
        StoreKey::from_bytes(&bytes)
    }

    /// The key as 64 hex digits (to hand to a keyring or a child process).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(*self.0))
    }

    /// A fresh random key (the apps make one at first start and keep it in the platform
    /// key store).
    pub fn generate() -> StoreKey {
        StoreKey(Zeroizing::new(rand::random()), Mode::Encrypted)
    }

    /// The key as bytes, for a platform key store to keep.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key derived from a passphrase with Argon2id; the salt is read from (or, the
    /// first time, written to) [`SALT_FILE`] in `home`.
    pub fn from_passphrase(passphrase: &str, home: &Path) -> Result<StoreKey> {
        if passphrase.is_empty() {
            return Err(Error::invalid("the store passphrase is empty"));
        }
        std::fs::create_dir_all(home)?;
        let salt_path = home.join(SALT_FILE);
        let salt = match std::fs::read(&salt_path) {
            Ok(s) if s.len() == 16 => s,
            Ok(_) => return Err(Error::Corrupt("unreadable store salt".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let salt: [u8; 16] = rand::random();
                std::fs::write(&salt_path, salt)?;
                salt.to_vec()
            }
            Err(e) => return Err(e.into()),
        };
        let params = Params::new(PASS_M_COST_KIB, PASS_T_COST, 1, Some(32))
            .map_err(|_| Error::Corrupt("bad key derivation parameters".into()))?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, out.as_mut())
            .map_err(|_| Error::Corrupt("key derivation failed".into()))?;
        Ok(StoreKey(out, Mode::Encrypted))
    }

    /// A fixed, publicly known key: for tests, benches and fuzz seeds only. A store
    /// opened with it is as readable as a plain SQLite file to anyone who reads this.
    pub fn insecure_test_key() -> StoreKey {
        StoreKey(
            Zeroizing::new(*b"coop-logbook test key not secret"),
            Mode::Encrypted,
        )
    }

    /// No key at all: the store is a plain SQLite file, as before encryption at rest.
    /// Exists only so `core/benches/store.rs` can measure what encryption costs a
    /// clock-in; the apps and the CLI cannot ask for it (they pass key bytes, hex or a
    /// passphrase).
    #[doc(hidden)]
    pub fn plaintext_for_benchmarks() -> StoreKey {
        StoreKey(Zeroizing::new([0; 32]), Mode::Plaintext)
    }

    pub(crate) fn is_plaintext(&self) -> bool {
        self.1 == Mode::Plaintext
    }

    /// SQLCipher's raw-key form, `x'<64 hex>'` (no PBKDF2: the key is already random or
    /// derived with Argon2id).
    pub(crate) fn sqlcipher_key(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(*self.0)))
    }

    /// The key check (see the module documentation).
    pub(crate) fn check(&self) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(self.0.as_ref())
            .expect("HMAC takes any key length");
        mac.update(CHECK_LABEL);
        mac.finalize().into_bytes().into()
    }

    pub(crate) fn matches(&self, check: &[u8]) -> bool {
        check.len() == 32 && bool::from(self.check().ct_eq(check))
    }
}

/// Key a freshly opened connection. Must be the first statement on it.
pub(crate) fn apply(conn: &rusqlite::Connection, key: &StoreKey) -> Result<()> {
    if key.is_plaintext() {
        return Ok(());
    }
    // SQLCipher logs a failed page check (a wrong key) to stderr on its own; the caller
    // reports it as one clear error instead.
    conn.execute_batch("PRAGMA cipher_log_level = NONE")?;
    conn.pragma_update(None, "key", key.sqlcipher_key().as_str())?;
    Ok(())
}

/// Open a device store's file directly with its key, bypassing the logbook: for tests
/// and tools that inspect the raw tables. No migration, no key check.
pub fn open_raw(home: &Path, key: &StoreKey) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(home.join(super::STORE_FILE))?;
    apply(&conn, key)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_gives_the_same_key_in_the_same_home_and_another_elsewhere() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let k1 = StoreKey::from_passphrase("correct horse", &a).expect("key");
        let k2 = StoreKey::from_passphrase("correct horse", &a).expect("key");
        assert_eq!(k1.as_bytes(), k2.as_bytes());
        let other_salt = StoreKey::from_passphrase("correct horse", &b).expect("key");
        assert_ne!(k1.as_bytes(), other_salt.as_bytes());
        let other_pass = StoreKey::from_passphrase("correct horsf", &a).expect("key");
        assert_ne!(k1.as_bytes(), other_pass.as_bytes());
        assert!(StoreKey::from_passphrase("", &a).is_err());
        // The salt is all that lies beside the store: not the key, not the passphrase.
        let salt = std::fs::read(a.join(SALT_FILE)).expect("salt");
        assert_eq!(salt.len(), 16);
    }

    #[test]
    fn keys_check_and_print_nothing() {
        let k = StoreKey::generate();
        assert!(k.matches(&k.check()));
        assert!(!StoreKey::generate().matches(&k.check()));
        assert!(!k.matches(&k.check()[..31]));
        assert_eq!(format!("{k:?}"), "StoreKey(..)");
        assert_ne!(&k.check(), k.as_bytes());
        let hex = k.to_hex();
        assert_eq!(
            StoreKey::from_hex(&hex).expect("hex").as_bytes(),
            k.as_bytes()
        );
        assert!(StoreKey::from_hex("abcd").is_err());
        assert!(StoreKey::from_bytes(&[0u8; 31]).is_err());
    }
}
