//! Compaction: candidates by level, the rows of segments, and the swap of
//! many rows for one per partition in a new segment, all or nothing per
//! partition, never losing or bringing back a row.

use std::time::Duration;

use floe_metadata::{
    CompactedRow, CompactionSwap, JobFence, MetadataError, MetadataStore, PartitionSwap, SegmentId,
    SegmentRow, UnreferencedSegment,
};

use crate::backends::Backend;
use crate::support::{all_rows, create, entry, high_watermark, row_ranges, segment};

/// Longer than the stores' clock resolution, so a zero grace has passed.
const TICK: Duration = Duration::from_millis(20);

/// The compaction lease, taken for a test.
async fn lease(store: &dyn MetadataStore) -> anyhow::Result<JobFence> {
    store
        .acquire_lease(
            "compaction",
            "test",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("the compaction lease is free"))
}

/// A swap of `rows` (as `segment_rows` returns them: by partition and
/// offset) into a new segment holding each partition's bytes back to back,
/// one new row per run of adjacent offsets.
fn swap_of(rows: &[SegmentRow], inputs: &[SegmentId]) -> CompactionSwap {
    let segment_id = uuid::Uuid::new_v4();
    let mut partitions: Vec<PartitionSwap> = Vec::new();
    let mut position = 12;
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
            unreachable!("a partition was just pushed");
        };
        match p.new.last_mut() {
            Some(last) if last.last_offset + 1 == row.base_offset => {
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
    CompactionSwap {
        segment_id,
        object_key: format!("segments/00/{segment_id}.seg"),
        size: position + 24,
        level: 1,
        compactable: true,
        inputs: inputs.to_vec(),
        partitions,
    }
}

pub async fn compaction_swaps_rows_and_retires_inputs(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store).await?;
    let topic = create(&*store, "small", 2).await?;
    let mut inputs = Vec::new();
    for i in 0..3 {
        let s = segment(vec![
            entry(topic.id, 0, 2, 100 + i),
            entry(topic.id, 1, 3, 200 + i),
        ]);
        store.commit_segment(&s).await?;
        inputs.push(s.segment_id);
        tokio::time::sleep(TICK).await;
    }
    let candidates = store.compaction_candidates(0, u64::MAX >> 1, 10).await?;
    let found: Vec<SegmentId> = candidates.iter().map(|c| c.id).collect();
    assert_eq!(found, inputs, "oldest first");
    assert!(candidates.iter().all(|c| c.level == 0 && c.size > 0));
    assert_eq!(
        store.compaction_candidates(0, 1, 10).await?,
        vec![],
        "size bound"
    );
    assert_eq!(
        store.compaction_candidates(1, u64::MAX >> 1, 10).await?,
        vec![]
    );
    assert_eq!(
        store
            .compaction_candidates(0, u64::MAX >> 1, 2)
            .await?
            .len(),
        2
    );

    let rows = store.segment_rows(&inputs, 100).await?;
    assert_eq!(rows.len(), 6);
    assert_eq!(store.segment_rows(&inputs, 4).await?.len(), 4, "limit");
    let swap = swap_of(&rows, &inputs);
    let outcome = store.swap_compacted(&swap, &fence).await?;
    assert_eq!(outcome.swapped, vec![(topic.id, 0), (topic.id, 1)]);
    assert!(outcome.skipped.is_empty());
    assert_eq!((outcome.rows_removed, outcome.rows_added), (6, 2));

    // One row per partition, in the new segment, offsets and timestamps as
    // before; the watermarks did not move.
    for (partition, last, max_ts) in [(0, 5, 102), (1, 8, 202)] {
        let now = all_rows(&*store, topic.id, partition).await?;
        assert_eq!(now.len(), 1);
        assert_eq!((now[0].base_offset, now[0].last_offset), (0, last));
        assert_eq!(now[0].segment_id, swap.segment_id);
        assert_eq!(now[0].object_key, swap.object_key);
        assert_eq!(now[0].max_timestamp, max_ts);
        assert_eq!(
            high_watermark(&*store, topic.id, partition).await?,
            last + 1
        );
        let by_time = store
            .first_row_with_timestamp_at_least(topic.id, partition, max_ts, 0)
            .await?;
        assert_eq!(by_time.map(|r| r.segment_id), Some(swap.segment_id));
    }
    let p0 = &swap.partitions[0].new[0];
    assert_eq!(
        all_rows(&*store, topic.id, 0).await?[0].byte_len,
        p0.byte_len
    );

    // The inputs are done: no longer candidates, found by the collector
    // once its grace passes. The new segment is a level-1 candidate.
    assert_eq!(
        store.compaction_candidates(0, u64::MAX >> 1, 10).await?,
        vec![]
    );
    let level1 = store.compaction_candidates(1, u64::MAX >> 1, 10).await?;
    assert_eq!(level1.len(), 1);
    assert_eq!((level1[0].id, level1[0].level), (swap.segment_id, 1));
    tokio::time::sleep(TICK).await;
    let mut collectable: Vec<SegmentId> = store
        .unreferenced_segments(Duration::ZERO, 100)
        .await?
        .into_iter()
        .map(|u: UnreferencedSegment| u.id)
        .collect();
    collectable.sort();
    let mut expected = inputs.clone();
    expected.sort();
    assert_eq!(collectable, expected);
    assert_eq!(
        store
            .unreferenced_segments(Duration::from_secs(3600), 100)
            .await?,
        vec![],
        "not within the grace"
    );

    // A new commit appends after the compacted rows.
    store
        .commit_segment(&segment(vec![entry(topic.id, 0, 1, 300)]))
        .await?;
    assert_eq!(
        row_ranges(&*store, topic.id, 0).await?,
        vec![(0, 5), (6, 6)]
    );
    Ok(())
}

