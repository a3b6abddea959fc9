//! Kiosk PINs: a 4-digit PIN is stored only as a salted, slow Argon2id verifier, and the
//! kiosk checks it offline. Four digits are weak on their own, so the kiosk also locks a
//! person out after repeated wrong tries (see `Logbook::kiosk_check_pin`).

use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

// Tuned so a cheap tablet checks a PIN in well under a second while an offline guesser
// pays the same per try. Changing these changes new verifiers only: each carries its own.
const M_COST_KIB: u32 = 8 * 1024;
const T_COST: u32 = 2;

/// Refuse anything but exactly four ASCII digits.
pub fn validate_pin(pin: &str) -> Result<()> {
    if pin.len() == 4 && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::invalid("a PIN is exactly 4 digits"))
    }
}

fn hash(pin: &str, salt: &[u8], m: u32, t: u32) -> Result<[u8; 32]> {
    let params =
        Params::new(m, t, 1, Some(32)).map_err(|_| Error::Corrupt("bad PIN parameters".into()))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pin.as_bytes(), salt, &mut out)
        .map_err(|_| Error::Corrupt("PIN hashing failed".into()))?;
    Ok(out)
}

/// A verifier for `pin`: `argon2id$m=<KiB>,t=<iterations>$<salt hex>$<hash hex>`.
pub fn make_verifier(pin: &str) -> Result<String> {
    validate_pin(pin)?;
    let salt: [u8; 16] = rand::random();
    let h = hash(pin, &salt, M_COST_KIB, T_COST)?;
    Ok(format!(
        "argon2id$m={M_COST_KIB},t={T_COST}${}${}",
        hex::encode(salt),
        hex::encode(h)
    ))
}

/// Does `pin` match `verifier`? Constant-time on the hash.
pub fn check(pin: &str, verifier: &str) -> Result<bool> {
    if validate_pin(pin).is_err() {
        return Ok(false);
    }
    let bad = || Error::Corrupt("unreadable PIN verifier".into());
    let parts: Vec<&str> = verifier.split('$').collect();
    let [alg, params, salt, expected] = parts.as_slice() else {
        return Err(bad());
    };
    if *alg != "argon2id" {
        return Err(bad());
    }
    let mut m = None;
    let mut t = None;
    for kv in params.split(',') {
        match kv.split_once('=') {
            Some(("m", v)) => m = v.parse().ok(),
            Some(("t", v)) => t = v.parse().ok(),
            _ => return Err(bad()),
        }
    }
    let (Some(m), Some(t)) = (m, t) else {
        return Err(bad());
    };
    let salt = hex::decode(salt).map_err(|_| bad())?;
    let expected = hex::decode(expected).map_err(|_| bad())?;
    let got = hash(pin, &salt, m, t)?;
    Ok(got.ct_eq(expected.as_slice()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_checks_against_its_verifier_and_nothing_else() {
        let v = make_verifier("0420").unwrap();
        assert!(!v.contains("0420"));
        assert!(check("0420", &v).unwrap());
        assert!(!check("0421", &v).unwrap());
        assert!(!check("042", &v).unwrap());
        assert_ne!(v, make_verifier("0420").unwrap(), "salted");
    }

    #[test]
    fn only_four_digits_are_a_pin() {
        for bad in ["", "123", "12345", "12a4", "١٢٣٤"] {
            assert!(validate_pin(bad).is_err(), "{bad}");
        }
    }
}
