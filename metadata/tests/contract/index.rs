//! Reading the batch index: by offset and by timestamp.

use floe_metadata::{MetadataStore, PartitionOffsets, TopicId};

use crate::backends::Backend;
use crate::support::{create, entry, segment};

/// Commits one segment per `(offset_count, max_timestamp)` to partition 0 of
/// a new topic; returns the topic id.
async fn partition_with_rows(
    store: &dyn MetadataStore,
    rows: &[(i64, i64)],
) -> anyhow::Result<uuid::Uuid> {
    let topic = create(store, "orders", 2).await?;
    for &(count, timestamp) in rows {
        store
            .commit_segment(&segment(vec![entry(topic.id, 0, count, timestamp)]))
            .await?;
    }
    Ok(topic.id)
}

/// The `(base_offset, last_offset)` of each row returned.
async fn ranges(
    store: &dyn MetadataStore,
    topic: uuid::Uuid,
    partition: i32,
    from: i64,
    limit: u32,
) -> anyhow::Result<Vec<(i64, i64)>> {
    Ok(store
        .index_rows(topic, partition, from, limit)
        .await?
        .into_iter()
        .map(|row| (row.base_offset, row.last_offset))
        .collect())
}

pub async fn index_rows_from_offset(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = partition_with_rows(&*store, &[(3, 10), (1, 20), (6, 30)]).await?;
    let s = &*store;
    assert_eq!(
        ranges(s, topic, 0, 0, 100).await?,
        vec![(0, 2), (3, 3), (4, 9)]
    );
    // From the middle of a row: that row is returned, it holds the offset.
    assert_eq!(
        ranges(s, topic, 0, 1, 100).await?,
        vec![(0, 2), (3, 3), (4, 9)]
    );
    assert_eq!(
        ranges(s, topic, 0, 2, 100).await?,
        vec![(0, 2), (3, 3), (4, 9)]
    );
    assert_eq!(ranges(s, topic, 0, 3, 100).await?, vec![(3, 3), (4, 9)]);
    assert_eq!(ranges(s, topic, 0, 7, 100).await?, vec![(4, 9)]);
    assert_eq!(ranges(s, topic, 0, 9, 100).await?, vec![(4, 9)]);
    // At the high watermark and past it: nothing.
    assert_eq!(ranges(s, topic, 0, 10, 100).await?, vec![]);
    assert_eq!(ranges(s, topic, 0, 1_000, 100).await?, vec![]);
    // Below the log start: nothing, never the rows after it (a read that
    // raced retention must not skip ahead).
    assert_eq!(ranges(s, topic, 0, -5, 100).await?, vec![]);
    Ok(())
}

pub async fn index_rows_respect_limit_and_partition(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let rows: Vec<(i64, i64)> = (0..20).map(|i| (2, i)).collect();
    let topic = partition_with_rows(&*store, &rows).await?;
    let s = &*store;
    assert_eq!(ranges(s, topic, 0, 0, 1).await?, vec![(0, 1)]);
    assert_eq!(
        ranges(s, topic, 0, 5, 3).await?,
        vec![(4, 5), (6, 7), (8, 9)]
    );
    assert_eq!(ranges(s, topic, 0, 0, 0).await?, vec![]);
    assert_eq!(ranges(s, topic, 0, 0, u32::MAX).await?.len(), 20);
    assert_eq!(ranges(s, topic, 0, 38, 10).await?, vec![(38, 39)]);
    // Other partitions and unknown ones have no rows.
    assert_eq!(ranges(s, topic, 1, 0, 100).await?, vec![]);
    assert_eq!(ranges(s, topic, 9, 0, 100).await?, vec![]);
    assert_eq!(ranges(s, uuid::Uuid::new_v4(), 0, 0, 100).await?, vec![]);
    Ok(())
}

pub async fn timestamp_lookups(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    // Timestamps are not monotonic: producers set them.
    let topic =
        partition_with_rows(&*store, &[(2, 100), (2, 300), (2, 200), (2, 300), (2, 50)]).await?;
    let first_at_least = |timestamp: i64| {
        let store = &store;
        async move {
            let row = store
                .first_row_with_timestamp_at_least(topic, 0, timestamp, 0)
                .await?;
            anyhow::Ok(row.map(|row| (row.base_offset, row.max_timestamp)))
        }
    };
    assert_eq!(first_at_least(i64::MIN).await?, Some((0, 100)));
    assert_eq!(first_at_least(50).await?, Some((0, 100)));
    assert_eq!(first_at_least(100).await?, Some((0, 100)));
    assert_eq!(first_at_least(101).await?, Some((2, 300)));
    assert_eq!(first_at_least(250).await?, Some((2, 300)));
    assert_eq!(first_at_least(300).await?, Some((2, 300)));
    assert_eq!(first_at_least(301).await?, None);
    // From an offset on: rows starting before it are passed over.
    let from = |timestamp: i64, from_offset: i64| {
        let store = &store;
        async move {
            let row = store
                .first_row_with_timestamp_at_least(topic, 0, timestamp, from_offset)
                .await?;
            anyhow::Ok(row.map(|row| row.base_offset))
        }
    };
    assert_eq!(from(250, 2).await?, Some(2));
    assert_eq!(from(250, 4).await?, Some(6));
    assert_eq!(from(150, 4).await?, Some(4));
    assert_eq!(from(0, 8).await?, Some(8));
    assert_eq!(from(0, 10).await?, None);

    let max = store.row_with_max_timestamp(topic, 0).await?;
    let max = max.ok_or_else(|| anyhow::anyhow!("no max row"))?;
    // Two rows tie at 300: the first by offset wins.
    assert_eq!(
        (max.base_offset, max.last_offset, max.max_timestamp),
        (2, 3, 300)
    );
    assert_eq!(max.byte_len, 200);

    assert_eq!(
        store
            .first_row_with_timestamp_at_least(topic, 1, 0, 0)
            .await?,
        None
    );
    assert_eq!(store.row_with_max_timestamp(topic, 1).await?, None);
    assert_eq!(
        store
            .row_with_max_timestamp(uuid::Uuid::new_v4(), 0)
            .await?,
        None
    );
    Ok(())
}

pub async fn many_partitions_offsets_in_the_order_asked(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let a = create(&*store, "a", 3).await?;
    let b = create(&*store, "b", 1).await?;
    store
        .commit_segment(&segment(vec![entry(a.id, 2, 5, 1), entry(b.id, 0, 7, 1)]))
        .await?;
    let offsets = |hw| {
        Some(PartitionOffsets {
            log_start_offset: 0,
            high_watermark: hw,
            last_stable_offset: hw,
            last_aborted_offset: -1,
        })
    };
    let asked = [
        (b.id, 0),
        (a.id, 0),
        (a.id, 9),
        (TopicId::new_v4(), 0),
        (a.id, 2),
        (b.id, 0),
    ];
    assert_eq!(
        store.partitions_offsets(&asked).await?,
        vec![offsets(7), offsets(0), None, None, offsets(5), offsets(7)]
    );
    // The same as asking one by one.
    for (i, (topic, partition)) in asked.iter().enumerate() {
        assert_eq!(
            store.partition_offsets(*topic, *partition).await?,
            store.partitions_offsets(&asked).await?[i],
        );
    }
    assert_eq!(store.partitions_offsets(&[]).await?, vec![]);
    Ok(())
}
