//! Idempotent producers: Kafka's duplicate, sequence and epoch checks, per
//! producer and partition, against the last five batches.

use floe_metadata::BatchOutcome::{InvalidProducerEpoch, OutOfOrderSequence, UnknownPartition};
use floe_metadata::{BatchEntry, BatchOutcome, MetadataStore, TopicId};

use crate::backends::Backend;
use crate::support::{
    all_rows, appended, batch, create, duplicate, entry_of, high_watermark, idempotent, one_entry,
    row_ranges, segment,
};

/// Commits `batches` as one entry of partition 0 in a new segment and
/// returns the entry's outcomes.
async fn commit(
    store: &dyn MetadataStore,
    topic: TopicId,
    batches: Vec<BatchEntry>,
) -> anyhow::Result<Vec<BatchOutcome>> {
    let mut outcomes = store.commit_segment(&one_entry(topic, 0, batches)).await?;
    anyhow::ensure!(outcomes.len() == 1, "one entry, got {outcomes:?}");
    Ok(outcomes.remove(0))
}

pub async fn duplicate_keeps_its_first_offset(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 1).await?.id;
    let s = &*store;
    assert_eq!(commit(s, t, vec![batch(2, 1)]).await?, vec![appended(0)]);
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 0, 3)]).await?,
        vec![appended(2)]
    );
    let rows = all_rows(s, t, 0).await?;

    // The producer retries the batch (its answer was lost): same offset,
    // nothing indexed, the high watermark stays.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 0, 3)]).await?,
        vec![duplicate(2)]
    );
    assert_eq!(high_watermark(s, t, 0).await?, 5);
    assert_eq!(all_rows(s, t, 0).await?, rows);

    // And then goes on.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 3, 1)]).await?,
        vec![appended(5)]
    );
    // A batch with the same base but another length is no duplicate.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 3, 2)]).await?,
        vec![OutOfOrderSequence]
    );
    assert_eq!(high_watermark(s, t, 0).await?, 6);
    Ok(())
}

pub async fn last_five_batches_are_remembered(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 1).await?.id;
    let s = &*store;
    // Six batches of two records: sequences 0, 2, .., 10 at offsets 0, 2, .., 10.
    for i in 0..6 {
        assert_eq!(
            commit(s, t, vec![idempotent(7, 0, 2 * i, 2)]).await?,
            vec![appended(2 * i64::from(i))]
        );
    }
    let rows = all_rows(s, t, 0).await?;
    for i in 1..6 {
        assert_eq!(
            commit(s, t, vec![idempotent(7, 0, 2 * i, 2)]).await?,
            vec![duplicate(2 * i64::from(i))],
            "batch {i}"
        );
    }
    // The sixth from the end is forgotten: no longer a known duplicate, and
    // not the next sequence either.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 0, 2)]).await?,
        vec![OutOfOrderSequence]
    );
    assert_eq!(high_watermark(s, t, 0).await?, 12);
    assert_eq!(all_rows(s, t, 0).await?, rows);
    Ok(())
}

pub async fn sequence_gap_is_out_of_order(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 1).await?.id;
    let s = &*store;
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 0, 1)]).await?,
        vec![appended(0)]
    );
    for base_sequence in [2, 5, 1_000] {
        assert_eq!(
            commit(s, t, vec![idempotent(7, 0, base_sequence, 1)]).await?,
            vec![OutOfOrderSequence],
            "sequence {base_sequence}"
        );
    }
    assert_eq!(high_watermark(s, t, 0).await?, 1);
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 1, 4)]).await?,
        vec![appended(1)]
    );
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 5, 1)]).await?,
        vec![appended(5)]
    );
    Ok(())
}

