//! Stored batches (an index row's bytes, base offsets patched in) into
//! archive records: every committed record of every batch, decompressed
//! within the same bound the rest of the agent holds batches to.
//!
//! The archive holds what a read_committed consumer sees, nothing more:
//! control batches (transaction markers) and the records of aborted
//! transactions are left out, their offsets left as gaps (as a compacted
//! range leaves them). The job archives only below the partition's last
//! stable offset, so every transactional batch it reads belongs to a
//! transaction that has ended, and [`AbortedRanges`] says how.

use std::collections::HashMap;

use bytes::Bytes;
use floe_metadata::AbortedTxn;

use super::writer::ArchiveWriter;
use super::{ArchiveError, ArchivedRecord, TimestampType};
use crate::segment::batch::BatchIter;
use crate::segment::records::{MAX_PRODUCED_RECORDS_BYTES, Records};

/// The aborted transactions overlapping a range, by producer: a
/// transactional batch of producer `p` at offset `o` is aborted when one
/// of `p`'s ranges (first offset ..= abort marker) holds `o`. A producer
/// has one transaction open at a time on a partition, so no committed
/// batch of `p` lies inside such a range.
#[derive(Debug, Clone, Default)]
pub struct AbortedRanges {
    by_producer: HashMap<i64, Vec<(i64, i64)>>,
}

impl AbortedRanges {
    /// The ranges of `aborted` (as the store answers them).
    pub fn new(aborted: impl IntoIterator<Item = AbortedTxn>) -> Self {
        let mut by_producer: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for a in aborted {
            by_producer
                .entry(a.producer_id)
                .or_default()
                .push((a.first_offset, a.last_offset));
        }
        Self { by_producer }
    }

    /// Whether the transactional batch of `producer_id` at `offset` was
    /// aborted.
    pub fn contains(&self, producer_id: i64, offset: i64) -> bool {
        self.by_producer
            .get(&producer_id)
            .is_some_and(|ranges| ranges.iter().any(|&(f, l)| (f..=l).contains(&offset)))
    }
}

/// What [`add_batches`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Added {
    /// Records written to the archive.
    pub records: u64,
    /// Records of aborted transactions left out.
    pub aborted: u64,
    /// Control batches (markers) left out.
    pub markers: u64,
}

/// Adds the committed records of the batches in `data` (whose base
/// offsets are real) at offset `from` or later to `writer`, as records of
/// `partition`; batches of transactions in `aborted` and control batches
/// hold no records a read_committed consumer sees and are left out.
pub fn add_batches(
    data: Bytes,
    partition: i32,
    from: i64,
    aborted: &AbortedRanges,
    writer: &mut ArchiveWriter,
) -> Result<Added, ArchiveError> {
    let mut added = Added::default();
    for item in BatchIter::new(data) {
        let (header, batch) = item.map_err(|e| ArchiveError::Records {
            offset: -1,
            what: e.to_string(),
        })?;
        if header.is_control() {
            added.markers += 1;
            continue;
        }
        if header.is_transactional() && aborted.contains(header.producer_id, header.base_offset) {
            added.aborted += u64::try_from(header.record_count).unwrap_or(0);
            continue;
        }
        let failed = |what: String| ArchiveError::Records {
            offset: header.base_offset,
            what,
        };
        let mut records = Records::open(&batch, &header, MAX_PRODUCED_RECORDS_BYTES)
            .map_err(|e| failed(e.to_string()))?;
        let log_append = header.is_log_append_time();
        for _ in 0..header.record_count.max(0) {
            let r = records.next_record().map_err(|e| failed(e.to_string()))?;
            let offset = header.base_offset + i64::from(r.offset_delta);
            if offset < from {
                continue;
            }
            let (timestamp, timestamp_type) = if log_append {
                (header.max_timestamp, TimestampType::LogAppendTime)
            } else {
                (
                    header.base_timestamp.saturating_add(r.timestamp_delta),
                    TimestampType::CreateTime,
                )
            };
            writer.push(ArchivedRecord {
                partition,
                offset,
                timestamp,
                timestamp_type,
                key: r.key,
                value: r.value,
                headers: r.headers,
            })?;
            added.records += 1;
        }
    }
    Ok(added)
}
