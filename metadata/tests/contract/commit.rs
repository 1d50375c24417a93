//! Committing segments: offsets assigned by the sequencer.

use floe_metadata::{BatchOutcome, IndexRow, MetadataError, PartitionOffsets};

use crate::backends::Backend;
use crate::support::{
    BYTES_PER_OFFSET, HEADER_BYTES, appended, batch, create, duplicate, each, entry, entry_of,
    high_watermark, idempotent, row_ranges, segment,
};

pub async fn offsets_are_contiguous_from_zero(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 1).await?;
    let counts = [1, 3, 2, 10, 1];
    let mut expected_rows = Vec::new();
    let mut next = 0;
    for (i, count) in counts.into_iter().enumerate() {
        let timestamp = 1_000 + i64::try_from(i)?;
        let commit = segment(vec![entry(topic.id, 0, count, timestamp)]);
        let outcomes = store.commit_segment(&commit).await?;
        assert_eq!(outcomes, each([appended(next)]), "commit {i}");
        expected_rows.push(IndexRow {
            base_offset: next,
            last_offset: next + count - 1,
            segment_id: commit.segment_id,
            object_key: commit.object_key.clone(),
            byte_offset: HEADER_BYTES,
            byte_len: u64::try_from(count)? * BYTES_PER_OFFSET,
            max_timestamp: timestamp,
        });
        next += count;
    }
    assert_eq!(next, 17);
    assert_eq!(
        store.partition_offsets(topic.id, 0).await?,
        Some(PartitionOffsets {
            log_start_offset: 0,
            high_watermark: 17,
            last_stable_offset: 17,
            last_aborted_offset: -1,
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
        entry_of(orders.id, 1, vec![batch(1, 13), batch(2, 14)]),
    ]);
    let outcomes = store.commit_segment(&first).await?;
    assert_eq!(
        outcomes,
        vec![
            vec![appended(0)],
            vec![appended(0)],
            vec![appended(0)],
            vec![appended(0), appended(1)],
        ]
    );

    let second = segment(vec![
        entry(orders.id, 1, 1, 20),
        entry(clicks.id, 0, 4, 21),
        entry(orders.id, 0, 2, 22),
    ]);
    let outcomes = store.commit_segment(&second).await?;
    assert_eq!(outcomes, each([appended(3), appended(1), appended(2)]));

    assert_eq!(high_watermark(&*store, orders.id, 0).await?, 4);
    assert_eq!(high_watermark(&*store, orders.id, 1).await?, 4);
    assert_eq!(high_watermark(&*store, orders.id, 2).await?, 5);
    assert_eq!(high_watermark(&*store, clicks.id, 0).await?, 5);

    // Each row points at its partition's slice of the shared file; the two
    // adjacent batches of partition 1 share one row.
    let rows = store.index_rows(orders.id, 1, 0, 100).await?;
    let slices: Vec<_> = rows
        .iter()
        .map(|row| {
            (
                row.segment_id,
                row.byte_offset,
                row.byte_len,
                row.base_offset,
                row.last_offset,
                row.max_timestamp,
            )
        })
        .collect();
    let first_slice = first.entries[3].batches[0].byte_offset;
    assert_eq!(first_slice, HEADER_BYTES + 200 + 500 + 100);
    assert_eq!(
        slices,
        vec![
            (first.segment_id, first_slice, 300, 0, 2, 14),
            (second.segment_id, HEADER_BYTES, 100, 3, 3, 20),
        ]
    );
    Ok(())
}

