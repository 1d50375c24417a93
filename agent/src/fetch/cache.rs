//! A byte-bounded LRU cache of segment data: whole segments this agent just
//! committed (so consumers tailing the log cost no GET) and ranges read from
//! the object store. Segments never change once written, so nothing is ever
//! stale; entries only age out.
//!
//! Data is kept *as served*: every indexed batch already carries its real
//! base offset and leader epoch, written in once on the way in, so a fetch
//! answers with slices of an entry and copies nothing.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::metrics::Metrics;
use crate::storage::SegmentKey;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CacheKey {
    Whole(SegmentKey),
    Range(SegmentKey, u64, u64),
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<CacheKey, (Bytes, u64)>,
    by_age: BTreeMap<u64, CacheKey>,
    tick: u64,
    bytes: usize,
}

impl Inner {
    fn touch(&mut self, key: &CacheKey) -> Option<Bytes> {
        self.tick += 1;
        let tick = self.tick;
        let (data, age) = self.entries.get_mut(key)?;
        self.by_age.remove(age);
        *age = tick;
        self.by_age.insert(tick, key.clone());
        Some(data.clone())
    }

    fn remove(&mut self, key: &CacheKey) {
        if let Some((data, age)) = self.entries.remove(key) {
            self.by_age.remove(&age);
            self.bytes -= data.len();
        }
    }
}

/// The segment cache.
#[derive(Debug)]
pub struct SegmentCache {
    inner: Mutex<Inner>,
    capacity: usize,
    metrics: Arc<Metrics>,
}

impl SegmentCache {
    /// A cache holding at most `capacity` bytes.
    pub fn new(capacity: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            inner: Mutex::default(),
            capacity,
            metrics,
        }
    }

    fn insert(&self, key: CacheKey, data: Bytes) {
        if data.len() > self.capacity {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.remove(&key);
        while inner.bytes + data.len() > self.capacity {
            let Some((_, oldest)) = inner.by_age.pop_first() else {
                break;
            };
            if let Some((old, _)) = inner.entries.remove(&oldest) {
                inner.bytes -= old.len();
            }
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.bytes += data.len();
        inner.by_age.insert(tick, key.clone());
        inner.entries.insert(key, (data, tick));
        self.metrics.cache_bytes.set(inner.bytes as i64);
    }

    /// Caches a whole segment file.
    pub fn insert_segment(&self, key: &SegmentKey, data: Bytes) {
        self.insert(CacheKey::Whole(key.clone()), data);
    }

    /// Caches a range read from a segment.
    pub fn insert_range(&self, key: &SegmentKey, range: Range<u64>, data: Bytes) {
        self.insert(CacheKey::Range(key.clone(), range.start, range.end), data);
    }

    /// The bytes of `range` in segment `key`, if cached (as a whole segment
    /// or as exactly this range).
    pub fn get(&self, key: &SegmentKey, range: Range<u64>) -> Option<Bytes> {
        let found = self.lookup(key, &range);
        if found.is_some() {
            self.metrics.cache_hits.inc();
        } else {
            self.metrics.cache_misses.inc();
        }
        found
    }

    fn lookup(&self, key: &SegmentKey, range: &Range<u64>) -> Option<Bytes> {
        let mut inner = self.inner.lock().ok()?;
        if let Some(whole) = inner.touch(&CacheKey::Whole(key.clone())) {
            let (start, end) = (
                usize::try_from(range.start).ok()?,
                usize::try_from(range.end).ok()?,
            );
            return (start <= end && end <= whole.len()).then(|| whole.slice(start..end));
        }
        inner.touch(&CacheKey::Range(key.clone(), range.start, range.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(capacity: usize) -> SegmentCache {
        SegmentCache::new(capacity, Arc::new(Metrics::new().unwrap()))
    }

    #[test]
    fn slices_whole_segments_and_finds_exact_ranges() {
        let c = cache(1_000);
        let k = SegmentKey::from_stored("a".into());
        c.insert_segment(&k, Bytes::from_static(b"0123456789"));
        assert_eq!(c.get(&k, 2..5).unwrap(), Bytes::from_static(b"234"));
        assert!(c.get(&k, 5..11).is_none());
        let r = SegmentKey::from_stored("b".into());
        c.insert_range(&r, 100..103, Bytes::from_static(b"xyz"));
        assert_eq!(c.get(&r, 100..103).unwrap(), Bytes::from_static(b"xyz"));
        assert!(c.get(&r, 100..102).is_none());
    }

    #[test]
    fn evicts_least_recently_used_within_capacity() {
        let c = cache(25);
        let keys: Vec<SegmentKey> = (0..3)
            .map(|i| SegmentKey::from_stored(format!("k{i}")))
            .collect();
        c.insert_segment(&keys[0], Bytes::from(vec![0u8; 10]));
        c.insert_segment(&keys[1], Bytes::from(vec![1u8; 10]));
        assert!(c.get(&keys[0], 0..1).is_some()); // k0 is now the most recent
        c.insert_segment(&keys[2], Bytes::from(vec![2u8; 10]));
        assert!(
            c.get(&keys[1], 0..1).is_none(),
            "k1 was least recently used"
        );
        assert!(c.get(&keys[0], 0..1).is_some());
        assert!(c.get(&keys[2], 0..1).is_some());
        c.insert_segment(&keys[1], Bytes::from(vec![9u8; 100]));
        assert!(
            c.get(&keys[1], 0..1).is_none(),
            "larger than the cache: not kept"
        );
    }
}
