//! The log cleaner's offset map, as Kafka's dedupe buffer: the latest
//! offset of each key of a partition's dirty section, each key held as a
//! 128-bit hash, with at most a fixed number of entries. A dirty section
//! with more keys is cleaned over several passes (the map ends where it
//! filled up).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Entries a map holds at most by default: about 25 MiB (24 bytes of entry
/// and a control byte each, in a table of 2^20 slots).
pub const DEFAULT_MAX_KEYS: usize = 900_000;

/// Keys to their latest offsets, bounded.
#[derive(Debug)]
pub struct KeyMap {
    latest: HashMap<u128, i64>,
    max_keys: usize,
}

/// A key's 128-bit hash. Two independent SipHash passes (the standard
/// library's, with fixed keys): a collision, which would make the cleaner
/// drop a record of another key, is as unlikely as with Kafka's MD5. The
/// hash lives only in one pass's memory, so its algorithm may change
/// between Rust versions.
pub fn key_hash(key: &[u8]) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0x5a)) << 64) | u128::from(half(0xa5))
}

impl KeyMap {
    /// An empty map of at most `max_keys` entries (at least one). Memory
    /// grows with the entries, never to more than the bound's table.
    pub fn new(max_keys: usize) -> Self {
        Self {
            latest: HashMap::new(),
            max_keys: max_keys.max(1),
        }
    }

    /// Whether `more` new keys could still be added.
    pub fn has_room_for(&self, more: usize) -> bool {
        self.latest.len().saturating_add(more) <= self.max_keys
    }

    /// Records `offset` as the latest of `hash` (offsets come in order, so
    /// a later one replaces an earlier one). Returns `false`, changing
    /// nothing, when the key is new and the map is full.
    pub fn put(&mut self, hash: u128, offset: i64) -> bool {
        if let Some(latest) = self.latest.get_mut(&hash) {
            *latest = (*latest).max(offset);
            return true;
        }
        if self.latest.len() >= self.max_keys {
            return false;
        }
        self.latest.insert(hash, offset);
        true
    }

    /// The latest offset of `hash`, if the dirty section has the key.
    pub fn latest(&self, hash: u128) -> Option<i64> {
        self.latest.get(&hash).copied()
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_offset_wins_and_the_bound_holds() {
        let mut map = KeyMap::new(2);
        let (a, b, c) = (key_hash(b"a"), key_hash(b"b"), key_hash(b"c"));
        assert_ne!(a, b);
        assert_eq!(key_hash(b"a"), a, "stable within a process");
        assert!(map.put(a, 1));
        assert!(map.put(b, 2));
        assert!(map.put(a, 5), "a known key is updated when full");
        assert!(!map.put(c, 6), "a new key is refused when full");
        assert_eq!(
            (map.latest(a), map.latest(b), map.latest(c)),
            (Some(5), Some(2), None)
        );
        assert!(map.put(a, 3), "an older offset never replaces a later one");
        assert_eq!(map.latest(a), Some(5));
        assert_eq!(map.len(), 2);
        assert!(!map.has_room_for(1));
        assert!(KeyMap::new(0).has_room_for(1), "at least one entry");
    }

    #[test]
    fn empty_and_null_like_keys_differ() {
        assert_ne!(key_hash(b""), key_hash(b"\\0"));
        assert_ne!(key_hash(b"ab"), key_hash(b"ba"));
    }
}
