//! Record contents: values, send stamps and keys.
//!
//! Values are random upper-case letters (as Kafka's own perf tool makes
//! them), so compression codecs get realistic, partly compressible input.
//! Each record takes the next slice of a pool larger than a batch, so a
//! batch does not repeat itself. The first 8 bytes of a value carry the
//! intended send time (Unix µs, big-endian), which e2e reads back.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use crate::KeyPattern;

/// Bytes of the send stamp at the start of a value.
pub const STAMP_LEN: usize = 8;
/// Smallest pool of value bytes: larger than librdkafka's default batch.
const MIN_POOL: usize = 4 << 20;

/// Source of record values of one size.
#[derive(Debug, Clone)]
pub struct Payload {
    pool: Vec<u8>,
    record_size: usize,
}

impl Payload {
    /// Values of `record_size` bytes from a pool seeded by `seed`.
    pub fn new(record_size: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let len = MIN_POOL.max(record_size.saturating_mul(2));
        let mut pool = vec![0u8; len];
        rng.fill_bytes(&mut pool);
        // Letters A..Z; the slight bias of `% 26` does not matter here.
        for b in &mut pool {
            *b = b'A' + *b % 26;
        }
        Self { pool, record_size }
    }

    /// Writes the value of record `i`, stamped with `stamp_us`, into `out`.
    pub fn fill(&self, out: &mut Vec<u8>, i: u64, stamp_us: u64) {
        let size = self.record_size;
        let slots = (self.pool.len() - size) / size.max(1) + 1;
        // Slot index is below the pool length, which fits in usize.
        let slot = usize::try_from(i % slots as u64).unwrap_or(0);
        let at = slot * size.max(1);
        out.clear();
        out.extend_from_slice(&self.pool[at..at + size]);
        write_stamp(out, stamp_us);
    }
}

/// Stores `us` in the first bytes of `value` (as many as fit).
pub fn write_stamp(value: &mut [u8], us: u64) {
    if value.len() >= STAMP_LEN {
        value[..STAMP_LEN].copy_from_slice(&us.to_be_bytes());
    }
}

/// The send stamp of a value, if it is long enough to hold one.
pub fn read_stamp(value: &[u8]) -> Option<u64> {
    let bytes: [u8; STAMP_LEN] = value.get(..STAMP_LEN)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// The record keys one producer uses.
#[derive(Debug)]
pub struct Keys {
    keys: Vec<Vec<u8>>,
    pattern: KeyPattern,
    offset: u64,
    rng: StdRng,
}

impl Keys {
    /// `count` keys for producer number `producer` (`None`: no keys).
    /// Producers start round-robin at different keys.
    pub fn new(count: Option<u64>, pattern: KeyPattern, producer: u64, seed: u64) -> Self {
        let keys = (0..count.unwrap_or(0))
            .map(|k| format!("key-{k}").into_bytes())
            .collect::<Vec<_>>();
        let offset = match count {
            Some(n) if n > 0 => producer.wrapping_mul(7_919) % n,
            _ => 0,
        };
        Self {
            keys,
            pattern,
            offset,
            rng: StdRng::seed_from_u64(seed ^ producer.rotate_left(32)),
        }
    }

    /// The key of record `i`.
    pub fn pick(&mut self, i: u64) -> Option<&[u8]> {
        if self.keys.is_empty() {
            return None;
        }
        let n = self.keys.len();
        let idx = match self.pattern {
            KeyPattern::RoundRobin => {
                usize::try_from(i.wrapping_add(self.offset) % n as u64).unwrap_or(0)
            }
            KeyPattern::Random => self.rng.random_range(0..n),
        };
        self.keys.get(idx).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_the_size_and_the_stamp() {
        let p = Payload::new(100, 1);
        let mut v = Vec::new();
        p.fill(&mut v, 0, 1_700_000_000_123_456);
        assert_eq!(v.len(), 100);
        assert_eq!(read_stamp(&v), Some(1_700_000_000_123_456));
        assert!(v[STAMP_LEN..].iter().all(u8::is_ascii_uppercase));
    }

    #[test]
    fn consecutive_values_differ() {
        let p = Payload::new(64, 1);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        p.fill(&mut a, 0, 0);
        p.fill(&mut b, 1, 0);
        assert_ne!(a, b);
    }

    #[test]
    fn values_wrap_around_the_pool() {
        let size = 3 << 20;
        let p = Payload::new(size, 7);
        let mut v = Vec::new();
        for i in 0..5 {
            p.fill(&mut v, i, i);
            assert_eq!(v.len(), size);
        }
    }

    #[test]
    fn tiny_values_carry_no_stamp() {
        let p = Payload::new(4, 1);
        let mut v = Vec::new();
        p.fill(&mut v, 3, 99);
        assert_eq!(v.len(), 4);
        assert_eq!(read_stamp(&v), None);
        let empty = Payload::new(0, 1);
        empty.fill(&mut v, 3, 99);
        assert!(v.is_empty());
    }

    #[test]
    fn round_robin_keys_cycle() {
        let mut k = Keys::new(Some(3), KeyPattern::RoundRobin, 0, 1);
        let got: Vec<_> = (0..4).map(|i| k.pick(i).map(<[u8]>::to_vec)).collect();
        assert_eq!(
            got,
            [b"key-0", b"key-1", b"key-2", b"key-0"].map(|k| Some(k.to_vec()))
        );
    }

    #[test]
    fn random_keys_stay_in_range_and_repeat_with_the_seed() {
        let mut a = Keys::new(Some(5), KeyPattern::Random, 2, 9);
        let mut b = Keys::new(Some(5), KeyPattern::Random, 2, 9);
        for i in 0..100 {
            let ka = a.pick(i).map(<[u8]>::to_vec);
            assert_eq!(ka, b.pick(i).map(<[u8]>::to_vec));
            let ka = ka.expect("a key");
            assert!(ka.starts_with(b"key-") && ka.len() == 5);
        }
    }

    #[test]
    fn no_keys_by_default() {
        let mut k = Keys::new(None, KeyPattern::RoundRobin, 0, 1);
        assert_eq!(k.pick(0), None);
    }
}