pub async fn compaction_swap_skips_partitions_whose_rows_changed(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store).await?;
    let topic = create(&*store, "racing", 2).await?;
    let mut inputs = Vec::new();
    for _ in 0..2 {
        let s = segment(vec![entry(topic.id, 0, 2, 1), entry(topic.id, 1, 2, 1)]);
        store.commit_segment(&s).await?;
        inputs.push(s.segment_id);
    }
    let rows = store.segment_rows(&inputs, 100).await?;
    let swap = swap_of(&rows, &inputs);
    // DeleteRecords removes partition 1's first row between the read and
    // the swap: that partition must keep what it has now.
    store.delete_records(topic.id, 1, 2).await?;
    let before = ranges_from(&*store, topic.id, 1, 2).await?;
    assert_eq!(before, vec![(2, 3)]);
    let outcome = store.swap_compacted(&swap, &fence).await?;
    assert_eq!(outcome.swapped, vec![(topic.id, 0)]);
    assert_eq!(outcome.skipped, vec![(topic.id, 1)]);
    assert_eq!(row_ranges(&*store, topic.id, 0).await?, vec![(0, 3)]);
    assert_eq!(
        ranges_from(&*store, topic.id, 1, 2).await?,
        before,
        "nothing resurrected"
    );
    let p1 = store.index_rows(topic.id, 1, 2, 10).await?;
    assert_eq!(p1[0].segment_id, inputs[1], "still the old segment");
    // The input still holding partition 1's row stays a candidate; the
    // other one is done.
    let left: Vec<SegmentId> = store
        .compaction_candidates(0, u64::MAX >> 1, 10)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(left, vec![inputs[1]]);

    // The same swap again (another compaction that read the same rows)
    // finds every row changed: nothing is written, not even its segment.
    let again = CompactionSwap {
        segment_id: uuid::Uuid::new_v4(),
        ..swap.clone()
    };
    let outcome = store.swap_compacted(&again, &fence).await?;
    assert!(!outcome.committed());
    assert_eq!(outcome.skipped.len(), 2);
    assert_eq!(row_ranges(&*store, topic.id, 0).await?, vec![(0, 3)]);
    let level1: Vec<SegmentId> = store
        .compaction_candidates(1, u64::MAX >> 1, 10)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        level1,
        vec![swap.segment_id],
        "the refused segment is not recorded"
    );

    // A topic deleted under a compaction: its rows are not brought back.
    let doomed = create(&*store, "doomed", 1).await?;
    let s = segment(vec![entry(doomed.id, 0, 3, 1)]);
    store.commit_segment(&s).await?;
    let rows = store.segment_rows(&[s.segment_id], 100).await?;
    let swap = swap_of(&rows, &[s.segment_id]);
    store.delete_topic(doomed.id).await?;
    assert!(!store.swap_compacted(&swap, &fence).await?.committed());
    assert_eq!(store.partition_offsets(doomed.id, 0).await?, None);
    Ok(())
}

