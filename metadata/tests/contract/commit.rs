//! Committing segments: offsets assigned by the sequencer.

use floe_metadata::{CommitOutcome, IndexRow, MetadataError, PartitionOffsets};

use crate::backends::Backend;
use crate::support::{BYTES_PER_OFFSET, committed, create, entry, high_watermark, segment};

pub async fn offsets_are_contiguous_from_zero(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 1).await?;
    let counts = [1, 3, 2, 10, 1];
    let mut commits = Vec::new();
    let mut expected_rows = Vec::new();
    let mut next = 0;
    for (i, count) in counts.into_iter().enumerate() {
        let timestamp = 1_000 + i64::try_from(i)?;
        let commit = segment(vec![entry(topic.id, 0, count, timestamp)]);
        let outcomes = store.commit_segment(&commit).await?;
        assert_eq!(
            outcomes,
            vec![committed(next, next + count - 1)],
            "commit {i}"
        );
        expected_rows.push(IndexRow {
            base_offset: next,
            last_offset: next + count - 1,
            segment_id: commit.segment_id,
            object_key: commit.object_key.clone(),
            byte_offset: 64,
            byte_len: u64::try_from(count)? * BYTES_PER_OFFSET,
            max_timestamp: timestamp,
        });
        next += count;
        commits.push(commit);
    }
    assert_eq!(next, 17);
    assert_eq!(
        store.partition_offsets(topic.id, 0).await?,
        Some(PartitionOffsets {
            log_start_offset: 0,
            high_watermark: 17
        })
    );
    assert_eq!(store.index_rows(topic.id, 0, 0, 100).await?, expected_rows);
    Ok(())
}

pub async fn multi_partition_commit_assigns_each_partition(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let orders = create(&*store, "orders", 3).await?;
    let clicks = create(&*store, "clicks", 1).await?;

    let first = segment(vec![
        entry(orders.id, 0, 2, 10),
        entry(orders.id, 2, 5, 11),
        entry(clicks.id, 0, 1, 12),
        entry(orders.id, 1, 3, 13),
    ]);
    let outcomes = store.commit_segment(&first).await?;
    assert_eq!(
        outcomes,
        vec![
            committed(0, 1),
            committed(0, 4),
            committed(0, 0),
            committed(0, 2)
        ]
    );

    let second = segment(vec![
        entry(orders.id, 1, 1, 20),
        entry(clicks.id, 0, 4, 21),
        entry(orders.id, 0, 2, 22),
    ]);
    let outcomes = store.commit_segment(&second).await?;
    assert_eq!(
        outcomes,
        vec![committed(3, 3), committed(1, 4), committed(2, 3)]
    );

    assert_eq!(high_watermark(&*store, orders.id, 0).await?, 4);
    assert_eq!(high_watermark(&*store, orders.id, 1).await?, 4);
    assert_eq!(high_watermark(&*store, orders.id, 2).await?, 5);
    assert_eq!(high_watermark(&*store, clicks.id, 0).await?, 5);

    // Each row points at its partition's slice of the shared file.
    let rows = store.index_rows(orders.id, 1, 0, 100).await?;
    let slices: Vec<_> = rows
        .iter()
        .map(|row| {
            (
                row.segment_id,
                row.byte_offset,
                row.byte_len,
                row.base_offset,
            )
        })
        .collect();
    assert_eq!(
        slices,
        vec![
            (first.segment_id, first.entries[3].byte_offset, 300, 0),
            (second.segment_id, second.entries[0].byte_offset, 100, 3),
        ]
    );
    assert_eq!(first.entries[3].byte_offset, 64 + 200 + 500 + 100);
    Ok(())
}

