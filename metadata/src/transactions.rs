//! Transactions as the store keeps them: the state of each transactional
//! id (Kafka's `TransactionMetadata`), what the coordinator asks of it, and
//! the aborted ranges read_committed consumers skip.
//!
//! Every change of a transaction's state is a compare-and-set on its
//! producer id, epoch and state, so whichever agent coordinates a
//! transactional id (any agent may, after another died) acts on what is
//! stored, never on what it believes.

pub(crate) mod ops;

use crate::{CommittedOffset, MetadataError, Result, TopicId};

/// The largest epoch InitProducerId hands out for a producer id; one more
/// bump allocates a fresh id (as Kafka does at `Short.MaxValue - 1`).
pub(crate) const MAX_EPOCH: i16 = i16::MAX - 1;

/// Kafka's checks of a producer acting in its transaction, in Kafka's
/// order: the id must map to this producer id
/// ([`TxnRefusal::UnknownProducer`]), at this epoch
/// ([`TxnRefusal::Fenced`]), and no markers may be in flight
/// ([`TxnRefusal::Concurrent`]).
pub(crate) fn check_member(
    record: Option<&TxnRecord>,
    producer_id: i64,
    epoch: i16,
) -> std::result::Result<(), TxnRefusal> {
    match record {
        None => Err(TxnRefusal::UnknownProducer),
        Some(r) if r.producer_id != producer_id => Err(TxnRefusal::UnknownProducer),
        Some(r) if r.epoch != epoch => Err(TxnRefusal::Fenced),
        Some(r) if r.state.is_preparing() => Err(TxnRefusal::Concurrent),
        Some(_) => Ok(()),
    }
}

/// The state of a transaction, as Kafka's coordinator names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// No transaction open (after InitProducerId).
    Empty,
    /// Partitions or groups were added: a transaction is open.
    Ongoing,
    /// EndTxn(commit) was accepted; markers are being written.
    PrepareCommit,
    /// EndTxn(abort) or a timeout was accepted; markers are being written.
    PrepareAbort,
    /// The last transaction committed.
    CompleteCommit,
    /// The last transaction aborted.
    CompleteAbort,
}

impl TxnState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TxnState::Empty => "empty",
            TxnState::Ongoing => "ongoing",
            TxnState::PrepareCommit => "prepare_commit",
            TxnState::PrepareAbort => "prepare_abort",
            TxnState::CompleteCommit => "complete_commit",
            TxnState::CompleteAbort => "complete_abort",
        }
    }

    /// Kafka's name of the state (DescribeTransactions, ListTransactions).
    pub fn kafka_name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
        }
    }

    /// The state named `name` in the database.
    pub(crate) fn parse(name: &str) -> Result<TxnState> {
        Ok(match name {
            "empty" => TxnState::Empty,
            "ongoing" => TxnState::Ongoing,
            "prepare_commit" => TxnState::PrepareCommit,
            "prepare_abort" => TxnState::PrepareAbort,
            "complete_commit" => TxnState::CompleteCommit,
            "complete_abort" => TxnState::CompleteAbort,
            other => {
                return Err(MetadataError::Corrupt(format!(
                    "unknown transaction state {other:?}"
                )));
            }
        })
    }

    /// Whether a transaction may be opened or continued from this state
    /// (AddPartitionsToTxn, AddOffsetsToTxn).
    pub fn accepts_additions(self) -> bool {
        matches!(
            self,
            TxnState::Empty
                | TxnState::Ongoing
                | TxnState::CompleteCommit
                | TxnState::CompleteAbort
        )
    }

    /// Whether markers are being written (Prepare*).
    pub fn is_preparing(self) -> bool {
        matches!(self, TxnState::PrepareCommit | TxnState::PrepareAbort)
    }
}

/// A transactional id and its current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnRecord {
    /// The transactional id.
    pub transactional_id: String,
    /// Its producer id.
    pub producer_id: i64,
    /// Its current epoch.
    pub epoch: i16,
    /// The state of its transaction.
    pub state: TxnState,
    /// `transaction.timeout.ms` the producer gave at InitProducerId.
    pub timeout_ms: i32,
    /// When the open transaction started (ms since the epoch), -1 if none.
    pub started_ms: i64,
    /// When the state last changed (ms since the epoch).
    pub updated_ms: i64,
    /// The epoch before the coordinator bumped it to abort on its own
    /// (a timeout), -1 otherwise: its producer may still call
    /// InitProducerId with it (KIP-360), as Kafka's `lastProducerEpoch`.
    pub last_epoch: i16,
    /// The partitions of the open transaction, ordered.
    pub partitions: Vec<(TopicId, i32)>,
    /// The consumer groups of the open transaction, ordered.
    pub groups: Vec<String>,
}

/// The version of a transaction a compare-and-set expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnVersion {
    /// Producer id.
    pub producer_id: i64,
    /// Epoch.
    pub epoch: i16,
    /// State.
    pub state: TxnState,
}

impl TxnRecord {
    /// The version a compare-and-set on this record expects.
    pub fn version(&self) -> TxnVersion {
        TxnVersion {
            producer_id: self.producer_id,
            epoch: self.epoch,
            state: self.state,
        }
    }
}

/// What InitProducerId of a transactional id found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnInit {
    /// The epoch was bumped (or a producer id allocated): the producer may
    /// start. The transactional id's state is now Empty.
    Ready(crate::ProducerIdentity),
    /// A transaction is open or half-ended: the coordinator must end it
    /// first (abort an Ongoing one, finish a Prepare* one), then ask again.
    Busy(TxnRecord),
}

/// What an addition to a transaction (partitions, a group, offsets) found
/// when it was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnRefusal {
    /// No such transactional id, or another producer id holds it
    /// (INVALID_PRODUCER_ID_MAPPING).
    UnknownProducer,
    /// The epoch is not the current one (PRODUCER_FENCED).
    Fenced,
    /// Markers are being written (CONCURRENT_TRANSACTIONS).
    Concurrent,
    /// The state does not allow it (INVALID_TXN_STATE), e.g. offsets of a
    /// group not added to the transaction.
    InvalidState,
}

/// A transaction a read_committed consumer skips: its producer's records on
/// the partition from `first_offset` up to its abort marker at
/// `last_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    /// The producer whose records to skip.
    pub producer_id: i64,
    /// First offset of the aborted transaction on the partition.
    pub first_offset: i64,
    /// Offset of its abort marker.
    pub last_offset: i64,
}

/// An open transaction on a partition (DescribeProducers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenTxn {
    /// The producer.
    pub producer_id: i64,
    /// Its epoch.
    pub epoch: i16,
    /// The transaction's first offset there, -1 until it appends.
    pub first_offset: i64,
}

/// A group's offsets pending in an open transaction (TxnOffsetCommit),
/// applied to the group's committed offsets when the transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsets {
    /// The group.
    pub group_id: String,
    /// Its offsets.
    pub offsets: Vec<CommittedOffset>,
}
