//! The log cleaner's record work, pure code over one index row's bytes
//! (batches back to back, offsets taken from the row's base offset on, as
//! the read path counts them): mapping the keys of the dirty section, and
//! filtering a row down to the records that are the latest of their key.
//!
//! A filtered batch keeps what Kafka's cleaner keeps: its base offset and
//! `lastOffsetDelta` (so it takes the same offsets, and the gaps are
//! inside it), its records' offset and timestamp deltas, keys, values and
//! headers, its producer id, epoch and base sequence, its attributes
//! (codec, timestamp type) and base timestamp; its `maxTimestamp` becomes
//! the largest of the records kept (CreateTime). A batch left without
//! records is dropped (Floe keeps producer state in the metadata store, not
//! in the log, so no empty batch need stay for it). Transactional and
//! control batches are kept whole and their keys never enter the map: an
//! aborted transaction's record must not make an older committed one go.

use bytes::{Bytes, BytesMut};

use super::key_map::{KeyMap, key_hash};
use super::txn::{AbortedRanges, MarkerClock, MarkerFate, TxnScan};
use crate::archive::encode::{BatchFields, put_batch, put_record};
use crate::segment::batch::{BatchError, BatchIter};
use crate::segment::compress::{COMPRESSION_MASK, compress};
use crate::segment::records::{MAX_PRODUCED_RECORDS_BYTES, Records, ScanError};

/// Why a row could not be cleaned. The row is left as it is.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A batch header does not parse.
    #[error("batch at offset {0}: {1}")]
    Batch(i64, BatchError),
    /// A batch's records do not read.
    #[error("records of the batch at offset {0}: {1}")]
    Records(i64, ScanError),
    /// A batch holds more records than the whole key map.
    #[error("batch at offset {0} holds more records than the key map")]
    TooManyKeys(i64),
    /// The records do not compress again.
    #[error("records of the batch at offset {0} do not compress: {1}")]
    Compress(i64, std::io::Error),
}

/// Where mapping a row stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// Every dirty batch of the row is in the map.
    All,
    /// The map filled up: batches from this offset on are not in it.
    FullAt(i64),
}

/// Adds the keys of the row's batches in `from..end` (the dirty section
/// up to what may be cleaned) to `map`, whole batches only: one that may
/// not fit ends the mapping there. Markers and batches of aborted
/// transactions are not mapped, nor batches reaching `end` (past the last
/// stable offset, a transaction's record may still abort: it must not
/// make an older committed one go). Returns the records read.
pub fn map_row(
    data: &Bytes,
    row_base: i64,
    section: std::ops::Range<i64>,
    aborted: &AbortedRanges,
    map: &mut KeyMap,
) -> Result<(Mapped, u64), FilterError> {
    let mut next = row_base;
    let mut read = 0u64;
    for item in BatchIter::new(data.clone()) {
        let (header, batch) = item.map_err(|e| FilterError::Batch(next, e))?;
        let base = next;
        next += header.offset_count();
        if next > section.end {
            break;
        }
        if base < section.start
            || header.is_control()
            || (header.is_transactional() && aborted.contains(header.producer_id, base))
        {
            continue;
        }
        let count = usize::try_from(header.record_count.max(0)).unwrap_or(usize::MAX);
        if !map.has_room_for(count) {
            if map.is_empty() {
                return Err(FilterError::TooManyKeys(base));
            }
            return Ok((Mapped::FullAt(base), read));
        }
        let mut records = Records::open(&batch, &header, MAX_PRODUCED_RECORDS_BYTES)
            .map_err(|e| FilterError::Records(base, e))?;
        for _ in 0..header.record_count.max(0) {
            let (offset_delta, key) = records
                .next_key()
                .map_err(|e| FilterError::Records(base, e))?;
            read += 1;
            if let Some(key) = &key {
                // Room was checked for every record of the batch.
                map.put(key_hash(key), base + i64::from(offset_delta));
            }
        }
    }
    Ok((Mapped::All, read))
}

/// What decides a record's fate.
#[derive(Debug, Clone, Copy)]
pub struct CleanRules<'a> {
    /// The latest offset of each key of the dirty section.
    pub map: &'a KeyMap,
    /// Batches reaching this offset or beyond are kept whole (the end of
    /// the map, or of what `min.compaction.lag.ms` lets be cleaned).
    pub clean_end: i64,
    /// Tombstones below this offset have waited `delete.retention.ms`
    /// since a clean first kept them, and go.
    pub tombstones_below: i64,
    /// The aborted transactions below `clean_end`.
    pub aborted: &'a AbortedRanges,
    /// When discardable markers go.
    pub markers: MarkerClock,
}

/// A batch of a filtered row, with the offsets it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptBatch {
    /// First offset it takes.
    pub base_offset: i64,
    /// Last offset it takes (the original's: gaps are inside it).
    pub last_offset: i64,
    /// The batch: the original bytes if it kept every record.
    pub bytes: Bytes,
    /// Its `maxTimestamp` (that of the records kept).
    pub max_timestamp: i64,
}

