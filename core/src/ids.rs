//! Ids: short, random, URL- and path-safe, with a prefix that says what they name.

/// A new random id like `p-3f9a1c2b4d5e6f70` (64 random bits).
pub fn new_id(prefix: &str) -> String {
    let n: u64 = rand::random();
    format!("{prefix}-{n:016x}")
}
