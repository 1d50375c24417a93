//! Planning a compaction step, pure code: which small segments of a level
//! to merge, and where each partition's live rows go in the new segment.
//!
//! Levels bound the rewriting: flushes write level 0; merging segments of
//! level `n` writes level `n + 1`; a segment of the last level, or one that
//! reached half the target, is never merged again. So a byte is rewritten
//! at most [`LEVELS`] - 1 times, and usually once or twice: a level-`n`
//! segment holds about [`FANOUT`]^`n` flushes until it reaches the target.

use floe_metadata::{CompactedRow, CompactionCandidate, PartitionSwap, SegmentRow};

use crate::segment::format::HEADER_LEN;

/// Levels a segment can have; those of the last are final.
pub const LEVELS: i32 = 6;
/// How many segments of a level are worth merging before they reach half
/// the target between them.
pub const FANOUT: usize = 8;
/// Most segments one step merges (and asks the store for).
pub const MAX_INPUTS: u32 = 256;
/// Longest index row a merge writes. Fetch reads a whole row when it is not
/// cached, so a row is kept to a few Kafka fetches' worth of bytes (and
/// 8 MiB rows make 128 rows per GiB at most, once partitions are merged).
pub const MAX_ROW_BYTES: u64 = 8 << 20;

/// The oldest candidates (as the store lists them, oldest first) whose sizes
/// fit within `target` together, if they are worth a merge: at least two,
/// and [`FANOUT`] of them or half the target's worth.
pub fn pick_inputs(candidates: &[CompactionCandidate], target: u64) -> &[CompactionCandidate] {
    let mut total = 0u64;
    let mut count = 0;
    for c in candidates {
        if total.saturating_add(c.size) > target {
            break;
        }
        total += c.size;
        count += 1;
    }
    if count >= 2 && (count >= FANOUT || total >= target / 2) {
        &candidates[..count]
    } else {
        &[]
    }
}

/// The level of a segment merged from `inputs`, and whether it may be
/// merged again (not on the last level, and smaller than half the target).
pub fn output_level(inputs: &[CompactionCandidate], size: u64, target: u64) -> (i32, bool) {
    let level = inputs.iter().map(|c| c.level).max().unwrap_or(0) + 1;
    (level, level < LEVELS - 1 && size < target / 2)
}

/// Lays out the live `rows` of the merged segments (ordered by topic,
/// partition and base offset, as the store returns them) in a new segment:
/// partitions in that order, each one's rows back to back after the
/// header, exactly as [`crate::segment::encode_segment`] writes them. Each
/// run of adjacent offsets becomes one new row, cut where it would pass
/// `row_cap` bytes (a single old row longer than that stays whole).
pub fn lay_out(rows: &[SegmentRow], row_cap: u64) -> Vec<PartitionSwap> {
    let mut partitions: Vec<PartitionSwap> = Vec::new();
    let mut position = HEADER_LEN as u64;
    for row in rows {
        let same = partitions
            .last()
            .is_some_and(|p| (p.topic_id, p.partition) == (row.topic_id, row.partition));
        if !same {
            partitions.push(PartitionSwap {
                topic_id: row.topic_id,
                partition: row.partition,
                old: Vec::new(),
                new: Vec::new(),
            });
        }
        let Some(p) = partitions.last_mut() else {
            continue; // a partition was just pushed
        };
        match p.new.last_mut() {
            Some(last)
                if last.last_offset.checked_add(1) == Some(row.base_offset)
                    && last.byte_len + row.byte_len <= row_cap =>
            {
                last.last_offset = row.last_offset;
                last.byte_len += row.byte_len;
                last.max_timestamp = last.max_timestamp.max(row.max_timestamp);
            }
            _ => p.new.push(CompactedRow {
                base_offset: row.base_offset,
                last_offset: row.last_offset,
                byte_offset: position,
                byte_len: row.byte_len,
                max_timestamp: row.max_timestamp,
            }),
        }
        position += row.byte_len;
        p.old.push(*row);
    }
    partitions
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn candidate(n: u128, size: u64, level: i32) -> CompactionCandidate {
        CompactionCandidate {
            id: Uuid::from_u128(n),
            object_key: format!("k{n}"),
            size,
            level,
        }
    }

    fn row(partition: i32, base: i64, last: i64, segment: u128, len: u64) -> SegmentRow {
        SegmentRow {
            topic_id: Uuid::from_u128(77),
            partition,
            base_offset: base,
            last_offset: last,
            segment_id: Uuid::from_u128(segment),
            byte_offset: 12,
            byte_len: len,
            max_timestamp: base * 10,
        }
    }

    #[test]
    fn inputs_fill_the_target_oldest_first() {
        let small: Vec<_> = (0..20).map(|n| candidate(n, 10, 0)).collect();
        assert_eq!(pick_inputs(&small, 1000).len(), 20, "fanout reached");
        assert_eq!(pick_inputs(&small, 100).len(), 10, "up to the target");
        assert_eq!(
            pick_inputs(&small[..7], 1000).len(),
            0,
            "too few, too small"
        );
        let big = [candidate(1, 300, 0), candidate(2, 300, 0)];
        assert_eq!(pick_inputs(&big, 1000).len(), 2, "half the target");
        assert_eq!(
            pick_inputs(&big[..1], 1000).len(),
            0,
            "one alone is not a merge"
        );
        let first_too_big = [candidate(1, 2000, 0), candidate(2, 1, 0)];
        assert_eq!(pick_inputs(&first_too_big, 1000).len(), 0);
    }

    #[test]
    fn levels_rise_and_end() {
        let inputs = [candidate(1, 10, 0), candidate(2, 10, 2)];
        assert_eq!(output_level(&inputs, 100, 1000), (3, true));
        assert_eq!(
            output_level(&inputs, 500, 1000),
            (3, false),
            "half the target"
        );
        let last = [candidate(1, 10, LEVELS - 2)];
        assert_eq!(output_level(&last, 1, 1000), (LEVELS - 1, false));
    }

    #[test]
    fn adjacent_rows_coalesce_per_partition_within_the_cap() {
        let rows = [
            row(0, 0, 4, 1, 100),
            row(0, 5, 9, 2, 100),
            row(0, 10, 14, 3, 100), // would pass the cap of 250
            row(0, 20, 24, 3, 50),  // a gap: a new row
            row(1, 0, 0, 1, 30),
            row(1, 1, 1, 2, 30),
        ];
        let layout = lay_out(&rows, 250);
        assert_eq!(layout.len(), 2);
        let p0: Vec<_> = layout[0]
            .new
            .iter()
            .map(|n| (n.base_offset, n.last_offset, n.byte_offset, n.byte_len))
            .collect();
        assert_eq!(
            p0,
            vec![(0, 9, 12, 200), (10, 14, 212, 100), (20, 24, 312, 50)]
        );
        assert_eq!(layout[0].old.len(), 4);
        assert_eq!(layout[0].new[0].max_timestamp, 50);
        let p1: Vec<_> = layout[1]
            .new
            .iter()
            .map(|n| (n.base_offset, n.last_offset, n.byte_offset, n.byte_len))
            .collect();
        assert_eq!(p1, vec![(0, 1, 362, 60)], "after partition 0's bytes");
    }
}