pub async fn recommit_of_same_segment_is_idempotent(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let a = segment(vec![
        entry(topic.id, 0, 3, 10),
        entry_of(topic.id, 1, vec![batch(4, 10), batch(1, 11)]),
    ]);
    let b = segment(vec![entry(topic.id, 0, 2, 20), entry(topic.id, 1, 1, 20)]);
    let first_a = store.commit_segment(&a).await?;
    let first_b = store.commit_segment(&b).await?;
    assert_eq!(
        first_a,
        vec![vec![appended(0)], vec![appended(0), appended(4)]]
    );
    assert_eq!(first_b, each([appended(3), appended(5)]));
    let rows_before = store.index_rows(topic.id, 0, 0, 100).await?;

    // A retry (say, after a lost answer) returns the first outcome again.
    assert_eq!(store.commit_segment(&a).await?, first_a);
    assert_eq!(store.commit_segment(&b).await?, first_b);
    assert_eq!(store.commit_segment(&a).await?, first_a);

    // The same id with other entries is a caller's bug, not a retry.
    let mut other = a.clone();
    other.entries[1].batches.pop();
    let result = store.commit_segment(&other).await;
    assert!(
        matches!(result, Err(MetadataError::Invalid(_))),
        "got {result:?}"
    );

    assert_eq!(high_watermark(&*store, topic.id, 0).await?, 5);
    assert_eq!(high_watermark(&*store, topic.id, 1).await?, 6);
    assert_eq!(store.index_rows(topic.id, 0, 0, 100).await?, rows_before);
    assert_eq!(
        row_ranges(&*store, topic.id, 1).await?,
        vec![(0, 4), (5, 5)]
    );

    // A later new segment continues where the real commits left off.
    let c = segment(vec![entry(topic.id, 0, 1, 30)]);
    assert_eq!(store.commit_segment(&c).await?, each([appended(5)]));
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
        entry_of(gone.id, 0, vec![batch(3, 10), idempotent(9, 0, 0, 1)]),
        entry(live.id, 0, 2, 10),
        entry(live.id, 7, 1, 10),
        entry(live.id, 1, 4, 10),
    ]);
    let outcomes = store.commit_segment(&commit).await?;
    let unknown = BatchOutcome::UnknownPartition;
    let expected = vec![
        vec![unknown, unknown],
        vec![appended(0)],
        vec![unknown],
        vec![appended(0)],
    ];
    assert_eq!(outcomes, expected);
    assert_eq!(store.commit_segment(&commit).await?, expected);
    assert_eq!(high_watermark(&*store, live.id, 0).await?, 2);
    assert_eq!(high_watermark(&*store, live.id, 1).await?, 4);
    assert_eq!(store.partition_offsets(gone.id, 0).await?, None);
    assert_eq!(store.index_rows(gone.id, 0, 0, 100).await?, vec![]);

    // A segment whose every partition is gone commits nothing.
    let orphan = segment(vec![entry(gone.id, 0, 1, 10)]);
    assert_eq!(store.commit_segment(&orphan).await?, each([unknown]));
    Ok(())
}

pub async fn invalid_commit_changes_nothing(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let t = topic.id;
    let mut invalid = vec![
        // An entry without batches.
        segment(vec![entry(t, 0, 3, 10), entry_of(t, 1, vec![])]),
        // A partition twice.
        segment(vec![entry(t, 0, 3, 10), entry(t, 0, 1, 10)]),
    ];
    // Batches of an entry overlapping, or out of byte order.
    let mut overlapping = segment(vec![entry_of(t, 0, vec![batch(2, 1), batch(2, 1)])]);
    overlapping.entries[0].batches[1].byte_offset -= 1;
    invalid.push(overlapping);
    let mut backwards = segment(vec![entry_of(t, 0, vec![batch(2, 1), batch(2, 1)])]);
    backwards.entries[0].batches.reverse();
    invalid.push(backwards);
    // Sizes beyond 63 bits.
    let mut too_big = segment(vec![entry(t, 0, 1, 10)]);
    too_big.entries[0].batches[0].byte_len = u64::MAX - 100;
    invalid.push(too_big);
    let mut huge_file = segment(vec![entry(t, 0, 1, 10)]);
    huge_file.size = u64::MAX;
    invalid.push(huge_file);

    for (i, commit) in invalid.iter().enumerate() {
        let result = store.commit_segment(commit).await;
        assert!(
            matches!(result, Err(MetadataError::Invalid(_))),
            "commit {i}: got {result:?}"
        );
    }

    assert_eq!(high_watermark(&*store, t, 0).await?, 0);
    assert_eq!(high_watermark(&*store, t, 1).await?, 0);
    assert_eq!(store.index_rows(t, 0, 0, 100).await?, vec![]);

    // The rejected segment id was not recorded: a valid commit under it
    // takes offsets normally.
    let mut fixed = invalid[0].clone();
    fixed.entries[1].batches.push(batch(1, 10));
    assert_eq!(
        store.commit_segment(&fixed).await?,
        each([appended(0), appended(0)])
    );
    // Batches with a gap between them are fine (in separate rows).
    let mut gap = segment(vec![entry_of(t, 1, vec![batch(1, 1), batch(1, 1)])]);
    gap.entries[0].batches[1].byte_offset += 7;
    assert_eq!(
        store.commit_segment(&gap).await?,
        vec![vec![appended(1), appended(2)]]
    );
    assert_eq!(
        row_ranges(&*store, t, 1).await?,
        vec![(0, 0), (1, 1), (2, 2)]
    );
    Ok(())
}

