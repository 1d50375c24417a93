//! The rules of a commit that do not depend on the database: Kafka's
//! idempotent-producer checks, the assignment of offsets, and the merging of
//! adjacent batches into index rows.
//!
//! The SQLite store plans each entry with [`plan_entry`] and writes the plan.
//! The Postgres store runs the same rules inside its PL/pgSQL function
//! `floe_commit_segment` (`migrations/postgres/0002_commit_segment.sql`,
//! wrapped by `0006_commit_refuses_batches.sql` to refuse invalid batches one
//! by one), so that a commit is one round trip; the contract suite checks
//! that both agree.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::validate::batch_is_valid;
use crate::{BatchOutcome, BatchTxn, CommitEntry, MetadataError, ProducerBatch, Result};

/// Batches remembered per producer and partition, as Kafka's brokers do.
pub(crate) const PRODUCER_HISTORY: usize = 5;

/// Sequence numbers are 31-bit: after `i32::MAX` comes 0.
const SEQUENCE_SPACE: i64 = 1 << 31;

/// A batch an idempotent producer committed to a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredBatch {
    /// First sequence number of the batch.
    pub(crate) base_sequence: i32,
    /// Last sequence number of the batch.
    pub(crate) last_sequence: i32,
    /// First offset the batch was given.
    pub(crate) base_offset: i64,
}

/// What is remembered of one producer on one partition: its current epoch
/// and its last [`PRODUCER_HISTORY`] batches, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProducerHistory {
    /// The producer's current epoch on this partition.
    pub(crate) epoch: i16,
    /// Its last committed batches, oldest first.
    pub(crate) batches: VecDeque<StoredBatch>,
}

/// The verdict on one batch of an idempotent producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Append it; with `reset`, the producer's history starts over (a new
    /// epoch).
    Accept { reset: bool },
    /// Already committed at this offset.
    Duplicate(i64),
    /// A gap or a repeat that is no longer remembered.
    OutOfOrder,
    /// An epoch older than the producer's current one.
    Fenced,
}

/// The last sequence number of a batch of `offset_count` records starting
/// at `base_sequence`, wrapping from `i32::MAX` to 0.
pub(crate) fn last_sequence(base_sequence: i32, offset_count: i64) -> i32 {
    let last = (i64::from(base_sequence) + offset_count - 1).rem_euclid(SEQUENCE_SPACE);
    // In 0..2^31, so it fits.
    last as i32
}

/// The sequence number that follows `last`.
fn next_sequence(last: i32) -> i32 {
    if last == i32::MAX { 0 } else { last + 1 }
}

/// Checks a batch against its producer's history on the partition.
fn check(history: Option<&ProducerHistory>, batch: &ProducerBatch, offset_count: i64) -> Verdict {
    let Some(history) = history else {
        // A producer this partition has never seen may start anywhere.
        return Verdict::Accept { reset: true };
    };
    if batch.producer_epoch < history.epoch {
        return Verdict::Fenced;
    }
    if batch.producer_epoch > history.epoch {
        return if batch.base_sequence == 0 {
            Verdict::Accept { reset: true }
        } else {
            Verdict::OutOfOrder
        };
    }
    let last = last_sequence(batch.base_sequence, offset_count);
    if let Some(stored) = history
        .batches
        .iter()
        .find(|stored| stored.base_sequence == batch.base_sequence && stored.last_sequence == last)
    {
        return Verdict::Duplicate(stored.base_offset);
    }
    match history.batches.back() {
        Some(newest) if batch.base_sequence == next_sequence(newest.last_sequence) => {
            Verdict::Accept { reset: false }
        }
        _ => Verdict::OutOfOrder,
    }
}

/// One index row to insert: a run of accepted batches adjacent in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlannedRow {
    /// First offset of the run.
    pub(crate) base_offset: i64,
    /// Last offset of the run.
    pub(crate) last_offset: i64,
    /// Byte offset of the run in the segment.
    pub(crate) byte_offset: u64,
    /// Byte length of the run.
    pub(crate) byte_len: u64,
    /// Largest timestamp of the run.
    pub(crate) max_timestamp: i64,
}