pub async fn compaction_swap_that_loses_offsets_is_invalid(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store).await?;
    let topic = create(&*store, "strict", 1).await?;
    let mut inputs = Vec::new();
    for _ in 0..2 {
        let s = segment(vec![entry(topic.id, 0, 2, 1)]);
        store.commit_segment(&s).await?;
        inputs.push(s.segment_id);
    }
    let rows = store.segment_rows(&inputs, 100).await?;
    let mut swap = swap_of(&rows, &inputs);
    swap.partitions[0].new[0].last_offset -= 1;
    let refused = store.swap_compacted(&swap, &fence).await;
    assert!(
        matches!(refused, Err(MetadataError::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(
        row_ranges(&*store, topic.id, 0).await?,
        vec![(0, 1), (2, 3)]
    );
    check_unchanged(&*store, &inputs).await
}

pub async fn compaction_swap_without_the_lease_writes_nothing(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let other = backend.open().await?;
    let old = lease(&*store).await?;
    let topic = create(&*store, "fenced", 1).await?;
    let mut inputs = Vec::new();
    for _ in 0..2 {
        let s = segment(vec![entry(topic.id, 0, 2, 1)]);
        store.commit_segment(&s).await?;
        inputs.push(s.segment_id);
    }
    let rows = store.segment_rows(&inputs, 100).await?;
    let swap = swap_of(&rows, &inputs);
    // Another agent takes the lease over (this one's was released, as when
    // it paused past its lease): the old holder's swap is refused whole.
    store.release_lease(&old, false).await?;
    let new = other
        .acquire_lease(
            "compaction",
            "other",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("released, so free"))?;
    let refused = store.swap_compacted(&swap, &old).await;
    assert!(
        matches!(refused, Err(MetadataError::LeaseLost(ref job)) if job == "compaction"),
        "{refused:?}"
    );
    assert_eq!(
        row_ranges(&*store, topic.id, 0).await?,
        vec![(0, 1), (2, 3)]
    );
    check_unchanged(&*store, &inputs).await?;
    assert_eq!(
        store.compaction_candidates(1, u64::MAX >> 1, 10).await?,
        vec![]
    );
    // The holder's swap goes through.
    assert!(other.swap_compacted(&swap, &new).await?.committed());
    assert_eq!(row_ranges(&*store, topic.id, 0).await?, vec![(0, 3)]);
    Ok(())
}

async fn check_unchanged(store: &dyn MetadataStore, inputs: &[SegmentId]) -> anyhow::Result<()> {
    let left = store.compaction_candidates(0, u64::MAX >> 1, 10).await?;
    assert_eq!(left.len(), inputs.len());
    Ok(())
}

/// The `(base_offset, last_offset)` of the rows of a partition from `from`.
async fn ranges_from(
    store: &dyn MetadataStore,
    topic: floe_metadata::TopicId,
    partition: i32,
    from: i64,
) -> anyhow::Result<Vec<(i64, i64)>> {
    let rows = store.index_rows(topic, partition, from, 64).await?;
    Ok(rows
        .iter()
        .map(|r| (r.base_offset, r.last_offset))
        .collect())
}
