//! What the log cleaner knows of a partition's transactions, as Kafka's
//! `CleanedTransactionMetadata`: the aborted ranges below the clean's end
//! (from the store's `txn_aborted`), and, while a pass walks the log from
//! its start, which producers have transactional batches kept since their
//! last marker (so a marker stays while its transaction's data is in the
//! log).
//!
//! A marker whose transaction keeps no batch after the pass is
//! discardable. Kafka's two phases follow: the pass that finds it so gives
//! it a delete horizon (now + `delete.retention.ms`), written into the
//! batch as Kafka writes it (KIP-534: the attributes' delete-horizon bit,
//! the horizon in `baseTimestamp`); a pass after the horizon drops it.
//! (Kafka's cleaner waits one more pass before the horizon, as it tracks
//! batches read rather than kept; the horizon here is set in the swap that
//! removes the transaction's last batch, so it still counts from then.) A
//! read_committed consumer that read an aborted transaction's data before
//! it went thus still finds its abort marker for that long.

use std::collections::HashSet;

use bytes::{Bytes, BytesMut};
use floe_metadata::AbortedTxn;

use crate::segment::batch::BatchHeader;
use crate::segment::records::{MAX_PRODUCED_RECORDS_BYTES, Records, ScanError};

/// Aborted ranges one clean loads at most (24 bytes each): a partition
/// with more below its clean's end is cleaned up to where they fit, and
/// the ranges go with their markers, so later passes move on.
pub const MAX_ABORTED_RANGES: u32 = 100_000;

/// Producers with an open transaction a pass follows at most: past that,
/// no marker is discardable until the end of the pass (kept is safe).
const MAX_OPEN_PRODUCERS: usize = 100_000;

/// The attributes' delete-horizon bit (Kafka's `DELETE_HORIZON_FLAG_MASK`):
/// `baseTimestamp` holds the time after which the cleaner may drop the
/// batch.
const DELETE_HORIZON_FLAG: i16 = 0x40;
/// Where the attributes, the base timestamp and the CRC of a v2 batch are.
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
const BASE_TIMESTAMP_OFFSET: usize = 27;

/// The aborted transactions of a partition: a producer's transactional
/// batches from `first_offset` to its abort marker at `last_offset`.
#[derive(Debug, Default)]
pub struct AbortedRanges {
    /// (producer id, first offset, last offset), sorted; one producer's
    /// ranges never overlap.
    ranges: Vec<(i64, i64, i64)>,
}

impl AbortedRanges {
    /// No aborted range.
    pub const EMPTY: Self = Self { ranges: Vec::new() };

    /// The ranges, in any order.
    pub fn new(ranges: impl IntoIterator<Item = AbortedTxn>) -> Self {
        let mut ranges: Vec<(i64, i64, i64)> = ranges
            .into_iter()
            .map(|a| (a.producer_id, a.first_offset, a.last_offset))
            .collect();
        ranges.sort_unstable();
        ranges.dedup();
        Self { ranges }
    }

    /// Whether `producer`'s transactional batch at `offset` belongs to an
    /// aborted transaction.
    pub fn contains(&self, producer: i64, offset: i64) -> bool {
        // The last range of the producer starting at or before the offset.
        let after = self
            .ranges
            .partition_point(|&(p, first, _)| (p, first) <= (producer, offset));
        after > 0 && {
            let (p, _, last) = self.ranges[after - 1];
            p == producer && offset <= last
        }
    }

    /// Ranges held.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// When markers may go: discardable markers get `now_ms +
/// delete_retention_ms` as horizon, and go once it is `now_ms` or earlier.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkerClock {
    /// The pass's wall clock, ms since the epoch.
    pub now_ms: i64,
    /// The topic's `delete.retention.ms`.
    pub delete_retention_ms: i64,
}