pub async fn epochs_fence_and_reset(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 1).await?.id;
    let s = &*store;
    assert_eq!(
        commit(s, t, vec![idempotent(7, 3, 0, 2)]).await?,
        vec![appended(0)]
    );
    // An older epoch is fenced, whatever its sequence.
    for base_sequence in [0, 2] {
        assert_eq!(
            commit(s, t, vec![idempotent(7, 2, base_sequence, 2)]).await?,
            vec![InvalidProducerEpoch]
        );
    }
    // A newer epoch must start at sequence 0.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 4, 2, 1)]).await?,
        vec![OutOfOrderSequence]
    );
    assert_eq!(
        commit(s, t, vec![idempotent(7, 4, 0, 1)]).await?,
        vec![appended(2)]
    );
    // Now epoch 3 is the old one: even its committed batch is fenced.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 3, 0, 2)]).await?,
        vec![InvalidProducerEpoch]
    );
    // The history started over at epoch 4.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 4, 0, 1)]).await?,
        vec![duplicate(2)]
    );
    assert_eq!(
        commit(s, t, vec![idempotent(7, 4, 1, 1)]).await?,
        vec![appended(3)]
    );
    assert_eq!(high_watermark(s, t, 0).await?, 4);
    Ok(())
}

pub async fn unknown_producer_starts_anywhere(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let t = topic.id;
    let s = &*store;
    assert_eq!(
        commit(s, t, vec![idempotent(7, 5, 42, 3)]).await?,
        vec![appended(0)]
    );
    assert_eq!(
        commit(s, t, vec![idempotent(7, 5, 46, 1)]).await?,
        vec![OutOfOrderSequence]
    );
    assert_eq!(
        commit(s, t, vec![idempotent(7, 5, 45, 1)]).await?,
        vec![appended(3)]
    );
    // Producers are independent of each other, and a producer's history is
    // per partition.
    assert_eq!(
        commit(s, t, vec![idempotent(8, 0, 1_000, 1)]).await?,
        vec![appended(4)]
    );
    let other_partition = segment(vec![entry_of(t, 1, vec![idempotent(7, 5, 9, 1)])]);
    assert_eq!(
        store.commit_segment(&other_partition).await?,
        vec![vec![appended(0)]]
    );
    // Plain batches leave every history alone.
    assert_eq!(commit(s, t, vec![batch(2, 1)]).await?, vec![appended(5)]);
    assert_eq!(
        commit(
            s,
            t,
            vec![idempotent(7, 5, 46, 1), idempotent(8, 0, 1_001, 1)]
        )
        .await?,
        vec![appended(7), appended(8)]
    );
    Ok(())
}

pub async fn sequences_wrap_around(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 1).await?.id;
    let s = &*store;
    // i32::MAX - 1, i32::MAX, 0, 1: the batch wraps.
    let wrapping = idempotent(7, 0, i32::MAX - 1, 4);
    assert_eq!(
        commit(s, t, vec![wrapping.clone()]).await?,
        vec![appended(0)]
    );
    assert_eq!(commit(s, t, vec![wrapping]).await?, vec![duplicate(0)]);
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 3, 1)]).await?,
        vec![OutOfOrderSequence]
    );
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 2, 1)]).await?,
        vec![appended(4)]
    );

    // A batch ending exactly at i32::MAX is followed by sequence 0.
    assert_eq!(
        commit(s, t, vec![idempotent(8, 0, i32::MAX - 2, 3)]).await?,
        vec![appended(5)]
    );
    assert_eq!(
        commit(s, t, vec![idempotent(8, 0, 0, 2)]).await?,
        vec![appended(8)]
    );
    assert_eq!(high_watermark(s, t, 0).await?, 10);
    Ok(())
}

pub async fn batches_of_one_commit_see_each_other(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 1).await?.id;
    let s = &*store;
    assert_eq!(
        commit(
            s,
            t,
            vec![
                idempotent(7, 0, 0, 2),
                idempotent(7, 0, 2, 3),
                idempotent(7, 0, 0, 2),
                idempotent(7, 0, 9, 1),
                idempotent(7, 0, 5, 1),
            ]
        )
        .await?,
        vec![
            appended(0),
            appended(2),
            duplicate(0),
            OutOfOrderSequence,
            appended(5),
        ]
    );
    // A new epoch and an old one in the same commit.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 1, 0, 1), idempotent(7, 0, 6, 1)]).await?,
        vec![appended(6), InvalidProducerEpoch]
    );
    assert_eq!(high_watermark(s, t, 0).await?, 7);
    Ok(())
}

