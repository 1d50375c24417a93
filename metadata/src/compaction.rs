//! What compaction reads from the store and the swap it asks for, and the
//! checks of a swap that both backends share (see
//! [`crate::MetadataStore::swap_compacted`]).

use crate::{MetadataError, Result, SegmentId, TopicId};

/// Most partitions one swap may touch.
pub const MAX_SWAP_PARTITIONS: usize = 10_000;
/// Most index rows (old plus new) one swap may name.
pub const MAX_SWAP_ROWS: usize = 200_000;
/// Most input segments one swap may name.
pub const MAX_SWAP_INPUTS: usize = 10_000;

/// A segment compaction may merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionCandidate {
    /// The segment.
    pub id: SegmentId,
    /// Key of its object.
    pub object_key: String,
    /// Size of the object in bytes.
    pub size: u64,
    /// Its level: 0 for a flush, one above its inputs for a compaction.
    pub level: i32,
}

/// An index row with the partition it belongs to: what compaction reads of
/// the segments it merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SegmentRow {
    /// Topic.
    pub topic_id: TopicId,
    /// Partition.
    pub partition: i32,
    /// First offset of the run.
    pub base_offset: i64,
    /// Last offset of the run (inclusive).
    pub last_offset: i64,
    /// Segment holding the bytes.
    pub segment_id: SegmentId,
    /// Where the run starts in the segment.
    pub byte_offset: u64,
    /// Length of the run.
    pub byte_len: u64,
    /// Largest batch timestamp of the run.
    pub max_timestamp: i64,
}

/// A row of the new segment, replacing adjacent old rows of its partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactedRow {
    /// First offset (the first replaced row's).
    pub base_offset: i64,
    /// Last offset (the last replaced row's).
    pub last_offset: i64,
    /// Where the run starts in the new segment.
    pub byte_offset: u64,
    /// Length of the run: the sum of the replaced rows' lengths.
    pub byte_len: u64,
    /// Largest timestamp of the replaced rows.
    pub max_timestamp: i64,
}

/// The rows of one partition a swap replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSwap {
    /// Topic.
    pub topic_id: TopicId,
    /// Partition.
    pub partition: i32,
    /// The rows as read before the merge, by offset; each must still be
    /// stored exactly so for this partition to be swapped.
    pub old: Vec<SegmentRow>,
    /// The rows that replace them, by offset, covering exactly the same
    /// offsets.
    pub new: Vec<CompactedRow>,
}

/// A compacted segment and the index rows it replaces, swapped by
/// [`crate::MetadataStore::swap_compacted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionSwap {
    /// The new segment (already uploaded).
    pub segment_id: SegmentId,
    /// Its object key.
    pub object_key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its level (one above the highest of its inputs).
    pub level: i32,
    /// Whether it may itself be merged later.
    pub compactable: bool,
    /// The segments merged: those left without index rows become
    /// candidates of the segment collector and stop being compactable.
    pub inputs: Vec<SegmentId>,
    /// The partitions, sorted by (topic id, partition), each once.
    pub partitions: Vec<PartitionSwap>,
}

/// What [`crate::MetadataStore::swap_compacted`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwapOutcome {
    /// Partitions whose rows were replaced.
    pub swapped: Vec<(TopicId, i32)>,
    /// Partitions left as they were: one of their old rows had changed
    /// (retention, DeleteRecords, a topic deletion or another compaction).
    pub skipped: Vec<(TopicId, i32)>,
    /// Index rows removed.
    pub rows_removed: u64,
    /// Index rows added.
    pub rows_added: u64,
}

impl SwapOutcome {
    /// Whether the new segment was committed (some partition swapped); if
    /// not, nothing points at its object and the caller deletes it.
    pub fn committed(&self) -> bool {
        !self.swapped.is_empty()
    }
}

