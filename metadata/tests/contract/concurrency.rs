//! Many writers at once: the sequencer never hands an offset out twice and
//! never leaves a gap.

use std::collections::{BTreeMap, HashSet};

use floe_metadata::{CommitOutcome, MetadataStore, SegmentId};

use crate::backends::Backend;
use crate::support::{create, entry, high_watermark, segment};

const TASKS: usize = 8;
const SEGMENTS_PER_TASK: usize = 25;
const PARTITIONS: i32 = 3;

pub async fn concurrent_commits_are_gapless(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", PARTITIONS).await?;

    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            // (partition, base, last, offset count, segment) of every commit.
            let mut got = Vec::new();
            for i in 0..SEGMENTS_PER_TASK {
                let count = |p: usize| i64::try_from(1 + (task * 7 + i * 3 + p) % 5).unwrap_or(1);
                let entries = (0..PARTITIONS)
                    .map(|p| entry(topic.id, p, count(p as usize), 0))
                    .collect();
                let commit = segment(entries);
                let outcomes = store.commit_segment(&commit).await?;
                // Every few commits, a retry must answer the same.
                if i % 5 == 0 {
                    anyhow::ensure!(store.commit_segment(&commit).await? == outcomes);
                }
                for (entry, outcome) in commit.entries.iter().zip(outcomes) {
                    let CommitOutcome::Committed {
                        base_offset,
                        last_offset,
                    } = outcome
                    else {
                        anyhow::bail!("{outcome:?} for a live partition");
                    };
                    got.push((
                        entry.partition,
                        base_offset,
                        last_offset,
                        entry.offset_count,
                        commit.segment_id,
                    ));
                }
            }
            anyhow::Ok(got)
        }));
    }
    let mut by_partition: BTreeMap<i32, Vec<(i64, i64, SegmentId)>> = BTreeMap::new();
    for task in tasks {
        for (partition, base, last, count, segment_id) in task.await?? {
            assert_eq!(
                last - base + 1,
                count,
                "outcome spans the wrong number of offsets"
            );
            by_partition
                .entry(partition)
                .or_default()
                .push((base, last, segment_id));
        }
    }

    for partition in 0..PARTITIONS {
        let mut ranges = by_partition.remove(&partition).unwrap_or_default();
        assert_eq!(ranges.len(), TASKS * SEGMENTS_PER_TASK);
        ranges.sort();
        let mut next = 0;
        for &(base, last, _) in &ranges {
            assert_eq!(
                base, next,
                "partition {partition}: gap or overlap at {next}"
            );
            next = last + 1;
        }
        assert_eq!(high_watermark(&*store, topic.id, partition).await?, next);
        let rows = all_rows(&*store, topic.id, partition).await?;
        let indexed: Vec<_> = rows
            .iter()
            .map(|row| (row.base_offset, row.last_offset, row.segment_id))
            .collect();
        assert_eq!(
            indexed, ranges,
            "partition {partition}: index differs from outcomes"
        );
    }
    Ok(())
}

/// Every index row of a partition, read page by page.
async fn all_rows(
    store: &dyn MetadataStore,
    topic: uuid::Uuid,
    partition: i32,
) -> anyhow::Result<Vec<floe_metadata::IndexRow>> {
    let mut rows = Vec::new();
    let mut from = 0;
    loop {
        let page = store.index_rows(topic, partition, from, 64).await?;
        let Some(last) = page.last() else {
            return Ok(rows);
        };
        from = last.last_offset + 1;
        rows.extend(page);
    }
}

pub async fn concurrent_producer_ids_are_unique(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..20 {
                let transactional_id = format!("tx-{task}-{}", i % 2);
                let transactional = if i % 3 == 0 {
                    Some(transactional_id.as_str())
                } else {
                    None
                };
                let identity = store.init_producer_id(transactional).await?;
                if identity.epoch == 0 {
                    ids.push(identity.producer_id);
                }
            }
            anyhow::Ok(ids)
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await?? {
            assert!(seen.insert(id), "producer id {id} handed out twice");
        }
    }
    // Per task: 13 plain ids, plus the 2 transactional ids' first calls.
    assert_eq!(seen.len(), TASKS * (13 + 2));
    Ok(())
}