/// The transactions a pass has seen so far, walking the log from its start.
#[derive(Debug, Default)]
pub struct TxnScan {
    /// Producers with a transactional batch kept since their last marker.
    open: HashSet<i64>,
    /// More producers than [`MAX_OPEN_PRODUCERS`] were open at once: no
    /// marker is discardable for the rest of the pass.
    overflowed: bool,
    /// Offsets of the abort markers dropped since the last
    /// [`Self::take_dropped_aborts`]: their ranges hold nothing any more.
    dropped_aborts: Vec<i64>,
}

/// What becomes of a marker the clean reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkerFate {
    /// Its transaction may still have data in the log: kept as it is.
    Kept,
    /// Discardable, its horizon not reached: kept, with these bytes (the
    /// horizon added if it had none), until `.1`.
    Waiting(Bytes, i64),
    /// Discardable and past its horizon: dropped.
    Dropped,
}

impl TxnScan {
    /// A transactional batch of `producer` the pass keeps (some of its
    /// records at least): its transaction has data in the log.
    pub fn on_kept(&mut self, producer: i64) {
        if self.open.len() >= MAX_OPEN_PRODUCERS && !self.open.contains(&producer) {
            self.overflowed = true;
            return;
        }
        self.open.insert(producer);
    }

    /// The marker `batch` (its header `header`, at `offset`): what to do
    /// with it. Its producer's transaction ends here.
    pub fn on_marker(
        &mut self,
        batch: &Bytes,
        header: &BatchHeader,
        offset: i64,
        clock: MarkerClock,
    ) -> Result<MarkerFate, ScanError> {
        let had_data = self.open.remove(&header.producer_id);
        if had_data || self.overflowed {
            return Ok(MarkerFate::Kept);
        }
        if let Some(horizon) = delete_horizon(header) {
            if horizon <= clock.now_ms {
                if is_abort(batch, header)? {
                    self.dropped_aborts.push(offset);
                }
                return Ok(MarkerFate::Dropped);
            }
            return Ok(MarkerFate::Waiting(batch.clone(), horizon));
        }
        let horizon = clock.now_ms.saturating_add(clock.delete_retention_ms);
        Ok(MarkerFate::Waiting(
            with_delete_horizon(batch, header, horizon),
            horizon,
        ))
    }

    /// The abort markers dropped since the last call, by offset.
    pub fn take_dropped_aborts(&mut self) -> Vec<i64> {
        std::mem::take(&mut self.dropped_aborts)
    }
}

/// The batch's delete horizon, if it has one.
pub fn delete_horizon(header: &BatchHeader) -> Option<i64> {
    (header.attributes & DELETE_HORIZON_FLAG != 0).then_some(header.base_timestamp)
}

/// Whether the marker ends its transaction with an abort (the control
/// record's key: version, then type 0 abort or 1 commit). A marker that
/// does not say is taken for a commit: its range, if any, is not pruned.
fn is_abort(batch: &Bytes, header: &BatchHeader) -> Result<bool, ScanError> {
    if header.record_count < 1 {
        return Ok(false);
    }
    let mut records = Records::open(batch, header, MAX_PRODUCED_RECORDS_BYTES)?;
    let (_, key) = records.next_key()?;
    Ok(key.is_some_and(|k| k.len() >= 4 && i16::from_be_bytes([k[2], k[3]]) == 0))
}

