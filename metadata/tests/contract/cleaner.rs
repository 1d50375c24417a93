//! The log cleaner: its view of a compacted topic's partitions (bytes,
//! dirty bytes, progress) and the swap of a cleaned stretch, which keeps
//! offsets where they were, leaves gaps where batches went, records the
//! progress with the rows, and is refused whole if a row changed or the
//! lease was lost.

use std::time::Duration;

use floe_metadata::{
    CleanSwap, CleanedSegment, CleanerProgress, CompactedRow, IndexRow, MetadataError, SegmentId,
    SegmentRow, TopicId,
};

use crate::backends::Backend;
use crate::support::{
    BYTES_PER_OFFSET, all_rows, create, entry, high_watermark, lease, row_ranges, segment,
};

/// Longer than the stores' clock resolution, so a zero grace has passed.
const TICK: Duration = Duration::from_millis(20);

/// `rows` as a swap names the rows it replaces.
pub(crate) fn old_rows(topic: TopicId, rows: &[IndexRow]) -> Vec<SegmentRow> {
    rows.iter()
        .map(|r| SegmentRow {
            topic_id: topic,
            partition: 0,
            base_offset: r.base_offset,
            last_offset: r.last_offset,
            segment_id: r.segment_id,
            byte_offset: r.byte_offset,
            byte_len: r.byte_len,
            max_timestamp: r.max_timestamp,
        })
        .collect()
}

fn new_row(base: i64, last: i64, at: u64, len: u64, ts: i64) -> CompactedRow {
    CompactedRow {
        base_offset: base,
        last_offset: last,
        byte_offset: at,
        byte_len: len,
        max_timestamp: ts,
    }
}

fn cleaned_segment(size: u64) -> CleanedSegment {
    let id = uuid::Uuid::new_v4();
    CleanedSegment {
        id,
        object_key: format!("segments/00/{id}.seg"),
        size,
    }
}