pub async fn adjacent_batches_share_an_index_row(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 1).await?.id;
    let s = &*store;
    let three = one_entry(t, 0, vec![batch(2, 30), batch(1, 50), batch(3, 40)]);
    assert_eq!(
        store.commit_segment(&three).await?,
        vec![vec![appended(0), appended(2), appended(3)]]
    );
    let rows = all_rows(s, t, 0).await?;
    assert_eq!(rows.len(), 1);
    let first = &three.entries[0].batches[0];
    assert_eq!(
        (
            rows[0].base_offset,
            rows[0].last_offset,
            rows[0].byte_offset,
            rows[0].byte_len,
            rows[0].max_timestamp
        ),
        (0, 5, first.byte_offset, 600, 50)
    );

    // A duplicate between two appended batches splits the row: its bytes
    // stay in the file, unindexed.
    assert_eq!(
        commit(s, t, vec![idempotent(7, 0, 0, 1)]).await?,
        vec![appended(6)]
    );
    let split = one_entry(
        t,
        0,
        vec![
            idempotent(7, 0, 1, 2),
            idempotent(7, 0, 0, 1),
            idempotent(7, 0, 3, 1),
        ],
    );
    assert_eq!(
        store.commit_segment(&split).await?,
        vec![vec![appended(7), duplicate(6), appended(9)]]
    );
    let batches = &split.entries[0].batches;
    let rows = all_rows(s, t, 0).await?;
    let new_rows: Vec<_> = rows
        .iter()
        .filter(|row| row.segment_id == split.segment_id)
        .map(|row| {
            (
                row.base_offset,
                row.last_offset,
                row.byte_offset,
                row.byte_len,
            )
        })
        .collect();
    assert_eq!(
        new_rows,
        vec![
            (7, 8, batches[0].byte_offset, 200),
            (9, 9, batches[2].byte_offset, 100)
        ]
    );
    assert_eq!(
        row_ranges(s, t, 0).await?,
        vec![(0, 5), (6, 6), (7, 8), (9, 9)]
    );
    Ok(())
}

pub async fn recommit_repeats_refusals_and_duplicates(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let gone = create(&*store, "gone", 1).await?;
    store.delete_topic(gone.id).await?;
    let t = topic.id;
    assert_eq!(
        commit(&*store, t, vec![idempotent(7, 2, 0, 1)]).await?,
        vec![appended(0)]
    );

    let mixed = segment(vec![
        entry_of(
            t,
            0,
            vec![
                idempotent(7, 2, 0, 1),
                idempotent(7, 2, 1, 1),
                idempotent(7, 2, 5, 1),
                idempotent(7, 1, 2, 1),
                batch(1, 1),
            ],
        ),
        entry_of(gone.id, 0, vec![idempotent(7, 2, 0, 1)]),
        entry_of(t, 1, vec![idempotent(7, 2, 0, 1)]),
    ]);
    let expected = vec![
        vec![
            duplicate(0),
            appended(1),
            OutOfOrderSequence,
            InvalidProducerEpoch,
            appended(2),
        ],
        vec![UnknownPartition],
        vec![appended(0)],
    ];
    assert_eq!(store.commit_segment(&mixed).await?, expected);
    let rows = all_rows(&*store, t, 0).await?;

    // The retry answers the same, although the histories have moved on:
    // checked again now, the first two batches would both be duplicates.
    assert_eq!(store.commit_segment(&mixed).await?, expected);
    assert_eq!(store.commit_segment(&mixed).await?, expected);
    assert_eq!(high_watermark(&*store, t, 0).await?, 3);
    assert_eq!(high_watermark(&*store, t, 1).await?, 1);
    assert_eq!(all_rows(&*store, t, 0).await?, rows);
    Ok(())
}
