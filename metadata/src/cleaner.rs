//! What the log cleaner (key-based compaction of `cleanup.policy=compact`
//! topics) reads from the store and the swap it asks for, and the checks of
//! a swap both backends share (see [`crate::MetadataStore::swap_cleaned`]).
//!
//! Cleaning rewrites records, never offsets: a cleaned row covers a run of
//! offsets whose batches kept their base and last offsets, so the new rows
//! of a swap lie inside the offsets of the old rows they replace, with gaps
//! where whole batches went.

use crate::compaction::{CompactedRow, MAX_SWAP_ROWS, SegmentRow};
use crate::{MetadataError, Result, SegmentId, TopicId};

/// Where the cleaner stands on one partition, kept in the store so that
/// whichever agent holds the cleaner's lease next carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CleanerProgress {
    /// Every record below this offset was cleaned against a map of every
    /// key up to it: the partition's dirty section starts here.
    pub cleaned_offset: i64,
    /// Tombstones below this offset have been kept `delete.retention.ms`
    /// since a clean first kept them, and may go.
    pub tombstones_removable_below: i64,
    /// Tombstones below `.0` (cleaned by a pass) may go once the wall
    /// clock passes `.1` (ms since the epoch): then `.0` becomes
    /// [`Self::tombstones_removable_below`].
    pub pending_tombstones: Option<(i64, i64)>,
}

/// A partition of a compacted topic, as the cleaner weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanerPartition {
    /// Partition.
    pub partition: i32,
    /// Its log start offset.
    pub log_start_offset: i64,
    /// Its high watermark.
    pub high_watermark: i64,
    /// Bytes of all its index rows.
    pub total_bytes: u64,
    /// Bytes of its rows at or after [`CleanerProgress::cleaned_offset`].
    pub dirty_bytes: u64,
    /// The smallest max timestamp of those dirty rows (an upper bound of
    /// the oldest dirty record's age), if any.
    pub first_dirty_timestamp: Option<i64>,
    /// The cleaner's progress on it (all zero before its first clean).
    pub progress: CleanerProgress,
}

/// The new segment a clean wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanedSegment {
    /// Its id.
    pub id: SegmentId,
    /// Its object key.
    pub object_key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A cleaned stretch of one partition, swapped in by
/// [`crate::MetadataStore::swap_cleaned`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanSwap {
    /// Topic.
    pub topic_id: TopicId,
    /// Partition.
    pub partition: i32,
    /// The new segment (already uploaded); `None` when nothing of the old
    /// rows was kept.
    pub segment: Option<CleanedSegment>,
    /// The rows as read before the clean, by offset; each must still be
    /// stored exactly so for the swap to happen.
    pub old: Vec<SegmentRow>,
    /// The rows of the new segment, by offset, each inside the offsets of
    /// the old rows (one per run of kept batches).
    pub new: Vec<CompactedRow>,
    /// The partition's progress to record with the swap, if it moved.
    pub progress: Option<CleanerProgress>,
    /// Offsets of the abort markers the clean dropped, by offset: each in
    /// the old rows' offsets and in no new row. Their aborted ranges (whose
    /// records went in earlier cleans) are deleted with the swap, so the
    /// ranges a read_committed Fetch looks up, and the cleaner loads, stay
    /// those that still hold something.
    pub dropped_aborts: Vec<i64>,
}

