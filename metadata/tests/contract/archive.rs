//! The archive tier's records: a pass commits its files and snapshot at
//! once; with dropped segments the range's index rows become row-group
//! rows of the Parquet file and the old segments collector candidates; a
//! range that no longer matches the log commits nothing.

use std::time::Duration;

use floe_metadata::{
    ArchiveCommit, ArchiveOutcome, ArchivedFile, ArchivedRowGroup, JobFence, MetadataError,
    RetentionPolicy, UnreferencedSegment,
};

use crate::backends::Backend;
use crate::support::{create, entry, segment};

fn file(partition: i32, base: i64, last: i64, groups: &[(i64, i64)]) -> ArchivedFile {
    let id = uuid::Uuid::new_v4();
    ArchivedFile {
        file_id: id,
        object_key: format!("archive/t/data/{partition}-{base}-{last}-{id}.parquet"),
        size: 4_096,
        partition,
        base_offset: base,
        last_offset: last,
        records: (last - base + 1) as u64,
        row_groups: groups
            .iter()
            .enumerate()
            .map(|(i, &(b, l))| ArchivedRowGroup {
                base_offset: b,
                last_offset: l,
                byte_offset: 4 + 1_000 * i as u64,
                byte_len: 1_000,
                max_timestamp: 10 * l,
            })
            .collect(),
    }
}

fn pass(topic: uuid::Uuid, files: Vec<ArchivedFile>, drop_segments: bool) -> ArchiveCommit {
    ArchiveCommit {
        topic_id: topic,
        snapshot_id: 7_000 + files.len() as i64,
        manifest_key: format!("archive/t/metadata/{}-m0.avro", uuid::Uuid::new_v4()),
        manifest_length: 321,
        committed_ms: 1_700_000_000_000,
        files,
        drop_segments,
    }
}

pub async fn archive_passes_swap_rows_and_record_snapshots(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let t = create(&*store, "archived", 2).await?;
    // Partition 0: rows 0-1, 2-4 (one segment each), 5-5; partition 1: 0-2.
    let a = segment(vec![entry(t.id, 0, 2, 100), entry(t.id, 1, 3, 100)]);
    let b = segment(vec![entry(t.id, 0, 3, 200)]);
    let c = segment(vec![entry(t.id, 0, 1, 300)]);
    for s in [&a, &b, &c] {
        store.commit_segment(s).await?;
    }
    assert!(store.archive_progress(t.id).await?.is_empty());
    let fence = store
        .acquire_lease(
            "archive",
            "contract",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await?
        .expect("a free lease");

    // A writer whose lease moved on writes nothing.
    let stale = JobFence {
        job: fence.job.clone(),
        token: fence.token + 1,
    };
    let refused = pass(t.id, vec![file(1, 0, 2, &[(0, 2)])], false);
    assert!(matches!(
        store.commit_archive(&refused, &stale).await,
        Err(MetadataError::LeaseLost(_))
    ));
    assert!(store.archive_progress(t.id).await?.is_empty());

    // Without dropping segments: recorded, index untouched.
    let first = pass(t.id, vec![file(1, 0, 2, &[(0, 2)])], false);
    assert_eq!(
        store.commit_archive(&first, &fence).await?,
        ArchiveOutcome::Committed { sequence_number: 1 }
    );
    assert_eq!(store.archive_progress(t.id).await?, vec![(1, 3)]);
    assert_eq!(
        store.index_rows(t.id, 1, 0, 10).await?[0].object_key,
        a.object_key
    );

    // A range that does not start where the partition's archive ends.
    let overlap = pass(t.id, vec![file(1, 2, 2, &[(2, 2)])], false);
    assert_eq!(
        store.commit_archive(&overlap, &fence).await?,
        ArchiveOutcome::Conflict { partition: 1 }
    );

    // Dropping segments: a range that cuts a row is refused, nothing
    // recorded.
    let cut = pass(t.id, vec![file(0, 0, 3, &[(0, 3)])], true);
    assert_eq!(
        store.commit_archive(&cut, &fence).await?,
        ArchiveOutcome::Conflict { partition: 0 }
    );
    assert!(
        store
            .archive_progress(t.id)
            .await?
            .iter()
            .all(|(p, _)| *p != 0)
    );

    // Rows 0-4 of partition 0 become two row-group rows of the file.
    let archived = file(0, 0, 4, &[(0, 2), (3, 4)]);
    let second = pass(t.id, vec![archived.clone()], true);
    assert_eq!(
        store.commit_archive(&second, &fence).await?,
        ArchiveOutcome::Committed { sequence_number: 2 }
    );
    let rows = store.index_rows(t.id, 0, 0, 10).await?;
    let shape: Vec<(i64, i64, &str, u64, u64, i64)> = rows[..2]
        .iter()
        .map(|r| {
            (
                r.base_offset,
                r.last_offset,
                r.object_key.as_str(),
                r.byte_offset,
                r.byte_len,
                r.max_timestamp,
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (0, 2, archived.object_key.as_str(), 4, 1_000, 20),
            (3, 4, archived.object_key.as_str(), 1_004, 1_000, 40),
        ]
    );
    assert_eq!(
        (rows[2].base_offset, rows[2].object_key.as_str()),
        (5, c.object_key.as_str())
    );
    assert_eq!(rows[0].segment_id, archived.file_id);
    // Its rows point at Parquet row groups: never a compaction input.
    let candidates = store.compaction_candidates(0, i64::MAX as u64, 100).await?;
    assert!(
        candidates.iter().all(|c| c.id != archived.file_id),
        "{candidates:?}"
    );
    assert_eq!(store.archive_progress(t.id).await?, vec![(0, 5), (1, 3)]);
    // Segment b lost its only row; a still holds partition 1's.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 10).await?,
        vec![UnreferencedSegment {
            id: b.segment_id,
            object_key: b.object_key.clone(),
        }]
    );

    // Retention past an archived row group makes the file a candidate
    // once its last row is gone.
    let retention = store
        .acquire_lease(
            "retention",
            "contract",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await?
        .expect("a free lease");
    let policy = RetentionPolicy {
        older_than_ms: Some(50),
        max_bytes: None,
        max_rows: 100,
    };
    let retained = store.apply_retention(t.id, 0, &policy, &retention).await?;
    assert_eq!(retained.map(|r| r.log_start_offset), Some(5));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let found = store.unreferenced_segments(Duration::ZERO, 10).await?;
    assert!(found.iter().any(|s| s.id == archived.file_id), "{found:?}");

    // A range at the log start still commits.
    let late = pass(t.id, vec![file(0, 5, 5, &[(5, 5)])], true);
    assert_eq!(
        store.commit_archive(&late, &fence).await?,
        ArchiveOutcome::Committed { sequence_number: 3 },
        "5 is still in the log"
    );
    let manifests = store.archive_manifests(t.id).await?;
    assert_eq!(
        manifests
            .iter()
            .map(|m| (
                m.sequence_number,
                m.added_files,
                m.added_rows,
                m.manifest_length
            ))
            .collect::<Vec<_>>(),
        vec![(1, 1, 3, 321), (2, 1, 5, 321), (3, 1, 1, 321)]
    );
    assert_eq!(manifests[1].manifest_key, second.manifest_key);

    store.delete_topic(t.id).await?;
    assert_eq!(
        store
            .commit_archive(&pass(t.id, vec![], false), &fence)
            .await?,
        ArchiveOutcome::UnknownTopic
    );
    Ok(())
}
