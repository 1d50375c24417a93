//! Admin changes of a topic's shape: growing its partition count
//! (CreatePartitions) and deleting records below an offset (DeleteRecords).

use std::time::Duration;

use floe_metadata::{
    DeletedRecords, MetadataError, PartitionOffsets, StoreEvent, UnreferencedSegment,
};
use futures::StreamExt;

use crate::backends::Backend;
use crate::support::{
    BYTES_PER_OFFSET, appended, create, each, entry, entry_of, idempotent, segment,
};

/// Lets the database clock pass the segments' commit time, so a zero grace
/// finds them (as in `segments.rs`).
const TICK: Duration = Duration::from_millis(20);

/// Bound on waiting for a notification: a broken stream fails the test
/// instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(10);

fn bounds(start: i64, high_watermark: i64) -> Option<PartitionOffsets> {
    Some(PartitionOffsets {
        log_start_offset: start,
        high_watermark,
        last_stable_offset: high_watermark,
        last_aborted_offset: -1,
    })
}

pub async fn create_partitions_grows_a_topic(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "orders", 2).await?;
    store
        .commit_segment(&segment(vec![entry(t.id, 1, 3, 100)]))
        .await?;

    let grown = store.create_partitions(t.id, 5).await?;
    assert_eq!(grown.partitions, 5);
    assert_eq!((grown.id, grown.name.as_str()), (t.id, "orders"));
    assert_eq!(store.topic_by_name("orders").await?, Some(grown.clone()));
    assert_eq!(store.topic_by_id(t.id).await?, Some(grown.clone()));
    // The old partitions keep their records, the new ones start empty.
    assert_eq!(store.partition_offsets(t.id, 1).await?, bounds(0, 3));
    for p in 2..5 {
        assert_eq!(store.partition_offsets(t.id, p).await?, bounds(0, 0));
    }
    assert_eq!(store.partition_offsets(t.id, 5).await?, None);
    // A new partition takes records like any other.
    let outcomes = store
        .commit_segment(&segment(vec![
            entry(t.id, 4, 2, 100),
            entry(t.id, 1, 1, 100),
        ]))
        .await?;
    assert_eq!(outcomes, each([appended(0), appended(3)]));

    // Not an increase: refused with the counts, nothing changes.
    for requested in [5, 3, 0, -1] {
        let refused = store.create_partitions(t.id, requested).await;
        assert!(
            matches!(
                &refused,
                Err(MetadataError::PartitionsNotIncreased { topic, current: 5, requested: r })
                    if topic == "orders" && *r == requested
            ),
            "{requested}: {refused:?}"
        );
    }
    let too_many = store.create_partitions(t.id, 100_001).await;
    assert!(
        matches!(too_many, Err(MetadataError::Invalid(_))),
        "{too_many:?}"
    );
    assert_eq!(store.topic_by_id(t.id).await?, Some(grown));
    let unknown = store.create_partitions(uuid::Uuid::new_v4(), 9).await;
    assert!(
        matches!(unknown, Err(MetadataError::UnknownTopic(_))),
        "{unknown:?}"
    );

    // A deleted topic's added partitions go with it; the name is free.
    store.delete_topic(t.id).await?;
    assert_eq!(store.partition_offsets(t.id, 4).await?, None);
    let again = create(&*store, "orders", 1).await?;
    assert_eq!(again.partitions, 1);
    Ok(())
}

pub async fn create_partitions_notifies_other_stores(backend: &dyn Backend) -> anyhow::Result<()> {
    let listening = backend.open().await?;
    let Some(mut events) = listening.commit_notifications().await? else {
        return Ok(());
    };
    let other = backend.open().await?;
    let t = create(&*other, "payments", 1).await?;
    other.create_partitions(t.id, 3).await?;
    loop {
        match tokio::time::timeout(PATIENCE, events.next()).await? {
            Some(StoreEvent::TopicChanged(name)) => {
                assert_eq!(name, "payments");
                break;
            }
            Some(_) => {}
            None => anyhow::bail!("the stream ended"),
        }
    }
    assert_eq!(
        listening
            .topic_by_name("payments")
            .await?
            .map(|t| t.partitions),
        Some(3)
    );
    Ok(())
}

