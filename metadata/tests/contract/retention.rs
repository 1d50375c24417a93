//! Retention by size (`retention.bytes`) and the bound on rows one call
//! deletes; time retention is in `segments.rs`.

use floe_metadata::{PartitionOffsets, Retained, RetentionPolicy};

use crate::backends::Backend;
use crate::support::{BYTES_PER_OFFSET, create, entry, lease, segment};

fn by_size(max_bytes: i64, max_rows: u32) -> RetentionPolicy {
    RetentionPolicy {
        older_than_ms: None,
        max_bytes: Some(max_bytes),
        max_rows,
    }
}

pub async fn size_retention_keeps_at_least_the_limit(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store, "retention").await?;
    let t = create(&*store, "sized", 2).await?;
    // Partition 0: rows of 2, 3, 1 and 4 offsets (200, 300, 100, 400 bytes).
    for count in [2, 3, 1, 4] {
        store
            .commit_segment(&segment(vec![entry(t.id, 0, count, 100)]))
            .await?;
    }
    let per = BYTES_PER_OFFSET as i64;
    let bounds = |start| {
        Some(PartitionOffsets {
            log_start_offset: start,
            high_watermark: 10,
            last_stable_offset: 10,
            last_aborted_offset: -1,
        })
    };
    // 1,000 bytes in all: a limit of 1,000 or more keeps everything.
    let kept = store
        .apply_retention(t.id, 0, &by_size(10 * per, 100), &fence)
        .await?;
    assert_eq!(
        kept,
        Some(Retained {
            log_start_offset: 0,
            rows_deleted: 0
        })
    );
    // 500: the first row goes (800 left), the second too (500 left, not
    // below the limit), the third stays (it would leave 400).
    let kept = store
        .apply_retention(t.id, 0, &by_size(5 * per, 100), &fence)
        .await?;
    assert_eq!(
        kept,
        Some(Retained {
            log_start_offset: 5,
            rows_deleted: 2
        })
    );
    assert_eq!(store.partition_offsets(t.id, 0).await?, bounds(5));
    // A limit above what is left deletes nothing more, and never moves the
    // start back.
    let kept = store
        .apply_retention(t.id, 0, &by_size(100 * per, 100), &fence)
        .await?;
    assert_eq!(kept.map(|k| k.log_start_offset), Some(5));
    // Time and size together: a row goes when either lets it go (time keeps
    // all of these).
    let both = RetentionPolicy {
        older_than_ms: Some(0),
        max_bytes: Some(4 * per),
        max_rows: 100,
    };
    let kept = store.apply_retention(t.id, 0, &both, &fence).await?;
    assert_eq!(kept.map(|k| k.log_start_offset), Some(6));
    // Zero bytes: every row goes, as for time retention that expires all.
    let kept = store
        .apply_retention(t.id, 0, &by_size(0, 100), &fence)
        .await?;
    assert_eq!(kept.map(|k| k.log_start_offset), Some(10));
    assert!(store.index_rows(t.id, 0, 0, 10).await?.is_empty());
    // An empty partition and an unknown one.
    let kept = store
        .apply_retention(t.id, 1, &by_size(0, 100), &fence)
        .await?;
    assert_eq!(kept.map(|k| k.log_start_offset), Some(0));
    assert_eq!(
        store
            .apply_retention(t.id, 7, &by_size(0, 100), &fence)
            .await?,
        None
    );
    Ok(())
}

pub async fn retention_deletes_at_most_max_rows_per_call(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store, "retention").await?;
    let t = create(&*store, "backlog", 1).await?;
    for _ in 0..7 {
        store
            .commit_segment(&segment(vec![entry(t.id, 0, 2, 100)]))
            .await?;
    }
    let everything_old = RetentionPolicy {
        older_than_ms: Some(1_000),
        max_bytes: None,
        max_rows: 3,
    };
    let mut starts = Vec::new();
    loop {
        let kept = store
            .apply_retention(t.id, 0, &everything_old, &fence)
            .await?
            .expect("known partition");
        assert!(kept.rows_deleted <= 3, "{kept:?}");
        starts.push(kept.log_start_offset);
        if kept.rows_deleted < 3 {
            break;
        }
    }
    assert_eq!(starts, vec![6, 12, 14], "three calls of at most 3 rows");
    Ok(())
}
