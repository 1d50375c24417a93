//! A byte-bounded LRU cache of segment data: whole segments this agent just
//! committed (so consumers tailing the log cost no GET) and ranges read from
//! the object store. Segments never change once written, so nothing is ever
//! stale; entries only age out.
//!
//! Data is kept *as served*: every indexed batch already carries its real
//! base offset and leader epoch, written in once on the way in, so a fetch
//! answers with slices of an entry and copies nothing.
//!
//! Those slices outlive eviction while a response waits for a slow client,
//! so the budget counts every buffer the cache handed out and that is still
//! alive, not only what it holds: each buffer is wrapped
//! ([`Bytes::from_owner`]) in an owner that counts its bytes until the last
//! slice is dropped, and the cache evicts harder while evicted-but-held
//! bytes are high.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use prometheus::IntGauge;

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

    fn evict_oldest(&mut self) -> bool {
        let Some((_, oldest)) = self.by_age.pop_first() else {
            return false;
        };
        if let Some((old, _)) = self.entries.remove(&oldest) {
            self.bytes -= old.len();
        }
        true
    }
}

/// Bytes of buffers handed out by the cache and still alive anywhere (in
/// the cache, in responses, or both), and how many of them the cache holds.
#[derive(Debug)]
struct Accounting {
    live: AtomicUsize,
    cached: AtomicUsize,
    held_gauge: IntGauge,
}

impl Accounting {
    /// Evicted (or never cached) but still held by someone.
    fn held(&self) -> usize {
        self.live
            .load(Ordering::Acquire)
            .saturating_sub(self.cached.load(Ordering::Acquire))
    }

    fn publish(&self) {
        self.held_gauge
            .set(i64::try_from(self.held()).unwrap_or(i64::MAX));
    }
}

/// Owner of one buffer handed out by the cache: its bytes count as live
/// until the last slice of it is dropped.
struct Tracked {
    data: Bytes,
    accounting: Arc<Accounting>,
}

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Atomics only: this can run while the cache's lock is held.
        self.accounting
            .live
            .fetch_sub(self.data.len(), Ordering::AcqRel);
        self.accounting.publish();
    }
}

/// The segment cache.
#[derive(Debug)]
pub struct SegmentCache {
    inner: Mutex<Inner>,
    capacity: usize,
    accounting: Arc<Accounting>,
    metrics: Arc<Metrics>,
}

impl SegmentCache {
    /// A cache whose buffers, cached or still held by responses, total at
    /// most about `capacity` bytes.
    pub fn new(capacity: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            inner: Mutex::default(),
            capacity,
            accounting: Arc::new(Accounting {
                live: AtomicUsize::new(0),
                cached: AtomicUsize::new(0),
                held_gauge: metrics.cache_held_bytes.clone(),
            }),
            metrics,
        }
    }

    /// Bytes evicted from the cache (or never cached) but still held by
    /// responses.
    pub fn held_bytes(&self) -> usize {
        self.accounting.held()
    }

    /// Wraps `data` so its bytes count until its last slice is dropped.
    fn track(&self, data: Bytes) -> Bytes {
        self.accounting.live.fetch_add(data.len(), Ordering::AcqRel);
        Bytes::from_owner(Tracked {
            data,
            accounting: self.accounting.clone(),
        })
    }

    /// Caches `data` if the budget allows and returns the buffer to serve:
    /// the caller must hand out this one, not `data`, so the bytes it pins
    /// are counted.
    fn insert(&self, key: CacheKey, data: Bytes) -> Bytes {
        let len = data.len();
        let Ok(mut inner) = self.inner.lock() else {
            return data;
        };
        inner.remove(&key);
        self.accounting.cached.store(inner.bytes, Ordering::Release);
        // Evicting an entry a response still holds frees nothing, so the
        // budget is checked against all live bytes: while evicted-but-held
        // bytes are high, more is evicted.
        let fits = self.accounting.held() + len <= self.capacity;
        while fits && self.accounting.live.load(Ordering::Acquire) + len > self.capacity {
            if !inner.evict_oldest() {
                break;
            }
            self.accounting.cached.store(inner.bytes, Ordering::Release);
        }
        // Evicting may have turned cached bytes into held ones.
        let fits = fits && self.accounting.held() + len <= self.capacity;
        let tracked = self.track(data);
        if fits {
            inner.tick += 1;
            let tick = inner.tick;
            inner.bytes += len;
            inner.by_age.insert(tick, key.clone());
            inner.entries.insert(key, (tracked.clone(), tick));
            self.accounting.cached.store(inner.bytes, Ordering::Release);
        }
        self.metrics.cache_bytes.set(inner.bytes as i64);
        self.accounting.publish();
        tracked
    }

    /// Caches a whole segment file; returns the buffer to serve from.
    pub fn insert_segment(&self, key: &SegmentKey, data: Bytes) -> Bytes {
        self.insert(CacheKey::Whole(key.clone()), data)
    }

    /// Caches a range read from a segment; returns the buffer to serve.
    pub fn insert_range(&self, key: &SegmentKey, range: Range<u64>, data: Bytes) -> Bytes {
        self.insert(CacheKey::Range(key.clone(), range.start, range.end), data)
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

    #[test]
    fn buffers_held_after_eviction_count_against_the_budget() {
        let c = cache(20);
        let keys: Vec<SegmentKey> = (0..4)
            .map(|i| SegmentKey::from_stored(format!("k{i}")))
            .collect();
        c.insert_segment(&keys[0], Bytes::from(vec![0u8; 10]));
        // A response holds a slice of k0 (a slow client).
        let response = c.get(&keys[0], 2..4).unwrap();
        c.insert_segment(&keys[1], Bytes::from(vec![1u8; 10]));
        c.insert_segment(&keys[2], Bytes::from(vec![2u8; 10]));
        // k0 is evicted but still pinned: k1 must go too to stay in budget.
        assert_eq!(c.held_bytes(), 10);
        assert_eq!(c.metrics.cache_held_bytes.get(), 10);
        assert!(c.get(&keys[1], 0..1).is_none(), "evicted harder");
        assert!(c.get(&keys[0], 0..1).is_none());
        assert_eq!(c.get(&keys[2], 0..1).unwrap(), Bytes::from_static(&[2]));
        drop(response);
        assert_eq!(c.held_bytes(), 0);
        assert_eq!(c.metrics.cache_held_bytes.get(), 0);
        // Released: the full budget is usable again.
        c.insert_segment(&keys[3], Bytes::from(vec![3u8; 10]));
        assert!(c.get(&keys[2], 0..1).is_some());
        assert!(c.get(&keys[3], 0..1).is_some());
    }

    #[test]
    fn nothing_is_cached_while_held_bytes_fill_the_budget() {
        let c = cache(20);
        let a = SegmentKey::from_stored("a".into());
        let b = SegmentKey::from_stored("b".into());
        let served = c.insert_range(&a, 0..15, Bytes::from(vec![7u8; 15]));
        c.insert_range(&b, 0..10, Bytes::from(vec![8u8; 10])); // evicts a
        assert_eq!(c.held_bytes(), 15);
        assert!(c.get(&b, 0..10).is_none(), "15 held + 10 is over 20");
        let more = c.insert_range(&a, 0..10, Bytes::from(vec![9u8; 10]));
        assert_eq!(more, Bytes::from(vec![9u8; 10]), "still served");
        assert!(
            c.get(&a, 0..10).is_none(),
            "15 held + 10 is over 20: not cached"
        );
        assert_eq!(c.held_bytes(), 25);
        drop((served, more));
        assert_eq!(c.held_bytes(), 0);
    }
}