pub async fn cleaner_swap_keeps_offsets_and_records_progress(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "compacted", 1).await?;
    let mut inputs: Vec<SegmentId> = Vec::new();
    for i in 0..3 {
        let s = segment(vec![entry(topic.id, 0, 10, 100 + i)]);
        store.commit_segment(&s).await?;
        inputs.push(s.segment_id);
    }
    let before = store.cleaner_partitions(topic.id).await?;
    assert_eq!(before.len(), 1);
    let p = before[0];
    assert_eq!(
        (p.partition, p.log_start_offset, p.high_watermark),
        (0, 0, 30)
    );
    assert_eq!(
        (p.total_bytes, p.dirty_bytes),
        (30 * BYTES_PER_OFFSET, 30 * BYTES_PER_OFFSET)
    );
    assert_eq!(p.first_dirty_timestamp, Some(100));
    assert_eq!(p.progress, CleanerProgress::default());

    let fence = lease(&*store, "log_cleaner").await?;
    let rows = all_rows(&*store, topic.id, 0).await?;
    let progress = CleanerProgress {
        cleaned_offset: 30,
        tombstones_removable_below: 0,
        pending_tombstones: Some((30, 12_345)),
    };
    let swap = CleanSwap {
        topic_id: topic.id,
        partition: 0,
        segment: Some(cleaned_segment(300)),
        old: old_rows(topic.id, &rows),
        // Batches kept at 2..=5 and 15..=25 (across two old rows).
        new: vec![new_row(2, 5, 64, 50, 100), new_row(15, 25, 114, 80, 102)],
        progress: Some(progress),
        dropped_aborts: Vec::new(),
    };
    assert!(store.swap_cleaned(&swap, &fence).await?);
    assert_eq!(
        row_ranges(&*store, topic.id, 0).await?,
        vec![(2, 5), (15, 25)],
        "offsets kept, gaps where batches went"
    );
    assert_eq!(high_watermark(&*store, topic.id, 0).await?, 30);
    // A read from inside a gap starts at the next kept row.
    let from_gap = store.index_rows(topic.id, 0, 7, 10).await?;
    assert_eq!(from_gap.first().map(|r| r.base_offset), Some(15));
    let after = store.cleaner_partitions(topic.id).await?[0];
    assert_eq!((after.total_bytes, after.dirty_bytes), (130, 0));
    assert_eq!(after.first_dirty_timestamp, None);
    assert_eq!(after.progress, progress);

    // The old segments went to the collector.
    tokio::time::sleep(TICK).await;
    let mut collectable: Vec<SegmentId> = store
        .unreferenced_segments(Duration::ZERO, 100)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    collectable.sort();
    inputs.sort();
    assert_eq!(collectable, inputs);

    // The same swap again finds its rows gone: refused, nothing changes.
    assert!(!store.swap_cleaned(&swap, &fence).await?);
    assert_eq!(
        row_ranges(&*store, topic.id, 0).await?,
        vec![(2, 5), (15, 25)]
    );

    // A clean that keeps nothing of a row removes it without a segment.
    let rows = all_rows(&*store, topic.id, 0).await?;
    let emptied = CleanSwap {
        topic_id: topic.id,
        partition: 0,
        segment: None,
        old: old_rows(topic.id, &rows[1..]),
        new: vec![],
        progress: Some(CleanerProgress {
            cleaned_offset: 30,
            tombstones_removable_below: 30,
            pending_tombstones: None,
        }),
        dropped_aborts: Vec::new(),
    };
    assert!(store.swap_cleaned(&emptied, &fence).await?);
    assert_eq!(row_ranges(&*store, topic.id, 0).await?, vec![(2, 5)]);
    let now = store.cleaner_partitions(topic.id).await?[0];
    assert_eq!(now.progress.tombstones_removable_below, 30);
    assert_eq!(now.progress.pending_tombstones, None);

    // A swap that invents offsets is refused before anything is written.
    let rows = all_rows(&*store, topic.id, 0).await?;
    let invented = CleanSwap {
        topic_id: topic.id,
        partition: 0,
        segment: Some(cleaned_segment(300)),
        old: old_rows(topic.id, &rows),
        new: vec![new_row(4, 9, 64, 10, 100)],
        progress: None,
        dropped_aborts: Vec::new(),
    };
    assert!(matches!(
        store.swap_cleaned(&invented, &fence).await,
        Err(MetadataError::Invalid(_))
    ));

    // The progress goes with its topic.
    store.delete_topic(topic.id).await?;
    assert!(store.cleaner_partitions(topic.id).await?.is_empty());
    Ok(())
}

pub async fn cleaner_swap_without_the_lease_writes_nothing(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let other = backend.open().await?;
    let topic = create(&*store, "fenced-clean", 1).await?;
    store
        .commit_segment(&segment(vec![entry(topic.id, 0, 4, 1)]))
        .await?;
    let old = lease(&*store, "log_cleaner").await?;
    store.release_lease(&old, false).await?;
    other
        .acquire_lease(
            "log_cleaner",
            "other",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("released, so free"))?;
    let rows = all_rows(&*store, topic.id, 0).await?;
    let swap = CleanSwap {
        topic_id: topic.id,
        partition: 0,
        segment: None,
        old: old_rows(topic.id, &rows),
        new: vec![],
        progress: Some(CleanerProgress {
            cleaned_offset: 4,
            ..CleanerProgress::default()
        }),
        dropped_aborts: Vec::new(),
    };
    let refused = store.swap_cleaned(&swap, &old).await;
    assert!(
        matches!(refused, Err(MetadataError::LeaseLost(ref job)) if job == "log_cleaner"),
        "{refused:?}"
    );
    assert_eq!(row_ranges(&*store, topic.id, 0).await?, vec![(0, 3)]);
    let p = store.cleaner_partitions(topic.id).await?[0];
    assert_eq!(p.progress, CleanerProgress::default());
    Ok(())
}