/// A batch whose own fields the store refuses (negative producer fields,
/// an offset count out of range) is refused alone: the other batches of
/// its segment, of its partition and of its producer included, are
/// committed as if it were not there, and a retry answers the same.
pub async fn bad_batch_is_refused_alone(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 4).await?;
    let t = topic.id;
    let commit = segment(vec![
        entry_of(
            t,
            0,
            vec![
                batch(2, 10),
                idempotent(5, -1, 0, 1),
                idempotent(5, 0, 0, 2),
                batch(1, 11),
            ],
        ),
        entry_of(t, 1, vec![idempotent(-3, 0, 0, 1)]),
        entry_of(
            t,
            2,
            vec![batch(0, 10), batch(3, 12), batch((1 << 31) + 1, 13)],
        ),
        entry_of(t, 3, vec![idempotent(6, 0, -1, 1), idempotent(6, 0, 0, 1)]),
    ]);
    let invalid = BatchOutcome::InvalidRecord;
    let expected = vec![
        vec![appended(0), invalid, appended(2), appended(4)],
        vec![invalid],
        vec![invalid, appended(0), invalid],
        vec![invalid, appended(0)],
    ];
    assert_eq!(store.commit_segment(&commit).await?, expected);
    // A retry (the first answer lost) answers the same and changes nothing.
    assert_eq!(store.commit_segment(&commit).await?, expected);

    assert_eq!(high_watermark(&*store, t, 0).await?, 5);
    assert_eq!(high_watermark(&*store, t, 1).await?, 0);
    assert_eq!(high_watermark(&*store, t, 2).await?, 3);
    assert_eq!(high_watermark(&*store, t, 3).await?, 1);
    // The refused batch's bytes split the rows around it.
    assert_eq!(row_ranges(&*store, t, 0).await?, vec![(0, 1), (2, 4)]);
    assert_eq!(row_ranges(&*store, t, 1).await?, vec![]);

    // The producers' accepted batches were remembered, the refused not.
    let next = segment(vec![
        entry_of(t, 0, vec![idempotent(5, 0, 2, 1)]),
        entry_of(t, 3, vec![idempotent(6, 0, 0, 1), idempotent(6, 0, 1, 1)]),
    ]);
    assert_eq!(
        store.commit_segment(&next).await?,
        vec![vec![appended(5)], vec![duplicate(0), appended(1)]]
    );
    Ok(())
}

pub async fn empty_commit_is_recorded(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 1).await?;
    let empty = segment(vec![]);
    assert_eq!(store.commit_segment(&empty).await?, Vec::<Vec<_>>::new());
    assert_eq!(store.commit_segment(&empty).await?, Vec::<Vec<_>>::new());
    // Re-sent with entries, the segment id is already taken by other
    // content: refused, and nothing is indexed.
    let mut reused = empty.clone();
    reused.entries.push(entry(topic.id, 0, 1, 10));
    let result = store.commit_segment(&reused).await;
    assert!(
        matches!(result, Err(MetadataError::Invalid(_))),
        "got {result:?}"
    );
    assert_eq!(high_watermark(&*store, topic.id, 0).await?, 0);
    Ok(())
}

/// A commit answers each entry's log start offset, as Produce reports it: 0
/// for a fresh partition, the start DeleteRecords moved it to, -1 for a
/// partition that is gone; a retry answers the start as it is now.
pub async fn commit_reports_each_log_start(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let kept = create(&*store, "kept", 2).await?;
    let doomed = create(&*store, "doomed", 1).await?;

    let first = segment(vec![entry(kept.id, 0, 10, 100), entry(kept.id, 1, 2, 100)]);
    let answer = store.commit_segment_reporting(&first).await?;
    assert_eq!(answer.outcomes, each([appended(0), appended(0)]));
    assert_eq!(answer.log_start_offsets, vec![0, 0]);

    store.delete_records(kept.id, 0, 4).await?;
    store.delete_topic(doomed.id).await?;
    let second = segment(vec![
        entry(kept.id, 0, 1, 200),
        entry(kept.id, 1, 1, 200),
        entry(doomed.id, 0, 1, 200),
    ]);
    let answer = store.commit_segment_reporting(&second).await?;
    assert_eq!(
        answer.outcomes,
        vec![
            vec![appended(10)],
            vec![appended(2)],
            vec![BatchOutcome::UnknownPartition],
        ]
    );
    assert_eq!(answer.log_start_offsets, vec![4, 0, -1]);

    // A retry: the stored outcomes, the log starts of now.
    store.delete_records(kept.id, 1, 3).await?;
    let again = store.commit_segment_reporting(&second).await?;
    assert_eq!(again.outcomes, answer.outcomes);
    assert_eq!(again.log_start_offsets, vec![4, 3, -1]);
    Ok(())
}