/// What committing one entry does to its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPlan {
    /// One outcome per batch, in order.
    pub(crate) outcomes: Vec<BatchOutcome>,
    /// Index rows to insert.
    pub(crate) rows: Vec<PlannedRow>,
    /// The partition's high watermark afterwards.
    pub(crate) next_offset: i64,
    /// Producers whose history changed (to be written back).
    pub(crate) changed: BTreeSet<i64>,
    /// Producers whose ongoing transaction got its first offset here.
    pub(crate) txn_started: BTreeSet<i64>,
    /// Transactions a marker of this entry ended.
    pub(crate) txn_ended: Vec<EndedTxn>,
}

/// A producer's open transaction on a partition, as the commit sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OngoingTxn {
    /// The epoch AddPartitionsToTxn opened it with.
    pub(crate) epoch: i16,
    /// Its first appended offset on the partition, once it has one.
    pub(crate) first_offset: Option<i64>,
}

/// A transaction a marker ended on a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EndedTxn {
    /// The producer.
    pub(crate) producer_id: i64,
    /// The transaction's first offset there, if it appended anything.
    pub(crate) first_offset: Option<i64>,
    /// The marker's offset.
    pub(crate) marker_offset: i64,
    /// Whether it committed.
    pub(crate) commit: bool,
}

/// Plans the commit of `entry` to a partition whose high watermark is
/// `next_offset`. `histories` holds the stored history of every producer of
/// the entry that has one on this partition; it is updated in place, batch
/// by batch, so a later batch of a producer sees the earlier ones. A batch
/// whose own fields are refused ([`batch_is_valid`]) is
/// [`BatchOutcome::InvalidRecord`] and is skipped as if it were not there.
///
/// `ongoing` holds the open transactions of the entry's transactional
/// producers on the partition (empty unless a batch is transactional or a
/// marker): a transactional batch needs one at its epoch, not yet ended by
/// an earlier marker of the entry, or is [`BatchOutcome::InvalidTxnState`];
/// a marker ends its producer's.
pub(crate) fn plan_entry(
    entry: &CommitEntry,
    mut next_offset: i64,
    histories: &mut HashMap<i64, ProducerHistory>,
    ongoing: &mut HashMap<i64, OngoingTxn>,
) -> Result<EntryPlan> {
    let mut outcomes = Vec::with_capacity(entry.batches.len());
    let mut rows: Vec<PlannedRow> = Vec::new();
    let mut changed = BTreeSet::new();
    let mut txn_started = BTreeSet::new();
    let mut txn_ended = Vec::new();
    // Whether the last batch was appended (so the next one may extend its row).
    let mut run_open = false;
    for batch in &entry.batches {
        if !batch_is_valid(batch) {
            run_open = false;
            outcomes.push(BatchOutcome::InvalidRecord);
            continue;
        }
        if batch.txn == BatchTxn::Data {
            let open = batch.producer.is_some_and(|producer| {
                ongoing
                    .get(&producer.producer_id)
                    .is_some_and(|txn| txn.epoch == producer.producer_epoch)
            });
            if !open {
                run_open = false;
                outcomes.push(BatchOutcome::InvalidTxnState);
                continue;
            }
        }
        let verdict = match &batch.producer {
            None => Verdict::Accept { reset: false },
            Some(producer) => check(
                histories.get(&producer.producer_id),
                producer,
                batch.offset_count,
            ),
        };
        let outcome = match verdict {
            Verdict::Duplicate(base_offset) => BatchOutcome::Duplicate { base_offset },
            Verdict::OutOfOrder => BatchOutcome::OutOfOrderSequence,
            Verdict::Fenced => BatchOutcome::InvalidProducerEpoch,
            Verdict::Accept { reset } => {
                let base_offset = next_offset;
                next_offset = next_offset.checked_add(batch.offset_count).ok_or_else(|| {
                    MetadataError::Corrupt(format!(
                        "offsets of {}/{} overflow",
                        entry.topic_id, entry.partition
                    ))
                })?;
                let last_offset = next_offset - 1;
                if let Some(producer) = &batch.producer {
                    remember(histories, producer, batch.offset_count, base_offset, reset);
                    changed.insert(producer.producer_id);
                }
                match batch.txn {
                    BatchTxn::None => {}
                    BatchTxn::Data => {
                        if let Some(producer) = &batch.producer
                            && let Some(txn) = ongoing.get_mut(&producer.producer_id)
                            && txn.first_offset.is_none()
                        {
                            txn.first_offset = Some(base_offset);
                            txn_started.insert(producer.producer_id);
                        }
                    }
                    BatchTxn::Marker {
                        producer_id,
                        commit,
                        ..
                    } => {
                        if let Some(txn) = ongoing.remove(&producer_id) {
                            txn_started.remove(&producer_id);
                            txn_ended.push(EndedTxn {
                                producer_id,
                                first_offset: txn.first_offset,
                                marker_offset: base_offset,
                                commit,
                            });
                        }
                    }
                }
                match rows.last_mut() {
                    Some(row)
                        if run_open && row.byte_offset + row.byte_len == batch.byte_offset =>
                    {
                        row.last_offset = last_offset;
                        row.byte_len += batch.byte_len;
                        row.max_timestamp = row.max_timestamp.max(batch.max_timestamp);
                    }
                    _ => rows.push(PlannedRow {
                        base_offset,
                        last_offset,
                        byte_offset: batch.byte_offset,
                        byte_len: batch.byte_len,
                        max_timestamp: batch.max_timestamp,
                    }),
                }
                BatchOutcome::Appended { base_offset }
            }
        };
        run_open = matches!(outcome, BatchOutcome::Appended { .. });
        outcomes.push(outcome);
    }
    Ok(EntryPlan {
        outcomes,
        rows,
        next_offset,
        changed,
        txn_started,
        txn_ended,
    })
}