pub async fn recommit_of_same_segment_is_idempotent(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let a = segment(vec![entry(topic.id, 0, 3, 10), entry(topic.id, 1, 4, 10)]);
    let b = segment(vec![entry(topic.id, 0, 2, 20), entry(topic.id, 1, 1, 20)]);
    let first_a = store.commit_segment(&a).await?;
    let first_b = store.commit_segment(&b).await?;
    assert_eq!(first_a, vec![committed(0, 2), committed(0, 3)]);
    assert_eq!(first_b, vec![committed(3, 4), committed(4, 4)]);
    let rows_before = store.index_rows(topic.id, 0, 0, 100).await?;

    // A retry (say, after a lost answer) returns the first outcome again.
    assert_eq!(store.commit_segment(&a).await?, first_a);
    assert_eq!(store.commit_segment(&b).await?, first_b);
    assert_eq!(store.commit_segment(&a).await?, first_a);

    // Outcomes follow the order of the entries in the request.
    let mut reversed = a.clone();
    reversed.entries.reverse();
    assert_eq!(
        store.commit_segment(&reversed).await?,
        vec![committed(0, 3), committed(0, 2)]
    );

    assert_eq!(high_watermark(&*store, topic.id, 0).await?, 5);
    assert_eq!(high_watermark(&*store, topic.id, 1).await?, 5);
    assert_eq!(store.index_rows(topic.id, 0, 0, 100).await?, rows_before);
    assert_eq!(store.index_rows(topic.id, 1, 0, 100).await?.len(), 2);

    // A later new segment continues where the real commits left off.
    let c = segment(vec![entry(topic.id, 0, 1, 30)]);
    assert_eq!(store.commit_segment(&c).await?, vec![committed(5, 5)]);
    Ok(())
}

pub async fn commit_to_deleted_topic_skips_only_that_entry(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let gone = create(&*store, "gone", 1).await?;
    let live = create(&*store, "live", 2).await?;
    store.delete_topic(gone.id).await?;

    let commit = segment(vec![
        entry(gone.id, 0, 3, 10),
        entry(live.id, 0, 2, 10),
        entry(live.id, 7, 1, 10),
        entry(live.id, 1, 4, 10),
    ]);
    let outcomes = store.commit_segment(&commit).await?;
    let expected = vec![
        CommitOutcome::UnknownPartition,
        committed(0, 1),
        CommitOutcome::UnknownPartition,
        committed(0, 3),
    ];
    assert_eq!(outcomes, expected);
    assert_eq!(store.commit_segment(&commit).await?, expected);
    assert_eq!(high_watermark(&*store, live.id, 0).await?, 2);
    assert_eq!(high_watermark(&*store, live.id, 1).await?, 4);
    assert_eq!(store.partition_offsets(gone.id, 0).await?, None);
    assert_eq!(store.index_rows(gone.id, 0, 0, 100).await?, vec![]);

    // A segment whose every partition is gone commits nothing.
    let orphan = segment(vec![entry(gone.id, 0, 1, 10)]);
    assert_eq!(
        store.commit_segment(&orphan).await?,
        vec![CommitOutcome::UnknownPartition]
    );
    Ok(())
}

pub async fn invalid_commit_changes_nothing(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let invalid = [
        segment(vec![entry(topic.id, 0, 3, 10), entry(topic.id, 1, 0, 10)]),
        segment(vec![entry(topic.id, 0, 3, 10), entry(topic.id, 1, -5, 10)]),
        segment(vec![entry(topic.id, 0, 3, 10), entry(topic.id, 0, 1, 10)]),
    ];
    for commit in &invalid {
        let result = store.commit_segment(commit).await;
        assert!(
            matches!(result, Err(MetadataError::Invalid(_))),
            "got {result:?}"
        );
    }
    let mut too_big = segment(vec![entry(topic.id, 0, 1, 10)]);
    too_big.entries[0].byte_len = u64::MAX;
    let result = store.commit_segment(&too_big).await;
    assert!(
        matches!(result, Err(MetadataError::Invalid(_))),
        "got {result:?}"
    );

    assert_eq!(high_watermark(&*store, topic.id, 0).await?, 0);
    assert_eq!(high_watermark(&*store, topic.id, 1).await?, 0);
    assert_eq!(store.index_rows(topic.id, 0, 0, 100).await?, vec![]);

    // The rejected segment id was not recorded: a valid commit under it
    // takes offsets normally.
    let mut fixed = invalid[0].clone();
    fixed.entries[1].offset_count = 1;
    assert_eq!(
        store.commit_segment(&fixed).await?,
        vec![committed(0, 2), committed(0, 0)]
    );
    Ok(())
}

pub async fn empty_commit_is_recorded(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 1).await?;
    let empty = segment(vec![]);
    assert_eq!(store.commit_segment(&empty).await?, vec![]);
    // Re-sent with entries, the segment id is already taken: nothing is
    // indexed and the entries report no offsets.
    let mut reused = empty.clone();
    reused.entries.push(entry(topic.id, 0, 1, 10));
    assert_eq!(
        store.commit_segment(&reused).await?,
        vec![CommitOutcome::UnknownPartition]
    );
    assert_eq!(high_watermark(&*store, topic.id, 0).await?, 0);
    Ok(())
}
