//! Keeps an idempotent producer's batches in order across a failed flush.
//!
//! Producers pipeline requests: librdkafka and the Java client keep up to
//! five in flight per connection. When the flush holding one of them fails
//! (nothing of it stored), the batches behind it may already wait in later
//! flushes. Committed, they would leave a gap in the producer's sequence,
//! which the store answers OUT_OF_ORDER_SEQUENCE_NUMBER, and librdkafka
//! answers that by bumping its epoch and renumbering every message not yet
//! acknowledged, including messages of other partitions that may already be
//! stored under the old epoch (a send cut by a lost connection): those are
//! then stored twice (librdkafka issue 4953, which Apache Kafka's brokers
//! cannot prevent either). So a batch behind a failed one of the same
//! producer and partition fails with it, with the same retriable error,
//! until the producer sends the failed batch again: the client retries in
//! order, and nothing is renumbered.
//!
//! The flusher's committer owns the one [`FailedSequences`] of an agent. A
//! failure is remembered for [`HOLD`], long enough for the requests that
//! were in flight when it was answered, and at most [`MAX_HELD`] failures
//! are remembered (beyond that a failure is not held, and the batches
//! behind it are committed as before).

use std::collections::HashMap;
use std::time::Duration;

use floe_metadata::ProducerBatch;
use tokio::time::Instant;
use uuid::Uuid;

/// How long the batches behind a failed one are held back at most.
pub(super) const HOLD: Duration = Duration::from_secs(10);

/// Failures remembered at once.
pub(super) const MAX_HELD: usize = 10_000;

/// Sequence numbers are 31-bit and wrap from `i32::MAX` to 0.
const SEQUENCE_SPACE: i64 = 1 << 31;

/// One producer on one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    topic_id: Uuid,
    partition: i32,
    producer_id: i64,
}

/// The earliest batch of a producer that failed and was not sent again.
#[derive(Debug, Clone, Copy)]
struct Held {
    epoch: i16,
    base_sequence: i32,
    since: Instant,
}

/// Failed batches of idempotent producers whose successors are held back.
#[derive(Debug, Default)]
pub(super) struct FailedSequences {
    held: HashMap<Key, Held>,
}

/// Whether sequence `seq` comes after `earlier` (within half the sequence
/// space, so that a wrap from `i32::MAX` to 0 still counts as after).
fn is_after(seq: i32, earlier: i32) -> bool {
    let distance = (i64::from(seq) - i64::from(earlier)).rem_euclid(SEQUENCE_SPACE);
    distance > 0 && distance < SEQUENCE_SPACE / 2
}

impl FailedSequences {
    /// Remembers that `batch`, appended to `partition` of `topic_id`, was
    /// not stored. The earliest failed batch of a producer is the one it
    /// must send again first.
    pub(super) fn failed(
        &mut self,
        topic_id: Uuid,
        partition: i32,
        batch: &ProducerBatch,
        now: Instant,
    ) {
        let key = Key {
            topic_id,
            partition,
            producer_id: batch.producer_id,
        };
        let held = Held {
            epoch: batch.producer_epoch,
            base_sequence: batch.base_sequence,
            since: now,
        };
        match self.held.get_mut(&key) {
            Some(h) if now.duration_since(h.since) < HOLD => {
                let earlier = batch.producer_epoch == h.epoch
                    && is_after(h.base_sequence, batch.base_sequence);
                if batch.producer_epoch > h.epoch || earlier {
                    *h = held;
                }
            }
            Some(h) => *h = held,
            None => {
                if self.held.len() >= MAX_HELD {
                    self.held.retain(|_, h| now.duration_since(h.since) < HOLD);
                }
                if self.held.len() < MAX_HELD {
                    self.held.insert(key, held);
                }
            }
        }
    }

    /// Whether `batch`, appended to `partition` of `topic_id`, may be
    /// committed: not when it comes after a failed batch of its producer
    /// that has not been sent again. The failed batch itself, sent again,
    /// lifts the hold (its own failure would set it again).
    pub(super) fn admits(
        &mut self,
        topic_id: Uuid,
        partition: i32,
        batch: &ProducerBatch,
        now: Instant,
    ) -> bool {
        let key = Key {
            topic_id,
            partition,
            producer_id: batch.producer_id,
        };
        let Some(h) = self.held.get(&key).copied() else {
            return true;
        };
        if now.duration_since(h.since) >= HOLD || batch.producer_epoch > h.epoch {
            // Expired, or the producer started a new epoch (sequence 0):
            // nothing of the old one is pending any more.
            self.held.remove(&key);
            return true;
        }
        if batch.producer_epoch < h.epoch {
            // A zombie of an older epoch: the store fences it.
            return true;
        }
        if batch.base_sequence == h.base_sequence {
            self.held.remove(&key);
            return true;
        }
        !is_after(batch.base_sequence, h.base_sequence)
    }

