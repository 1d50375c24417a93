//! Unreferenced segments: found once their topics are deleted, no index row
//! points at them and their grace has passed; forgotten only while still
//! unreferenced.

use std::time::Duration;

use floe_metadata::UnreferencedSegment;

use crate::backends::Backend;
use crate::support::{create, entry, high_watermark, lease, retain_by_time, segment};

/// Longer than the stores' clock resolution, so a zero grace has passed.
const TICK: Duration = Duration::from_millis(20);

pub async fn unreferenced_segments_are_found_and_forgotten(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store, "collector").await?;
    let kept = create(&*store, "kept", 1).await?;
    let doomed = create(&*store, "doomed", 2).await?;
    let shared = segment(vec![entry(kept.id, 0, 1, 1), entry(doomed.id, 0, 1, 1)]);
    let alone = segment(vec![entry(doomed.id, 1, 2, 1)]);
    let later = segment(vec![entry(doomed.id, 0, 3, 1)]);
    for s in [&shared, &alone, &later] {
        store.commit_segment(s).await?;
        // Apart in time, so "oldest first" has one answer.
        tokio::time::sleep(TICK).await;
    }
    tokio::time::sleep(TICK).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![]
    );

    // The topic's rows go with it: its own segments are unreferenced, oldest
    // first; the shared one still holds the other topic's rows.
    store.delete_topic(doomed.id).await?;
    tokio::time::sleep(TICK).await;
    let unreferenced = |s: &floe_metadata::SegmentCommit| UnreferencedSegment {
        id: s.segment_id,
        object_key: s.object_key.clone(),
    };
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![unreferenced(&alone), unreferenced(&later)]
    );
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 1).await?,
        vec![unreferenced(&alone)]
    );
    assert_eq!(
        store
            .unreferenced_segments(Duration::from_secs(3600), 100)
            .await?,
        vec![],
        "within the grace"
    );

    // Forgetting keeps what is still referenced.
    let asked = [alone.segment_id, shared.segment_id, later.segment_id];
    assert_eq!(store.forget_segments(&asked, &fence).await?, 2);
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![]
    );
    assert_eq!(
        store.forget_segments(&asked, &fence).await?,
        0,
        "already forgotten"
    );
    assert_eq!(high_watermark(&*store, kept.id, 0).await?, 1);
    // The shared segment still answers a retried commit as the first time.
    assert_eq!(store.commit_segment(&shared).await?.len(), 2);
    assert_eq!(high_watermark(&*store, kept.id, 0).await?, 1);

    // Once its last topic goes, the shared segment is found too.
    store.delete_topic(kept.id).await?;
    tokio::time::sleep(TICK).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![unreferenced(&shared)]
    );
    assert_eq!(
        store.forget_segments(&[shared.segment_id], &fence).await?,
        1
    );
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![]
    );
    Ok(())
}

pub async fn retention_expires_rows_from_the_start_only(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "events", 2).await?;
    // Rows of partition 0: offsets 0-1 (newest record at 100), 2-4 (200),
    // 5 (50: old, but after a row that is kept).
    let first = segment(vec![entry(t.id, 0, 2, 100)]);
    let second = segment(vec![entry(t.id, 0, 3, 200)]);
    let third = segment(vec![entry(t.id, 0, 1, 50)]);
    for s in [&first, &second, &third] {
        store.commit_segment(s).await?;
    }
    let bounds = |start, hw| {
        Some(floe_metadata::PartitionOffsets {
            log_start_offset: start,
            high_watermark: hw,
            last_stable_offset: hw,
            last_aborted_offset: -1,
        })
    };
    assert_eq!(retain_by_time(&*store, t.id, 0, 150).await?, Some(2));
    assert_eq!(store.partition_offsets(t.id, 0).await?, bounds(2, 6));
    let rows = store.index_rows(t.id, 0, 2, 10).await?;
    assert_eq!(
        rows.iter().map(|r| r.base_offset).collect::<Vec<_>>(),
        vec![2, 5],
        "the row at 5 is older but comes after a kept one"
    );
    // A read from below the new log start (bounds read before retention
    // ran) gets nothing, never the rows after the gap.
    assert!(store.index_rows(t.id, 0, 0, 10).await?.is_empty());
    assert!(store.index_rows(t.id, 0, 1, 10).await?.is_empty());
    assert_eq!(
        retain_by_time(&*store, t.id, 0, 150).await?,
        Some(2),
        "idempotent"
    );
    assert_eq!(
        retain_by_time(&*store, t.id, 0, 10).await?,
        Some(2),
        "never back"
    );
    // The first segment lost its only row: the collector finds it.
    tokio::time::sleep(TICK).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 10).await?,
        vec![UnreferencedSegment {
            id: first.segment_id,
            object_key: first.object_key.clone(),
        }]
    );

    // Everything expired: the log starts at the high watermark, empty.
    assert_eq!(retain_by_time(&*store, t.id, 0, 1_000).await?, Some(6));
    assert_eq!(store.partition_offsets(t.id, 0).await?, bounds(6, 6));
    assert!(store.index_rows(t.id, 0, 2, 10).await?.is_empty());
    // New records land after it.
    store
        .commit_segment(&segment(vec![entry(t.id, 0, 1, 5_000)]))
        .await?;
    assert_eq!(store.partition_offsets(t.id, 0).await?, bounds(6, 7));

    assert_eq!(
        retain_by_time(&*store, t.id, 1, 1_000).await?,
        Some(0),
        "empty"
    );
    assert_eq!(retain_by_time(&*store, t.id, 9, 1_000).await?, None);
    Ok(())
}

pub async fn sweep_finds_unknown_segments_and_unreferenced_commits(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store, "orphan_sweep").await?;
    let t = create(&*store, "swept", 1).await?;
    let referenced = segment(vec![entry(t.id, 0, 1, 1)]);
    let empty = segment(vec![]);
    store.commit_segment(&referenced).await?;
    store.commit_segment(&empty).await?;
    let never_committed = uuid::Uuid::now_v7();
    let listed = [referenced.segment_id, empty.segment_id, never_committed];
    assert_eq!(
        store.sweep_segments(&listed, &fence).await?,
        vec![never_committed],
        "only the segment the store never heard of is an orphan"
    );
    // The committed segment nothing points at is now the collector's.
    tokio::time::sleep(TICK).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 10).await?,
        vec![UnreferencedSegment {
            id: empty.segment_id,
            object_key: empty.object_key.clone(),
        }]
    );
    assert!(store.sweep_segments(&[], &fence).await?.is_empty());
    Ok(())
}
