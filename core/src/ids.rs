//! Ids: short, random, URL- and path-safe, with a prefix that says what they name.

/// A new random id like `p-3f9a1c2b4d5e6f70` (64 random bits).
pub fn new_id(prefix: &str) -> String {
    let n: u64 = rand::random();
    format!("{prefix}-{n:016x}")
}

/// A new punch id. Punches with the same device time are ordered by id (docs/DOMAIN.md), so
/// the id starts with the creation time in milliseconds: a clock-in and a clock-out
/// tapped within one second on one device keep their order. 32 random bits follow.
pub fn new_punch_id() -> String {
    let millis = jiff::Timestamp::now().as_millisecond().max(0);
    let n: u32 = rand::random();
    format!("u-{millis:012x}{n:08x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn punch_ids_made_later_sort_later() {
        let a = super::new_punch_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = super::new_punch_id();
        assert!(a < b, "{a} < {b}");
    }
}