/// Checks a clean swap before it touches the database: sizes within
/// bounds, old rows sorted without overlap, new rows sorted without
/// overlap and each covered by old rows (so a clean never invents an
/// offset or moves one), lying inside the new segment.
pub(crate) fn validate_clean(swap: &CleanSwap) -> Result<()> {
    let invalid = |what: &str| Err(MetadataError::Invalid(format!("clean swap: {what}")));
    if swap.old.is_empty() || swap.old.len() + swap.new.len() > MAX_SWAP_ROWS {
        return invalid("row count out of range");
    }
    if swap.old.iter().any(|r| {
        r.topic_id != swap.topic_id
            || r.partition != swap.partition
            || r.last_offset < r.base_offset
            || r.base_offset < 0
    }) {
        return invalid("an old row of another partition");
    }
    if swap
        .old
        .windows(2)
        .any(|w| w[1].base_offset <= w[0].last_offset)
    {
        return invalid("old rows not sorted or overlapping");
    }
    if swap
        .new
        .windows(2)
        .any(|w| w[1].base_offset <= w[0].last_offset)
    {
        return invalid("new rows not sorted or overlapping");
    }
    match &swap.segment {
        None if !swap.new.is_empty() => return invalid("new rows without a segment"),
        Some(s) if i64::try_from(s.size).is_err() => return invalid("segment size out of range"),
        _ => {}
    }
    let size = swap.segment.as_ref().map_or(0, |s| s.size);
    let mut at = 0;
    for new in &swap.new {
        if new.last_offset < new.base_offset || new.byte_offset.saturating_add(new.byte_len) > size
        {
            return invalid("a new row out of range");
        }
        // Past the old rows before it; then its offsets must be covered by
        // adjacent old rows.
        while swap
            .old
            .get(at)
            .is_some_and(|r| r.last_offset < new.base_offset)
        {
            at += 1;
        }
        let Some(first) = swap.old.get(at) else {
            return invalid("a new row past the old rows");
        };
        if first.base_offset > new.base_offset {
            return invalid("a new row in a gap between old rows");
        }
        let mut covered = first.last_offset;
        let mut next = at + 1;
        while covered < new.last_offset {
            match swap.old.get(next) {
                Some(r) if r.base_offset == covered + 1 => covered = r.last_offset,
                _ => return invalid("a new row spans a gap between old rows"),
            }
            next += 1;
        }
    }
    let in_old = |o: i64| {
        let at = swap.old.partition_point(|r| r.last_offset < o);
        swap.old.get(at).is_some_and(|r| r.base_offset <= o)
    };
    let in_new = |o: i64| {
        let at = swap.new.partition_point(|r| r.last_offset < o);
        swap.new.get(at).is_some_and(|r| r.base_offset <= o)
    };
    if swap.dropped_aborts.windows(2).any(|w| w[1] <= w[0])
        || swap.dropped_aborts.iter().any(|&o| !in_old(o) || in_new(o))
    {
        return invalid("a dropped abort marker outside the cleaned offsets");
    }
    if let Some(p) = &swap.progress {
        let pending_ok = p.pending_tombstones.is_none_or(|(offset, _)| offset >= 0);
        if p.cleaned_offset < 0 || p.tombstones_removable_below < 0 || !pending_ok {
            return invalid("progress out of range");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn row(base: i64, last: i64) -> SegmentRow {
        SegmentRow {
            topic_id: Uuid::nil(),
            partition: 0,
            base_offset: base,
            last_offset: last,
            segment_id: Uuid::from_u128(1),
            byte_offset: 12,
            byte_len: 100,
            max_timestamp: base,
        }
    }

    fn new_row(base: i64, last: i64) -> CompactedRow {
        CompactedRow {
            base_offset: base,
            last_offset: last,
            byte_offset: 12,
            byte_len: 10,
            max_timestamp: base,
        }
    }

    fn swap(old: Vec<SegmentRow>, new: Vec<CompactedRow>) -> CleanSwap {
        CleanSwap {
            topic_id: Uuid::nil(),
            partition: 0,
            segment: Some(CleanedSegment {
                id: Uuid::from_u128(9),
                object_key: "k".into(),
                size: 100,
            }),
            old,
            new,
            progress: None,
            dropped_aborts: Vec::new(),
        }
    }

    #[test]
    fn new_rows_may_leave_gaps_inside_the_old_offsets() {
        let old = vec![row(0, 9), row(10, 19), row(30, 39)];
        assert!(validate_clean(&swap(old.clone(), vec![new_row(2, 3), new_row(8, 12)])).is_ok());
        assert!(validate_clean(&swap(old.clone(), vec![new_row(31, 39)])).is_ok());
        assert!(
            validate_clean(&swap(old.clone(), vec![])).is_ok(),
            "all gone"
        );
    }

    #[test]
    fn a_clean_that_invents_or_moves_offsets_is_refused() {
        let old = vec![row(0, 9), row(10, 19), row(30, 39)];
        let refused = |new: Vec<CompactedRow>| validate_clean(&swap(old.clone(), new)).is_err();
        assert!(refused(vec![new_row(15, 25)]), "across a gap");
        assert!(refused(vec![new_row(20, 25)]), "inside a gap");
        assert!(refused(vec![new_row(35, 40)]), "past the end");
        assert!(refused(vec![new_row(2, 5), new_row(5, 6)]), "overlapping");
        let mut far = new_row(0, 1);
        far.byte_offset = 95;
        assert!(refused(vec![far]), "outside the segment");
        let mut no_segment = swap(old.clone(), vec![new_row(0, 1)]);
        no_segment.segment = None;
        assert!(validate_clean(&no_segment).is_err());
        assert!(
            validate_clean(&swap(vec![], vec![])).is_err(),
            "no old rows"
        );
    }

    #[test]
    fn dropped_abort_markers_must_be_gaps_of_the_old_rows() {
        let old = vec![row(0, 9), row(10, 19), row(30, 39)];
        let with = |aborts: Vec<i64>| {
            let mut s = swap(old.clone(), vec![new_row(2, 3)]);
            s.dropped_aborts = aborts;
            validate_clean(&s).is_ok()
        };
        assert!(with(vec![4, 19, 39]));
        assert!(!with(vec![3]), "a kept offset");
        assert!(!with(vec![25]), "a gap between old rows");
        assert!(!with(vec![40]), "past the old rows");
        assert!(!with(vec![19, 4]), "not sorted");
    }
}
