//! Secrets the relay hands out and how it checks them.
//!
//! - **Join codes**: 12 Crockford base32 characters (60 random bits), shown grouped as
//!   `XXXX-XXXX-XXXX`. Typing is forgiving: case, dashes and spaces do not matter, and
//!   the look-alikes `O`, `I`, `L` read as `0`, `1`, `1`. The relay stores only the
//!   SHA-256 of the normalised code; a code is one-time and expires.
//! - **Device tokens**: `<device_id>.<secret>` where the secret is 256 random bits in hex.
//!   The relay stores SHA-256(secret) and compares in constant time.
//! - **Ids** for coops and devices: a prefix and 16 random base32 characters.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Crockford's base32 alphabet: no I, L, O, U, so codes survive being read aloud.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a join code.
pub const JOIN_CODE_LEN: usize = 12;
/// Default join code lifetime.
pub const DEFAULT_CODE_HOURS: u32 = 72;
/// Longest join code lifetime (30 days).
pub const MAX_CODE_HOURS: u32 = 30 * 24;

pub type Hash = [u8; 32];

pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

fn random_base32(len: usize) -> String {
    // Each random byte picks one of 32 symbols: 256 is a multiple of 32, so no bias.
    (0..len)
        .map(|_| CROCKFORD[usize::from(rand::random::<u8>() % 32)] as char)
        .collect()
}

/// A fresh join code, formatted for people: `K7QF-2M9X-T4PA`.
pub fn new_join_code() -> String {
    let raw = random_base32(JOIN_CODE_LEN);
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
}

/// The canonical form of a typed code, or `None` if it cannot be a code.
pub fn normalize_join_code(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(JOIN_CODE_LEN);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && CROCKFORD.contains(&(c as u8)) => c,
            _ => return None,
        };
        if out.len() == JOIN_CODE_LEN {
            return None;
        }
        out.push(c);
    }
    (out.len() == JOIN_CODE_LEN).then_some(out)
}

/// What the relay stores for a code (and looks up on redemption).
pub fn join_code_hash(typed: &str) -> Option<Hash> {
    normalize_join_code(typed).map(|c| sha256(c.as_bytes()))
}

pub fn new_coop_id() -> String {
    format!("coop-{}", random_base32(16).to_ascii_lowercase())
}

pub fn new_device_id() -> String {
    format!("dev-{}", random_base32(16).to_ascii_lowercase())
}

/// A new device credential: `(token, SHA-256 of the secret)`.
pub fn new_device_token(device_id: &str) -> (String, Hash) {
    let secret: [u8; 32] = rand::random();
    let secret_hex = hex::encode(secret);
    let hash = sha256(secret_hex.as_bytes());
    (format!("{device_id}.{secret_hex}"), hash)
}

/// Splits `<device_id>.<secret>` and hashes the secret. `None` if malformed.
pub fn parse_device_token(token: &str) -> Option<(&str, Hash)> {
    let (device_id, secret) = token.split_once('.')?;
    logbook_protocol::validate_entity_id(device_id).ok()?;
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((device_id, sha256(secret.as_bytes())))
}

/// Constant-time comparison of two secret hashes.
pub fn hashes_match(presented: &Hash, stored: &[u8]) -> bool {
    stored.len() == 32 && bool::from(presented.as_slice().ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_join_code_can_be_typed_sloppily() {
        let code = new_join_code();
        assert_eq!(code.len(), 14);
        let sloppy = code.to_lowercase().replace('-', " ");
        assert_eq!(join_code_hash(&code), join_code_hash(&sloppy));
        assert_eq!(
            normalize_join_code("k7qf-2m9x-t4pa").as_deref(),
            Some("K7QF2M9XT4PA")
        );
        // Look-alikes read as digits.
        assert_eq!(
            normalize_join_code("OIL0-0000-0000").as_deref(),
            Some("011000000000")
        );
        assert_eq!(normalize_join_code("K7QF-2M9X-T4P"), None);
        assert_eq!(normalize_join_code("K7QF-2M9X-T4PAA"), None);
        assert_eq!(normalize_join_code("K7QF-2M9X-T4PU"), None);
        assert_eq!(normalize_join_code("ü7QF-2M9X-T4PA"), None);
    }

    #[test]
    fn a_token_is_checked_against_its_stored_hash() {
        let (token, stored) = new_device_token("dev-abc");
        let (id, presented) = parse_device_token(&token).expect("well formed");
        assert_eq!(id, "dev-abc");
        assert!(hashes_match(&presented, &stored));
        let (_, other) = new_device_token("dev-abc");
        assert!(!hashes_match(&presented, &other));
        assert!(parse_device_token("dev-abc").is_none());
        assert!(parse_device_token("dev abc.00").is_none());
        assert!(parse_device_token(&format!("dev-abc.{}", "z".repeat(64))).is_none());
    }
}