/// Checks a swap before it touches the database: sizes within bounds,
/// partitions sorted and unique, each partition's old rows its own, sorted,
/// adjacent where a new row covers them, and its new rows covering exactly
/// the offsets of the old ones (so a swap can never lose or invent an
/// offset) with the old rows' total length.
pub(crate) fn validate_swap(swap: &CompactionSwap) -> Result<()> {
    let invalid = |what: &str| Err(MetadataError::Invalid(format!("compaction swap: {what}")));
    if swap.partitions.is_empty() || swap.partitions.len() > MAX_SWAP_PARTITIONS {
        return invalid("partition count out of range");
    }
    if swap.inputs.is_empty() || swap.inputs.len() > MAX_SWAP_INPUTS {
        return invalid("input count out of range");
    }
    if swap.level < 1 || i64::try_from(swap.size).is_err() {
        return invalid("level or size out of range");
    }
    let rows: usize = swap
        .partitions
        .iter()
        .map(|p| p.old.len() + p.new.len())
        .sum();
    if rows > MAX_SWAP_ROWS {
        return invalid("too many rows");
    }
    for pair in swap.partitions.windows(2) {
        if (pair[0].topic_id, pair[0].partition) >= (pair[1].topic_id, pair[1].partition) {
            return invalid("partitions not sorted or repeated");
        }
    }
    for p in &swap.partitions {
        if p.old.is_empty() || p.new.is_empty() {
            return invalid("a partition without rows");
        }
        if p.old.iter().any(|r| {
            r.topic_id != p.topic_id
                || r.partition != p.partition
                || r.last_offset < r.base_offset
                || !swap.inputs.contains(&r.segment_id)
        }) {
            return invalid("an old row of another partition or segment");
        }
        let mut old = p.old.iter().peekable();
        for new in &p.new {
            let Some(first) = old.next() else {
                return invalid("new rows cover more than the old ones");
            };
            if first.base_offset != new.base_offset {
                return invalid("a new row does not start at an old one");
            }
            let (mut last, mut len, mut max_ts) =
                (first.last_offset, first.byte_len, first.max_timestamp);
            while last < new.last_offset {
                match old.next() {
                    Some(next) if next.base_offset == last + 1 => {
                        last = next.last_offset;
                        len = len.saturating_add(next.byte_len);
                        max_ts = max_ts.max(next.max_timestamp);
                    }
                    _ => return invalid("a new row spans a gap between old rows"),
                }
            }
            if last != new.last_offset || len != new.byte_len || max_ts != new.max_timestamp {
                return invalid("a new row does not match the old rows it replaces");
            }
            if new.byte_offset.saturating_add(new.byte_len) > swap.size {
                return invalid("a new row lies outside the new segment");
            }
        }
        if old.next().is_some() {
            return invalid("old rows left without a new row");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn row(segment: SegmentId, base: i64, last: i64, len: u64) -> SegmentRow {
        SegmentRow {
            topic_id: Uuid::nil(),
            partition: 0,
            base_offset: base,
            last_offset: last,
            segment_id: segment,
            byte_offset: 12,
            byte_len: len,
            max_timestamp: base,
        }
    }

    fn swap(old: Vec<SegmentRow>, new: Vec<CompactedRow>) -> CompactionSwap {
        CompactionSwap {
            segment_id: Uuid::from_u128(9),
            object_key: "k".into(),
            size: 1000,
            level: 1,
            compactable: true,
            inputs: vec![Uuid::from_u128(1), Uuid::from_u128(2)],
            partitions: vec![PartitionSwap {
                topic_id: Uuid::nil(),
                partition: 0,
                old,
                new,
            }],
        }
    }

    fn new_row(base: i64, last: i64, len: u64, ts: i64) -> CompactedRow {
        CompactedRow {
            base_offset: base,
            last_offset: last,
            byte_offset: 12,
            byte_len: len,
            max_timestamp: ts,
        }
    }

    #[test]
    fn adjacent_rows_coalesce_into_one() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let old = vec![row(a, 0, 4, 100), row(b, 5, 9, 50)];
        assert!(validate_swap(&swap(old, vec![new_row(0, 9, 150, 5)])).is_ok());
    }

    #[test]
    fn a_swap_that_loses_or_invents_offsets_is_refused() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        // A gap between the old rows cannot be covered by one new row.
        let gap = vec![row(a, 0, 4, 100), row(b, 6, 9, 50)];
        assert!(validate_swap(&swap(gap.clone(), vec![new_row(0, 9, 150, 6)])).is_err());
        // But two new rows, one per run, are fine.
        let two = vec![new_row(0, 4, 100, 0), new_row(6, 9, 50, 6)];
        assert!(validate_swap(&swap(gap, two)).is_ok());
        // A new row shorter than the old ones loses offsets.
        let old = vec![row(a, 0, 4, 100), row(b, 5, 9, 50)];
        assert!(validate_swap(&swap(old.clone(), vec![new_row(0, 4, 100, 0)])).is_err());
        // Wrong length, wrong timestamp.
        assert!(validate_swap(&swap(old.clone(), vec![new_row(0, 9, 149, 5)])).is_err());
        assert!(validate_swap(&swap(old.clone(), vec![new_row(0, 9, 150, 4)])).is_err());
        // An old row of a segment that is not an input.
        let stranger = vec![row(Uuid::from_u128(7), 0, 4, 100)];
        assert!(validate_swap(&swap(stranger, vec![new_row(0, 4, 100, 0)])).is_err());
        // Past the end of the new segment.
        let mut far = new_row(0, 9, 150, 5);
        far.byte_offset = 900;
        assert!(validate_swap(&swap(old, vec![far])).is_err());
    }
}
