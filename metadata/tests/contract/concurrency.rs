//! Many writers at once: the sequencer never hands an offset out twice,
//! never leaves a gap, and never deadlocks.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use floe_metadata::{BatchOutcome, SegmentId};

use crate::backends::Backend;
use crate::support::{all_rows, create, entry, entry_of, high_watermark, idempotent, segment};

const TASKS: usize = 8;
const SEGMENTS_PER_TASK: usize = 25;
const PARTITIONS: i32 = 3;

pub async fn concurrent_commits_are_gapless(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", PARTITIONS).await?;

    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            // (partition, base, offset count, segment) of every commit.
            let mut got = Vec::new();
            for i in 0..SEGMENTS_PER_TASK {
                let count = |p: usize| i64::try_from(1 + (task * 7 + i * 3 + p) % 5).unwrap_or(1);
                let mut entries: Vec<_> = (0..PARTITIONS)
                    .map(|p| entry(topic.id, p, count(p as usize), 0))
                    .collect();
                // Half the agents list the partitions the other way round:
                // the store must lock them in its own order.
                if task % 2 == 1 {
                    entries.reverse();
                }
                let commit = segment(entries);
                let outcomes = store.commit_segment(&commit).await?;
                // Every few commits, a retry must answer the same.
                if i % 5 == 0 {
                    anyhow::ensure!(store.commit_segment(&commit).await? == outcomes);
                }
                for (entry, outcome) in commit.entries.iter().zip(outcomes) {
                    let [BatchOutcome::Appended { base_offset }] = outcome[..] else {
                        anyhow::bail!("{outcome:?} for a live partition");
                    };
                    got.push((
                        entry.partition,
                        base_offset,
                        entry.batches[0].offset_count,
                        commit.segment_id,
                    ));
                }
            }
            anyhow::Ok(got)
        }));
    }
    let mut by_partition: BTreeMap<i32, Vec<(i64, i64, SegmentId)>> = BTreeMap::new();
    for task in tasks {
        for (partition, base, count, segment_id) in task.await?? {
            by_partition
                .entry(partition)
                .or_default()
                .push((base, base + count - 1, segment_id));
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

/// Idempotent producers writing to shared partitions at once, each
/// re-sending every batch in a second segment (an agent that lost the
/// answer and uploaded again): every re-sent batch is a duplicate with the
/// first batch's offset, and nothing is indexed twice.
pub async fn concurrent_idempotent_producers_never_duplicate(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    const PRODUCERS: i64 = 4;
    const ROUNDS: i32 = 10;
    let store = backend.open().await?;
    let topic = create(&*store, "orders", PARTITIONS).await?;
    let mut tasks = Vec::new();
    for producer_id in 0..PRODUCERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut appended = 0;
            for round in 0..ROUNDS {
                let mut entries: Vec<_> = (0..PARTITIONS)
                    .map(|p| {
                        entry_of(
                            topic.id,
                            p,
                            vec![
                                idempotent(producer_id, 0, 3 * round, 2),
                                idempotent(producer_id, 0, 3 * round + 2, 1),
                            ],
                        )
                    })
                    .collect();
                if producer_id % 2 == 1 {
                    entries.reverse();
                }
                let first = store.commit_segment(&segment(entries.clone())).await?;
                let again = store.commit_segment(&segment(entries)).await?;
                for (first, again) in first.iter().zip(&again) {
                    let [
                        BatchOutcome::Appended { base_offset: a },
                        BatchOutcome::Appended { base_offset: b },
                    ] = first[..]
                    else {
                        anyhow::bail!("producer {producer_id} round {round}: {first:?}");
                    };
                    anyhow::ensure!(b == a + 2, "batches of one entry are consecutive");
                    anyhow::ensure!(
                        again[..]
                            == [
                                BatchOutcome::Duplicate { base_offset: a },
                                BatchOutcome::Duplicate { base_offset: b }
                            ],
                        "producer {producer_id} round {round}: {again:?} after {first:?}"
                    );
                    appended += 3;
                }
            }
            anyhow::Ok(appended)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    let per_partition = PRODUCERS * i64::from(ROUNDS) * 3;
    assert_eq!(total, per_partition * i64::from(PARTITIONS));
    for partition in 0..PARTITIONS {
        assert_eq!(
            high_watermark(&*store, topic.id, partition).await?,
            per_partition
        );
        let rows = all_rows(&*store, topic.id, partition).await?;
        // One row per first commit (its two batches are adjacent).
        assert_eq!(rows.len(), usize::try_from(PRODUCERS)? * ROUNDS as usize);
        let offsets: i64 = rows.iter().map(|r| r.last_offset - r.base_offset + 1).sum();
        assert_eq!(offsets, per_partition);
    }
    Ok(())
}

pub async fn concurrent_producer_ids_are_unique(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&store);
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

/// A topic deleted while agents commit to it and to another topic: no
/// deadlock and no error; each commit sees the topic whole or not at all;
/// the other topic's offsets stay gapless.
pub async fn delete_during_commits(backend: &dyn Backend) -> anyhow::Result<()> {
    const COMMITS: usize = 20;
    const WRITERS: usize = 4;
    let store = backend.open().await?;
    let kept = create(&*store, "kept", 2).await?;
    let doomed = create(&*store, "doomed", 2).await?;
    let mut tasks = Vec::new();
    for task in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut kept_offsets = 0;
            let mut gone = false;
            for i in 0..COMMITS {
                let mut entries = vec![
                    entry(kept.id, 0, 1, 0),
                    entry(doomed.id, 0, 1, 0),
                    entry(doomed.id, 1, 1, 0),
                    entry(kept.id, 1, 1, 0),
                ];
                entries.rotate_left((task + i) % 4);
                let commit = segment(entries);
                let outcomes = store.commit_segment(&commit).await?;
                let doomed_outcomes: Vec<_> = commit
                    .entries
                    .iter()
                    .zip(&outcomes)
                    .filter(|(entry, _)| entry.topic_id == doomed.id)
                    .map(|(_, outcome)| outcome[..].to_vec())
                    .collect();
                let appended = doomed_outcomes
                    .iter()
                    .all(|outcome| matches!(outcome[..], [BatchOutcome::Appended { .. }]));
                let unknown = doomed_outcomes
                    .iter()
                    .all(|outcome| outcome[..] == [BatchOutcome::UnknownPartition]);
                anyhow::ensure!(
                    (appended && !gone) || unknown,
                    "commit {i} of writer {task}: {outcomes:?}"
                );
                gone = unknown;
                for (entry, outcome) in commit.entries.iter().zip(&outcomes) {
                    if entry.topic_id == kept.id {
                        anyhow::ensure!(matches!(outcome[..], [BatchOutcome::Appended { .. }]));
                        kept_offsets += 1;
                    }
                }
            }
            anyhow::Ok(kept_offsets)
        }));
    }
    // Delete once the writers are under way.
    while high_watermark(&*store, doomed.id, 0).await? < 5
        && !tasks.iter().all(|task| task.is_finished())
    {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    store.delete_topic(doomed.id).await?;
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    assert_eq!(total, WRITERS * COMMITS * 2);
    for partition in 0..2 {
        let expected = i64::try_from(WRITERS * COMMITS)?;
        assert_eq!(high_watermark(&*store, kept.id, partition).await?, expected);
        let rows = all_rows(&*store, kept.id, partition).await?;
        let next = rows.iter().try_fold(0, |next, row| {
            (row.base_offset == next).then_some(row.last_offset + 1)
        });
        assert_eq!(next, Some(expected), "partition {partition} has a gap");
    }
    assert_eq!(store.partition_offsets(doomed.id, 0).await?, None);
    assert_eq!(store.index_rows(doomed.id, 1, 0, 10).await?, vec![]);
    Ok(())
}