/// What filtering counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterStats {
    /// Records read (of batches that were filtered).
    pub records_read: u64,
    /// Records removed: older values, keyless records and tombstones.
    pub records_removed: u64,
    /// Of those, tombstones past their retention.
    pub tombstones_removed: u64,
    /// Tombstones kept that may go once their retention has passed.
    pub tombstones_waiting: u64,
    /// Batches rewritten with fewer records.
    pub batches_rewritten: u64,
    /// Batches dropped, every record gone.
    pub batches_dropped: u64,
    /// Of the records removed, those of aborted transactions.
    pub aborted_records_removed: u64,
    /// Markers dropped past their delete horizon.
    pub markers_removed: u64,
    /// Markers kept until their delete horizon.
    pub markers_waiting: u64,
}

/// Filters the batches of one row (its bytes `data`, its first offset
/// `row_base`) by `rules`: a record stays if it is the latest of its key
/// (or its key is not in the map: nothing newer was written since the
/// last clean), unless it has no key (Kafka's cleaner drops those), it
/// is a tombstone past its retention, or its transaction aborted. `txns`
/// follows the pass's transactions from the log start, row after row, to
/// decide the markers.
pub fn filter_row(
    data: &Bytes,
    row_base: i64,
    rules: CleanRules<'_>,
    txns: &mut TxnScan,
    stats: &mut FilterStats,
) -> Result<Vec<KeptBatch>, FilterError> {
    let mut kept = Vec::new();
    let mut next = row_base;
    let (mut records_out, mut scratch) = (Vec::new(), Vec::new());
    for item in BatchIter::new(data.clone()) {
        let (header, batch) = item.map_err(|e| FilterError::Batch(next, e))?;
        let base = next;
        let last = base + header.offset_count() - 1;
        next = last + 1;
        let whole = KeptBatch {
            base_offset: base,
            last_offset: last,
            bytes: batch.clone(),
            max_timestamp: header.max_timestamp,
        };
        if last >= rules.clean_end {
            kept.push(whole);
            continue;
        }
        if header.is_control() {
            let fate = txns
                .on_marker(&batch, &header, base, rules.markers)
                .map_err(|e| FilterError::Records(base, e))?;
            match fate {
                MarkerFate::Kept => kept.push(whole),
                MarkerFate::Waiting(bytes, _) => {
                    stats.markers_waiting += 1;
                    kept.push(KeptBatch { bytes, ..whole });
                }
                MarkerFate::Dropped => {
                    stats.markers_removed += 1;
                    stats.batches_dropped += 1;
                }
            }
            continue;
        }
        if header.is_transactional() && rules.aborted.contains(header.producer_id, base) {
            let count = u64::try_from(header.record_count).unwrap_or(0);
            stats.records_read += count;
            stats.records_removed += count;
            stats.aborted_records_removed += count;
            stats.batches_dropped += 1;
            continue;
        }
        let mut records = Records::open(&batch, &header, MAX_PRODUCED_RECORDS_BYTES)
            .map_err(|e| FilterError::Records(base, e))?;
        records_out.clear();
        let (mut count, mut max_timestamp) = (0i32, i64::MIN);
        for _ in 0..header.record_count.max(0) {
            let r = records
                .next_record()
                .map_err(|e| FilterError::Records(base, e))?;
            stats.records_read += 1;
            let offset = base + i64::from(r.offset_delta);
            let latest = r.key.as_deref().map(|k| {
                rules
                    .map
                    .latest(key_hash(k))
                    .is_none_or(|newest| newest <= offset)
            });
            let keep = match (latest, &r.value) {
                (None | Some(false), _) => false,
                (Some(true), Some(_)) => true,
                (Some(true), None) if offset < rules.tombstones_below => {
                    stats.tombstones_removed += 1;
                    false
                }
                (Some(true), None) => {
                    stats.tombstones_waiting += 1;
                    true
                }
            };
            if !keep {
                stats.records_removed += 1;
                continue;
            }
            count += 1;
            max_timestamp =
                max_timestamp.max(header.base_timestamp.saturating_add(r.timestamp_delta));
            put_record(
                &mut records_out,
                &mut scratch,
                r.timestamp_delta,
                r.offset_delta,
                r.key.as_deref(),
                r.value.as_deref(),
                r.headers.iter().map(|(k, v)| (&k[..], v.as_deref())),
            );
        }
        if header.is_transactional() && count > 0 {
            txns.on_kept(header.producer_id);
        }
        if count == header.record_count {
            kept.push(whole);
            continue;
        }
        if count == 0 {
            stats.batches_dropped += 1;
            continue;
        }
        stats.batches_rewritten += 1;
        let max_timestamp = if header.is_log_append_time() {
            header.max_timestamp
        } else {
            max_timestamp
        };
        let codec = header.attributes & COMPRESSION_MASK;
        let body = compress(codec, &records_out).map_err(|e| FilterError::Compress(base, e))?;
        let fields = BatchFields {
            base_offset: base,
            attributes: header.attributes,
            last_offset_delta: header.last_offset_delta,
            base_timestamp: header.base_timestamp,
            max_timestamp,
            producer_id: header.producer_id,
            producer_epoch: header.producer_epoch,
            base_sequence: header.base_sequence,
            count,
        };
        let mut out = BytesMut::new();
        put_batch(&mut out, &fields, &body);
        kept.push(KeptBatch {
            base_offset: base,
            last_offset: last,
            bytes: out.freeze(),
            max_timestamp,
        });
    }
    Ok(kept)
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