pub async fn delete_records_advances_the_log_start(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "events", 2).await?;
    // Rows of partition 0: 0-9, 10-19, 20-29, one segment each.
    let segments: Vec<_> = (0..3)
        .map(|_| segment(vec![entry(t.id, 0, 10, 100)]))
        .collect();
    for s in &segments {
        store.commit_segment(s).await?;
    }

    // Inside the second row: the first row goes, the second stays whole.
    assert_eq!(
        store.delete_records(t.id, 0, 15).await?,
        DeletedRecords::LogStart(15)
    );
    assert_eq!(store.partition_offsets(t.id, 0).await?, bounds(15, 30));
    let rows = store.index_rows(t.id, 0, 15, 10).await?;
    assert_eq!(
        rows.iter()
            .map(|r| (r.base_offset, r.last_offset))
            .collect::<Vec<_>>(),
        vec![(10, 19), (20, 29)]
    );
    // Below the start: nothing, never the rows after it.
    assert!(store.index_rows(t.id, 0, 14, 10).await?.is_empty());
    // The first segment lost its only row: the collector finds it.
    tokio::time::sleep(TICK).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 10).await?,
        vec![UnreferencedSegment {
            id: segments[0].segment_id,
            object_key: segments[0].object_key.clone(),
        }]
    );

    // Never back; the other partition is untouched.
    assert_eq!(
        store.delete_records(t.id, 0, 3).await?,
        DeletedRecords::LogStart(15)
    );
    assert_eq!(store.partition_offsets(t.id, 1).await?, bounds(0, 0));

    // Beyond the high watermark, or negative: refused, nothing changes.
    for offset in [31, -2, i64::MIN] {
        assert_eq!(
            store.delete_records(t.id, 0, offset).await?,
            DeletedRecords::OutOfRange { high_watermark: 30 },
            "{offset}"
        );
    }
    assert_eq!(store.partition_offsets(t.id, 0).await?, bounds(15, 30));

    // -1 is the high watermark: everything goes, new records follow.
    assert_eq!(
        store.delete_records(t.id, 0, -1).await?,
        DeletedRecords::LogStart(30)
    );
    assert!(store.index_rows(t.id, 0, 30, 10).await?.is_empty());
    store
        .commit_segment(&segment(vec![entry(t.id, 0, 2, 100)]))
        .await?;
    assert_eq!(store.partition_offsets(t.id, 0).await?, bounds(30, 32));
    assert_eq!(store.index_rows(t.id, 0, 30, 10).await?.len(), 1);

    assert_eq!(
        store.delete_records(t.id, 2, 0).await?,
        DeletedRecords::UnknownPartition
    );
    assert_eq!(
        store.delete_records(uuid::Uuid::new_v4(), 0, 0).await?,
        DeletedRecords::UnknownPartition
    );
    Ok(())
}

pub async fn partition_sizes_and_producers(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "sized", 3).await?;
    let bytes = |offsets: u64| i64::try_from(offsets * BYTES_PER_OFFSET).unwrap_or(i64::MAX);
    store
        .commit_segment(&segment(vec![
            entry(t.id, 0, 4, 100),
            entry(t.id, 2, 1, 100),
        ]))
        .await?;
    store
        .commit_segment(&segment(vec![entry_of(
            t.id,
            0,
            vec![idempotent(7, 0, 0, 2), idempotent(9, 1, 0, 1)],
        )]))
        .await?;
    store
        .commit_segment(&segment(vec![entry_of(
            t.id,
            0,
            vec![idempotent(7, 0, 2, 3)],
        )]))
        .await?;
    assert_eq!(
        store.partition_sizes(t.id).await?,
        vec![(0, bytes(4 + 2 + 1 + 3)), (2, bytes(1))]
    );
    let producers: Vec<(i64, i16, i32)> = store
        .partition_producers(t.id, 0)
        .await?
        .iter()
        .map(|p| (p.producer_id, p.producer_epoch, p.last_sequence))
        .collect();
    assert_eq!(producers, vec![(7, 0, 4), (9, 1, 0)]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    for p in store.partition_producers(t.id, 0).await? {
        assert!(
            (now_ms - 600_000..=now_ms + 600_000).contains(&p.last_written_ms),
            "written {} ms, now {now_ms}",
            p.last_written_ms
        );
    }
    assert!(store.partition_producers(t.id, 1).await?.is_empty());
    // Deleted records no longer count; a row the new start falls inside
    // (offsets 4-6) does.
    store.delete_records(t.id, 0, 6).await?;
    assert_eq!(
        store.partition_sizes(t.id).await?,
        vec![(0, bytes(2 + 1 + 3)), (2, bytes(1))]
    );
    Ok(())
}