    /// Failures remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(epoch: i16, base_sequence: i32) -> ProducerBatch {
        ProducerBatch {
            producer_id: 7,
            producer_epoch: epoch,
            base_sequence,
        }
    }

    #[test]
    fn batches_behind_a_failure_wait_for_its_retry() {
        let topic = Uuid::now_v7();
        let now = Instant::now();
        let mut f = FailedSequences::default();
        assert!(f.admits(topic, 0, &batch(0, 10), now));
        f.failed(topic, 0, &batch(0, 10), now);
        // Pipelined successors fail with it; an older retry (a duplicate)
        // and other partitions and producers are not held.
        assert!(!f.admits(topic, 0, &batch(0, 11), now));
        assert!(!f.admits(topic, 0, &batch(0, 15), now));
        assert!(f.admits(topic, 0, &batch(0, 9), now));
        assert!(f.admits(topic, 1, &batch(0, 11), now));
        assert!(f.admits(
            topic,
            0,
            &ProducerBatch {
                producer_id: 8,
                ..batch(0, 11)
            },
            now
        ));
        // The retry lifts the hold.
        assert!(f.admits(topic, 0, &batch(0, 10), now));
        assert!(f.admits(topic, 0, &batch(0, 11), now));
        assert_eq!(f.len(), 0);
    }

    #[test]
    fn the_earliest_failure_is_the_one_to_retry() {
        let topic = Uuid::now_v7();
        let now = Instant::now();
        let mut f = FailedSequences::default();
        f.failed(topic, 0, &batch(0, 12), now);
        f.failed(topic, 0, &batch(0, 10), now);
        f.failed(topic, 0, &batch(0, 11), now);
        assert!(!f.admits(topic, 0, &batch(0, 12), now));
        assert!(f.admits(topic, 0, &batch(0, 10), now));
    }

    #[test]
    fn a_new_epoch_or_time_ends_the_hold() {
        let topic = Uuid::now_v7();
        let now = Instant::now();
        let mut f = FailedSequences::default();
        f.failed(topic, 0, &batch(3, 10), now);
        assert!(f.admits(topic, 0, &batch(4, 0), now));
        assert_eq!(f.len(), 0);
        f.failed(topic, 0, &batch(3, 10), now);
        assert!(
            f.admits(topic, 0, &batch(2, 50), now),
            "the store fences zombies"
        );
        assert!(!f.admits(topic, 0, &batch(3, 11), now + HOLD / 2));
        assert!(f.admits(topic, 0, &batch(3, 11), now + HOLD));
        assert_eq!(f.len(), 0);
    }

    #[test]
    fn sequences_wrap() {
        assert!(is_after(0, i32::MAX));
        assert!(is_after(5, i32::MAX - 5));
        assert!(!is_after(i32::MAX, 0));
        assert!(!is_after(3, 3));
        let topic = Uuid::now_v7();
        let now = Instant::now();
        let mut f = FailedSequences::default();
        f.failed(topic, 0, &batch(0, i32::MAX), now);
        assert!(!f.admits(topic, 0, &batch(0, 0), now));
    }

    #[test]
    fn memory_is_bounded() {
        let topic = Uuid::now_v7();
        let now = Instant::now();
        let mut f = FailedSequences::default();
        for p in 0..(MAX_HELD as i64 + 100) {
            let b = ProducerBatch {
                producer_id: p,
                producer_epoch: 0,
                base_sequence: 1,
            };
            f.failed(topic, 0, &b, now);
        }
        assert_eq!(f.len(), MAX_HELD);
        // Once the old ones expire, new failures are remembered again.
        let later = now + HOLD;
        let b = ProducerBatch {
            producer_id: -5,
            producer_epoch: 0,
            base_sequence: 1,
        };
        f.failed(topic, 0, &b, later);
        assert_eq!(f.len(), 1);
        assert!(!f.admits(
            topic,
            0,
            &ProducerBatch {
                base_sequence: 2,
                ..b
            },
            later
        ));
    }
}