/// Adds an accepted batch to its producer's history, forgetting the oldest
/// beyond [`PRODUCER_HISTORY`]; `reset` starts the history over at the
/// batch's epoch.
fn remember(
    histories: &mut HashMap<i64, ProducerHistory>,
    producer: &ProducerBatch,
    offset_count: i64,
    base_offset: i64,
    reset: bool,
) {
    let history = histories
        .entry(producer.producer_id)
        .or_insert_with(|| ProducerHistory {
            epoch: producer.producer_epoch,
            batches: VecDeque::new(),
        });
    if reset {
        history.epoch = producer.producer_epoch;
        history.batches.clear();
    }
    history.batches.push_back(StoredBatch {
        base_sequence: producer.base_sequence,
        last_sequence: last_sequence(producer.base_sequence, offset_count),
        base_offset,
    });
    while history.batches.len() > PRODUCER_HISTORY {
        history.batches.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BatchEntry;

    #[test]
    fn sequences_wrap_at_i32_max() {
        assert_eq!(last_sequence(0, 1), 0);
        assert_eq!(last_sequence(5, 10), 14);
        assert_eq!(last_sequence(i32::MAX, 1), i32::MAX);
        assert_eq!(last_sequence(i32::MAX, 2), 0);
        assert_eq!(last_sequence(i32::MAX - 1, 5), 2);
        assert_eq!(last_sequence(0, 1 << 31), i32::MAX);
        assert_eq!(next_sequence(i32::MAX), 0);
        assert_eq!(next_sequence(7), 8);
    }

    fn batch(byte_offset: u64, seq: Option<(i64, i16, i32)>) -> BatchEntry {
        BatchEntry {
            byte_offset,
            byte_len: 10,
            offset_count: 2,
            max_timestamp: i64::try_from(byte_offset).unwrap_or(0),
            producer: seq.map(
                |(producer_id, producer_epoch, base_sequence)| ProducerBatch {
                    producer_id,
                    producer_epoch,
                    base_sequence,
                },
            ),
            txn: BatchTxn::None,
        }
    }

    #[test]
    fn plan_merges_adjacent_accepted_batches_only() {
        let entry = CommitEntry {
            topic_id: uuid::Uuid::nil(),
            partition: 0,
            batches: vec![
                batch(0, Some((7, 0, 0))),
                batch(10, Some((7, 0, 2))),
                batch(20, Some((7, 0, 2))),
                batch(30, None),
                batch(50, None),
            ],
        };
        let mut histories = HashMap::new();
        let plan = plan_entry(&entry, 100, &mut histories, &mut HashMap::new()).unwrap();
        assert_eq!(
            plan.outcomes,
            vec![
                BatchOutcome::Appended { base_offset: 100 },
                BatchOutcome::Appended { base_offset: 102 },
                BatchOutcome::Duplicate { base_offset: 102 },
                BatchOutcome::Appended { base_offset: 104 },
                BatchOutcome::Appended { base_offset: 106 },
            ]
        );
        let ranges: Vec<_> = plan
            .rows
            .iter()
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
            ranges,
            vec![(100, 103, 0, 20), (104, 105, 30, 10), (106, 107, 50, 10)]
        );
        assert_eq!(plan.next_offset, 108);
        assert_eq!(plan.changed, BTreeSet::from([7]));
        assert_eq!(histories[&7].batches.len(), 2);
    }

    #[test]
    fn invalid_batches_are_refused_alone() {
        let entry = CommitEntry {
            topic_id: uuid::Uuid::nil(),
            partition: 0,
            batches: vec![
                batch(0, Some((7, 0, 0))),
                batch(10, Some((7, -1, 2))),
                batch(20, Some((8, 0, -5))),
                batch(30, Some((7, 0, 2))),
                batch(40, None),
            ],
        };
        let mut histories = HashMap::new();
        let plan = plan_entry(&entry, 0, &mut histories, &mut HashMap::new()).unwrap();
        assert_eq!(
            plan.outcomes,
            vec![
                BatchOutcome::Appended { base_offset: 0 },
                BatchOutcome::InvalidRecord,
                BatchOutcome::InvalidRecord,
                BatchOutcome::Appended { base_offset: 2 },
                BatchOutcome::Appended { base_offset: 4 },
            ]
        );
        // The refused batches' bytes split the rows; producer 8 is unknown.
        let ranges: Vec<_> = plan
            .rows
            .iter()
            .map(|row| (row.base_offset, row.byte_offset, row.byte_len))
            .collect();
        assert_eq!(ranges, vec![(0, 0, 10), (2, 30, 20)]);
        assert_eq!(plan.changed, BTreeSet::from([7]));
        assert!(!histories.contains_key(&8));
    }

    #[test]
    fn transactional_batches_need_an_open_transaction_until_its_marker() {
        let data = |byte_offset: u64, epoch: i16, sequence: i32| BatchEntry {
            txn: BatchTxn::Data,
            ..batch(byte_offset, Some((7, epoch, sequence)))
        };
        let marker = |byte_offset: u64, commit: bool| BatchEntry {
            offset_count: 1,
            txn: BatchTxn::Marker {
                producer_id: 7,
                producer_epoch: 1,
                commit,
            },
            ..batch(byte_offset, None)
        };
        let entry = CommitEntry {
            topic_id: uuid::Uuid::nil(),
            partition: 0,
            batches: vec![
                data(0, 0, 0),
                data(10, 1, 0),
                data(20, 1, 2),
                marker(30, false),
                data(40, 1, 4),
                marker(50, true),
            ],
        };
        let mut ongoing = HashMap::from([(
            7,
            OngoingTxn {
                epoch: 1,
                first_offset: None,
            },
        )]);
        let plan = plan_entry(&entry, 10, &mut HashMap::new(), &mut ongoing).unwrap();
        assert_eq!(
            plan.outcomes,
            vec![
                BatchOutcome::InvalidTxnState,
                BatchOutcome::Appended { base_offset: 10 },
                BatchOutcome::Appended { base_offset: 12 },
                BatchOutcome::Appended { base_offset: 14 },
                BatchOutcome::InvalidTxnState,
                BatchOutcome::Appended { base_offset: 15 },
            ]
        );
        assert_eq!(
            plan.txn_ended,
            vec![EndedTxn {
                producer_id: 7,
                first_offset: Some(10),
                marker_offset: 14,
                commit: false,
            }]
        );
        assert!(plan.txn_started.is_empty());
        assert!(ongoing.is_empty());
    }
}
