//! The outcomes of a commit as the databases store them (table
//! `segment_outcomes`: a row per batch in SQLite, a row of arrays per
//! segment in Postgres), so that a retried commit answers exactly as the
//! first one did, duplicates and refusals included.

use crate::{BatchOutcome, MetadataError, Result, SegmentCommit};

/// `segment_outcomes.outcome` of [`BatchOutcome::Appended`].
const APPENDED: &str = "appended";
/// `segment_outcomes.outcome` of [`BatchOutcome::Duplicate`].
const DUPLICATE: &str = "duplicate";
/// `segment_outcomes.outcome` of [`BatchOutcome::UnknownPartition`].
const UNKNOWN_PARTITION: &str = "unknown_partition";
/// `segment_outcomes.outcome` of [`BatchOutcome::OutOfOrderSequence`].
const OUT_OF_ORDER_SEQUENCE: &str = "out_of_order_sequence";
/// `segment_outcomes.outcome` of [`BatchOutcome::InvalidProducerEpoch`].
const INVALID_PRODUCER_EPOCH: &str = "invalid_producer_epoch";
/// `segment_outcomes.outcome` of [`BatchOutcome::InvalidRecord`].
const INVALID_RECORD: &str = "invalid_record";
/// `segment_outcomes.outcome` of [`BatchOutcome::InvalidTxnState`].
const INVALID_TXN_STATE: &str = "invalid_txn_state";

/// One stored outcome: the batch's place in the commit, its kind and the
/// base offset of an appended or duplicate batch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct StoredOutcome {
    /// Index of the entry in the commit.
    pub(crate) entry_index: i32,
    /// Index of the batch in its entry.
    pub(crate) batch_index: i32,
    /// The kind, one of the constants of this module.
    pub(crate) outcome: String,
    /// Set for appended and duplicate batches.
    pub(crate) base_offset: Option<i64>,
}

/// The outcomes of a commit as the Postgres store keeps and returns them:
/// one element per batch, in commit order, of each array.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct OutcomeArrays {
    /// Whether the call committed the segment; false if it was committed
    /// before and these are the stored outcomes.
    pub(crate) committed: bool,
    /// The index of each batch's entry in the commit.
    pub(crate) entry_indexes: Vec<i32>,
    /// The kind of each outcome, one of the constants of this module.
    pub(crate) outcomes: Vec<String>,
    /// The base offset of each appended or duplicate batch.
    pub(crate) base_offsets: Vec<Option<i64>>,
}

impl OutcomeArrays {
    /// The outcomes as stored rows, numbering the batches of each entry.
    pub(crate) fn into_rows(self) -> Result<Vec<StoredOutcome>> {
        let count = self.entry_indexes.len();
        if self.outcomes.len() != count || self.base_offsets.len() != count {
            return Err(MetadataError::Corrupt(format!(
                "stored outcome arrays differ in length: {count}, {}, {}",
                self.outcomes.len(),
                self.base_offsets.len()
            )));
        }
        let mut rows: Vec<StoredOutcome> = Vec::with_capacity(count);
        for ((entry_index, outcome), base_offset) in self
            .entry_indexes
            .into_iter()
            .zip(self.outcomes)
            .zip(self.base_offsets)
        {
            let batch_index = match rows.last() {
                Some(previous) if previous.entry_index == entry_index => previous.batch_index + 1,
                _ => 0,
            };
            rows.push(StoredOutcome {
                entry_index,
                batch_index,
                outcome,
                base_offset,
            });
        }
        Ok(rows)
    }
}

/// An outcome as its stored kind and base offset.
pub(crate) fn to_stored(outcome: BatchOutcome) -> (&'static str, Option<i64>) {
    match outcome {
        BatchOutcome::Appended { base_offset } => (APPENDED, Some(base_offset)),
        BatchOutcome::Duplicate { base_offset } => (DUPLICATE, Some(base_offset)),
        BatchOutcome::UnknownPartition => (UNKNOWN_PARTITION, None),
        BatchOutcome::OutOfOrderSequence => (OUT_OF_ORDER_SEQUENCE, None),
        BatchOutcome::InvalidProducerEpoch => (INVALID_PRODUCER_EPOCH, None),
        BatchOutcome::InvalidRecord => (INVALID_RECORD, None),
        BatchOutcome::InvalidTxnState => (INVALID_TXN_STATE, None),
    }
}

/// A stored outcome, checked.
fn from_stored(kind: &str, base_offset: Option<i64>) -> Result<BatchOutcome> {
    let with_offset = |make: fn(i64) -> BatchOutcome| {
        base_offset
            .map(make)
            .ok_or_else(|| MetadataError::Corrupt(format!("{kind} outcome without base offset")))
    };
    match kind {
        APPENDED => with_offset(|base_offset| BatchOutcome::Appended { base_offset }),
        DUPLICATE => with_offset(|base_offset| BatchOutcome::Duplicate { base_offset }),
        UNKNOWN_PARTITION => Ok(BatchOutcome::UnknownPartition),
        OUT_OF_ORDER_SEQUENCE => Ok(BatchOutcome::OutOfOrderSequence),
        INVALID_PRODUCER_EPOCH => Ok(BatchOutcome::InvalidProducerEpoch),
        INVALID_RECORD => Ok(BatchOutcome::InvalidRecord),
        INVALID_TXN_STATE => Ok(BatchOutcome::InvalidTxnState),
        other => Err(MetadataError::Corrupt(format!(
            "unknown commit outcome {other:?}"
        ))),
    }
}

/// Rebuilds the per-entry, per-batch outcomes of a commit from its stored
/// rows, ordered by entry then batch. Fails with
/// [`MetadataError::Invalid`] if `commit` does not have the shape of the
/// commit that was stored under its segment id (the id was reused for other
/// content).
pub(crate) fn regroup(
    stored: Vec<StoredOutcome>,
    commit: &SegmentCommit,
) -> Result<Vec<Vec<BatchOutcome>>> {
    let segment = commit.segment_id;
    let mut outcomes: Vec<Vec<BatchOutcome>> = Vec::with_capacity(commit.entries.len());
    for row in stored {
        let (Ok(entry), Ok(batch)) = (
            usize::try_from(row.entry_index),
            usize::try_from(row.batch_index),
        ) else {
            return Err(MetadataError::Corrupt(format!(
                "negative outcome position in segment {segment}"
            )));
        };
        if batch == 0 && entry == outcomes.len() {
            outcomes.push(Vec::new());
        }
        let entries = outcomes.len();
        match outcomes.last_mut() {
            Some(current) if entry + 1 == entries && batch == current.len() => {
                current.push(from_stored(&row.outcome, row.base_offset)?);
            }
            _ => {
                return Err(MetadataError::Corrupt(format!(
                    "stored outcomes of segment {segment} have a hole at entry {entry} batch {batch}"
                )));
            }
        }
    }
    let same_shape = outcomes.len() == commit.entries.len()
        && outcomes
            .iter()
            .zip(&commit.entries)
            .all(|(outcome, entry)| outcome.len() == entry.batches.len());
    if !same_shape {
        return Err(MetadataError::Invalid(format!(
            "segment {segment} is already committed with other entries"
        )));
    }
    Ok(outcomes)
}