/// `batch` with the delete-horizon bit set and `horizon` as its base
/// timestamp, its CRC-32C (which covers both) computed again. Record
/// timestamps are deltas from the base: a marker's one record is never
/// delivered, so its timestamp does not matter (Kafka does the same).
fn with_delete_horizon(batch: &Bytes, header: &BatchHeader, horizon: i64) -> Bytes {
    let mut b = BytesMut::from(&batch[..header.total_len]);
    let attributes = header.attributes | DELETE_HORIZON_FLAG;
    b[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attributes.to_be_bytes());
    b[BASE_TIMESTAMP_OFFSET..BASE_TIMESTAMP_OFFSET + 8].copy_from_slice(&horizon.to_be_bytes());
    let crc = crc32c::crc32c(&b[ATTRIBUTES_OFFSET..]);
    b[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    b.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::batch::verify_crc;
    use crate::segment::control::{Marker, marker_batch};

    fn range(producer_id: i64, first_offset: i64, last_offset: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id,
            first_offset,
            last_offset,
        }
    }

    #[test]
    fn an_offset_is_aborted_only_inside_its_producers_ranges() {
        let aborted = AbortedRanges::new([range(7, 10, 20), range(7, 30, 31), range(9, 0, 40)]);
        assert_eq!(aborted.len(), 3);
        for (producer, offset, want) in [
            (7, 9, false),
            (7, 10, true),
            (7, 20, true),
            (7, 21, false),
            (7, 30, true),
            (7, 32, false),
            (8, 15, false),
            (9, 0, true),
            (9, 41, false),
            (6, 15, false),
        ] {
            assert_eq!(
                aborted.contains(producer, offset),
                want,
                "{producer}@{offset}"
            );
        }
        assert!(!AbortedRanges::default().contains(7, 10));
    }

    #[test]
    fn a_marker_gets_a_horizon_then_goes() {
        let clock = MarkerClock {
            now_ms: 1_000,
            delete_retention_ms: 500,
        };
        let abort = marker_batch(
            &Marker {
                producer_id: 7,
                producer_epoch: 1,
                commit: false,
                coordinator_epoch: 0,
            },
            900,
        );
        let header = BatchHeader::parse(&abort).unwrap();
        let mut scan = TxnScan::default();
        scan.on_kept(7);
        assert_eq!(
            scan.on_marker(&abort, &header, 5, clock).unwrap(),
            MarkerFate::Kept,
            "its transaction keeps data"
        );
        let MarkerFate::Waiting(marked, 1_500) = scan.on_marker(&abort, &header, 5, clock).unwrap()
        else {
            panic!("a marker without data waits");
        };
        let marked_header = BatchHeader::parse(&marked).unwrap();
        verify_crc(&marked, &marked_header).expect("crc computed again");
        assert_eq!(delete_horizon(&marked_header), Some(1_500));
        assert_eq!(marked_header.max_timestamp, 900, "max timestamp kept");
        assert!(marked_header.is_control() && marked_header.is_transactional());
        assert_eq!(
            scan.on_marker(&marked, &marked_header, 5, clock).unwrap(),
            MarkerFate::Waiting(marked.clone(), 1_500),
            "horizon not reached"
        );
        let later = MarkerClock {
            now_ms: 1_500,
            ..clock
        };
        assert_eq!(
            scan.on_marker(&marked, &marked_header, 5, later).unwrap(),
            MarkerFate::Dropped
        );
        assert_eq!(scan.take_dropped_aborts(), vec![5]);
        assert!(scan.take_dropped_aborts().is_empty());
    }

    #[test]
    fn a_dropped_commit_marker_prunes_no_range() {
        let commit = marker_batch(
            &Marker {
                producer_id: 7,
                producer_epoch: 1,
                commit: true,
                coordinator_epoch: 0,
            },
            900,
        );
        let header = BatchHeader::parse(&commit).unwrap();
        let marked = with_delete_horizon(&commit, &header, 10);
        let marked_header = BatchHeader::parse(&marked).unwrap();
        let mut scan = TxnScan::default();
        let clock = MarkerClock {
            now_ms: 10,
            delete_retention_ms: 0,
        };
        assert_eq!(
            scan.on_marker(&marked, &marked_header, 3, clock).unwrap(),
            MarkerFate::Dropped
        );
        assert!(scan.take_dropped_aborts().is_empty());
    }

    #[test]
    fn too_many_open_producers_keep_every_marker() {
        let mut scan = TxnScan::default();
        for p in 0..=MAX_OPEN_PRODUCERS as i64 {
            scan.on_kept(p);
        }
        let abort = marker_batch(
            &Marker {
                producer_id: -5,
                producer_epoch: 1,
                commit: false,
                coordinator_epoch: 0,
            },
            1,
        );
        let header = BatchHeader::parse(&abort).unwrap();
        assert_eq!(
            scan.on_marker(&abort, &header, 1, MarkerClock::default())
                .unwrap(),
            MarkerFate::Kept
        );
    }
}
